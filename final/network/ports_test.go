//go:build linux

package network

import (
	"testing"

	"github.com/minidocker/build-your-own-docker/final/state"
)

func TestParsePort(t *testing.T) {
	for in, want := range map[string]state.PortBinding{
		"8080:80":           {HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		"80":                {ContainerPort: 80, Proto: "tcp"},
		"127.0.0.1:8081:80": {HostIP: "127.0.0.1", HostPort: 8081, ContainerPort: 80, Proto: "tcp"},
		"0.0.0.0:53:53/udp": {HostPort: 53, ContainerPort: 53, Proto: "udp"},
		"10.0.0.1::80/tcp":  {HostIP: "10.0.0.1", ContainerPort: 80, Proto: "tcp"},
	} {
		if got, err := ParsePort(in); err != nil || got != want {
			t.Errorf("ParsePort(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "80/sctp", "x:80", "8080:0", "1:2:3:4", "localhost:80:80", "70000:80"} {
		if _, err := ParsePort(bad); err == nil {
			t.Errorf("ParsePort(%q) accepted", bad)
		}
	}
}

func TestResolvePortsConflicts(t *testing.T) {
	taken := []state.PortBinding{{HostPort: 38080, ContainerPort: 80, Proto: "tcp"}}
	if _, err := ResolvePorts([]state.PortBinding{{HostIP: "127.0.0.1", HostPort: 38080, ContainerPort: 80, Proto: "tcp"}}, taken); err == nil {
		t.Error("127.0.0.1:38080 accepted while 0.0.0.0:38080 is published")
	}
	if _, err := ResolvePorts([]state.PortBinding{{HostPort: 38080, ContainerPort: 80, Proto: "udp"}}, taken); err != nil {
		t.Errorf("38080/udp refused: %v", err)
	}
	got, err := ResolvePorts([]state.PortBinding{{ContainerPort: 80, Proto: "tcp"}, {ContainerPort: 81, Proto: "tcp"}}, nil)
	if err != nil || got[0].HostPort < 32768 || got[0].HostPort == got[1].HostPort {
		t.Errorf("random ports: %+v, %v", got, err)
	}
}
