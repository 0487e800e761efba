//go:build linux

package container

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/api/types"
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
	aliases := c.Network.Aliases // asked for at create (compose: the service's name)
	c.Network = state.NetworkSettings{Mode: mode.String(), Aliases: aliases}
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
		c.Network = state.NetworkSettings{Mode: mode.String(), NetworkID: n.ID, Aliases: aliases, IPAddress: ep.IP, IPPrefixLen: ep.PrefixLen,
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

// PortsOf turns a create request's PortBindings ("80/tcp": [{HostIp,
// HostPort}]) into the bindings the network code publishes, sorted, with
// host port 0 for "pick a free one".
func PortsOf(pm types.PortMap) ([]state.PortBinding, error) {
	keys := make([]string, 0, len(pm))
	for k := range pm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ports []state.PortBinding
	for _, k := range keys {
		port, proto := types.ParsePort(k)
		cp, err := strconv.Atoi(port)
		if err != nil || cp < 1 || cp > 65535 || (proto != "tcp" && proto != "udp") {
			return nil, fmt.Errorf("invalid port %q: use PORT/tcp or PORT/udp, 1-65535", k)
		}
		bindings := pm[k]
		if len(bindings) == 0 {
			bindings = []types.PortBinding{{}}
		}
		for _, b := range bindings {
			hp := 0
			if b.HostPort != "" {
				if hp, err = strconv.Atoi(b.HostPort); err != nil || hp < 1 || hp > 65535 {
					return nil, fmt.Errorf("invalid host port %q for %s", b.HostPort, k)
				}
			}
			if b.HostIP != "" && net.ParseIP(b.HostIP).To4() == nil {
				return nil, fmt.Errorf("invalid host address %q for %s: only IPv4", b.HostIP, k)
			}
			ip := b.HostIP
			if ip == "0.0.0.0" {
				ip = ""
			}
			ports = append(ports, state.PortBinding{HostIP: ip, HostPort: hp, ContainerPort: cp, Proto: proto})
		}
	}
	return ports, nil
}

// PortMapOf is PortsOf backwards: the -p flags of the CLI as a create
// request's PortBindings.
func PortMapOf(ports []state.PortBinding) types.PortMap {
	if len(ports) == 0 {
		return nil
	}
	pm := types.PortMap{}
	for _, p := range ports {
		k := fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto)
		hp := ""
		if p.HostPort != 0 {
			hp = strconv.Itoa(p.HostPort)
		}
		pm[k] = append(pm[k], types.PortBinding{HostIP: p.HostIP, HostPort: hp})
	}
	return pm
}

// region release
// releaseNetwork undoes connect and publish: the -p rules (taken from the
// record and cleared there under the lock, so a later rm cannot delete an
// identical rule of a newer container that got the same address), the
// veth and the address, and the names in the neighbours' /etc/hosts.
//
// removed: the container's record is gone (Remove): its rules are deleted
// from our copy of it; no newer container can have identical ones, as the
// address in them is still ours until the release below.
func releaseNetwork(c *state.Container, removed bool) {
	// No -p rules in our copy of the record: none were ever added (they are
	// added at start, before any copy a command holds is read), so no lock
	// and no read of the record is needed.
	if len(c.Network.Rules) > 0 && removed {
		network.DeleteRules(c.Network.Rules)
	} else if len(c.Network.Rules) > 0 {
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
	if n, err := network.Get(mode.Name); err == nil { // else `network rm` ran: the veth went with the bridge
		n.Release(c.ID)
	}
	if mode.Name != "bridge" {
		refreshHosts(mode.Name)
	}
}

// deleteVeth deletes the container's host veth, the slow end of a release.
func deleteVeth(c *state.Container) { network.DeleteVeth(c.Network.HostVeth) }

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
		fmt.Fprintf(&b, "%s\t%s\n", o.Network.IPAddress, hostNames(o)) // itself first
		for _, q := range peers {
			if q != o {
				fmt.Fprintf(&b, "%s\t%s\n", q.Network.IPAddress, hostNames(q))
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

// hostNames are the names a container answers to on its network: its
// hostname, its name, and its aliases (docker-compose's service name).
func hostNames(c *state.Container) string {
	names := []string{c.Config.Hostname, c.Name}
	for _, a := range c.Network.Aliases {
		if a != c.Config.Hostname && a != c.Name {
			names = append(names, a)
		}
	}
	return strings.Join(names, " ")
}

const hostsHeader = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"

// endregion hosts
