//go:build linux

package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/events"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/network"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/minidocker/build-your-own-docker/final/volume"
)

// minPidsLimit leaves the user's command a few tasks beside init's threads.
const minPidsLimit = 12

// ContainerCreate is POST /containers/create and `minidocker create`.
func (e *Engine) ContainerCreate(ctx context.Context, name string, req *types.ContainerCreateRequest) (*types.ContainerCreateResponse, error) {
	c, warnings, err := e.create(name, req, false)
	if err != nil {
		return nil, err
	}
	return &types.ContainerCreateResponse{ID: c.ID, Warnings: append([]string{}, warnings...)}, nil
}

// region create
// create checks every field of a create request and writes the container's
// first record. Nothing is made until all checks passed: a bad value
// leaves nothing behind. The CLI's flags and an API client's JSON come
// here the same way.
//
// starting: the caller starts it at once (run), and answers for it until
// it runs. The warnings are Docker's: a block I/O knob this kernel lacks is
// dropped, and said so.
func (e *Engine) create(name string, req *types.ContainerCreateRequest, starting bool) (c *state.Container, warnings []string, err error) {
	name = strings.TrimPrefix(name, "/")
	if name != "" && !network.ValidName(name) {
		return nil, nil, invalid("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	if req.Image == "" {
		return nil, nil, invalid("No image given: usage: run [OPTIONS] IMAGE [COMMAND] [ARG...]")
	}
	h := types.HostConfig{}
	if req.HostConfig != nil {
		h = *req.HostConfig
	}
	if err := unsupported(&req.Config, &h); err != nil {
		return nil, nil, err
	}
	if err := e.checkUserns(&h); err != nil {
		return nil, nil, err
	}
	if err := checkSecurity(&h); err != nil {
		return nil, nil, err
	}
	if err := checkRestart(h.RestartPolicy, h.AutoRemove); err != nil {
		return nil, nil, err
	}
	limits := container.Limits(h)
	if err := limits.Validate(); err != nil {
		return nil, nil, invalid("%v", err)
	}
	io, warnings, err := cgroups.CheckIO(limits.IO)
	if err != nil {
		return nil, nil, invalid("%v", err)
	}
	if len(warnings) > 0 { // what the kernel cannot do is dropped, as Docker drops it
		h.BlkioWeight = io.Weight
		h.BlkioWeightDevice, h.BlkioDeviceReadBps, h.BlkioDeviceWriteBps = keep(h.BlkioWeightDevice, io.WeightDevice), keep(h.BlkioDeviceReadBps, io.ReadBps), keep(h.BlkioDeviceWriteBps, io.WriteBps)
		h.BlkioDeviceReadIOps, h.BlkioDeviceWriteIOps = keep(h.BlkioDeviceReadIOps, io.ReadIOps), keep(h.BlkioDeviceWriteIOps, io.WriteIOps)
	}
	// pids.max counts threads, and minidocker's init is a Go program: its
	// ~8 threads live in the container's group too (Docker's tini is 1).
	if h.PidsLimit != nil && *h.PidsLimit > 0 && *h.PidsLimit < minPidsLimit {
		return nil, nil, invalid("invalid --pids-limit %d: minidocker's init (a Go program) needs about 8 of them for its own threads; use %d or more", *h.PidsLimit, minPidsLimit)
	}
	aliases, err := checkNetwork(&h, req.NetworkingConfig)
	if err != nil {
		return nil, nil, err
	}
	if err := checkRootless(&h); err != nil {
		return nil, nil, err
	}
	im, err := findImage(req.Image)
	if err != nil {
		return nil, nil, err
	}
	ic, err := im.Config()
	if err != nil {
		return nil, nil, err
	}
	cfg := req.Config
	fromImage(&cfg, ic.Config)
	if len(cfg.Cmd) == 0 && len(cfg.Entrypoint) == 0 {
		return nil, nil, invalid("No command specified")
	}
	if s := cfg.StopSignal; s != "" {
		if _, err := container.SignalName(s); err != nil {
			return nil, nil, invalid("invalid stop signal %q: %v", s, err)
		}
	}
	if err := checkUser(cfg.User); err != nil { // --user, or the image's USER
		return nil, nil, err
	}
	if h.PublishAllPorts { // -P: every exposed port on a free host port
		for p := range cfg.ExposedPorts {
			if _, ok := h.PortBindings[p]; !ok {
				if h.PortBindings == nil {
					h.PortBindings = types.PortMap{}
				}
				h.PortBindings[p] = []types.PortBinding{{}}
			}
		}
	}
	if _, err := container.PortsOf(h.PortBindings); err != nil {
		return nil, nil, invalid("%v", err)
	}
	for _, kv := range cfg.Env {
		if !strings.Contains(kv, "=") || strings.HasPrefix(kv, "=") {
			return nil, nil, invalid("invalid environment variable %q: use KEY=VALUE", kv)
		}
	}
	if w := cfg.WorkingDir; w != "" && !filepath.IsAbs(w) {
		return nil, nil, invalid("the working directory '%s' is invalid: it needs to be an absolute path", w)
	}
	mounts, err := parseMounts(h.Binds, h.Mounts, cfg.Volumes)
	if err != nil {
		return nil, nil, err
	}
	id := state.NewID()
	if cfg.Hostname == "" {
		cfg.Hostname = id[:12]
	}
	cfg.Image = req.Image
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	if h.NetworkMode == "" {
		h.NetworkMode = "bridge"
	}
	c = &state.Container{ID: id, Name: name, Image: req.Image, ImageID: im.ID, Created: time.Now().UTC(),
		Config: cfg, HostConfig: h, Network: state.NetworkSettings{Aliases: aliases}}
	// Volumes: made (and filled from the image) now, before the record.
	for i, m := range mounts {
		if m.Type != "volume" {
			continue
		}
		_, known := volume.Get(m.Name)
		fresh := m.Name == "" || known != nil
		v, err := volume.Create(m.Name, nil)
		if err != nil {
			return nil, nil, invalid("%v", err)
		}
		mounts[i].Name, mounts[i].Source = v.Name, volume.Data(v.Name)
		if err := volume.Seed(v.Name, im, m.Destination); err != nil {
			return nil, nil, err
		}
		if fresh { // a volume made now, for a container with a user namespace: its root's
			if err := ownVolume(v.Name, h); err != nil {
				return nil, nil, err
			}
		}
	}
	c.Mounts = mounts
	if err := state.Create(c, starting); err != nil {
		if strings.Contains(err.Error(), "already in use") {
			other, _ := state.Find(name)
			otherID := ""
			if other != nil {
				otherID = other.ID
			}
			return nil, nil, engine.Errorf(engine.ErrConflict, `Conflict. The container name "/%s" is already in use by container "%s". You have to remove (or rename) that container to be able to reuse that name.`, name, otherID)
		}
		return nil, nil, err
	}
	events.Container("create", c.ID, container.EventAttrs(c))
	return c, warnings, nil
}

// endregion create

// unsupported refuses what minidocker cannot do yet rather than ignore it:
// a user who asks for --restart or --link must not get a container that
// silently lacks them. Fields a client always sends with
// their zero value pass.
func unsupported(cfg *types.Config, h *types.HostConfig) error {
	var bad []string
	add := func(cond bool, what string) {
		if cond {
			bad = append(bad, what)
		}
	}
	add(h.PidMode != "" || h.IpcMode != "" && h.IpcMode != "private" && h.IpcMode != "shareable" || h.UTSMode != "", "--pid/--ipc/--uts modes")
	add(len(h.VolumesFrom) > 0, "--volumes-from")
	add(len(h.Links) > 0, "--link")
	add(h.LogConfig.Type != "" && h.LogConfig.Type != "json-file", "--log-driver "+h.LogConfig.Type)
	add(h.Runtime != "" && h.Runtime != "runc" && h.Runtime != "minidocker", "--runtime")
	add(h.CgroupParent != "", "--cgroup-parent")
	add(h.CPUQuota != 0 || h.CPUPeriod != 0, "--cpu-quota/--cpu-period (use --cpus)")
	add(h.OomKillDisable != nil && *h.OomKillDisable, "--oom-kill-disable")
	if len(bad) > 0 {
		return engine.Errorf(engine.ErrNotSupported, "minidocker does not support %s yet", strings.Join(bad, ", "))
	}
	return nil
}

// keep is a list of devices the kernel can limit, or none (see CheckIO).
func keep[T any](asked []T, kept []cgroups.Device) []T {
	if kept == nil {
		return nil
	}
	return asked
}

// region checkrestart
// checkRestart is Docker's check of --restart: a known policy, a maximum
// retry count only with on-failure, and no policy with --rm (a container
// that removes itself when it exits cannot be started again).
func checkRestart(p types.RestartPolicy, autoRemove bool) error {
	switch p.Name {
	case "", "no", "always", "unless-stopped":
		if p.MaximumRetryCount != 0 {
			return invalid("invalid restart policy: maximum retry count can only be used with 'on-failure'")
		}
	case "on-failure":
		if p.MaximumRetryCount < 0 {
			return invalid("invalid restart policy: maximum retry count cannot be negative")
		}
	default:
		return invalid("invalid restart policy: unknown policy '%s'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'", p.Name)
	}
	if autoRemove && p.Name != "" && p.Name != "no" {
		return invalid("can't create 'AutoRemove' container with restart policy")
	}
	return nil
}

// endregion checkrestart

// checkNetwork validates the network mode (bridge, none, host,
// container:C, a network's name; "default" is bridge) and returns the
// aliases asked for on that network.
func checkNetwork(h *types.HostConfig, nc *types.NetworkingConfig) ([]string, error) {
	if h.NetworkMode == "" || h.NetworkMode == "default" {
		h.NetworkMode = "bridge"
	}
	mode, err := network.ParseMode(h.NetworkMode)
	if err != nil {
		return nil, invalid("%v", err)
	}
	switch mode.Kind {
	case "bridge":
		if _, err := network.Get(mode.Name); err != nil {
			return nil, engine.Errorf(engine.ErrNotFound, "network %s not found", mode.Name)
		}
	case "container":
		other, err := findContainer(mode.Name)
		if err != nil {
			return nil, engine.Errorf(engine.ErrNotFound, "--network container:%s: %v", mode.Name, err)
		}
		if !other.Running() {
			return nil, engine.Errorf(engine.ErrConflict, "--network container:%s: cannot join the network of a container that is not running", mode.Name)
		}
		h.NetworkMode = "container:" + other.ID
	}
	if len(h.PortBindings) > 0 {
		switch mode.Kind {
		case "host":
			h.PortBindings = nil // published ports are discarded with host networking
		case "none", "container":
			return nil, invalid("conflicting options: port publishing and --network %s (publish ports on the container that owns the network namespace)", h.NetworkMode)
		}
	}
	var aliases []string
	if nc != nil {
		for n, ep := range nc.EndpointsConfig {
			if ep == nil || (n != h.NetworkMode && !(n == "default" && h.NetworkMode == "bridge")) {
				continue
			}
			aliases = append(aliases, ep.Aliases...)
		}
	}
	sort.Strings(aliases)
	return aliases, nil
}

// region mounts
// parseMounts reads -v (Binds: SRC:DST[:ro|rw], SRC a host path or a
// volume's name), --mount (type bind or volume) and the anonymous
// volumes (-v /path alone) into the record's mounts.
func parseMounts(binds []string, mounts []types.Mount, anonymous map[string]struct{}) ([]state.Mount, error) {
	var out []state.Mount
	add := func(src, dst string, rw bool, spec string) error {
		if !filepath.IsAbs(dst) || dst == "/" {
			return invalid("invalid volume specification: '%s': the container path must be absolute and not /", spec)
		}
		m := state.Mount{Source: src, Destination: filepath.Clean(dst), RW: rw}
		switch {
		case filepath.IsAbs(src):
			if _, err := os.Stat(src); err != nil {
				return invalid("invalid volume specification: '%s': %s does not exist on the host", spec, src)
			}
			m.Type = "bind"
		case src == "" || network.ValidName(src):
			m.Type, m.Name = "volume", src
		default:
			return invalid("invalid volume specification: '%s': %q is neither an absolute host path nor a volume name", spec, src)
		}
		out = append(out, m)
		return nil
	}
	for _, b := range binds {
		p := strings.Split(b, ":")
		if len(p) < 2 || len(p) > 3 || (len(p) == 3 && p[2] != "ro" && p[2] != "rw") {
			return nil, invalid("invalid volume specification: '%s': use SRC:DST[:ro]", b)
		}
		if err := add(p[0], p[1], len(p) == 2 || p[2] == "rw", b); err != nil {
			return nil, err
		}
	}
	for _, m := range mounts {
		if m.Type != "bind" && m.Type != "volume" {
			return nil, engine.Errorf(engine.ErrNotSupported, "minidocker does not support --mount type=%s yet", m.Type)
		}
		if err := add(m.Source, m.Target, !m.ReadOnly, m.Type+":"+m.Source+":"+m.Target); err != nil {
			return nil, err
		}
	}
	var paths []string
	for p := range anonymous {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	taken := map[string]bool{}
	for _, m := range out {
		taken[m.Destination] = true
	}
	for _, p := range paths {
		if taken[filepath.Clean(p)] { // an image's VOLUME the user mounted something on
			continue
		}
		if err := add("", p, true, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// endregion mounts

// imageOf is the image a container was made from.
func imageOf(c *state.Container) (*image.Image, error) {
	im, err := image.Get(c.ImageID)
	if err != nil {
		return nil, fmt.Errorf("the image of container %s: %v", c.ID[:12], err)
	}
	return im, nil
}
