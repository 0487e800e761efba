//go:build linux

package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/network"
	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// region connect
// connect puts the container (its init is pid, waiting for its spec) on
// its network and returns its address for /etc/hosts:
//   - bridge or a user network: a veth pair on that network's bridge
//   - container:C: init will setns(2) into C's network namespace (Spec.JoinNetNS)
//   - host: nothing (no CLONE_NEWNET); none: nothing (only lo)
func (p *Process) connect(mode network.Mode, pid int, spec *Spec) (string, error) {
	c := p.C
	c.Network = state.NetworkSettings{Mode: mode.String()}
	switch mode.Kind {
	case "bridge":
		n, err := network.Get(mode.Name)
		if err != nil {
			return "", err
		}
		ep, err := n.Attach(c.ID, pid)
		if err != nil {
			return "", err
		}
		c.Network = state.NetworkSettings{Mode: mode.String(), IPAddress: ep.IP, IPPrefixLen: ep.PrefixLen,
			Gateway: ep.Gateway, MacAddress: ep.Mac, HostVeth: ep.HostVeth, Bridge: ep.Bridge}
		return ep.IP, nil
	case "container":
		other, err := state.Find(mode.Name)
		if err != nil {
			return "", fmt.Errorf("--network container:%s: %v", mode.Name, err)
		}
		if other.State.Status != "running" || !state.Alive(other.State.Pid, other.State.PidStart) {
			return "", fmt.Errorf("--network container:%s: the container is not running: start it first", mode.Name)
		}
		spec.JoinNetNS = fmt.Sprintf("/proc/%d/ns/net", other.State.Pid) // init joins it (pid1.joinNetNS)
		if other.Network.IPAddress != "" {
			return other.Network.IPAddress, nil
		}
	}
	return "127.0.1.1", nil
}

// publish resolves the container's -p (a free host port for -p 80) against
// the ports of the other running containers, and records the ports and
// the iptables rules for them in r. Called inside state.Update (under the
// engine lock), so two parallel runs cannot publish the same port, and the
// rules are in the record before they are in the kernel: whoever releases
// the container later (even after the engine died) deletes them.
func publish(r *state.Container, ports []state.PortBinding) error {
	if len(ports) == 0 || r.Network.IPAddress == "" {
		return nil
	}
	cs, err := state.List()
	if err != nil {
		return err
	}
	var taken []state.PortBinding
	for _, o := range cs {
		if o.ID != r.ID && o.State.Status == "running" && state.Alive(o.State.Pid, o.State.PidStart) {
			taken = append(taken, o.Network.Ports...)
		}
	}
	resolved, err := network.ResolvePorts(ports, taken)
	if err != nil {
		return err
	}
	ep := &network.Endpoint{IP: r.Network.IPAddress, Bridge: r.Network.Bridge}
	r.Network.Ports, r.Network.Rules = resolved, network.PublishRules(ep, resolved)
	return nil
}

// endregion connect

// ParsePorts reads the -p flags of a record.
func ParsePorts(flags []string) ([]state.PortBinding, error) {
	var ports []state.PortBinding
	for _, f := range flags {
		p, err := network.ParsePort(f)
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// region release
// releaseNetwork undoes connect and publish: the -p rules (taken from the
// record and cleared there under the lock, so a later rm cannot delete an
// identical rule of a newer container that got the same address), the
// veth and the address, and the names in the neighbours' /etc/hosts.
func releaseNetwork(c *state.Container) {
	// No -p rules in our copy of the record: none were ever added (they are
	// added at start, before any copy a command holds is read), so no lock
	// and no read of the record is needed.
	if len(c.Network.Rules) > 0 {
		state.Update(c.ID, func(r *state.Container) error {
			if len(r.Network.Rules) == 0 {
				return errUnchanged
			}
			network.DeleteRules(r.Network.Rules)
			r.Network.Rules = nil
			return nil
		})
	}
	mode, _ := network.ParseMode(c.HostConfig.NetworkMode)
	if mode.Kind != "bridge" {
		return
	}
	n, err := network.Get(mode.Name)
	if err != nil { // `network rm` ran: the veth went with the bridge
		n = &network.Network{Name: mode.Name}
	}
	n.Detach(c.ID, &network.Endpoint{HostVeth: c.Network.HostVeth})
	if mode.Name != "bridge" {
		refreshHosts(mode.Name)
	}
}

var errUnchanged = errors.New("unchanged")

// endregion release

// region hosts
// refreshHosts rewrites /etc/hosts of every running container on a user
// network so that each lists all of them: names resolve between
// neighbours, as Docker's embedded DNS makes them. Under the engine lock,
// from the records, so the last writer always writes the complete list.
// The file is rewritten in place (same inode): it is a file of the init
// layer, an overlay lower layer, and the container sees the new content as
// long as it has not copied the file up by writing to it.
func refreshHosts(name string) {
	unlock, err := state.Lock()
	if err != nil {
		return
	}
	defer unlock()
	cs, _ := state.List()
	var peers []*state.Container
	for _, o := range cs {
		if o.Network.Mode == name && o.Network.IPAddress != "" && o.State.Status == "running" && state.Alive(o.State.Pid, o.State.PidStart) {
			peers = append(peers, o)
		}
	}
	for _, o := range peers {
		var b strings.Builder
		b.WriteString(hostsHeader)
		fmt.Fprintf(&b, "%s\t%s %s\n", o.Network.IPAddress, o.Config.Hostname, o.Name) // itself first
		for _, q := range peers {
			if q != o {
				fmt.Fprintf(&b, "%s\t%s %s\n", q.Network.IPAddress, q.Config.Hostname, q.Name)
			}
		}
		path := filepath.Join(state.Dir(o.ID), "init", "etc", "hosts")
		trace("cat > %s  # %d names on network %s", path, len(peers), name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|unix.O_NOFOLLOW, 0644)
		if err != nil {
			continue
		}
		f.WriteString(b.String())
		f.Close()
	}
}

const hostsHeader = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"

// endregion hosts
