//go:build linux

package local

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/archive"
	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/dockerfile"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/events"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/network"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/minidocker/build-your-own-docker/final/volume"
	"golang.org/x/sys/unix"
)

// region start
// ContainerStart is POST /containers/{id}/start and `minidocker start`: a
// monitor (container.StartMonitor) starts the container and holds it, so
// it outlives the caller. An exited container starts again with its own
// layer (docker start). A user's start begins its restart policy afresh:
// no restarts counted, not stopped (as Docker resets them).
func (e *Engine) ContainerStart(ctx context.Context, ref string) error {
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	if active(c) {
		return engine.Errorf(engine.ErrNotModified, "container %s is already running", c.ID[:12])
	}
	if s := c.State; s.Status == "created" && state.Alive(s.MonitorPid, s.MonStart) && s.MonitorPid != os.Getpid() {
		return engine.Errorf(engine.ErrConflict, "container %s is being started", c.ID[:12])
	}
	if c.RestartCount != 0 || c.ManuallyStopped {
		if _, err := state.Update(c.ID, func(r *state.Container) error { r.RestartCount, r.ManuallyStopped = 0, false; return nil }); err != nil {
			return err
		}
	}
	return asEngineError(container.StartMonitor(c.ID))
}

// endregion start

// ContainerAttach is POST /containers/{id}/attach and `minidocker attach`.
func (e *Engine) ContainerAttach(ctx context.Context, ref string, opts engine.AttachOptions, s engine.Streams) error {
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	a := container.AttachIO{Stdout: io.Discard, Stderr: io.Discard, Resize: s.Resize, Logs: opts.Logs, Flush: s.Flush}
	if opts.Stdout && s.Stdout != nil {
		a.Stdout = s.Stdout
	}
	if opts.Stderr && s.Stderr != nil {
		a.Stderr = s.Stderr
	}
	if opts.Stdin && c.Config.OpenStdin {
		a.Stdin = s.Stdin
	}
	if c.Running() && c.State.Paused {
		return engine.Errorf(engine.ErrConflict, "container %s is paused, unpause the container before attach", ref)
	}
	return container.Attach(ctx, c, a)
}

// ContainerWait is POST /containers/{id}/wait and `minidocker wait`.
func (e *Engine) ContainerWait(ctx context.Context, ref, condition string) (<-chan types.ContainerWaitResponse, error) {
	c, err := findContainer(ref)
	if err != nil {
		return nil, err
	}
	ch, err := container.Wait(ctx, c.ID, condition)
	if err != nil {
		return nil, invalid("%v", err)
	}
	out := make(chan types.ContainerWaitResponse, 1)
	go func() {
		r := <-ch
		resp := types.ContainerWaitResponse{StatusCode: r.Code}
		if r.Err != nil && ctx.Err() == nil {
			resp.Error = &types.WaitError{Message: r.Err.Error()}
		}
		out <- resp
	}()
	return out, nil
}

// ContainerResize is POST /containers/{id}/resize.
func (e *Engine) ContainerResize(ctx context.Context, ref string, height, width uint) error {
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	if !c.Running() {
		return engine.Errorf(engine.ErrConflict, "Container %s is not running", c.ID[:12])
	}
	return container.Resize(c, height, width)
}

// region list
// ContainerList is GET /containers/json and `minidocker ps`.
func (e *Engine) ContainerList(ctx context.Context, opts engine.ListOptions) ([]types.Container, error) {
	f, err := newFilter(opts.Filters, "label", "name", "id", "status", "ancestor", "network", "exited", "volume")
	if err != nil {
		return nil, err
	}
	cs, err := state.List()
	if err != nil {
		return nil, err
	}
	out := []types.Container{}
	now := time.Now()
	for _, c := range cs {
		c = container.Refresh(c)
		if !active(c) && !opts.All && len(f["status"]) == 0 {
			continue
		}
		if !f.labels(c.Config.Labels) || !f.regexp("name", c.Name) || !f.prefix("id", c.ID) || !f.match("status", stateWord(c)) ||
			!f.matchAny("ancestor", c.Image, c.ImageID, "sha256:"+c.ImageID) || !f.match("network", c.Network.Mode) ||
			!f.match("exited", strconv.Itoa(c.State.ExitCode)) && c.State.Status == "exited" {
			continue
		}
		out = append(out, summary(c, now))
		if opts.Limit > 0 && len(out) == opts.Limit {
			break
		}
	}
	return out, nil
}

// endregion list

// summary is one `docker ps` row.
func summary(c *state.Container, now time.Time) types.Container {
	s := types.Container{ID: c.ID, Names: []string{"/" + c.Name}, Image: c.Image, ImageID: "sha256:" + c.ImageID,
		Command: strings.Join(c.Command(), " "), Created: c.Created.Unix(), Ports: []types.Port{}, Labels: c.Config.Labels,
		State: stateWord(c), Status: statusText(c, now), Mounts: mountPoints(c)}
	s.HostConfig.NetworkMode = c.HostConfig.NetworkMode
	s.NetworkSettings.Networks = endpoints(c)
	if c.Running() {
		for _, p := range c.Network.Ports {
			s.Ports = append(s.Ports, types.Port{IP: network.ShownIP(p.HostIP), PrivatePort: uint16(p.ContainerPort),
				PublicPort: uint16(p.HostPort), Type: p.Proto})
		}
	}
	return s
}

// statusText is ps's STATUS: "Up 3 seconds", "Up 3 seconds (Paused)",
// "Restarting (1) 2 seconds ago", "Exited (0) 5 seconds ago", "Created".
func statusText(c *state.Container, now time.Time) string {
	switch c.State.Status {
	case "running":
		if c.State.Paused {
			return "Up " + state.HumanDuration(now.Sub(c.State.StartedAt)) + " (Paused)"
		}
		return "Up " + state.HumanDuration(now.Sub(c.State.StartedAt))
	case "restarting":
		return fmt.Sprintf("Restarting (%d) %s ago", c.State.ExitCode, state.HumanDuration(now.Sub(c.State.FinishedAt)))
	case "exited":
		return fmt.Sprintf("Exited (%d) %s ago", c.State.ExitCode, state.HumanDuration(now.Sub(c.State.FinishedAt)))
	}
	return "Created"
}

// stateWord is the one-word state of ps and of inspect's State.Status:
// created, running, paused, restarting or exited. A paused container is
// still running (Docker's Running is true), and so is one whose restart
// policy is between two runs.
func stateWord(c *state.Container) string {
	if c.Running() && c.State.Paused {
		return "paused"
	}
	return c.State.Status
}

// active is Docker's Running: running (paused or not), or restarting.
func active(c *state.Container) bool { return c.Running() || c.State.Status == "restarting" }

func mountPoints(c *state.Container) []types.MountPoint {
	out := []types.MountPoint{}
	for _, m := range c.Mounts {
		mode := "rw"
		if !m.RW {
			mode = "ro"
		}
		mp := types.MountPoint{Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, Mode: mode, RW: m.RW, Propagation: "rprivate"}
		if m.Type == "volume" {
			mp.Driver, mp.Propagation = "local", ""
		}
		out = append(out, mp)
	}
	return out
}

// endpoints is a container's networks, as ps and inspect show them.
func endpoints(c *state.Container) map[string]*types.EndpointSettings {
	n := c.Network
	mode := c.HostConfig.NetworkMode
	out := map[string]*types.EndpointSettings{}
	if strings.HasPrefix(mode, "container:") {
		return out
	}
	ep := &types.EndpointSettings{Aliases: n.Aliases, NetworkID: n.NetworkID, Links: nil}
	if nw, err := network.Get(mode); err == nil {
		ep.NetworkID = nw.ID
	} else if mode == "host" || mode == "none" {
		ep.NetworkID = predefinedID(mode)
	}
	if c.Running() && n.IPAddress != "" {
		ep.IPAddress, ep.IPPrefixLen, ep.Gateway, ep.MacAddress = n.IPAddress, n.IPPrefixLen, n.Gateway, n.MacAddress
		ep.EndpointID = c.ID
		ep.DNSNames = append([]string{c.Name, c.ID[:12]}, n.Aliases...)
	}
	out[mode] = ep
	return out
}

// region inspect
// ContainerInspect is GET /containers/{id}/json and `minidocker inspect`.
func (e *Engine) ContainerInspect(ctx context.Context, ref string) (*types.ContainerJSON, error) {
	c, err := findContainer(ref)
	if err != nil {
		return nil, err
	}
	s := c.State
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "0001-01-01T00:00:00Z"
		}
		return t.Format(time.RFC3339Nano)
	}
	pid := 0
	if c.Running() {
		pid = s.Pid
	}
	cmd := c.Command()
	cfg, hc := c.Config, c.HostConfig
	ns := &types.NetworkSettings{Ports: types.PortMap{}, Networks: endpoints(c)}
	if c.Running() {
		ns.Bridge, ns.IPAddress, ns.IPPrefixLen, ns.Gateway, ns.MacAddress = c.Network.Bridge, c.Network.IPAddress, c.Network.IPPrefixLen, c.Network.Gateway, c.Network.MacAddress
		ns.SandboxKey = fmt.Sprintf("/proc/%d/ns/net", s.Pid)
		for _, p := range c.Network.Ports {
			k := fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto)
			ns.Ports[k] = append(ns.Ports[k], types.PortBinding{HostIP: network.ShownIP(p.HostIP), HostPort: strconv.Itoa(p.HostPort)})
		}
	}
	dir := state.Dir(c.ID)
	j := &types.ContainerJSON{ID: c.ID, Created: c.Created.Format(time.RFC3339Nano), Path: cmd[0], Args: cmd[1:],
		State: &types.ContainerState{Status: stateWord(c), Running: active(c), Paused: c.Running() && s.Paused,
			Restarting: s.Status == "restarting", Pid: pid, ExitCode: s.ExitCode, OOMKilled: s.OOMKilled,
			Error: s.Error, StartedAt: ts(s.StartedAt), FinishedAt: ts(s.FinishedAt)},
		Image: "sha256:" + c.ImageID, Name: "/" + c.Name, RestartCount: c.RestartCount, Driver: "overlay", Platform: "linux",
		ResolvConfPath: filepath.Join(dir, "init/etc/resolv.conf"), HostnamePath: filepath.Join(dir, "init/etc/hostname"),
		HostsPath: filepath.Join(dir, "init/etc/hosts"), LogPath: container.LogPath(c.ID), ExecIDs: e.execIDs(c.ID),
		HostConfig: &hc, Config: &cfg, NetworkSettings: ns, Mounts: mountPoints(c),
		GraphDriver: types.GraphDriver{Name: "overlay", Data: map[string]string{"UpperDir": filepath.Join(dir, "upper"),
			"WorkDir": filepath.Join(dir, "work"), "MergedDir": filepath.Join(dir, "merged")}}}
	j.Security = securityInfo(c)
	return j, nil
}

// endregion inspect

// ContainerLogs is GET /containers/{id}/logs and `minidocker logs`.
func (e *Engine) ContainerLogs(ctx context.Context, ref string, opts engine.LogsOptions, stdout, stderr io.Writer) error {
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	tail, err := container.ParseTail(opts.Tail)
	if err != nil {
		return invalid("invalid --tail %q: a number of lines, or all", opts.Tail)
	}
	lo := container.LogOptions{Follow: opts.Follow, Tail: tail, Timestamps: opts.Timestamps, Flush: opts.Flush}
	if opts.Since > 0 {
		lo.Since = time.Unix(opts.Since, 0)
	}
	return container.Logs(ctx, c.ID, lo, stdout, stderr)
}

// ContainerStop is POST /containers/{id}/stop and `minidocker stop`.
func (e *Engine) ContainerStop(ctx context.Context, ref string, timeout *int) error {
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	if !active(c) {
		return engine.Errorf(engine.ErrNotModified, "container %s is not running", c.ID[:12])
	}
	t := 10
	if c.Config.StopTimeout != nil {
		t = *c.Config.StopTimeout
	}
	if timeout != nil {
		t = *timeout
	}
	container.Stop(c, time.Duration(t)*time.Second)
	events.Container("stop", c.ID, container.EventAttrs(c))
	return nil
}

// ContainerRestart is POST /containers/{id}/restart and `minidocker
// restart`: stop if it runs, start, and the "restart" event.
func (e *Engine) ContainerRestart(ctx context.Context, ref string, timeout *int) error {
	if err := e.ContainerStop(ctx, ref, timeout); err != nil && !errors.Is(err, engine.ErrNotModified) {
		return err
	}
	if err := e.ContainerStart(ctx, ref); err != nil {
		return err
	}
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	events.Container("restart", c.ID, container.EventAttrs(c))
	return nil
}

// region pause
// ContainerPause is POST /containers/{id}/pause and `minidocker pause`,
// with Docker's refusals.
func (e *Engine) ContainerPause(ctx context.Context, ref string) error {
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	switch {
	case c.State.Status == "restarting":
		return engine.Errorf(engine.ErrConflict, "Container %s is restarting, wait until the container is running", c.ID)
	case !c.Running():
		return engine.Errorf(engine.ErrConflict, "container %s is not running", c.ID)
	case c.State.Paused:
		return engine.Errorf(engine.ErrConflict, "container %s is already paused", c.ID)
	}
	if err := container.Pause(c); err != nil {
		return fmt.Errorf("cannot pause container %s: %v", c.ID, err)
	}
	return nil
}

// ContainerUnpause is POST /containers/{id}/unpause and `minidocker unpause`.
func (e *Engine) ContainerUnpause(ctx context.Context, ref string) error {
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	if !c.Running() || !c.State.Paused {
		return engine.Errorf(engine.ErrConflict, "Container %s is not paused", c.ID)
	}
	if err := container.Unpause(c); err != nil {
		return fmt.Errorf("Cannot unpause container %s: %v", c.ID, err)
	}
	return nil
}

// endregion pause

// ContainerKill is POST /containers/{id}/kill and `minidocker kill`.
func (e *Engine) ContainerKill(ctx context.Context, ref, signal string) error {
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	if signal == "" {
		signal = "KILL"
	}
	sig, err := container.SignalName(signal)
	if err != nil {
		return invalid("%v", err)
	}
	if !active(c) {
		return engine.Errorf(engine.ErrConflict, "Cannot kill container: %s: Container %s is not running", ref, c.ID)
	}
	attrs := container.EventAttrs(c)
	attrs["signal"] = strconv.Itoa(int(sig))
	events.Container("kill", c.ID, attrs)
	container.Kill(c, sig)
	return nil
}

// region remove
// ContainerRemove is DELETE /containers/{id} and `minidocker rm`: a running
// container only with force (SIGKILL first); its anonymous volumes with -v.
func (e *Engine) ContainerRemove(ctx context.Context, ref string, opts engine.RemoveOptions) error {
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	if active(c) {
		switch {
		case !opts.Force && c.State.Paused:
			return engine.Errorf(engine.ErrConflict, "cannot remove container %q: container is paused and must be unpaused first", ref)
		case !opts.Force:
			return engine.Errorf(engine.ErrConflict, "cannot remove container %q: container is %s: stop the container before removing or force remove", ref, stateWord(c))
		}
		container.Kill(c, unix.SIGKILL) // thaws a paused one; ends a restart policy
	}
	container.WaitMonitor(c) // it may still be releasing what the container held
	if err := container.Remove(c); err != nil {
		return err
	}
	if opts.Volumes {
		for _, m := range c.Mounts {
			if v, err := volume.Get(m.Name); err == nil && v.Anonymous && len(volumeUsers(v.Name)) == 0 {
				volume.Remove(v.Name)
			}
		}
	}
	return nil
}

// endregion remove

// ContainerRename is POST /containers/{id}/rename and `minidocker rename`.
func (e *Engine) ContainerRename(ctx context.Context, ref, name string) error {
	name = strings.TrimPrefix(name, "/")
	if !network.ValidName(name) {
		return invalid("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	unlock, err := state.Lock()
	if err != nil {
		return err
	}
	cs, _ := state.List()
	for _, o := range cs {
		if o.Name == name && o.ID != c.ID {
			unlock()
			return engine.Errorf(engine.ErrConflict, "Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", name, o.ID)
		}
	}
	old := c.Name
	c.Name = name
	err = state.Save(c)
	unlock()
	if err != nil {
		return err
	}
	attrs := container.EventAttrs(c)
	attrs["oldName"] = "/" + old
	events.Container("rename", c.ID, attrs)
	return nil
}

// region top
// ContainerTop is GET /containers/{id}/top and `minidocker top`: `ps` on
// the host, keeping the rows of the processes in the container's cgroup.
func (e *Engine) ContainerTop(ctx context.Context, ref, psArgs string) (*types.TopResponse, error) {
	c, err := findContainer(ref)
	if err != nil {
		return nil, err
	}
	if !c.Running() {
		return nil, engine.Errorf(engine.ErrConflict, "Container %s is not running", c.ID)
	}
	if psArgs == "" {
		psArgs = "-ef"
	}
	out, err := exec.CommandContext(ctx, "ps", strings.Fields(psArgs)...).Output()
	if err != nil {
		return nil, fmt.Errorf("ps %s: %v", psArgs, err)
	}
	in := map[int]bool{}
	for _, p := range cgroups.Open(c.ID, c.HostConfig.CpusetCpus != "").Procs() {
		in[p] = true
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	titles := strings.Fields(lines[0])
	col := -1
	for i, t := range titles {
		if t == "PID" {
			col = i
		}
	}
	if col < 0 {
		return nil, invalid("ps %s: no PID column in its output", psArgs)
	}
	top := &types.TopResponse{Titles: titles, Processes: [][]string{}}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= col {
			continue
		}
		if pid, _ := strconv.Atoi(f[col]); in[pid] {
			// the last column (the command) may contain spaces
			row := append(f[:len(titles)-1:len(titles)-1], strings.Join(f[len(titles)-1:], " "))
			top.Processes = append(top.Processes, row)
		}
	}
	return top, nil
}

// endregion top

// ContainerExport is GET /containers/{id}/export and `minidocker export`:
// the merged view without the init layer (the container's upper layer on
// the image's), mounted read-only where only we see it, tarred by walk.
func (e *Engine) ContainerExport(ctx context.Context, ref string, w io.Writer) error {
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	im, err := imageOf(c)
	if err != nil {
		return err
	}
	lower := append([]string{filepath.Join(state.Dir(c.ID), "upper")}, im.LowerDirs()...)
	return image.WithMerged(lower, func(dir string) error { return archive.Tar(w, dir) })
}

// ContainerCommit is POST /commit and `minidocker commit`.
func (e *Engine) ContainerCommit(ctx context.Context, ref string, opts engine.CommitOptions) (string, error) {
	c, err := findContainer(ref)
	if err != nil {
		return "", err
	}
	name := ""
	if opts.Ref != "" {
		if name, err = imageName(opts.Ref, ""); err != nil {
			return "", err
		}
	}
	base, err := imageOf(c)
	if err != nil {
		return "", err
	}
	// The new image runs what the container ran (docker commit keeps its
	// Cmd, Entrypoint, Env, WorkingDir...), changed by --change lines.
	cc := image.ContainerConfig{User: c.Config.User, ExposedPorts: c.Config.ExposedPorts, Env: c.Config.Env,
		Entrypoint: c.Config.Entrypoint, Cmd: c.Config.Cmd, Volumes: c.Config.Volumes, WorkingDir: c.Config.WorkingDir,
		Labels: c.Config.Labels, StopSignal: c.Config.StopSignal}
	if err := dockerfile.ApplyChanges(&cc, opts.Changes); err != nil {
		return "", invalid("%v", err)
	}
	step := image.History{CreatedBy: strings.Join(c.Command(), " "), Comment: opts.Comment, Author: opts.Author}
	im, err := image.Commit(base, filepath.Join(state.Dir(c.ID), "upper"), name, cc, step)
	if err != nil {
		return "", err
	}
	if err := unshiftCommit(c, im); err != nil {
		return "", err
	}
	return "sha256:" + im.ID, nil
}

// region stats
// ContainerStats is GET /containers/{id}/stats and `minidocker stats`: the
// cgroup's counters in Docker's shape, a second apart when streaming; a
// single answer carries a sample taken half a second earlier as precpu,
// so that the client can compute CPU % from the difference.
func (e *Engine) ContainerStats(ctx context.Context, ref string, stream bool, fn func(*types.StatsJSON) error) error {
	c, err := findContainer(ref)
	if err != nil {
		return err
	}
	cg := cgroups.Open(c.ID, c.HostConfig.CpusetCpus != "")
	sample := func() *types.StatsJSON { return statsOf(c, cg) }
	prev := sample()
	interval := time.Second
	if !stream {
		interval = 500 * time.Millisecond
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
		cur := sample()
		cur.PreCPUStats, cur.PreRead = prev.CPUStats, prev.Read
		if err := fn(cur); err != nil || !stream {
			return err
		}
		prev = cur
	}
}

// endregion stats

// statsOf reads one sample of a container's counters.
func statsOf(c *state.Container, cg *cgroups.Cgroup) *types.StatsJSON {
	st := cg.Stats()
	s := &types.StatsJSON{Read: st.Sampled.Format(time.RFC3339Nano), Name: "/" + c.Name, ID: c.ID}
	s.CPUStats.CPUUsage.TotalUsage = st.CPUNanos
	s.CPUStats.SystemUsage = systemCPU()
	s.CPUStats.OnlineCPUs = uint32(st.OnlineCPUs)
	s.MemoryStats = types.MemoryStats{Usage: st.MemUsage, Limit: st.MemLimit, Stats: map[string]uint64{}}
	if cgroups.V2() {
		s.MemoryStats.Stats["inactive_file"] = st.MemoryCache
	} else {
		s.MemoryStats.Stats["total_inactive_file"] = st.MemoryCache
	}
	s.PidsStats = types.PidsStats{Current: st.Pids}
	if c.HostConfig.PidsLimit != nil && *c.HostConfig.PidsLimit > 0 {
		s.PidsStats.Limit = uint64(*c.HostConfig.PidsLimit)
	}
	s.BlkioStats.IoServiceBytesRecursive = []types.BlkioStatEntry{}
	for _, io := range st.IO {
		s.BlkioStats.IoServiceBytesRecursive = append(s.BlkioStats.IoServiceBytesRecursive,
			types.BlkioStatEntry{Major: io.Major, Minor: io.Minor, Op: io.Op, Value: io.Value})
	}
	if c.Running() {
		s.Networks = netStats(c.State.Pid)
	}
	return s
}

// systemCPU is the host's CPU time in nanoseconds: the first seven fields of
// /proc/stat's "cpu" line (clock ticks of 1/100 s), as Docker reports it.
func systemCPU() uint64 {
	b, _ := os.ReadFile("/proc/stat")
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var ticks uint64
	for i := 1; i < len(f) && i <= 7; i++ {
		n, _ := strconv.ParseUint(f[i], 10, 64)
		ticks += n
	}
	return ticks * (1e9 / 100)
}

// netStats reads /proc/PID/net/dev: it shows the interfaces of PID's
// network namespace, so the container's own eth0.
func netStats(pid int) map[string]types.NetworkStats {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		return nil
	}
	out := map[string]types.NetworkStats{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		name = strings.TrimSpace(name)
		if !ok || name == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 12 {
			continue
		}
		n := func(i int) uint64 { v, _ := strconv.ParseUint(f[i], 10, 64); return v }
		out[name] = types.NetworkStats{RxBytes: n(0), RxPackets: n(1), RxErrors: n(2), RxDropped: n(3),
			TxBytes: n(8), TxPackets: n(9), TxErrors: n(10), TxDropped: n(11)}
	}
	return out
}
