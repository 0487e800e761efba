package network

import (
	"fmt"
	"net"
)

// Mode is what --network asked for.
type Mode struct {
	Kind string // "bridge", "none", "host"
	Name string // the network's name, for Kind == "bridge"
}

// ParseMode reads --network. Today: bridge, none, host.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "bridge", "default":
		return Mode{Kind: "bridge", Name: "bridge"}, nil
	case "none", "host":
		return Mode{Kind: s}, nil
	}
	return Mode{}, fmt.Errorf("invalid --network %q: use bridge, none or host", s)
}

func (m Mode) String() string {
	if m.Kind == "bridge" {
		return m.Name
	}
	return m.Kind
}

// OwnNamespace tells whether the container gets its own network namespace
// (CLONE_NEWNET): every mode but host.
func (m Mode) OwnNamespace() bool { return m.Kind != "host" }

// Network is one bridge network.
type Network struct {
	Name    string
	Bridge  string
	Subnet  *net.IPNet
	Gateway net.IP
}

// Default is the default bridge: minidocker0, 172.29.0.0/16 (Docker's
// docker0 is 172.17.0.0/16; another range keeps the two apart).
func Default() *Network {
	_, subnet, _ := net.ParseCIDR("172.29.0.0/16")
	return &Network{Name: "bridge", Bridge: "minidocker0", Subnet: subnet, Gateway: net.ParseIP("172.29.0.1").To4()}
}

// Endpoint is one container's place on a network, as inspect shows it.
type Endpoint struct {
	Network   string
	IP        string
	PrefixLen int
	Gateway   string
	Mac       string
	HostVeth  string
	Bridge    string
}

// MacFor derives the MAC from the IP, as Docker does (02:42 + the 4 bytes).
func MacFor(ip net.IP) net.HardwareAddr {
	ip = ip.To4()
	return net.HardwareAddr{0x02, 0x42, ip[0], ip[1], ip[2], ip[3]}
}
