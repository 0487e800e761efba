//go:build linux

package local

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/minidocker/build-your-own-docker/final/volume"
)

func volumeJSON(v *volume.Volume) *types.Volume {
	labels := v.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return &types.Volume{Name: v.Name, Driver: "local", Mountpoint: volume.Data(v.Name), CreatedAt: v.CreatedAt.Format(time.RFC3339),
		Labels: labels, Scope: "local", Options: map[string]string{}}
}

func findVolume(name string) (*volume.Volume, error) {
	v, err := volume.Get(name)
	if errors.Is(err, volume.ErrNotFound) {
		return nil, engine.Errorf(engine.ErrNotFound, "get %s: no such volume", name)
	}
	return v, err
}

// volumeUsers are the ids of the containers that mount the volume.
func volumeUsers(name string) []string {
	cs, _ := state.List()
	var ids []string
	for _, c := range cs {
		for _, m := range c.Mounts {
			if m.Type == "volume" && m.Name == name {
				ids = append(ids, c.ID)
			}
		}
	}
	return ids
}

// VolumeCreate is POST /volumes/create and `minidocker volume create`.
func (e *Engine) VolumeCreate(ctx context.Context, req types.VolumeCreateRequest) (*types.Volume, error) {
	if d := req.Driver; d != "" && d != "local" {
		return nil, engine.Errorf(engine.ErrNotSupported, "volume driver %q is not supported: minidocker has only local volumes", d)
	}
	if len(req.DriverOpts) > 0 {
		return nil, engine.Errorf(engine.ErrNotSupported, "minidocker's local volumes take no driver options")
	}
	v, err := volume.Create(req.Name, req.Labels)
	if err != nil {
		return nil, invalid("%v", err)
	}
	return volumeJSON(v), nil
}

// VolumeList is GET /volumes and `minidocker volume ls`.
func (e *Engine) VolumeList(ctx context.Context, opts engine.ListOptions) (*types.VolumeListResponse, error) {
	f, err := newFilter(opts.Filters, "name", "label", "dangling", "driver")
	if err != nil {
		return nil, err
	}
	vs, err := volume.List()
	if err != nil {
		return nil, err
	}
	out := &types.VolumeListResponse{Volumes: []*types.Volume{}, Warnings: []string{}}
	for _, v := range vs {
		dangling := "false"
		if len(volumeUsers(v.Name)) == 0 {
			dangling = "true"
		}
		if f.regexp("name", v.Name) && f.labels(v.Labels) && f.match("dangling", dangling) && f.match("driver", "local") {
			out.Volumes = append(out.Volumes, volumeJSON(v))
		}
	}
	return out, nil
}

// VolumeInspect is GET /volumes/{name}.
func (e *Engine) VolumeInspect(ctx context.Context, name string) (*types.Volume, error) {
	v, err := findVolume(name)
	if err != nil {
		return nil, err
	}
	return volumeJSON(v), nil
}

// VolumeRemove is DELETE /volumes/{name} and `minidocker volume rm`:
// refused while a container (running or not) mounts it.
func (e *Engine) VolumeRemove(ctx context.Context, name string, force bool) error {
	if _, err := findVolume(name); err != nil {
		if force {
			return nil
		}
		return err
	}
	if users := volumeUsers(name); len(users) > 0 {
		short := make([]string, len(users))
		for i, u := range users {
			short[i] = u[:12]
		}
		return engine.Errorf(engine.ErrConflict, "remove %s: volume is in use - [%s]", name, strings.Join(short, ", "))
	}
	return volume.Remove(name)
}
