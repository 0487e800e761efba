//go:build linux

package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/network"
	"github.com/minidocker/build-your-own-docker/final/state"
)

// predefinedID gives host and none a stable id (they have no file).
func predefinedID(name string) string {
	sum := sha256.Sum256([]byte("minidocker network " + name))
	return hex.EncodeToString(sum[:])
}

// NetworkCreate is POST /networks/create and `minidocker network create`.
func (e *Engine) NetworkCreate(ctx context.Context, req types.NetworkCreateRequest) (*types.NetworkCreateResponse, error) {
	if d := req.Driver; d != "" && d != "bridge" {
		return nil, engine.Errorf(engine.ErrNotSupported, "driver %q is not supported: minidocker has only the bridge driver", d)
	}
	if req.Internal || req.EnableIPv6 {
		return nil, engine.Errorf(engine.ErrNotSupported, "minidocker does not support --internal or --ipv6 networks yet")
	}
	subnet, gateway := "", ""
	if req.IPAM != nil && len(req.IPAM.Config) > 0 {
		if len(req.IPAM.Config) > 1 || req.IPAM.Config[0].IPRange != "" {
			return nil, engine.Errorf(engine.ErrNotSupported, "minidocker networks have one subnet and no --ip-range")
		}
		subnet, gateway = req.IPAM.Config[0].Subnet, req.IPAM.Config[0].Gateway
	}
	if _, err := network.Get(req.Name); err == nil || network.Predefined[req.Name] != "" {
		return nil, engine.Errorf(engine.ErrConflict, "network with name %s already exists", req.Name)
	}
	n, err := network.Create(req.Name, subnet, gateway, req.Labels, req.Options)
	if err != nil {
		if strings.Contains(err.Error(), "already exists") {
			return nil, engine.Errorf(engine.ErrConflict, "network with name %s already exists", req.Name)
		}
		return nil, invalid("%v", err)
	}
	return &types.NetworkCreateResponse{ID: n.ID}, nil
}

// NetworkList is GET /networks and `minidocker network ls`.
func (e *Engine) NetworkList(ctx context.Context, opts engine.ListOptions) ([]types.NetworkResource, error) {
	f, err := newFilter(opts.Filters, "name", "id", "label", "driver", "type", "scope")
	if err != nil {
		return nil, err
	}
	nets, err := network.List()
	if err != nil {
		return nil, err
	}
	cs, _ := state.List()
	var out []types.NetworkResource
	for _, n := range nets {
		out = append(out, resource(n, cs))
	}
	out = append(out, predefined("host"), predefined("none"))
	var kept []types.NetworkResource
	for _, r := range out {
		custom := "builtin"
		if network.Predefined[r.Name] == "" {
			custom = "custom"
		}
		if f.regexp("name", r.Name) && f.prefix("id", r.ID) && f.labels(r.Labels) && f.match("driver", r.Driver) && f.match("type", custom) {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

func predefined(name string) types.NetworkResource {
	return types.NetworkResource{Name: name, ID: predefinedID(name), Scope: "local", Driver: network.Predefined[name],
		IPAM:       types.IPAM{Driver: "default", Config: []types.IPAMConfig{}, Options: map[string]string{}},
		Containers: map[string]types.EndpointResource{}, Options: map[string]string{}, Labels: map[string]string{},
		Created: time.Time{}.Format(time.RFC3339Nano)}
}

// resource is a bridge network in Docker's shape, with its running containers.
func resource(n *network.Network, cs []*state.Container) types.NetworkResource {
	members := map[string]types.EndpointResource{}
	for _, c := range cs {
		if c.Network.Mode == n.Name && c.Network.IPAddress != "" && container.Refresh(c).Running() {
			members[c.ID] = types.EndpointResource{Name: c.Name, EndpointID: c.ID, MacAddress: c.Network.MacAddress,
				IPv4Address: fmt.Sprintf("%s/%d", c.Network.IPAddress, c.Network.IPPrefixLen)}
		}
	}
	opts := map[string]string{"com.docker.network.bridge.name": n.Bridge}
	if n.Name != "bridge" { // compose compares these with what it asked for
		opts = n.Options
		if opts == nil {
			opts = map[string]string{}
		}
	}
	labels := n.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return types.NetworkResource{Name: n.Name, ID: n.ID, Created: n.Created.Format(time.RFC3339Nano), Scope: "local", Driver: "bridge",
		IPAM:       types.IPAM{Driver: "default", Options: map[string]string{}, Config: []types.IPAMConfig{{Subnet: n.Subnet.String(), Gateway: n.Gateway.String()}}},
		Containers: members, Options: opts, Labels: labels, Attachable: true}
}

// findNetwork resolves a network by name, id or id prefix.
func findNetwork(ref string) (*network.Network, error) {
	if n, err := network.Get(ref); err == nil {
		return n, nil
	}
	nets, _ := network.List()
	var match []*network.Network
	for _, n := range nets {
		if len(ref) >= 2 && strings.HasPrefix(n.ID, ref) {
			match = append(match, n)
		}
	}
	if len(match) == 1 {
		return match[0], nil
	}
	return nil, engine.Errorf(engine.ErrNotFound, "network %s not found", ref)
}

// NetworkInspect is GET /networks/{id}.
func (e *Engine) NetworkInspect(ctx context.Context, ref string) (*types.NetworkResource, error) {
	for _, p := range []string{"host", "none"} {
		if ref == p || ref == predefinedID(p) {
			r := predefined(p)
			return &r, nil
		}
	}
	n, err := findNetwork(ref)
	if err != nil {
		return nil, err
	}
	cs, _ := state.List()
	r := resource(n, cs)
	return &r, nil
}

// NetworkRemove is DELETE /networks/{id} and `minidocker network rm`.
func (e *Engine) NetworkRemove(ctx context.Context, ref string) error {
	if network.Predefined[ref] != "" {
		return engine.Errorf(engine.ErrForbidden, "%s is a pre-defined network and cannot be removed", ref)
	}
	n, err := findNetwork(ref)
	if err != nil {
		return err
	}
	if err := network.Remove(n.Name); err != nil {
		if strings.Contains(err.Error(), "active endpoints") {
			return engine.Errorf(engine.ErrForbidden, "%v", err)
		}
		return err
	}
	return nil
}

// region connect
// NetworkConnect is POST /networks/{id}/connect. A minidocker container
// has one network: connecting a created container moves it to the
// network (with the aliases asked for), which is what docker-compose does
// before it starts each container; a running one can be "connected" only
// to the network it is on (an idempotent no-op).
func (e *Engine) NetworkConnect(ctx context.Context, ref string, req types.NetworkConnectRequest) error {
	n, err := findNetwork(ref)
	if err != nil {
		return err
	}
	c, err := findContainer(req.Container)
	if err != nil {
		return err
	}
	var aliases []string
	if req.EndpointConfig != nil {
		aliases = req.EndpointConfig.Aliases
	}
	if c.Running() {
		if c.HostConfig.NetworkMode == n.Name {
			return nil
		}
		return engine.Errorf(engine.ErrNotSupported, "container %s runs on network %s: a minidocker container has one network; connect it before it starts (or run it with --network %s)", c.Name, c.HostConfig.NetworkMode, n.Name)
	}
	_, err = state.Update(c.ID, func(r *state.Container) error {
		r.HostConfig.NetworkMode = n.Name
		r.Network.Aliases = aliases
		return nil
	})
	return err
}

// NetworkDisconnect is POST /networks/{id}/disconnect: a created container
// leaves the network (it has --network none until connected again).
func (e *Engine) NetworkDisconnect(ctx context.Context, ref string, req types.NetworkConnectRequest) error {
	name := ref
	if ref != "none" && ref != "host" {
		n, err := findNetwork(ref)
		if err != nil {
			return err
		}
		name = n.Name
	}
	n := &network.Network{Name: name}
	c, err := findContainer(req.Container)
	if err != nil {
		return err
	}
	if c.HostConfig.NetworkMode != n.Name {
		return engine.Errorf(engine.ErrForbidden, "container %s is not connected to network %s", c.Name, n.Name)
	}
	if c.Running() {
		return engine.Errorf(engine.ErrNotSupported, "container %s runs on network %s: a minidocker container cannot leave its only network while it runs", c.Name, n.Name)
	}
	_, err = state.Update(c.ID, func(r *state.Container) error {
		r.HostConfig.NetworkMode = "none"
		r.Network.Aliases = nil
		return nil
	})
	return err
}

// endregion connect
