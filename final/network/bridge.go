//go:build linux

package network

import (
	"fmt"
	"net"
	"os"

	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/sirupsen/logrus"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

func trace(format string, a ...any) {
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("+ "+format, a...)
	}
}

// region bridge
// ensureBridge gives the bridge its gateway address, turns on IP
// forwarding, adds the NAT rules and sets it up; each step is idempotent
// (ip addr replace, iptables -C before -A). The caller (ensure) holds the
// engine lock and made the bridge.
func (n *Network) ensureBridge() (netlink.Link, error) {
	br, err := netlink.LinkByName(n.Bridge)
	if err != nil {
		return nil, err
	}
	ones, _ := n.Subnet.Mask.Size()
	gw := &netlink.Addr{IPNet: &net.IPNet{IP: n.Gateway, Mask: n.Subnet.Mask}}
	trace("ip addr replace %s/%d dev %s", n.Gateway, ones, n.Bridge)
	if err := netlink.AddrReplace(br, gw); err != nil {
		return nil, fmt.Errorf("ip addr replace %s/%d dev %s: %v", n.Gateway, ones, n.Bridge, err)
	}
	// Let the host route between the bridge and its other interfaces.
	trace("sysctl -w net.ipv4.ip_forward=1")
	os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0644)
	for _, rule := range n.bridgeRules() {
		if err := iptAppend(rule); err != nil {
			return nil, err
		}
	}
	trace("ip link set %s up", n.Bridge)
	if err := netlink.LinkSetUp(br); err != nil {
		return nil, err
	}
	return netlink.LinkByName(n.Bridge) // with its flags up
}

// bridgeRules: packets from containers leave with the host's address
// (SNAT), and the host forwards to and from the bridge.
func (n *Network) bridgeRules() [][]string {
	return [][]string{
		{"-t", "nat", "POSTROUTING", "-s", n.Subnet.String(), "!", "-o", n.Bridge, "-j", "MASQUERADE"},
		{"-t", "filter", "FORWARD", "-i", n.Bridge, "-j", "ACCEPT"},
		{"-t", "filter", "FORWARD", "-o", n.Bridge, "-j", "ACCEPT"},
	}
}

// endregion bridge

// region attach
// Attach gives the container (its init is pid) an interface on the
// network: a veth pair, the host end on the bridge, the other end moved
// into the container's network namespace and configured there.
func (n *Network) Attach(id string, pid int) (*Endpoint, error) {
	br, err := n.ensure()
	if err != nil {
		return nil, err
	}
	ip, err := n.allocate(id)
	if err != nil {
		return nil, err
	}
	ones, _ := n.Subnet.Mask.Size()
	ep := &Endpoint{Network: n.Name, IP: ip.String(), PrefixLen: ones, Gateway: n.Gateway.String(),
		Mac: MacFor(ip).String(), HostVeth: "veth" + id[:7], Bridge: n.Bridge}
	fail := func(err error) (*Endpoint, error) { n.Detach(id, ep); return nil, err }

	// The peer is made in the container's namespace, where its name is
	// free: eth0 at once, no rename. The host end comes up with it.
	trace("ip link add %s master %s up type veth peer name eth0 netns %d  # address %s", ep.HostVeth, n.Bridge, pid, ep.Mac)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: ep.HostVeth, MasterIndex: br.Attrs().Index, Flags: net.FlagUp},
		PeerName: "eth0", PeerHardwareAddr: MacFor(ip), PeerNamespace: netlink.NsPid(pid)}
	if err := netlink.LinkAdd(veth); err != nil {
		return fail(fmt.Errorf("ip link add %s type veth: %v", ep.HostVeth, err))
	}
	// Hairpin: with br_netfilter (bridge-nf-call-iptables=1, as on most
	// Docker hosts) a DNATed packet back to its own sender is bridged out
	// of the port it came in by; a bridge port refuses that unless hairpin.
	trace("ip link set %s type bridge_slave hairpin on", ep.HostVeth)
	if err := netlink.LinkSetHairpin(veth, true); err != nil {
		return fail(fmt.Errorf("ip link set %s type bridge_slave hairpin on: %v", ep.HostVeth, err))
	}
	// Inside: a netlink socket opened in the container's namespace
	// (nsenter --net=/proc/PID/ns/net ip ...).
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return fail(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fail(err)
	}
	defer h.Close()
	eth, err := h.LinkByName("eth0")
	if err != nil {
		return fail(err)
	}
	trace("nsenter -t %d -n ip addr add %s/%d dev eth0", pid, ip, ones)
	if err := h.AddrAdd(eth, &netlink.Addr{IPNet: &net.IPNet{IP: ip, Mask: n.Subnet.Mask}}); err != nil {
		return fail(err)
	}
	trace("nsenter -t %d -n ip link set eth0 up", pid)
	if err := h.LinkSetUp(eth); err != nil {
		return fail(err)
	}
	trace("nsenter -t %d -n ip route add default via %s", pid, n.Gateway)
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: n.Gateway}); err != nil {
		return fail(fmt.Errorf("ip route add default via %s: %v", n.Gateway, err))
	}
	return ep, nil
}

// Detach gives the address back and deletes the host end of the veth pair
// (the kernel deletes its peer; both vanish anyway when the container's
// network namespace dies).
func (n *Network) Detach(id string, ep *Endpoint) error {
	err := n.release(id)
	if ep != nil {
		DeleteVeth(ep.HostVeth)
	}
	return err
}

// Release gives the container's address back, and nothing else: the fast
// half of Detach, done before the container's end is told.
func (n *Network) Release(id string) error { return n.release(id) }

// DeleteVeth is `ip link del NAME`, if it is still there: the slow half
// (the kernel waits for RCU grace periods before it returns).
func DeleteVeth(name string) {
	if name == "" {
		return
	}
	if l, err := netlink.LinkByName(name); err == nil {
		trace("ip link del %s", name)
		netlink.LinkDel(l)
	}
}

// endregion attach

// region ipam
// allocate hands out the lowest free address after the network address,
// skipping the gateway, and writes it down in the network's file, all
// under the engine lock: 20 parallel runs get 20 different addresses.
func (n *Network) allocate(id string) (net.IP, error) {
	unlock, err := state.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := loadRecord(n.Name)
	if err != nil {
		return nil, fmt.Errorf("network %s: %v", n.Name, err)
	}
	ones, bits := n.Subnet.Mask.Size()
	size := uint32(1) << uint(bits-ones)
	for i := uint32(1); i < size-1; i++ { // not the network or broadcast address
		ip := nextIP(n.Subnet.IP, i)
		if ip.Equal(n.Gateway) {
			continue
		}
		owner, used := r.IPAM[ip.String()]
		if used && !containerExists(owner) { // its container was removed by a process that died before it gave the address back
			used = false
		}
		if !used {
			r.IPAM[ip.String()] = id
			return ip, saveRecord(r)
		}
	}
	return nil, fmt.Errorf("network %s has no free address left in %s (%d in use): remove a container or create a network with a larger --subnet",
		n.Name, n.Subnet, len(r.IPAM))
}

// containerExists tells whether a container of that id still has its directory.
func containerExists(id string) bool {
	_, err := os.Stat(state.Dir(id))
	return err == nil
}

// release gives back the container's address.
func (n *Network) release(id string) error {
	unlock, err := state.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	r, err := loadRecord(n.Name)
	if err != nil {
		return nil // the network is gone, and its table with it
	}
	changed := false
	for ip, owner := range r.IPAM {
		if owner == id {
			delete(r.IPAM, ip)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return saveRecord(r)
}

// endregion ipam
