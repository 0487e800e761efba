//go:build linux

package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/vishvananda/netlink"
)

// region store
// A network is one file, /var/lib/minidocker/network/NAME.json: what
// `network create` was told, and the IPAM table (which address each
// container holds). Every read-modify-write of it happens under the
// engine lock (flock), so parallel `run`s never hand out one address twice.
type record struct {
	Name    string
	ID      string `json:"Id"`
	Driver  string
	Created time.Time
	Subnet  string
	Gateway string
	Bridge  string
	IPAM    map[string]string // "172.30.0.2": container id
	Labels  map[string]string `json:",omitempty"`
	Options map[string]string `json:",omitempty"`
	// Prepared is the identity of the bridge (see identity) for which
	// every chain and rule was checked and made: ensure's fast path.
	Prepared string `json:",omitempty"`
}

func recordFile(name string) string { return filepath.Join(state.Root, "network", name+".json") }

func loadRecord(name string) (*record, error) {
	b, err := os.ReadFile(recordFile(name))
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("network %s: broken record %s: %v", name, recordFile(name), err)
	}
	if r.IPAM == nil {
		r.IPAM = map[string]string{}
	}
	return &r, nil
}

func saveRecord(r *record) error {
	if err := os.MkdirAll(filepath.Dir(recordFile(r.Name)), 0700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	return state.WriteFileAtomic(recordFile(r.Name), b)
}

// endregion store

func (r *record) network() *Network {
	_, subnet, _ := net.ParseCIDR(r.Subnet)
	return &Network{Name: r.Name, ID: r.ID, Bridge: r.Bridge, Subnet: subnet, Gateway: net.ParseIP(r.Gateway).To4(), Created: r.Created, Prepared: r.Prepared, Labels: r.Labels, Options: r.Options}
}

// Predefined are the networks that always exist, as in Docker.
var Predefined = map[string]string{"bridge": "bridge", "host": "host", "none": "null"}

// Get returns a bridge network by name. The default network, bridge, is
// written on first use.
func Get(name string) (*Network, error) {
	if r, err := loadRecord(name); err == nil {
		return r.network(), nil
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	if name != "bridge" {
		return nil, fmt.Errorf("network %s not found: create it (minidocker network create %s) or see minidocker network ls", name, name)
	}
	unlock, err := state.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if r, err := loadRecord(name); err == nil { // made while we waited
		return r.network(), nil
	}
	d := Default()
	r := &record{Name: d.Name, ID: state.NewID(), Driver: "bridge", Created: time.Now().UTC(), Subnet: d.Subnet.String(),
		Gateway: d.Gateway.String(), Bridge: d.Bridge, IPAM: map[string]string{}}
	return r.network(), saveRecord(r)
}

// List returns the bridge networks, the default one first.
func List() ([]*Network, error) {
	if _, err := Get("bridge"); err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(state.Root, "network", "*.json"))
	var out []*Network
	for _, f := range files {
		if r, err := loadRecord(strings.TrimSuffix(filepath.Base(f), ".json")); err == nil {
			out = append(out, r.network())
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Name == "bridge") != (out[j].Name == "bridge") {
			return out[i].Name == "bridge"
		}
		return out[i].Created.Before(out[j].Created)
	})
	return out, nil
}

// Addresses is the IPAM table of a network: address -> container id.
func (n *Network) Addresses() map[string]string {
	if r, err := loadRecord(n.Name); err == nil {
		return r.IPAM
	}
	return map[string]string{}
}

// region create
// Create is `network create [--subnet CIDR] [--gateway IP] NAME`. Without
// --subnet it takes the first /16 of 172.30-31 and 10.100-199 that overlaps
// no network and no route of the host. Two networks may never overlap: a
// container's packets to an address in both would go to either bridge.
func Create(name, subnet, gateway string, labels, options map[string]string) (*Network, error) {
	if Predefined[name] != "" {
		return nil, fmt.Errorf("network %s is predefined: choose another name", name)
	}
	if !ValidName(name) {
		return nil, fmt.Errorf("invalid network name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	if _, err := Get("bridge"); err != nil { // the default's range is taken too
		return nil, err
	}
	unlock, err := state.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := loadRecord(name); err == nil {
		return nil, fmt.Errorf("network with name %s already exists: remove it (minidocker network rm %s) or choose another name", name, name)
	}
	existing, _ := List()
	var sn *net.IPNet
	if subnet != "" {
		ip, n, err := net.ParseCIDR(subnet)
		if err != nil || ip.To4() == nil || !ip.Equal(n.IP) {
			return nil, fmt.Errorf("invalid --subnet %q: use an IPv4 network such as 172.30.0.0/16 (host bits zero)", subnet)
		}
		if ones, _ := n.Mask.Size(); ones > 30 {
			return nil, fmt.Errorf("invalid --subnet %q: a /%d has no room for a gateway and a container; use /30 or larger", subnet, ones)
		}
		for _, o := range existing {
			if overlap(n, o.Subnet) {
				return nil, fmt.Errorf("invalid --subnet %s: it overlaps network %s (%s); choose another range", subnet, o.Name, o.Subnet)
			}
		}
		sn = n
	} else if sn = freeSubnet(existing); sn == nil {
		return nil, errors.New("no free address range left for a network: give one with --subnet")
	}
	gw := nextIP(sn.IP, 1)
	if gateway != "" {
		gw = net.ParseIP(gateway).To4()
		if gw == nil || !sn.Contains(gw) || gw.Equal(sn.IP) || gw.Equal(lastIP(sn)) {
			return nil, fmt.Errorf("invalid --gateway %q: it must be a host address inside %s", gateway, sn)
		}
	}
	id := state.NewID()
	// A Linux interface name has at most 15 characters (IFNAMSIZ - 1).
	r := &record{Name: name, ID: id, Driver: "bridge", Created: time.Now().UTC(), Subnet: sn.String(),
		Gateway: gw.String(), Bridge: "md-" + id[:12], IPAM: map[string]string{}, Labels: labels, Options: options}
	return r.network(), saveRecord(r)
}

// endregion create

func overlap(a, b *net.IPNet) bool { return a.Contains(b.IP) || b.Contains(a.IP) }

func freeSubnet(existing []*Network) *net.IPNet {
	routes, _ := netlink.RouteList(nil, netlink.FAMILY_V4)
	var candidates []string
	for i := 30; i <= 31; i++ {
		candidates = append(candidates, fmt.Sprintf("172.%d.0.0/16", i))
	}
	for i := 100; i < 200; i++ {
		candidates = append(candidates, fmt.Sprintf("10.%d.0.0/16", i))
	}
next:
	for _, c := range candidates {
		_, n, _ := net.ParseCIDR(c)
		for _, o := range existing {
			if overlap(n, o.Subnet) {
				continue next
			}
		}
		for _, r := range routes {
			// The default route (no Dst, or 0.0.0.0/0 in newer netlink)
			// overlaps everything and means nothing here.
			if r.Dst != nil && !isDefault(r.Dst) && overlap(n, r.Dst) {
				continue next
			}
		}
		return n
	}
	return nil
}

func isDefault(n *net.IPNet) bool { ones, _ := n.Mask.Size(); return ones == 0 }

func nextIP(ip net.IP, add uint32) net.IP {
	v := ipToU32(ip) + add
	return net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).To4()
}

func ipToU32(ip net.IP) uint32 {
	ip = ip.To4()
	return uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
}

func lastIP(n *net.IPNet) net.IP {
	ones, bits := n.Mask.Size()
	return nextIP(n.IP, uint32(1)<<uint(bits-ones)-1)
}

// Users lists the running containers on the network (names).
func (n *Network) Users() []string {
	cs, _ := state.List()
	var users []string
	for _, c := range cs {
		if c.State.Status == "running" && state.Alive(c.State.Pid, c.State.PidStart) && c.Network.Mode == n.Name {
			users = append(users, c.Name)
		}
	}
	return users
}

// Remove is `network rm NAME`: refused while a running container uses it;
// otherwise the bridge, its iptables rules and its file go.
func Remove(name string) error {
	if Predefined[name] != "" {
		return fmt.Errorf("%s is a pre-defined network and cannot be removed", name)
	}
	unlock, err := state.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	r, err := loadRecord(name)
	if err != nil {
		return fmt.Errorf("network %s not found", name)
	}
	n := r.network()
	if users := n.Users(); len(users) > 0 {
		return fmt.Errorf("network %s has active endpoints (%s): remove those containers first (minidocker rm -f %s)", name, strings.Join(users, ", "), strings.Join(users, " "))
	}
	if err := n.teardown(); err != nil {
		return err
	}
	if err := os.Remove(recordFile(name)); err != nil {
		return err
	}
	dropChainsIfUnused()
	return nil
}
