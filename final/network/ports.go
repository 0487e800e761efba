//go:build linux

package network

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/state"
)

// ParsePort reads Docker's -p forms: HOSTPORT:CTRPORT, IP:HOSTPORT:CTRPORT,
// IP::CTRPORT and CTRPORT, each optionally ending in /tcp or /udp.
func ParsePort(s string) (state.PortBinding, error) {
	bad := func(why string) (state.PortBinding, error) {
		return state.PortBinding{}, fmt.Errorf("invalid -p %q: %s (use -p 8080:80, -p 127.0.0.1:8080:80, -p 80 or -p 53:53/udp)", s, why)
	}
	p := state.PortBinding{Proto: "tcp"}
	spec := s
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		spec, p.Proto = s[:i], s[i+1:]
		if p.Proto != "tcp" && p.Proto != "udp" {
			return bad("the protocol must be tcp or udp")
		}
	}
	f := strings.Split(spec, ":")
	var host string
	switch len(f) {
	case 1:
	case 2:
		host = f[0]
	case 3:
		p.HostIP, host = f[0], f[1]
		if ip := net.ParseIP(p.HostIP); ip == nil || ip.To4() == nil {
			return bad("the host address must be an IPv4 address")
		}
		if p.HostIP == "0.0.0.0" {
			p.HostIP = ""
		}
	default:
		return bad("too many colons")
	}
	var err error
	if p.ContainerPort, err = portNumber(f[len(f)-1]); err != nil {
		return bad("the container port " + err.Error())
	}
	if host != "" {
		if p.HostPort, err = portNumber(host); err != nil {
			return bad("the host port " + err.Error())
		}
	}
	return p, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a number from 1 to 65535", s)
	}
	return n, nil
}

// ShownIP is the host address as ps prints it.
func ShownIP(ip string) string {
	if ip == "" {
		return "0.0.0.0"
	}
	return ip
}

// overlaps tells whether two host addresses share a port space: the same
// address, or either is "every address".
func overlaps(a, b string) bool { return a == "" || b == "" || a == b }
