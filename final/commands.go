//go:build linux

package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/minidocker/build-your-own-docker/final/archive"
	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/network"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func commands() []*cli.Command {
	return []*cli.Command{
		{Name: "run", Usage: "run a command in a new container", ArgsUsage: "IMAGE [COMMAND] [ARG...]", Action: runCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run in the background and print the container id"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep stdin open"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the container a pseudo-terminal"},
			&cli.BoolFlag{Name: "rm", Usage: "remove the container when it exits"},
			&cli.StringFlag{Name: "name", Usage: "the container's name"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable K=V"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
			&cli.StringFlag{Name: "hostname", Usage: "the container's hostname (default: the short id)"},
			&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "bind mount SRC:DST[:ro]"},
			&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit (e.g. 64m)"},
			&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit (-1: unlimited swap)"},
			&cli.StringFlag{Name: "cpus", Usage: "number of CPUs (e.g. 0.5)"},
			&cli.Int64Flag{Name: "cpu-shares", Aliases: []string{"c"}, Usage: "relative CPU weight (default 1024)"},
			&cli.Int64Flag{Name: "pids-limit", Usage: "maximum number of processes"},
			&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs to run on (e.g. 0-1)"},
			&cli.StringFlag{Name: "network", Aliases: []string{"net"}, Value: "bridge", Usage: "bridge, none, host, container:NAME or a network's name"},
			&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "publish a port: [IP:]HOSTPORT:CTRPORT[/udp] or CTRPORT"},
		}},
		{Name: "port", Usage: "list a container's published ports", ArgsUsage: "CONTAINER [PRIVATE_PORT[/PROTO]]", Action: portCmd},
		{Name: "network", Usage: "manage networks", Subcommands: networkCommands()},
		{Name: "ps", Usage: "list containers", Action: psCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show stopped containers too"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only ids"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "full ids and commands"},
		}},
		{Name: "logs", Usage: "show a container's output", ArgsUsage: "CONTAINER", Action: logsCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep following"},
		}},
		{Name: "exec", Usage: "run a command in a running container", ArgsUsage: "CONTAINER COMMAND [ARG...]", Action: execCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}},
		}},
		{Name: "stop", Usage: "SIGTERM, then SIGKILL after a grace period", ArgsUsage: "CONTAINER...", Action: stopCmd, Flags: []cli.Flag{
			&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Value: 10, Usage: "seconds to wait before SIGKILL"},
		}},
		{Name: "kill", Usage: "send a signal (default SIGKILL)", ArgsUsage: "CONTAINER...", Action: killCmd, Flags: []cli.Flag{
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL"},
		}},
		{Name: "rm", Usage: "remove containers", ArgsUsage: "CONTAINER...", Action: rmCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill a running container first"},
		}},
		{Name: "inspect", Usage: "a container's record as JSON", ArgsUsage: "CONTAINER...", Action: inspectCmd},
		{Name: "stats", Usage: "CPU, memory and PIDs from the cgroup files", ArgsUsage: "[CONTAINER...]", Action: statsCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-stream", Usage: "print once and exit"},
		}},
		{Name: "images", Usage: "list images", Action: imagesCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}},
		}},
		{Name: "import", Usage: "make an image from a `docker export` tarball (- for stdin)", ArgsUsage: "TAR NAME", Action: importCmd},
		{Name: "export", Usage: "write a container's filesystem as a tarball", ArgsUsage: "CONTAINER", Action: exportCmd, Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "file to write (default: stdout)"},
		}},
		{Name: "commit", Usage: "make an image from a container's changes", ArgsUsage: "CONTAINER NAME", Action: commitCmd},
		{Name: "rmi", Usage: "remove images", ArgsUsage: "IMAGE...", Action: rmiCmd},
		{Name: "version", Usage: "show the version", Action: versionCmd},
		{Name: "info", Usage: "system-wide information", Action: infoCmd},
	}
}

// region run
// minPidsLimit leaves the user's command a few tasks beside init's threads.
const minPidsLimit = 12

// newRecord checks every flag and builds the container's record. Nothing is
// created until all checks passed: a bad value leaves nothing behind.
func newRecord(c *cli.Context) (*state.Container, error) {
	if err := needArgs(c, 1, "run [OPTIONS] IMAGE [COMMAND] [ARG...]"); err != nil {
		return nil, err
	}
	h := state.HostConfig{CpuShares: c.Int64("cpu-shares"), PidsLimit: c.Int64("pids-limit"),
		CpusetCpus: c.String("cpuset-cpus"), NetworkMode: c.String("network"), AutoRemove: c.Bool("rm"), Detach: c.Bool("detach")}
	var err error
	if s := c.String("memory"); s != "" {
		if h.Memory, err = cgroups.ParseBytes(s); err != nil {
			return nil, fmt.Errorf("invalid -m/--memory: %v", err)
		}
	}
	if s := c.String("memory-swap"); s != "" {
		if h.MemorySwap, err = cgroups.ParseBytes(s); err != nil {
			return nil, fmt.Errorf("invalid --memory-swap: %v", err)
		}
	}
	if s := c.String("cpus"); s != "" {
		if h.NanoCpus, err = cgroups.ParseCPUs(s); err != nil {
			return nil, err
		}
	}
	if err := container.Limits(h).Validate(); err != nil {
		return nil, err
	}
	// pids.max counts threads, and minidocker's init is a Go program: its
	// ~8 threads live in the container's group too (Docker's tini is 1).
	if h.PidsLimit > 0 && h.PidsLimit < minPidsLimit {
		return nil, fmt.Errorf("invalid --pids-limit %d: minidocker's init (a Go program) needs about 8 of them for its own threads; use %d or more", h.PidsLimit, minPidsLimit)
	}
	if err := checkNetwork(&h, c.StringSlice("publish")); err != nil {
		return nil, err
	}
	name := c.String("name")
	if name != "" && !network.ValidName(name) {
		return nil, fmt.Errorf("invalid container name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	var mounts []state.Mount
	for _, v := range c.StringSlice("volume") {
		p := strings.Split(v, ":")
		if len(p) < 2 || len(p) > 3 || !filepath.IsAbs(p[0]) || !filepath.IsAbs(p[1]) || (len(p) == 3 && p[2] != "ro" && p[2] != "rw") {
			return nil, fmt.Errorf("invalid volume %q: use -v /host/path:/container/path[:ro]", v)
		}
		if _, err := os.Stat(p[0]); err != nil {
			return nil, fmt.Errorf("invalid volume %q: %s does not exist on the host", v, p[0])
		}
		mounts = append(mounts, state.Mount{Type: "bind", Source: p[0], Destination: filepath.Clean(p[1]), RW: len(p) == 2 || p[2] == "rw"})
		h.Binds = append(h.Binds, v)
	}
	for _, e := range c.StringSlice("env") {
		if !strings.Contains(e, "=") || strings.HasPrefix(e, "=") {
			return nil, fmt.Errorf("invalid -e %q: use -e KEY=VALUE", e)
		}
	}
	if w := c.String("workdir"); w != "" && !filepath.IsAbs(w) {
		return nil, fmt.Errorf("invalid -w %q: the working directory must be an absolute path", w)
	}
	im, err := image.Get(c.Args().First())
	if err != nil {
		return nil, err
	}
	id := state.NewID()
	hostname := c.String("hostname")
	if hostname == "" {
		hostname = id[:12]
	}
	cmd := c.Args().Tail()
	if len(cmd) == 0 {
		cmd = []string{"sh"} // busybox's default command
	}
	return &state.Container{ID: id, Name: name, Image: c.Args().First(), ImageID: im.ID, Created: time.Now().UTC(),
		Config: state.Config{Hostname: hostname, Env: container.DefaultEnv(hostname, c.Bool("tty"), c.StringSlice("env")),
			Cmd: cmd, WorkingDir: c.String("workdir"), Tty: c.Bool("tty"), OpenStdin: c.Bool("interactive")},
		HostConfig: h, Mounts: mounts}, nil
}

func runCmd(c *cli.Context) error {
	rec, err := newRecord(c)
	if err != nil {
		return err
	}
	if err := state.Create(rec); err != nil {
		return err
	}
	if rec.HostConfig.Detach {
		return runDetached(rec)
	}
	return runForeground(rec)
}

// runDetached hands the container to a monitor and waits only until it runs.
func runDetached(rec *state.Container) error {
	r, w, err := os.Pipe()
	if err != nil {
		container.Remove(rec)
		return err
	}
	err = container.Detach(rec.ID, w)
	w.Close()
	if err != nil {
		container.Remove(rec)
		return err
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "trace "):
			logrus.Debugf("+ %s", line[6:])
		case strings.HasPrefix(line, "ok"):
			fmt.Println(rec.ID)
			return nil
		case strings.HasPrefix(line, "error "):
			f := strings.SplitN(line, " ", 3)
			code, _ := strconv.Atoi(f[1])
			return &container.ExitError{Code: code, Msg: f[len(f)-1]}
		}
	}
	container.Remove(rec)
	return errors.New("the monitor died before the container started")
}

// runForeground is the CLI as the container's parent: its output goes to
// our stdout/stderr (and the log), our stdin to it with -i.
func runForeground(rec *state.Container) error {
	var stdio [3]*os.File
	var copying sync.WaitGroup
	var logw *container.LogWriter
	var master *os.File
	cleanup := func() {
		for _, f := range stdio {
			if f != nil {
				f.Close()
			}
		}
	}
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	stdio[0] = null
	if rec.Config.OpenStdin {
		stdio[0] = os.Stdin
	}
	var err error
	// --rm without -t writes straight to our stdout/stderr (below): no log.
	if !rec.HostConfig.AutoRemove || rec.Config.Tty {
		if logw, err = container.OpenLog(rec.ID); err != nil {
			container.Remove(rec)
			return err
		}
		defer logw.Close()
	}
	switch {
	case rec.Config.Tty: // init makes the pty inside and sends us its master
		stdio = [3]*os.File{null, null, null}
	case rec.HostConfig.AutoRemove:
		// --rm: the log would be removed with the container, so the
		// container writes straight to our stdout and stderr: no pipes,
		// no copying.
		stdio[1], stdio[2] = os.Stdout, os.Stderr
	default:
		for i, out := range []*os.File{os.Stdout, os.Stderr} {
			r, w, err := os.Pipe()
			if err != nil {
				container.Remove(rec)
				return err
			}
			stdio[i+1] = w
			copying.Add(1)
			stream := []string{"stdout", "stderr"}[i]
			go func(r, out *os.File) { defer copying.Done(); logw.Copy(r, stream, out); r.Close() }(r, out)
		}
	}
	// Ctrl-C and kill reach the container (docker run's --sig-proxy).
	// Registered while the container starts: it costs a round trip between
	// two of the Go runtime's threads per signal, done here while init boots.
	sigs := make(chan os.Signal, 4)
	go signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	p, err := container.Start(rec, stdio)
	for i, f := range []*os.File{os.Stdin, os.Stdout, os.Stderr} {
		if stdio[i] == f {
			stdio[i] = nil // not ours to close
		}
	}
	cleanup()
	if err != nil {
		copying.Wait()
		container.Remove(rec)
		return err
	}
	if master = p.Pty; master != nil {
		if container.IsTerminal(0) {
			restore, _ := container.MakeRaw(0)
			defer restore()
			defer container.CopyWinsize(0, master)()
		}
		if rec.Config.OpenStdin {
			go io.Copy(master, os.Stdin)
		}
		copying.Add(1)
		go func() { defer copying.Done(); logw.Copy(master, "stdout", os.Stdout) }()
	}
	// Forwarded through a pidfd, not kill(PID): once we have reaped init, a
	// signal still arriving goes to the ended process (a no-op), never to
	// an unrelated process that got the PID again. So the handlers can stay
	// until we exit; unregistering them would cost round trips again.
	pidfd, _ := unix.PidfdOpen(p.Pid(), 0)
	go func() {
		for s := range sigs {
			unix.PidfdSendSignal(pidfd, s.(unix.Signal), nil, 0)
		}
	}()
	code, oom := p.Wait()
	copying.Wait()
	if master != nil {
		master.Close()
	}
	container.Finish(p.C, code, oom)
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// endregion run

// find resolves a container argument, with its state corrected.
func find(ref string) (*state.Container, error) {
	c, err := state.Find(ref)
	if err != nil {
		return nil, err
	}
	return container.Refresh(c), nil
}

func psCmd(c *cli.Context) error {
	cs, err := state.List()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	if !c.Bool("quiet") {
		fmt.Fprintln(w, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
	}
	now := time.Now()
	for _, ct := range cs {
		ct = container.Refresh(ct)
		if !ct.Running() && !c.Bool("all") {
			continue
		}
		id, cmd := ct.ID[:12], state.ShortCommand(ct.Config.Cmd)
		if c.Bool("no-trunc") {
			id, cmd = ct.ID, `"`+strings.Join(ct.Config.Cmd, " ")+`"`
		}
		if c.Bool("quiet") {
			fmt.Fprintln(w, id)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s ago\t%s\t%s\t%s\n", id, ct.Image, cmd, state.HumanDuration(now.Sub(ct.Created)), status(ct, now), portsColumn(ct), ct.Name)
	}
	return w.Flush()
}

// status is the STATUS column: "Up 3 seconds", "Exited (0) 5 seconds ago".
func status(c *state.Container, now time.Time) string {
	switch c.State.Status {
	case "running":
		return "Up " + state.HumanDuration(now.Sub(c.State.StartedAt))
	case "exited":
		return fmt.Sprintf("Exited (%d) %s ago", c.State.ExitCode, state.HumanDuration(now.Sub(c.State.FinishedAt)))
	}
	return "Created"
}

func logsCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "logs [-f] CONTAINER"); err != nil {
		return err
	}
	ct, err := find(c.Args().First())
	if err != nil {
		return err
	}
	return container.Logs(ct, os.Stdout, os.Stderr, c.Bool("follow"))
}

func execCmd(c *cli.Context) error {
	if err := needArgs(c, 2, "exec [-i] [-t] CONTAINER COMMAND [ARG...]"); err != nil {
		return err
	}
	ct, err := find(c.Args().First())
	if err != nil {
		return err
	}
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	stdio := [3]*os.File{null, os.Stdout, os.Stderr}
	if c.Bool("interactive") {
		stdio[0] = os.Stdin
	}
	var master *os.File
	done := make(chan struct{})
	restore := func() {}
	onPty := func(m *os.File) {
		master = m
		if container.IsTerminal(0) {
			undoRaw, _ := container.MakeRaw(0)
			stop := container.CopyWinsize(0, master)
			restore = func() { stop(); undoRaw() }
		}
		if c.Bool("interactive") {
			go io.Copy(master, os.Stdin)
		}
		go func() { io.Copy(os.Stdout, master); close(done) }()
	}
	code, err := container.Exec(ct, c.Args().Tail(), c.StringSlice("env"), c.String("workdir"), c.Bool("tty"), stdio, onPty)
	if master != nil {
		<-done // the command's output, up to the pty's EIO
		master.Close()
		restore()
	}
	if err != nil {
		return &container.ExitError{Code: code, Msg: err.Error()}
	}
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// each runs fn on every container argument; the first error wins.
func each(c *cli.Context, usage string, fn func(*state.Container) error) error {
	if err := needArgs(c, 1, usage); err != nil {
		return err
	}
	var first error
	for _, ref := range c.Args().Slice() {
		ct, err := find(ref)
		if err == nil {
			err = fn(ct)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

func stopCmd(c *cli.Context) error {
	return each(c, "stop [-t SECONDS] CONTAINER...", func(ct *state.Container) error {
		container.Stop(ct, time.Duration(c.Int("time"))*time.Second)
		fmt.Println(ct.Name)
		return nil
	})
}

func killCmd(c *cli.Context) error {
	sig := unix.SignalNum("SIG" + strings.TrimPrefix(strings.ToUpper(c.String("signal")), "SIG"))
	if n, err := strconv.Atoi(c.String("signal")); err == nil {
		sig = unix.Signal(n)
	}
	if sig == 0 {
		return fmt.Errorf("invalid signal %q", c.String("signal"))
	}
	return each(c, "kill [-s SIGNAL] CONTAINER...", func(ct *state.Container) error {
		if !ct.Running() {
			return fmt.Errorf("container %s is not running", ct.ID[:12])
		}
		container.Kill(ct, sig)
		fmt.Println(ct.ID[:12])
		return nil
	})
}

// region rm
func rmCmd(c *cli.Context) error {
	return each(c, "rm [-f] CONTAINER...", func(ct *state.Container) error {
		if ct.Running() {
			if !c.Bool("force") {
				return fmt.Errorf("cannot remove running container %s: stop it first (minidocker stop %s) or use rm -f", ct.ID[:12], ct.Name)
			}
			container.Kill(ct, unix.SIGKILL)
		}
		if err := container.Remove(ct); err != nil {
			return err
		}
		fmt.Println(ct.Name)
		return nil
	})
}

// endregion rm

func inspectCmd(c *cli.Context) error {
	var out []map[string]any
	err := each(c, "inspect CONTAINER...", func(ct *state.Container) error {
		out = append(out, inspectJSON(ct))
		return nil
	})
	if len(out) > 0 {
		b, _ := json.MarshalIndent(out, "", "    ")
		fmt.Println(string(b))
	}
	return err
}

// inspectJSON shapes a record the way `docker inspect` does.
func inspectJSON(ct *state.Container) map[string]any {
	s := ct.State
	mounts := []map[string]any{}
	for _, m := range ct.Mounts {
		mounts = append(mounts, map[string]any{"Type": m.Type, "Source": m.Source, "Destination": m.Destination, "RW": m.RW})
	}
	n := ct.Network
	networks := map[string]any{}
	if n.IPAddress != "" && !strings.HasPrefix(n.Mode, "container:") {
		networks[n.Mode] = map[string]any{"IPAddress": n.IPAddress, "IPPrefixLen": n.IPPrefixLen, "Gateway": n.Gateway, "MacAddress": n.MacAddress}
	}
	ports := map[string]any{}
	for _, p := range n.Ports {
		ports[fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto)] = []map[string]string{{"HostIp": network.ShownIP(p.HostIP), "HostPort": strconv.Itoa(p.HostPort)}}
	}
	return map[string]any{
		"Id": ct.ID, "Name": "/" + ct.Name, "Created": ct.Created.Format(time.RFC3339Nano),
		"Path": ct.Config.Cmd[0], "Args": ct.Config.Cmd[1:], "Image": "sha256:" + ct.ImageID,
		"State": map[string]any{"Status": s.Status, "Running": s.Status == "running", "Pid": pidIfRunning(ct),
			"ExitCode": s.ExitCode, "OOMKilled": s.OOMKilled, "Error": s.Error,
			"StartedAt": s.StartedAt.Format(time.RFC3339Nano), "FinishedAt": s.FinishedAt.Format(time.RFC3339Nano)},
		"Config": map[string]any{"Hostname": ct.Config.Hostname, "Env": ct.Config.Env, "Cmd": ct.Config.Cmd, "Image": ct.Image,
			"WorkingDir": ct.Config.WorkingDir, "Tty": ct.Config.Tty, "OpenStdin": ct.Config.OpenStdin},
		"HostConfig": map[string]any{"Memory": ct.HostConfig.Memory, "MemorySwap": ct.HostConfig.MemorySwap,
			"NanoCpus": ct.HostConfig.NanoCpus, "CpuShares": ct.HostConfig.CpuShares, "PidsLimit": ct.HostConfig.PidsLimit,
			"CpusetCpus": ct.HostConfig.CpusetCpus, "Binds": ct.HostConfig.Binds, "NetworkMode": ct.HostConfig.NetworkMode,
			"AutoRemove": ct.HostConfig.AutoRemove, "PortBindings": ct.HostConfig.PortBindings},
		"Mounts": mounts,
		"NetworkSettings": map[string]any{"IPAddress": n.IPAddress, "IPPrefixLen": n.IPPrefixLen, "Gateway": n.Gateway,
			"MacAddress": n.MacAddress, "Bridge": n.Bridge, "HostVeth": n.HostVeth, "Networks": networks, "Ports": ports},
		"GraphDriver": map[string]any{"Name": "overlay", "Data": map[string]string{
			"UpperDir": filepath.Join(state.Dir(ct.ID), "upper"), "WorkDir": filepath.Join(state.Dir(ct.ID), "work")}},
		"LogPath": container.LogPath(ct.ID),
	}
}

func pidIfRunning(ct *state.Container) int {
	if ct.Running() {
		return ct.State.Pid
	}
	return 0
}

// region stats
func statsCmd(c *cli.Context) error {
	var cts []*state.Container
	if c.NArg() == 0 {
		all, _ := state.List()
		for _, ct := range all {
			if container.Refresh(ct).Running() {
				cts = append(cts, ct)
			}
		}
	}
	for _, ref := range c.Args().Slice() {
		ct, err := find(ref)
		if err != nil {
			return err
		}
		cts = append(cts, ct)
	}
	for {
		// CPU % is CPU time used between two samples over the time elapsed,
		// as a share of one CPU (200% = two CPUs busy), as docker stats shows.
		before := map[string]cgroups.Stats{}
		for _, ct := range cts {
			before[ct.ID] = cgroups.Open(ct.ID, ct.HostConfig.CpusetCpus != "").Stats()
		}
		time.Sleep(500 * time.Millisecond)
		w := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
		if !c.Bool("no-stream") {
			fmt.Fprint(w, "\033[2J\033[H") // clear the screen, as docker stats does
		}
		fmt.Fprintln(w, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tPIDS")
		for _, ct := range cts {
			b, s := before[ct.ID], cgroups.Open(ct.ID, ct.HostConfig.CpusetCpus != "").Stats()
			cpu := 0.0
			if dt := s.Sampled.Sub(b.Sampled).Nanoseconds(); dt > 0 && s.CPUNanos >= b.CPUNanos {
				cpu = float64(s.CPUNanos-b.CPUNanos) / float64(dt) * 100
			}
			used := s.MemUsage - min(s.MemoryCache, s.MemUsage) // docker subtracts the page cache
			mem := 0.0
			if s.MemLimit > 0 {
				mem = float64(used) / float64(s.MemLimit) * 100
			}
			fmt.Fprintf(w, "%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%d\n", ct.ID[:12], ct.Name, cpu, binSize(used), binSize(s.MemLimit), mem, s.Pids)
		}
		w.Flush()
		if c.Bool("no-stream") {
			return nil
		}
	}
}

// endregion stats

// binSize is 1.5MiB, as docker stats prints memory.
func binSize(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f, i = f/1024, i+1
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}

// decSize is 4.26MB, as docker images prints sizes.
func decSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	f, i := float64(n), 0
	for f >= 1000 && i < len(units)-1 {
		f, i = f/1000, i+1
	}
	return fmt.Sprintf("%.3g%s", f, units[i])
}

func imagesCmd(c *cli.Context) error {
	image.Get("busybox") // made from the rootfs on first use
	ims, err := image.List()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	if !c.Bool("quiet") {
		fmt.Fprintln(w, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	}
	for _, im := range ims {
		if c.Bool("quiet") {
			fmt.Fprintln(w, im.ID[:12])
			continue
		}
		repo, tag := im.Name, "latest"
		if repo == "" {
			repo, tag = "<none>", "<none>"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s ago\t%s\n", repo, tag, im.ID[:12], state.HumanDuration(time.Since(im.Created)), decSize(im.Size))
	}
	return w.Flush()
}

func importCmd(c *cli.Context) error {
	if err := needArgs(c, 2, "import TAR NAME"); err != nil {
		return err
	}
	if !network.ValidName(strings.TrimSuffix(c.Args().Get(1), ":latest")) {
		return fmt.Errorf("invalid image name %q", c.Args().Get(1))
	}
	im, err := image.Import(c.Args().Get(0), c.Args().Get(1))
	if err != nil {
		return err
	}
	fmt.Println("sha256:" + im.ID)
	return nil
}

// region export
func exportCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "export CONTAINER -o TAR"); err != nil {
		return err
	}
	output := c.String("output")
	if rest := c.Args().Tail(); len(rest) == 2 && (rest[0] == "-o" || rest[0] == "--output") {
		output = rest[1] // docker accepts the flag after the name: export C -o TAR
	} else if len(rest) > 0 {
		return fmt.Errorf("export: unexpected %q: usage: minidocker export CONTAINER -o TAR", rest)
	}
	ct, err := find(c.Args().First())
	if err != nil {
		return err
	}
	im, err := image.Get(ct.ImageID)
	if err != nil {
		return err
	}
	out := os.Stdout
	if o := output; o != "" {
		if out, err = os.Create(o + ".tmp"); err != nil {
			return err
		}
	}
	// The merged view without the init layer: the container's upper layer
	// stacked on the image's layers, mounted read-only where only we see it.
	lower := append([]string{filepath.Join(state.Dir(ct.ID), "upper")}, im.LowerDirs()...)
	err = image.WithMerged(lower, func(dir string) error { return archive.Tar(out, dir) })
	if o := output; o != "" {
		if e := out.Close(); err == nil {
			err = e
		}
		if err == nil {
			err = os.Rename(o+".tmp", o)
		}
		if err != nil {
			os.Remove(o + ".tmp")
		}
	}
	return err
}

// endregion export

func commitCmd(c *cli.Context) error {
	if err := needArgs(c, 2, "commit CONTAINER NAME"); err != nil {
		return err
	}
	ct, err := find(c.Args().First())
	if err != nil {
		return err
	}
	if !network.ValidName(strings.TrimSuffix(c.Args().Get(1), ":latest")) {
		return fmt.Errorf("invalid image name %q", c.Args().Get(1))
	}
	base, err := image.Get(ct.ImageID)
	if err != nil {
		return err
	}
	im, err := image.Commit(base, filepath.Join(state.Dir(ct.ID), "upper"), c.Args().Get(1), "commit of "+ct.ID[:12])
	if err != nil {
		return err
	}
	fmt.Println("sha256:" + im.ID)
	return nil
}

func rmiCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "rmi IMAGE..."); err != nil {
		return err
	}
	cs, _ := state.List()
	for _, ref := range c.Args().Slice() {
		im, err := image.Find(ref)
		if err != nil {
			return err
		}
		for _, ct := range cs {
			if ct.ImageID == im.ID {
				return fmt.Errorf("image %s is used by container %s: remove it first (minidocker rm -f %s)", ref, ct.ID[:12], ct.Name)
			}
		}
		if err := image.Remove(im); err != nil {
			return err
		}
		fmt.Println("Deleted: sha256:" + im.ID)
	}
	return nil
}

func versionCmd(c *cli.Context) error {
	fmt.Printf("Client: minidocker\n Version:    %s\n Go version: %s\n OS/Arch:    %s/%s\n Exec:       %s\n",
		Version, runtime.Version(), runtime.GOOS, runtime.GOARCH,
		container.ExecHelperName())
	return nil
}

func infoCmd(c *cli.Context) error {
	cs, _ := state.List()
	running := 0
	for _, ct := range cs {
		if container.Refresh(ct).Running() {
			running++
		}
	}
	ims, _ := image.List()
	var uts unix.Utsname
	unix.Uname(&uts)
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	cgv := "1"
	if cgroups.V2() {
		cgv = "2"
	}
	osName := "Linux"
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "PRETTY_NAME=") {
				osName = strings.Trim(l[12:], `"`)
			}
		}
	}
	nw := network.Default()
	fmt.Printf("Containers: %d\n Running: %d\n Stopped: %d\nImages: %d\nServer Version: %s\nStorage Driver: overlay\nLogging Driver: json-file\nCgroup Version: %s\nDefault Bridge: %s %s\nKernel Version: %s\nOperating System: %s\nCPUs: %d\nTotal Memory: %s\nMinidocker Root Dir: %s\n",
		len(cs), running, len(cs)-running, len(ims), Version, cgv, nw.Bridge, nw.Subnet, unix.ByteSliceToString(uts.Release[:]),
		osName, runtime.NumCPU(), binSize(uint64(si.Totalram)*uint64(si.Unit)), state.Root)
	return nil
}

// region netflags
// checkNetwork validates --network and -p before anything is created:
// the network must exist, container:C must name a running container
// (recorded by id), and ports need a network of their own to publish from.
func checkNetwork(h *state.HostConfig, publish []string) error {
	mode, err := network.ParseMode(h.NetworkMode)
	if err != nil {
		return err
	}
	switch mode.Kind {
	case "bridge":
		if _, err := network.Get(mode.Name); err != nil {
			return err
		}
	case "container":
		other, err := find(mode.Name)
		if err != nil {
			return fmt.Errorf("--network container:%s: %v", mode.Name, err)
		}
		if !other.Running() {
			return fmt.Errorf("--network container:%s: the container is not running", mode.Name)
		}
		h.NetworkMode = "container:" + other.ID
	}
	if _, err := container.ParsePorts(publish); err != nil {
		return err
	}
	if len(publish) > 0 {
		switch mode.Kind {
		case "host":
			logrus.Warn("published ports are discarded when using host network mode: the container's ports are the host's")
			return nil
		case "none", "container":
			return fmt.Errorf("conflicting options: port publishing and --network %s (publish ports on the container that owns the network namespace)", h.NetworkMode)
		}
	}
	h.PortBindings = publish
	return nil
}

// endregion netflags

// portsColumn is ps's PORTS: 0.0.0.0:8080->80/tcp, 127.0.0.1:32768->53/udp.
func portsColumn(ct *state.Container) string {
	if !ct.Running() {
		return ""
	}
	var s []string
	for _, p := range ct.Network.Ports {
		s = append(s, fmt.Sprintf("%s:%d->%d/%s", network.ShownIP(p.HostIP), p.HostPort, p.ContainerPort, p.Proto))
	}
	return strings.Join(s, ", ")
}

// portCmd is `port C [PORT[/PROTO]]`: "80/tcp -> 0.0.0.0:8080", or with a
// port only the host side, as `docker port` prints it.
func portCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "port CONTAINER [PRIVATE_PORT[/PROTO]]"); err != nil {
		return err
	}
	ct, err := find(c.Args().First())
	if err != nil {
		return err
	}
	want := c.Args().Get(1)
	if want != "" && !strings.Contains(want, "/") {
		want += "/tcp"
	}
	found := false
	for _, p := range ct.Network.Ports {
		if !ct.Running() {
			break
		}
		private := fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto)
		public := fmt.Sprintf("%s:%d", network.ShownIP(p.HostIP), p.HostPort)
		switch {
		case want == "":
			fmt.Printf("%s -> %s\n", private, public)
		case want == private:
			fmt.Println(public)
			found = true
		}
	}
	if want != "" && !found {
		return fmt.Errorf("no public port '%s' published for %s", want, ct.Name)
	}
	return nil
}

func networkCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "create", Usage: "create a bridge network", ArgsUsage: "NAME", Action: networkCreateCmd, Flags: []cli.Flag{
			&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "bridge", Usage: "only bridge"},
			&cli.StringFlag{Name: "subnet", Usage: "the network's range, e.g. 172.30.0.0/16 (default: a free /16)"},
			&cli.StringFlag{Name: "gateway", Usage: "the bridge's address (default: the first of the subnet)"},
		}},
		{Name: "ls", Aliases: []string{"list"}, Usage: "list networks", Action: networkLsCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only ids"},
		}},
		{Name: "inspect", Usage: "a network as JSON", ArgsUsage: "NETWORK...", Action: networkInspectCmd},
		{Name: "rm", Aliases: []string{"remove"}, Usage: "remove networks (not while containers use them)", ArgsUsage: "NETWORK...", Action: networkRmCmd},
	}
}

func networkCreateCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "network create [--subnet CIDR] [--gateway IP] NAME"); err != nil {
		return err
	}
	if d := c.String("driver"); d != "bridge" {
		return fmt.Errorf("network create: driver %q is not supported: minidocker has only the bridge driver", d)
	}
	n, err := network.Create(c.Args().First(), c.String("subnet"), c.String("gateway"))
	if err != nil {
		return err
	}
	fmt.Println(n.ID)
	return nil
}

// predefinedID gives host and none a stable id (they have no file).
func predefinedID(name string) string {
	sum := sha256.Sum256([]byte("minidocker network " + name))
	return hex.EncodeToString(sum[:])
}

func networkLsCmd(c *cli.Context) error {
	nets, err := network.List()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	if !c.Bool("quiet") {
		fmt.Fprintln(w, "NETWORK ID\tNAME\tDRIVER\tSCOPE")
	}
	row := func(id, name, driver string) {
		if c.Bool("quiet") {
			fmt.Fprintln(w, id[:12])
		} else {
			fmt.Fprintf(w, "%s\t%s\t%s\tlocal\n", id[:12], name, driver)
		}
	}
	for _, n := range nets {
		row(n.ID, n.Name, "bridge")
	}
	row(predefinedID("host"), "host", "host")
	row(predefinedID("none"), "none", "null")
	return w.Flush()
}

func networkInspectCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "network inspect NETWORK..."); err != nil {
		return err
	}
	var out []map[string]any
	cs, _ := state.List()
	for _, name := range c.Args().Slice() {
		n, err := network.Get(name)
		if err != nil {
			return err
		}
		members := map[string]any{}
		for _, ct := range cs {
			if ct.Network.Mode == n.Name && container.Refresh(ct).Running() {
				members[ct.ID] = map[string]any{"Name": ct.Name, "MacAddress": ct.Network.MacAddress,
					"IPv4Address": fmt.Sprintf("%s/%d", ct.Network.IPAddress, ct.Network.IPPrefixLen)}
			}
		}
		out = append(out, map[string]any{"Name": n.Name, "Id": n.ID, "Created": n.Created.Format(time.RFC3339Nano),
			"Scope": "local", "Driver": "bridge",
			"IPAM":       map[string]any{"Driver": "default", "Config": []map[string]string{{"Subnet": n.Subnet.String(), "Gateway": n.Gateway.String()}}},
			"Containers": members, "Options": map[string]string{"com.docker.network.bridge.name": n.Bridge}})
	}
	b, _ := json.MarshalIndent(out, "", "    ")
	fmt.Println(string(b))
	return nil
}

func networkRmCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "network rm NETWORK..."); err != nil {
		return err
	}
	var first error
	for _, name := range c.Args().Slice() {
		if err := network.Remove(name); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		fmt.Println(name)
	}
	return first
}
