//go:build linux

// network.go: everything step06 adds, called from main.go. Links, addresses
// and routes go through netlink(7), the socket that ip(8) itself uses (the
// library github.com/vishvananda/netlink speaks it); iptables rules go through
// the iptables program, so they land in whichever backend the host uses.
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// region net-config
// The default bridge, like Docker's docker0 with 172.17.0.1/16.
const (
	bridgeName = "minidocker0"
	ruleTag    = "minidocker" // -m comment --comment: how our rules are found again
	runDir     = "/run/minidocker"
	ipsFile    = runDir + "/step06-ips" // "ADDRESS PID" per running container
)

// gatewayIP is the bridge's address and the containers' default route;
// subnet is the range containers take their addresses from.
var gatewayIP, subnet, _ = net.ParseCIDR("172.29.0.1/16")

// natRules are added once and stay, as Docker's do: MASQUERADE rewrites the
// source of packets that leave by another interface than the bridge to the
// host's address (SNAT), and the FORWARD rules let the host route them, even
// where Docker set the FORWARD policy to DROP.
var natRules = [][]string{
	{"-t", "nat", "POSTROUTING", "-s", "172.29.0.0/16", "!", "-o", bridgeName, "-j", "MASQUERADE"},
	{"-t", "filter", "FORWARD", "-i", bridgeName, "-j", "ACCEPT"},
	{"-t", "filter", "FORWARD", "-o", bridgeName, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
}

// endpoint is what a run adds for its container: filled in step by step, so
// that unwireNetwork removes exactly what exists, even after a failure.
type endpoint struct {
	hostVeth string // the host end of the veth pair, on the bridge
	ip       net.IP // the address taken in ipsFile, or nil
}

// endregion net-config

// preflightNetwork checks --ip before anything starts: inside the subnet,
// neither its network address, the gateway nor the broadcast address.
func preflightNetwork(c config) {
	if _, err := exec.LookPath("iptables"); err != nil {
		fail(1, "iptables not found: install it (`sudo apt-get install iptables`)")
	}
	if c.ip == "" {
		return
	}
	ip, n, err := net.ParseCIDR(c.ip)
	if err != nil {
		ip, n = net.ParseIP(c.ip), subnet // a bare address takes the bridge's prefix
	}
	ones, _ := subnet.Mask.Size()
	if got, _ := n.Mask.Size(); ip == nil || ip.To4() == nil || !subnet.Contains(ip) || got != ones ||
		ip.Equal(gatewayIP) || ipToInt(ip)&^maskInt() == 0 || ipToInt(ip)|maskInt() == ^uint32(0) {
		fail(1, "--ip %s is not a container address on %s: pick one of 172.29.0.2-172.29.255.254, e.g. --ip 172.29.0.9/16", c.ip, subnet)
	}
}

// region wire
// wireNetwork runs in the parent once the child exists (and waits on its
// pipe): take an address, make sure the bridge and the rules exist, create
// the veth pair and configure the container's end from inside its namespace.
func wireNetwork(c config, pid int) (*endpoint, error) {
	ep := &endpoint{}
	unlock := lockRunDir(c) // one run at a time: two first runs must not both add the rules
	var br netlink.Link
	ip, err := allocateIP(c)
	if err == nil {
		ep.ip = ip
		br, err = ensureBridge(c)
	}
	unlock()
	if err != nil {
		return ep, err
	}

	// A veth pair is a virtual cable: what goes in one end comes out of the
	// other. Both ends are made here on the host, then one end moves.
	host, peer := fmt.Sprintf("veth%d", pid), fmt.Sprintf("ceth%d", pid) // at most 15 characters
	c.trace("ip link add %s type veth peer name %s", host, peer)
	la := netlink.NewLinkAttrs()
	la.Name = host
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: peer}); err != nil {
		return ep, fmt.Errorf("ip link add %s type veth: %v", host, err)
	}
	ep.hostVeth = host
	c.trace("ip link set %s master %s up", host, bridgeName)
	veth, err := netlink.LinkByName(host)
	if err == nil {
		err = netlink.LinkSetMaster(veth, br)
	}
	if err == nil {
		err = netlink.LinkSetUp(veth)
	}
	if err != nil {
		return ep, fmt.Errorf("ip link set %s master %s up: %v", host, bridgeName, err)
	}
	// Moving a link into a namespace: it disappears from the host's `ip link`.
	c.trace("ip link set %s netns %d", peer, pid)
	p, err := netlink.LinkByName(peer)
	if err == nil {
		err = netlink.LinkSetNsPid(p, pid)
	}
	if err != nil {
		return ep, fmt.Errorf("ip link set %s netns %d: %v", peer, pid, err)
	}
	return ep, configureInside(c, pid, peer, ip)
}

// configureInside works in the container's network namespace from the
// parent: a netlink socket opened there (NewHandleAt) configures its links,
// like `nsenter -t PID -n ip ...` or `ip -n NAME ...` would. The child needs
// no network code of its own, and no Go thread of ours has to setns(2).
func configureInside(c config, pid int, peer string, ip net.IP) error {
	ns, err := netns.GetFromPid(pid) // open /proc/PID/ns/net
	if err != nil {
		return fmt.Errorf("open /proc/%d/ns/net: %v", pid, err)
	}
	defer ns.Close() // an open handle would keep the namespace alive
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink socket in the container's namespace: %v", err)
	}
	defer h.Close()
	in := fmt.Sprintf("nsenter -t %d -n ", pid)
	ones, _ := subnet.Mask.Size()
	step := func(cmd string, err error) error {
		c.trace("%s%s", in, cmd)
		if err != nil {
			return fmt.Errorf("%s%s: %v", in, cmd, err)
		}
		return nil
	}
	eth0, err := h.LinkByName(peer)
	if err == nil {
		err = step("ip link set "+peer+" name eth0", h.LinkSetName(eth0, "eth0"))
	}
	if err == nil {
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip, Mask: subnet.Mask}}
		err = step(fmt.Sprintf("ip addr add %s/%d dev eth0", ip, ones), h.AddrAdd(eth0, addr))
	}
	if err == nil {
		err = step("ip link set eth0 up", h.LinkSetUp(eth0))
	}
	if err == nil {
		lo, _ := h.LinkByName("lo") // every new network namespace has lo, down
		err = step("ip link set lo up", h.LinkSetUp(lo))
	}
	if err == nil { // a route without Dst is the default route
		route := &netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: gatewayIP}
		err = step(fmt.Sprintf("ip route add default via %s dev eth0", gatewayIP), h.RouteAdd(route))
	}
	return err
}

// endregion wire

// region unwire
// unwireNetwork runs after the container has exited (or failed to start).
// Deleting one end of a veth pair deletes both. The kernel would also delete
// it when the namespace dies, but later, in the background: deleting it here
// makes "gone when we return" true. The bridge and the rules stay.
func unwireNetwork(c config, ep *endpoint) {
	if ep.hostVeth != "" {
		if link, err := netlink.LinkByName(ep.hostVeth); err == nil {
			c.trace("ip link del %s", ep.hostVeth)
			netlink.LinkDel(link) // fails only if the kernel was faster: then it is gone too
		}
	}
	if ep.ip != nil {
		unlock := lockRunDir(c)
		defer unlock()
		ips := readIPs()
		delete(ips, ep.ip.String())
		c.trace("sed -i '/^%s /d' %s", ep.ip, ipsFile)
		writeIPs(ips)
	}
}

// endregion unwire

// region bridge
// ensureBridge makes the bridge, its address, forwarding and the rules exist.
// Each action is idempotent, as the traced shell line shows: the first run
// creates, later runs find everything in place.
func ensureBridge(c config) (netlink.Link, error) {
	c.trace("ip link show %s >/dev/null 2>&1 || ip link add %s type bridge", bridgeName, bridgeName)
	br, err := netlink.LinkByName(bridgeName)
	if err != nil {
		la := netlink.NewLinkAttrs()
		la.Name = bridgeName
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil {
			return nil, fmt.Errorf("ip link add %s type bridge: %v (is the bridge module available? `modprobe bridge`)", bridgeName, err)
		}
		if br, err = netlink.LinkByName(bridgeName); err != nil {
			return nil, err
		}
	}
	// The bridge's own address makes the host a member of the subnet: the
	// containers' gateway, and the source of the route `172.29.0.0/16 dev minidocker0`.
	ones, _ := subnet.Mask.Size()
	c.trace("ip addr replace %s/%d dev %s", gatewayIP, ones, bridgeName)
	if err := netlink.AddrReplace(br, &netlink.Addr{IPNet: &net.IPNet{IP: gatewayIP, Mask: subnet.Mask}}); err != nil {
		return nil, fmt.Errorf("ip addr replace %s/%d dev %s: %v", gatewayIP, ones, bridgeName, err)
	}
	c.trace("ip link set %s up", bridgeName)
	if err := netlink.LinkSetUp(br); err != nil {
		return nil, fmt.Errorf("ip link set %s up: %v", bridgeName, err)
	}
	// Without forwarding the host drops every packet not addressed to itself.
	c.trace("sysctl -w net.ipv4.ip_forward=1")
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0644); err != nil {
		return nil, fmt.Errorf("sysctl -w net.ipv4.ip_forward=1: %v", err)
	}
	ipt := iptablesBackend(c)
	for _, rule := range natRules {
		check, add := ruleArgs("-C", rule), ruleArgs("-A", rule)
		c.trace("%s %s 2>/dev/null || %s %s", ipt, strings.Join(check, " "), ipt, strings.Join(add, " "))
		if exec.Command(ipt, check...).Run() == nil {
			continue // already there: adding it again would make a duplicate
		}
		if out, err := exec.Command(ipt, add...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s %s: %s", ipt, strings.Join(add, " "), firstLine(out, err))
		}
	}
	return br, nil
}

// ruleArgs turns a rule into iptables arguments: -w waits for the xtables
// lock instead of failing when another program changes rules at that moment.
func ruleArgs(op string, rule []string) []string {
	args := append([]string{"-w"}, rule[:2]...) // -t TABLE
	args = append(args, op, rule[2])            // -A CHAIN
	args = append(args, rule[3:len(rule)-2]...) // the match
	args = append(args, "-m", "comment", "--comment", ruleTag)
	return append(args, rule[len(rule)-2:]...) // -j TARGET
}

// iptablesBackend picks the iptables program. Since 1.8 `iptables` is either
// iptables-nft (rules in nf_tables) or iptables-legacy (the old x_tables).
// Both sets of tables are live in the kernel at once: rules in one are
// invisible to the other's `iptables -L`, and mixing them gives confusing
// results. If the host's iptables is nft but it already holds legacy rules
// (an older Docker, a firewall script), use legacy, as Docker does.
func iptablesBackend(c config) string {
	version, _ := exec.Command("iptables", "--version").Output()
	if bytes.Contains(version, []byte("nf_tables")) {
		if saved, err := exec.Command("iptables-legacy-save").Output(); err == nil && bytes.Contains(saved, []byte("\n-A ")) {
			c.trace("# %s, but iptables-legacy-save shows rules: using iptables-legacy", strings.TrimSpace(string(version)))
			return "iptables-legacy"
		}
	}
	return "iptables"
}

// endregion bridge

// region ipam
// lockRunDir takes flock(2) on /run/minidocker, the directory that holds the
// address file: `flock /run/minidocker CMD` in a shell. Locking the
// directory, not the file, lets the last run delete the file.
func lockRunDir(c config) (unlock func()) {
	must(os.MkdirAll(runDir, 0755), "mkdir "+runDir)
	d, err := os.Open(runDir)
	must(err, "open "+runDir)
	must(unix.Flock(int(d.Fd()), unix.LOCK_EX), "flock "+runDir)
	return func() { d.Close() } // closing drops the lock
}

// allocateIP takes --ip, or the lowest free address after the gateway, and
// records it with the PID of this program, which releases it on exit.
func allocateIP(c config) (net.IP, error) {
	ips := readIPs()
	var ip net.IP
	if c.ip != "" {
		ip, _, _ = net.ParseCIDR(c.ip)
		if ip == nil {
			ip = net.ParseIP(c.ip)
		}
		ip = ip.To4()
		if owner, taken := ips[ip.String()]; taken {
			return nil, fmt.Errorf("--ip %s is in use by the container of process %s (see %s): pick another address, or leave --ip out", ip, owner, ipsFile)
		}
	} else {
		for n := ipToInt(gatewayIP) + 1; n|maskInt() != ^uint32(0); n++ {
			candidate := intToIP(n)
			if _, taken := ips[candidate.String()]; !taken {
				ip = candidate
				break
			}
		}
		if ip == nil {
			return nil, fmt.Errorf("no free address left in %s: stop a container first", subnet)
		}
	}
	ips[ip.String()] = fmt.Sprint(os.Getpid())
	c.trace("echo '%s %d' >> %s", ip, os.Getpid(), ipsFile)
	return ip, writeIPs(ips)
}

// readIPs reads the address file. An entry whose process is gone (killed
// with SIGKILL, so it could not release its address) counts as free.
func readIPs() map[string]string {
	ips := map[string]string{}
	b, _ := os.ReadFile(ipsFile)
	for _, line := range strings.Split(string(b), "\n") {
		var ip, pid string
		if n, _ := fmt.Sscan(line, &ip, &pid); n == 2 {
			if _, err := os.Stat(filepath.Join("/proc", pid)); err == nil {
				ips[ip] = pid
			}
		}
	}
	return ips
}

// writeIPs rewrites the address file, or removes it when no address is taken.
func writeIPs(ips map[string]string) error {
	if len(ips) == 0 {
		if err := os.Remove(ipsFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	var lines []string
	for ip, pid := range ips {
		lines = append(lines, ip+" "+pid+"\n")
	}
	sort.Strings(lines)
	return os.WriteFile(ipsFile, []byte(strings.Join(lines, "")), 0644)
}

func ipToInt(ip net.IP) uint32 { return binary.BigEndian.Uint32(ip.To4()) }
func intToIP(n uint32) net.IP  { return binary.BigEndian.AppendUint32(nil, n) }
func maskInt() uint32          { return binary.BigEndian.Uint32(subnet.Mask) }

// endregion ipam

// cleanNetwork is `--clean`: remove what the runs keep, the rules and the
// bridge (net.ipv4.ip_forward stays 1: other software may rely on it).
func cleanNetwork(c config) {
	if os.Geteuid() != 0 {
		fail(1, "must run as root to remove %s and its rules; try `sudo go run ./%s --clean`", bridgeName, name)
	}
	unlock := lockRunDir(c)
	defer unlock()
	if ips := readIPs(); len(ips) > 0 {
		fail(1, "%d container(s) still use %s (see %s): stop them first", len(ips), bridgeName, ipsFile)
	}
	ipt := iptablesBackend(c)
	for _, rule := range natRules {
		del := ruleArgs("-D", rule)
		for exec.Command(ipt, ruleArgs("-C", rule)...).Run() == nil {
			c.trace("%s %s", ipt, strings.Join(del, " "))
			if out, err := exec.Command(ipt, del...).CombinedOutput(); err != nil {
				fail(1, "%s %s: %s", ipt, strings.Join(del, " "), firstLine(out, err))
			}
		}
	}
	if br, err := netlink.LinkByName(bridgeName); err == nil {
		c.trace("ip link del %s", bridgeName)
		must(netlink.LinkDel(br), "ip link del "+bridgeName)
	}
	writeIPs(nil) // an empty file left by a killed run
	fmt.Printf("%s: removed the bridge %s and the iptables rules tagged %q\n", name, bridgeName, ruleTag)
}

// firstLine keeps an error message to one line.
func firstLine(out []byte, err error) string {
	if line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n"); line != "" {
		return line
	}
	return err.Error()
}
