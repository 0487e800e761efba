package network

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Mode is what --network asked for.
type Mode struct {
	Kind string // "bridge", "none", "host", "container"
	Name string // the network's name (Kind bridge) or the container (Kind container)
}

// ValidName says whether s may name a network, a container or an image:
// a letter or digit, then letters, digits, '_', '.' or '-' (Docker's rule,
// [a-zA-Z0-9][a-zA-Z0-9_.-]*, checked by hand: a regexp compiled at start-up
// would cost every minidocker command a fraction of a millisecond).
func ValidName(s string) bool {
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return s != ""
}

// ParseMode reads --network: bridge (the default network), none, host,
// container:NAME|ID (share that container's network namespace), or the
// name of a network made with `network create`.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "bridge", "default":
		return Mode{Kind: "bridge", Name: "bridge"}, nil
	case "none", "host":
		return Mode{Kind: s}, nil
	}
	if c, ok := strings.CutPrefix(s, "container:"); ok {
		if c == "" {
			return Mode{}, fmt.Errorf("invalid --network %q: use container:NAME or container:ID", s)
		}
		return Mode{Kind: "container", Name: c}, nil
	}
	if !ValidName(s) {
		return Mode{}, fmt.Errorf("invalid --network %q: use bridge, none, host, container:NAME or a network's name", s)
	}
	return Mode{Kind: "bridge", Name: s}, nil
}

func (m Mode) String() string {
	switch m.Kind {
	case "bridge":
		return m.Name
	case "container":
		return "container:" + m.Name
	}
	return m.Kind
}

// OwnNamespace tells whether the container gets a new network namespace
// (CLONE_NEWNET): bridge networks and none. host keeps the host's;
// container:C joins C's (setns, in the container's init).
func (m Mode) OwnNamespace() bool { return m.Kind != "host" && m.Kind != "container" }

// Network is one bridge network: its own Linux bridge, subnet and IPAM.
type Network struct {
	Name    string
	ID      string
	Bridge  string
	Subnet  *net.IPNet
	Gateway net.IP
	Created time.Time
	// Prepared: see record.Prepared.
	Prepared string
	Labels   map[string]string
	Options  map[string]string
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
