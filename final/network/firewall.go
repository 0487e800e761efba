//go:build linux

package network

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The chains minidocker owns, as Docker owns DOCKER and DOCKER-ISOLATION-*:
//
//	nat    MINIDOCKER               -p DNAT rules; jumped to from PREROUTING
//	                                (other hosts) and OUTPUT (this host)
//	filter MINIDOCKER               -p FORWARD accepts
//	filter MINIDOCKER-ISOLATION-1   "from one minidocker bridge to another..."
//	filter MINIDOCKER-ISOLATION-2   "...is dropped"
const (
	chainNAT   = "MINIDOCKER"
	chainPorts = "MINIDOCKER"
	chainIso1  = "MINIDOCKER-ISOLATION-1"
	chainIso2  = "MINIDOCKER-ISOLATION-2"
)

// region backend
// backends picks the iptables program minidocker uses, once per run.
// Since 1.8 `iptables` is either iptables-nft (rules in nf_tables) or
// iptables-legacy (the old x_tables). Both sets of tables are live in the
// kernel at once, and rules in one are invisible to the other's
// `iptables -L`. If the host's iptables is nft but the legacy tables
// already hold rules (an older Docker, a firewall script, or minidocker's
// own from an earlier run), minidocker uses legacy, as Docker does, so all
// the host's rules stay in one place. Ubuntu 24.04 and Debian 12 are nft.
var backends = sync.OnceValues(func() (chosen, other string) {
	version, err := exec.Command("iptables", "--version").Output()
	switch {
	case err != nil:
		return "iptables", "" // the error comes with the first rule, and how to fix it
	case !bytes.Contains(version, []byte("nf_tables")):
		chosen, other = "iptables", "iptables-nft" // a legacy host
	case legacyHasRules():
		trace("# %s, but iptables-legacy-save shows rules: using iptables-legacy", strings.TrimSpace(string(version)))
		chosen, other = "iptables-legacy", "iptables"
	default:
		chosen, other = "iptables", "iptables-legacy"
	}
	if _, err := exec.LookPath(other); err != nil {
		other = ""
	}
	return chosen, other
})

// iptables is the program for every rule minidocker adds.
func iptables() string { chosen, _ := backends(); return chosen }

// otherIptables is the other backend, if installed: a rule made before the
// choice changed (legacy rules appeared since) is deleted there.
func otherIptables() string { _, other := backends(); return other }

func legacyHasRules() bool {
	saved, err := exec.Command("iptables-legacy-save").Output()
	return err == nil && bytes.Contains(saved, []byte("\n-A "))
}

// endregion backend

// ipt runs `iptables -w -t TABLE OP CHAIN SPEC... -m comment --comment
// minidocker` with the chosen backend. rule is {"-t", TABLE, CHAIN, SPEC...};
// op is -A, -I, -D or -C.
func ipt(op string, rule []string) error { return iptWith(iptables(), op, rule) }

func iptWith(prog, op string, rule []string) error {
	args := append([]string{"-w", rule[0], rule[1], op, rule[2]}, rule[3:]...)
	args = append(args, "-m", "comment", "--comment", "minidocker")
	if op != "-C" {
		trace("%s %s", prog, strings.Join(args[1:], " "))
	}
	out, err := exec.Command(prog, args...).CombinedOutput()
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("%s not found: install it (apt-get install iptables)", prog)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", prog, strings.Join(args[1:], " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// iptInsert puts a rule first in its chain unless it is already there
// (jumps that must come before the bridges' own ACCEPT rules).
func iptInsert(rule []string) error {
	if ipt("-C", rule) == nil {
		return nil
	}
	return ipt("-I", rule)
}

// iptAppend appends a rule unless `iptables -C` finds it.
func iptAppend(rule []string) error {
	if ipt("-C", rule) == nil {
		return nil
	}
	return ipt("-A", rule)
}

// ensureChain is `iptables -t TABLE -N CHAIN` unless it exists.
func ensureChain(table, chain string) error {
	if exec.Command(iptables(), "-w", "-t", table, "-S", chain).Run() == nil {
		return nil
	}
	trace("%s -t %s -N %s", iptables(), table, chain)
	if out, err := exec.Command(iptables(), "-w", "-t", table, "-N", chain).CombinedOutput(); err != nil {
		return fmt.Errorf("%s -t %s -N %s: %v: %s (install it: apt-get install iptables)", iptables(), table, chain, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// region ensure
// ensure makes the network's bridge and everything a container on it and
// -p need: the chains and their jumps, this bridge's isolation and NAT
// rules, route_localnet, then (ensureBridge) the address, forwarding and
// "up". Each action looks first (iptables -C, ip addr replace), so what is
// already there, made by minidocker, by step06 or by hand, stays, and only
// what is missing is added: never "the bridge exists, so everything else
// does". All of it runs once per bridge: the record keeps the identity of
// the bridge it was done for (identity: boot, network namespace, interface
// index), and a run that finds that same bridge up spawns no iptables at
// all (each costs milliseconds). A bridge step06 made, or one made again
// after `ip link del`, is another bridge: everything is checked again.
func (n *Network) ensure() (netlink.Link, error) {
	if br, err := netlink.LinkByName(n.Bridge); err == nil && br.Attrs().Flags&net.FlagUp != 0 && n.Prepared == identity(br) {
		return br, nil
	}
	unlock, err := state.Lock() // two first runs must not both do it
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := loadRecord(n.Name)
	if err != nil {
		return nil, fmt.Errorf("network %s: %v", n.Name, err)
	}
	if br, err := netlink.LinkByName(n.Bridge); err == nil && br.Attrs().Flags&net.FlagUp != 0 && r.Prepared == identity(br) {
		return br, nil // done while we waited for the lock
	}
	if err := n.prepare(); err != nil {
		return nil, err
	}
	br, err := n.ensureBridge() // address, ip_forward, MASQUERADE, FORWARD accepts, up
	if err != nil {
		return nil, err
	}
	r.Prepared = identity(br)
	return br, saveRecord(r)
}

// prepare makes the bridge if it is missing and the chains, jumps and
// rules of this network. The caller holds the engine lock.
func (n *Network) prepare() error {
	if _, err := netlink.LinkByName(n.Bridge); err != nil {
		trace("ip link add %s type bridge", n.Bridge)
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: n.Bridge}}); err != nil {
			return fmt.Errorf("ip link add %s type bridge: %v", n.Bridge, err)
		}
	}
	// -p to 127.0.0.1: the kernel drops packets with a 127.0.0.0/8 source
	// that are routed out of a non-loopback interface ("martians"), unless
	// route_localnet is set on that interface.
	trace("sysctl -w net.ipv4.conf.%s.route_localnet=1", n.Bridge)
	if err := os.WriteFile("/proc/sys/net/ipv4/conf/"+n.Bridge+"/route_localnet", []byte("1"), 0644); err != nil {
		return fmt.Errorf("sysctl net.ipv4.conf.%s.route_localnet=1: %v", n.Bridge, err)
	}
	for _, c := range [][2]string{{"nat", chainNAT}, {"filter", chainPorts}, {"filter", chainIso1}, {"filter", chainIso2}} {
		if err := ensureChain(c[0], c[1]); err != nil {
			return err
		}
	}
	for _, rule := range [][]string{
		// Published ports: packets from other hosts (PREROUTING) and from
		// this host itself (OUTPUT: locally made packets never pass
		// PREROUTING) to any of the host's own addresses.
		{"-t", "nat", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", chainNAT},
		{"-t", "nat", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", chainNAT},
	} {
		if err := iptAppend(rule); err != nil {
			return err
		}
	}
	// FORWARD starts with the isolation chain, then the ports chain, then
	// (appended by ensureBridge) the bridges' ACCEPT rules.
	for _, rule := range [][]string{
		{"-t", "filter", "FORWARD", "-j", chainPorts},
		{"-t", "filter", "FORWARD", "-j", chainIso1},
	} {
		if err := iptInsert(rule); err != nil {
			return err
		}
	}
	for _, rule := range n.ownRules() {
		if err := iptAppend(rule); err != nil {
			return err
		}
	}
	return nil
}

// ownRules are this network's rules (besides ensureBridge's).
func (n *Network) ownRules() [][]string {
	return [][]string{
		// Isolation, Docker's two stages: a packet that came in on this
		// bridge and leaves by another bridge jumps to stage 2, which
		// drops it if it leaves by any minidocker bridge. Each network
		// adds one rule to each chain, not one per pair of networks.
		{"-t", "filter", chainIso1, "-i", n.Bridge, "!", "-o", n.Bridge, "-j", chainIso2},
		{"-t", "filter", chainIso2, "-o", n.Bridge, "-j", "DROP"},
		// A connection from the host's 127.0.0.1 to a published port
		// leaves by the bridge with source 127.0.0.1; the container would
		// answer to its own loopback. Masquerade it as the gateway.
		{"-t", "nat", "POSTROUTING", "-s", "127.0.0.0/8", "-o", n.Bridge, "-j", "MASQUERADE"},
		// Hairpin: a container reaching a published port (its own or a
		// neighbour's) through the host's address comes back out of the
		// same bridge; without SNAT the answer would skip the host's
		// conntrack and be dropped by the client.
		{"-t", "nat", "POSTROUTING", "-s", n.Subnet.String(), "-o", n.Bridge, "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE"},
	}
}

// endregion ensure

// identity names one bridge among all that were and will be: the boot
// (/proc/sys/kernel/random/boot_id), the network namespace (the inode of
// /proc/self/ns/net) and the interface index, which the kernel does not
// hand out twice in a namespace's life.
func identity(br netlink.Link) string {
	var st unix.Stat_t
	unix.Stat("/proc/self/ns/net", &st)
	return fmt.Sprintf("%s/%d/%d", bootID(), st.Ino, br.Attrs().Index)
}

var bootID = sync.OnceValue(func() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
})

// teardown deletes the bridge and every rule the network added. The caller
// holds the engine lock.
func (n *Network) teardown() error {
	if l, err := netlink.LinkByName(n.Bridge); err == nil {
		trace("ip link del %s", n.Bridge)
		if err := netlink.LinkDel(l); err != nil {
			return fmt.Errorf("ip link del %s: %v", n.Bridge, err)
		}
	}
	DeleteRules(append(n.ownRules(), n.bridgeRules()...))
	return nil
}

// dropChainsIfUnused removes the chains and their jumps when no network
// has a bridge any more: the last `network rm` leaves the tables as they
// were before minidocker. The caller holds the engine lock.
func dropChainsIfUnused() {
	files, _ := filepath.Glob(filepath.Join(state.Root, "network", "*.json"))
	for _, f := range files {
		if r, err := loadRecord(strings.TrimSuffix(filepath.Base(f), ".json")); err == nil {
			if _, err := netlink.LinkByName(r.Bridge); err == nil {
				return
			}
		}
	}
	DeleteRules([][]string{
		{"-t", "nat", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", chainNAT},
		{"-t", "nat", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", chainNAT},
		{"-t", "filter", "FORWARD", "-j", chainPorts},
		{"-t", "filter", "FORWARD", "-j", chainIso1},
	})
	for _, c := range [][2]string{{"nat", chainNAT}, {"filter", chainPorts}, {"filter", chainIso1}, {"filter", chainIso2}} {
		for _, prog := range []string{iptables(), otherIptables()} {
			if prog != "" && exec.Command(prog, "-w", "-t", c[0], "-S", c[1]).Run() == nil {
				trace("%s -t %s -X %s", prog, c[0], c[1])
				exec.Command(prog, "-w", "-t", c[0], "-X", c[1]).Run() // refused while not empty: fine
			}
		}
	}
}

// region publish
// PublishRules are the rules for a container's published ports:
//
//	nat MINIDOCKER: [-d HOSTIP] -p tcp --dport 8080 -j DNAT --to-destination 172.29.0.2:80
//	filter MINIDOCKER: -d 172.29.0.2/32 ! -i BR -o BR -p tcp --dport 80 -j ACCEPT
//
// The DNAT rule rewrites the destination of a packet to the host's port;
// the kernel's conntrack remembers it and rewrites the answers back.
func PublishRules(ep *Endpoint, ports []state.PortBinding) [][]string {
	var rules [][]string
	for _, p := range ports {
		dnat := []string{"-t", "nat", chainNAT}
		if p.HostIP != "" {
			dnat = append(dnat, "-d", p.HostIP+"/32")
		}
		dnat = append(dnat, "-p", p.Proto, "--dport", strconv.Itoa(p.HostPort),
			"-j", "DNAT", "--to-destination", ep.IP+":"+strconv.Itoa(p.ContainerPort))
		accept := []string{"-t", "filter", chainPorts, "-d", ep.IP + "/32", "!", "-i", ep.Bridge, "-o", ep.Bridge,
			"-p", p.Proto, "--dport", strconv.Itoa(p.ContainerPort), "-j", "ACCEPT"}
		rules = append(rules, dnat, accept)
	}
	return rules
}

// AddRules appends rules; on an error it deletes those it added.
func AddRules(rules [][]string) error {
	for i, r := range rules {
		if err := ipt("-A", r); err != nil {
			DeleteRules(rules[:i])
			return err
		}
	}
	return nil
}

// DeleteRules deletes rules; a rule already gone is not an error (release
// runs again after a crash).
func DeleteRules(rules [][]string) {
	for _, r := range rules {
		for _, prog := range []string{iptables(), otherIptables()} {
			if prog != "" && iptWith(prog, "-C", r) == nil {
				iptWith(prog, "-D", r)
				break
			}
		}
	}
}

// endregion publish

// region ports
// ResolvePorts checks the container's -p against the ports other running
// containers publish (taken) and picks a free host port for -p CTRPORT,
// from 32768 up as Docker does. The caller holds the engine lock, so two
// parallel runs cannot both take 8080. A port some host process listens on
// is refused too: the DNAT rule would silently steal its traffic.
func ResolvePorts(want, taken []state.PortBinding) ([]state.PortBinding, error) {
	var out []state.PortBinding
	busy := func(p state.PortBinding) string {
		for _, t := range append(append([]state.PortBinding{}, taken...), out...) {
			if t.Proto == p.Proto && t.HostPort == p.HostPort && overlaps(t.HostIP, p.HostIP) {
				return "port is already allocated"
			}
		}
		if err := canBind(p); err != nil {
			return "a process on the host uses it (" + err.Error() + ")"
		}
		return ""
	}
	for _, p := range want {
		if p.HostPort != 0 {
			if why := busy(p); why != "" {
				return nil, fmt.Errorf("Bind for %s:%d failed: %s; publish another host port (-p OTHER:%d)", ShownIP(p.HostIP), p.HostPort, why, p.ContainerPort)
			}
			out = append(out, p)
			continue
		}
		for port := 32768; port <= 60999; port++ {
			p.HostPort = port
			if busy(p) == "" {
				break
			}
			p.HostPort = 0
		}
		if p.HostPort == 0 {
			return nil, fmt.Errorf("no free host port for -p %d/%s in 32768-60999", p.ContainerPort, p.Proto)
		}
		out = append(out, p)
	}
	return out, nil
}

// canBind binds the port for a moment, as docker-proxy would hold it.
func canBind(p state.PortBinding) error {
	addr := net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
	if p.Proto == "udp" {
		c, err := net.ListenPacket("udp4", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

// endregion ports
