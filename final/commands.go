//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/archive"
	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/network"
	"github.com/minidocker/build-your-own-docker/final/oci"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// runFlags are `run`'s and `create`'s flags, Docker's names.
func runFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep stdin open"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the container a pseudo-terminal"},
		&cli.BoolFlag{Name: "rm", Usage: "remove the container when it exits"},
		&cli.StringFlag{Name: "name", Usage: "the container's name"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable K=V"},
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
		&cli.StringFlag{Name: "hostname", Usage: "the container's hostname (default: the short id)"},
		&cli.StringFlag{Name: "entrypoint", Usage: "the program to run (the command becomes its arguments)"},
		&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "bind mount SRC:DST[:ro] (SRC a host path or a volume's name), or an anonymous volume DST"},
		&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit (e.g. 64m)"},
		&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit (-1: unlimited swap)"},
		&cli.StringFlag{Name: "cpus", Usage: "number of CPUs (e.g. 0.5)"},
		&cli.Int64Flag{Name: "cpu-shares", Aliases: []string{"c"}, Usage: "relative CPU weight (default 1024)"},
		&cli.Int64Flag{Name: "pids-limit", Usage: "maximum number of processes"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs to run on (e.g. 0-1)"},
		&cli.UintFlag{Name: "blkio-weight", Usage: "block I/O weight, 10 to 1000, relative to other containers (needs the BFQ scheduler)"},
		&cli.StringSliceFlag{Name: "blkio-weight-device", Usage: "block I/O weight on one device: /dev/sda:300"},
		&cli.StringSliceFlag{Name: "device-read-bps", Usage: "limit reads from a device, bytes a second: /dev/sda:10mb"},
		&cli.StringSliceFlag{Name: "device-write-bps", Usage: "limit writes to a device, bytes a second: /dev/sda:10mb"},
		&cli.StringSliceFlag{Name: "device-read-iops", Usage: "limit reads from a device, operations a second: /dev/sda:100"},
		&cli.StringSliceFlag{Name: "device-write-iops", Usage: "limit writes to a device, operations a second: /dev/sda:100"},
		&cli.StringFlag{Name: "network", Aliases: []string{"net"}, Value: "bridge", Usage: "bridge, none, host, container:NAME or a network's name"},
		&cli.StringSliceFlag{Name: "network-alias", Usage: "another name the container answers to on its network"},
		&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "publish a port: [IP:]HOSTPORT:CTRPORT[/udp] or CTRPORT"},
		&cli.BoolFlag{Name: "publish-all", Aliases: []string{"P"}, Usage: "publish every exposed port on a free host port"},
		&cli.StringSliceFlag{Name: "expose", Usage: "a port the container listens on (for -P)"},
		&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "a label K=V"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "the user to run as"},
		&cli.StringFlag{Name: "restart", Usage: "restart policy: no, on-failure[:N], always, unless-stopped (default no)"},
		&cli.StringFlag{Name: "stop-signal", Usage: "the signal stop sends (default SIGTERM)"},
		&cli.IntFlag{Name: "stop-timeout", Value: -1, Usage: "seconds stop waits before SIGKILL (default 10)"},
		&cli.StringFlag{Name: "pull", Value: "missing", Usage: "pull the image first: missing, always or never"},
		&cli.StringFlag{Name: "platform", Usage: "os/arch[/variant] of the image to pull"},
	}, securityFlags()...)
}

func commands() []*cli.Command {
	return append([]*cli.Command{
		{Name: "run", Usage: "run a command in a new container", ArgsUsage: "IMAGE [COMMAND] [ARG...]", Action: runCmd,
			Flags: append(runFlags(), &cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run in the background and print the container id"})},
		{Name: "create", Usage: "create a container (start it with `start`)", ArgsUsage: "IMAGE [COMMAND] [ARG...]", Action: createCmd, Flags: runFlags()},
		{Name: "start", Usage: "start containers", ArgsUsage: "CONTAINER...", Action: startCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach its output and wait for it"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "attach its stdin"},
		}},
		{Name: "attach", Usage: "attach to a running container's stdin and output", ArgsUsage: "CONTAINER", Action: attachCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-stdin", Usage: "do not attach stdin"},
		}},
		{Name: "wait", Usage: "wait until containers stop; print their exit codes", ArgsUsage: "CONTAINER...", Action: waitCmd},
		{Name: "port", Usage: "list a container's published ports", ArgsUsage: "CONTAINER [PRIVATE_PORT[/PROTO]]", Action: portCmd},
		{Name: "network", Usage: "manage networks", Subcommands: networkCommands()},
		{Name: "volume", Usage: "manage volumes", Subcommands: volumeCommands()},
		{Name: "ps", Usage: "list containers", Action: psCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show stopped containers too"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only ids"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "full ids and commands"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "label=K[=V], name=, id=, status="},
		}},
		{Name: "logs", Usage: "show a container's output", ArgsUsage: "CONTAINER", Action: logsCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep following"},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "lines from the end"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "show when each line was written"},
		}},
		{Name: "exec", Usage: "run a command in a running container", ArgsUsage: "CONTAINER COMMAND [ARG...]", Action: execCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}},
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as this user (default: the container's)"},
			&cli.BoolFlag{Name: "privileged", Usage: "every capability, no seccomp"},
		}},
		{Name: "stop", Usage: "SIGTERM, then SIGKILL after a grace period", ArgsUsage: "CONTAINER...", Action: stopCmd, Flags: []cli.Flag{
			&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Value: -1, Usage: "seconds to wait before SIGKILL (default 10)"},
		}},
		{Name: "restart", Usage: "stop, then start containers", ArgsUsage: "CONTAINER...", Action: restartCmd, Flags: []cli.Flag{
			&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Value: -1, Usage: "seconds to wait before SIGKILL (default 10)"},
		}},
		{Name: "pause", Usage: "freeze every process of containers (the freezer cgroup)", ArgsUsage: "CONTAINER...", Action: pauseCmd},
		{Name: "unpause", Usage: "thaw paused containers", ArgsUsage: "CONTAINER...", Action: unpauseCmd},
		{Name: "kill", Usage: "send a signal (default SIGKILL)", ArgsUsage: "CONTAINER...", Action: killCmd, Flags: []cli.Flag{
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL"},
		}},
		{Name: "rm", Usage: "remove containers", ArgsUsage: "CONTAINER...", Action: rmCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill a running container first"},
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove its anonymous volumes too"},
		}},
		{Name: "rename", Usage: "rename a container", ArgsUsage: "CONTAINER NEW_NAME", Action: renameCmd},
		{Name: "inspect", Usage: "a container's, image's, network's or volume's record as JSON", ArgsUsage: "NAME...", Action: inspectCmd, Flags: []cli.Flag{
			&cli.StringFlag{Name: "type", Usage: "container, image, network or volume"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "a Go template: {{.State.Pid}}, {{.Config.Cmd}}"},
		}},
		{Name: "top", Usage: "a container's processes", ArgsUsage: "CONTAINER [ps OPTIONS]", Action: topCmd, SkipFlagParsing: true},
		{Name: "stats", Usage: "CPU, memory, network, block I/O and PIDs from the cgroup files", ArgsUsage: "[CONTAINER...]", Action: statsCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-stream", Usage: "print once and exit"},
		}},
		{Name: "events", Usage: "what happens to containers, as it happens", Action: eventsCmd, Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "container=, event=, label=, type="},
			&cli.Int64Flag{Name: "since", Usage: "from this unix time"},
			&cli.Int64Flag{Name: "until", Usage: "until this unix time"},
		}},
		{Name: "images", Usage: "list images", Action: imagesCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}},
			&cli.BoolFlag{Name: "digests", Usage: "show the digest of the manifest each name was pulled or pushed as"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show the images of build steps too"},
		}},
		{Name: "import", Usage: "make an image from a `docker export` tarball (- for stdin)", ArgsUsage: "TAR [NAME]", Action: importCmd, Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "change", Aliases: []string{"c"}, Usage: "a Dockerfile line for the image's config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR"},
		}},
		{Name: "export", Usage: "write a container's filesystem as a tarball, or as an OCI bundle", ArgsUsage: "CONTAINER", Action: exportCmd, Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "file to write (default: stdout)"},
			&cli.StringFlag{Name: "oci", Usage: "write an OCI bundle into this new `DIR` instead (rootfs + config.json: runc run runs it)"},
		}},
		{Name: "commit", Usage: "make an image from a container's changes", ArgsUsage: "CONTAINER [NAME]", Action: commitCmd, Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "change", Aliases: []string{"c"}, Usage: "a Dockerfile line for the image's config (CMD, ENV, ...)"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "the commit message"},
			&cli.StringFlag{Name: "author", Aliases: []string{"a"}, Usage: "the author"},
		}},
		{Name: "rmi", Usage: "remove images", ArgsUsage: "IMAGE...", Action: rmiCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}},
		}},
		{Name: "tag", Usage: "give an image another name", ArgsUsage: "IMAGE NAME[:TAG]", Action: tagCmd},
		{Name: "version", Usage: "show the version", Action: versionCmd},
		{Name: "info", Usage: "system-wide information", Action: infoCmd},
		daemonCommand(),
	}, append(imageCommands(), buildCommands()...)...)
}

// ctx is every command's context: a command ends when it is done.
var ctx = context.Background()

// region runflags
// createRequest turns run's (and create's) flags into the Engine API's
// create request: what the docker CLI sends, so the local and the remote
// engine get the same thing.
func createRequest(c *cli.Context, detach bool) (string, *types.ContainerCreateRequest, error) {
	if err := needArgs(c, 1, c.Command.Name+" [OPTIONS] IMAGE [COMMAND] [ARG...]"); err != nil {
		return "", nil, err
	}
	h := &types.HostConfig{CPUShares: c.Int64("cpu-shares"), CpusetCpus: c.String("cpuset-cpus"), NetworkMode: c.String("network"),
		AutoRemove: c.Bool("rm"), Binds: []string{}, PublishAllPorts: c.Bool("publish-all")}
	var err error
	if s := c.String("memory"); s != "" {
		if h.Memory, err = cgroups.ParseBytes(s); err != nil {
			return "", nil, fmt.Errorf("invalid -m/--memory: %v", err)
		}
	}
	if s := c.String("memory-swap"); s != "" {
		if h.MemorySwap, err = cgroups.ParseBytes(s); err != nil {
			return "", nil, fmt.Errorf("invalid --memory-swap: %v", err)
		}
	}
	if s := c.String("cpus"); s != "" {
		if h.NanoCPUs, err = cgroups.ParseCPUs(s); err != nil {
			return "", nil, err
		}
	}
	if c.IsSet("pids-limit") {
		n := c.Int64("pids-limit")
		h.PidsLimit = &n
	}
	if h.RestartPolicy, err = restartPolicy(c.String("restart"), h.AutoRemove); err != nil {
		return "", nil, err
	}
	if err := ioFlags(c, h); err != nil {
		return "", nil, err
	}
	if err := securityRequest(c, h); err != nil {
		return "", nil, err
	}
	cfg := types.Config{Image: c.Args().First(), Cmd: c.Args().Tail(), Env: c.StringSlice("env"), WorkingDir: c.String("workdir"),
		Hostname: c.String("hostname"), Tty: c.Bool("tty"), OpenStdin: c.Bool("interactive"), User: c.String("user"),
		StopSignal: c.String("stop-signal"), Labels: map[string]string{}, ExposedPorts: map[string]struct{}{}, Volumes: map[string]struct{}{}}
	if !detach {
		cfg.AttachStdout, cfg.AttachStderr = true, true
		cfg.AttachStdin, cfg.StdinOnce = cfg.OpenStdin, cfg.OpenStdin
	}
	if ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ); err == nil && cfg.Tty {
		h.ConsoleSize = [2]uint{uint(ws.Row), uint(ws.Col)} // the command starts with our size
	}
	if c.IsSet("entrypoint") {
		cfg.Entrypoint = types.StrSlice{c.String("entrypoint")}
	}
	if t := c.Int("stop-timeout"); t >= 0 {
		cfg.StopTimeout = &t
	}
	var ports []state.PortBinding
	for _, p := range c.StringSlice("publish") {
		b, err := network.ParsePort(p)
		if err != nil {
			return "", nil, err
		}
		ports = append(ports, b)
		cfg.ExposedPorts[fmt.Sprintf("%d/%s", b.ContainerPort, b.Proto)] = struct{}{}
	}
	h.PortBindings = container.PortMapOf(ports)
	for _, p := range c.StringSlice("expose") {
		port, proto := types.ParsePort(p)
		cfg.ExposedPorts[port+"/"+proto] = struct{}{}
	}
	for _, v := range c.StringSlice("volume") {
		if strings.Contains(v, ":") {
			h.Binds = append(h.Binds, v)
		} else {
			cfg.Volumes[v] = struct{}{} // -v /data: an anonymous volume
		}
	}
	for _, l := range c.StringSlice("label") {
		k, v, _ := strings.Cut(l, "=")
		cfg.Labels[k] = v
	}
	req := &types.ContainerCreateRequest{Config: cfg, HostConfig: h}
	if aliases := c.StringSlice("network-alias"); len(aliases) > 0 {
		req.NetworkingConfig = &types.NetworkingConfig{EndpointsConfig: map[string]*types.EndpointSettings{h.NetworkMode: {Aliases: aliases}}}
	}
	return c.String("name"), req, nil
}

// endregion runflags

// restartPolicy reads --restart NAME[:MAX] as the docker CLI does; the
// engine checks the name and the count (it gets API clients' too).
func restartPolicy(s string, autoRemove bool) (types.RestartPolicy, error) {
	p := types.RestartPolicy{Name: "no"}
	if s == "" {
		return p, nil
	}
	name, max, hasMax := strings.Cut(s, ":")
	if hasMax && name == "" {
		return p, fmt.Errorf("invalid restart policy format: no policy provided before colon")
	}
	if max != "" {
		n, err := strconv.Atoi(max)
		if err != nil {
			return p, fmt.Errorf("invalid restart policy format: maximum retry count must be an integer")
		}
		p.MaximumRetryCount = n
	}
	p.Name = name
	if autoRemove && name != "no" {
		return p, fmt.Errorf("conflicting options: cannot specify both --restart and --rm")
	}
	return p, nil
}

// ioFlags reads --blkio-weight, --blkio-weight-device and --device-{read,write}-{bps,iops}.
func ioFlags(c *cli.Context, h *types.HostConfig) error {
	w := c.Uint("blkio-weight")
	if w > 1000 {
		return fmt.Errorf("invalid --blkio-weight %d: Range of blkio weight is from 10 to 1000", w)
	}
	h.BlkioWeight = uint16(w)
	for _, v := range c.StringSlice("blkio-weight-device") {
		d, err := cgroups.ParseWeightDevice(v)
		if err != nil {
			return fmt.Errorf("invalid --blkio-weight-device: %v", err)
		}
		h.BlkioWeightDevice = append(h.BlkioWeightDevice, types.WeightDevice{Path: d.Path, Weight: uint16(d.Rate)})
	}
	for _, f := range []struct {
		flag  string
		bytes bool
		to    *[]types.ThrottleDevice
	}{{"device-read-bps", true, &h.BlkioDeviceReadBps}, {"device-write-bps", true, &h.BlkioDeviceWriteBps},
		{"device-read-iops", false, &h.BlkioDeviceReadIOps}, {"device-write-iops", false, &h.BlkioDeviceWriteIOps}} {
		for _, v := range c.StringSlice(f.flag) {
			d, err := cgroups.ParseDeviceRate(v, f.bytes)
			if err != nil {
				return fmt.Errorf("invalid --%s: %v", f.flag, err)
			}
			*f.to = append(*f.to, types.ThrottleDevice{Path: d.Path, Rate: d.Rate})
		}
	}
	return nil
}

// region run
func runCmd(c *cli.Context) error {
	detach := c.Bool("detach")
	name, req, err := createRequest(c, detach)
	if err != nil {
		return err
	}
	s, done := terminal(req.Tty, req.OpenStdin && !detach)
	defer done()
	s.Detach = detach
	if detach {
		s.Started = func(id string) { fmt.Println(id) }
	} else {
		// Ctrl-C and kill reach the container (docker run's --sig-proxy).
		// Registered while the container starts: a signal handler costs a
		// round trip between two of the Go runtime's threads.
		s.Signal = proxySignals()
	}
	var code int
	err = withPull(req.Image, c.String("pull"), c.String("platform"), func() error {
		_, code, err = eng.ContainerRun(ctx, name, req, s)
		return err
	})
	return exitWith(code, err, done)
}

// exitWith ends run and exec: an engine error with its exit status (125,
// 126, 127), or the command's own status, after the terminal is restored.
func exitWith(code int, err error, done func()) error {
	if err != nil {
		return &engine.Error{Msg: err.Error(), Code: engine.ExitCodeOf(err)}
	}
	if code != 0 {
		done()
		return exitCode(code)
	}
	return nil
}

// endregion run

// terminal is our own stdio as the engine's Streams. With a terminal (-t
// on a tty) it puts ours in raw mode (the container's terminal does the
// echo and line editing) and sends its size now and on every SIGWINCH;
// done restores it.
func terminal(tty, stdin bool) (engine.Streams, func()) {
	s := engine.Streams{Stdout: os.Stdout, Stderr: os.Stderr, Tty: tty}
	if stdin {
		s.Stdin = os.Stdin
	}
	if !tty || !container.IsTerminal(0) {
		return s, func() {}
	}
	restore, _ := container.MakeRaw(0)
	sizes, stop := container.Sizes(0)
	s.Resize = sizes
	once := false
	return s, func() {
		if !once {
			once = true
			stop()
			restore()
		}
	}
}

// proxySignals forwards what a terminal and `kill` send us to the container.
func proxySignals() <-chan string {
	names := make(chan string, 4)
	sigs := make(chan os.Signal, 4)
	go func() {
		signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
		for sig := range sigs {
			names <- unix.SignalName(sig.(unix.Signal))
		}
	}()
	return names
}

func createCmd(c *cli.Context) error {
	name, req, err := createRequest(c, true)
	if err != nil {
		return err
	}
	var resp *types.ContainerCreateResponse
	err = withPull(req.Image, c.String("pull"), c.String("platform"), func() error {
		resp, err = eng.ContainerCreate(ctx, name, req)
		return err
	})
	if err != nil {
		return err
	}
	for _, w := range resp.Warnings {
		logrus.Warn(w)
	}
	fmt.Println(resp.ID)
	return nil
}

// startCmd is `start [-a] [-i] C...`: with -a, attach first (a created
// container's whole output), then start, then wait, as the docker CLI.
func startCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "start [-a] [-i] CONTAINER..."); err != nil {
		return err
	}
	if !c.Bool("attach") {
		return each(c, "start CONTAINER...", func(ref string) error {
			if err := eng.ContainerStart(ctx, ref); err != nil {
				return err
			}
			fmt.Println(ref)
			return nil
		})
	}
	ref := c.Args().First()
	j, err := eng.ContainerInspect(ctx, ref)
	if err != nil {
		return err
	}
	s, done := terminal(j.Config.Tty, c.Bool("interactive"))
	defer done()
	code, err := engine.StartAttached(ctx, eng, ref, s, false)
	return exitWith(code, err, done)
}

func attachCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "attach CONTAINER"); err != nil {
		return err
	}
	j, err := eng.ContainerInspect(ctx, c.Args().First())
	if err != nil {
		return err
	}
	if !j.State.Running {
		return fmt.Errorf("You cannot attach to a stopped container, start it first")
	}
	s, done := terminal(j.Config.Tty, !c.Bool("no-stdin") && j.Config.OpenStdin)
	defer done()
	waited, err := eng.ContainerWait(ctx, j.ID, "")
	if err != nil {
		return err
	}
	if err := eng.ContainerAttach(ctx, j.ID, engine.AttachOptions{Stdin: s.Stdin != nil, Stdout: true, Stderr: true}, s); err != nil {
		return err
	}
	if res := <-waited; res.StatusCode != 0 {
		done()
		return exitCode(res.StatusCode)
	}
	return nil
}

func waitCmd(c *cli.Context) error {
	return each(c, "wait CONTAINER...", func(ref string) error {
		ch, err := eng.ContainerWait(ctx, ref, "not-running")
		if err != nil {
			return err
		}
		fmt.Println((<-ch).StatusCode)
		return nil
	})
}

// each runs fn on every container argument; the first error wins.
func each(c *cli.Context, usage string, fn func(ref string) error) error {
	if err := needArgs(c, 1, usage); err != nil {
		return err
	}
	var first error
	for _, ref := range c.Args().Slice() {
		if err := fn(ref); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// filterFlags reads --filter k=v flags into the API's filters.
func filterFlags(c *cli.Context) map[string][]string {
	f := map[string][]string{}
	for _, kv := range c.StringSlice("filter") {
		k, v, _ := strings.Cut(kv, "=")
		f[k] = append(f[k], v)
	}
	return f
}

func psCmd(c *cli.Context) error {
	cs, err := eng.ContainerList(ctx, engine.ListOptions{All: c.Bool("all"), Filters: filterFlags(c)})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	if !c.Bool("quiet") {
		fmt.Fprintln(w, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
	}
	now := time.Now()
	for _, ct := range cs {
		id, cmd := ct.ID[:12], state.ShortCommand([]string{ct.Command})
		if c.Bool("no-trunc") {
			id, cmd = ct.ID, `"`+ct.Command+`"`
		}
		if c.Bool("quiet") {
			fmt.Fprintln(w, id)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s ago\t%s\t%s\t%s\n", id, ct.Image, cmd, state.HumanDuration(now.Sub(time.Unix(ct.Created, 0))),
			ct.Status, portsColumn(ct.Ports), strings.TrimPrefix(ct.Names[0], "/"))
	}
	return w.Flush()
}

// portsColumn is ps's PORTS: 0.0.0.0:8080->80/tcp, 127.0.0.1:32768->53/udp.
func portsColumn(ports []types.Port) string {
	var s []string
	for _, p := range ports {
		s = append(s, fmt.Sprintf("%s:%d->%d/%s", p.IP, p.PublicPort, p.PrivatePort, p.Type))
	}
	return strings.Join(s, ", ")
}

func logsCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "logs [-f] [--tail N] [-t] CONTAINER"); err != nil {
		return err
	}
	return eng.ContainerLogs(ctx, c.Args().First(), engine.LogsOptions{Follow: c.Bool("follow"), Tail: c.String("tail"), Timestamps: c.Bool("timestamps")}, os.Stdout, os.Stderr)
}

func execCmd(c *cli.Context) error {
	if err := needArgs(c, 2, "exec [-i] [-t] CONTAINER COMMAND [ARG...]"); err != nil {
		return err
	}
	cfg := types.ExecConfig{Cmd: c.Args().Tail(), Env: c.StringSlice("env"), WorkingDir: c.String("workdir"), Tty: c.Bool("tty"),
		AttachStdin: c.Bool("interactive"), AttachStdout: true, AttachStderr: true, Detach: c.Bool("detach"),
		User: c.String("user"), Privileged: c.Bool("privileged")}
	if ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ); err == nil && cfg.Tty {
		cfg.ConsoleSize = &[2]uint{uint(ws.Row), uint(ws.Col)}
	}
	if cfg.Detach {
		id, err := eng.ExecCreate(ctx, c.Args().First(), cfg)
		if err != nil {
			return err
		}
		go eng.ExecStart(ctx, id, engine.Streams{Stdout: io.Discard, Stderr: io.Discard})
		return nil
	}
	s, done := terminal(cfg.Tty, cfg.AttachStdin)
	defer done()
	s.Signal = proxySignals()
	code, err := eng.ExecRun(ctx, c.Args().First(), cfg, s)
	return exitWith(code, err, done)
}

func stopCmd(c *cli.Context) error {
	var t *int
	if n := c.Int("time"); n >= 0 {
		t = &n
	}
	return each(c, "stop [-t SECONDS] CONTAINER...", func(ref string) error {
		if err := eng.ContainerStop(ctx, ref, t); err != nil && !isNotModified(err) {
			return err
		}
		fmt.Println(ref)
		return nil
	})
}

func restartCmd(c *cli.Context) error {
	var t *int
	if n := c.Int("time"); n >= 0 {
		t = &n
	}
	return eachRef(c, "restart [-t SECONDS] CONTAINER...", func(ctx context.Context, ref string) error { return eng.ContainerRestart(ctx, ref, t) })
}

func pauseCmd(c *cli.Context) error { return eachRef(c, "pause CONTAINER...", eng.ContainerPause) }

func unpauseCmd(c *cli.Context) error {
	return eachRef(c, "unpause CONTAINER...", eng.ContainerUnpause)
}

// eachRef does fn to every container argument and prints each one it did,
// as docker does.
func eachRef(c *cli.Context, usage string, fn func(ctx context.Context, ref string) error) error {
	return each(c, usage, func(ref string) error {
		if err := fn(ctx, ref); err != nil {
			return err
		}
		fmt.Println(ref)
		return nil
	})
}

func isNotModified(err error) bool {
	e, ok := err.(*engine.Error)
	return ok && e.Kind == engine.ErrNotModified
}

func killCmd(c *cli.Context) error {
	if _, err := container.SignalName(c.String("signal")); err != nil {
		return err
	}
	return each(c, "kill [-s SIGNAL] CONTAINER...", func(ref string) error {
		if err := eng.ContainerKill(ctx, ref, c.String("signal")); err != nil {
			return err
		}
		fmt.Println(ref)
		return nil
	})
}

// region rm
func rmCmd(c *cli.Context) error {
	return each(c, "rm [-f] [-v] CONTAINER...", func(ref string) error {
		if err := eng.ContainerRemove(ctx, ref, engine.RemoveOptions{Force: c.Bool("force"), Volumes: c.Bool("volumes")}); err != nil {
			return err
		}
		fmt.Println(ref)
		return nil
	})
}

// endregion rm

func renameCmd(c *cli.Context) error {
	if err := needArgs(c, 2, "rename CONTAINER NEW_NAME"); err != nil {
		return err
	}
	return eng.ContainerRename(ctx, c.Args().Get(0), c.Args().Get(1))
}

// inspectCmd is `inspect [--type T] NAME...`: like docker inspect, a name
// is looked up as a container, then an image, a network, a volume.
func inspectCmd(c *cli.Context) error {
	var out []any
	kinds := []string{"container", "image", "network", "volume"}
	if t := c.String("type"); t != "" {
		kinds = []string{t}
	}
	err := each(c, "inspect [--type container|image|network|volume] NAME...", func(ref string) error {
		for _, k := range kinds {
			var v any
			var err error
			switch k {
			case "container":
				v, err = eng.ContainerInspect(ctx, ref)
			case "image":
				v, err = eng.ImageInspect(ctx, ref)
			case "network":
				v, err = eng.NetworkInspect(ctx, ref)
			case "volume":
				v, err = eng.VolumeInspect(ctx, ref)
			default:
				return fmt.Errorf("%q is not a valid value for --type", k)
			}
			if err == nil {
				out = append(out, v)
				return nil
			}
			if !errors.Is(err, engine.ErrNotFound) || len(kinds) == 1 {
				return err
			}
		}
		return fmt.Errorf("No such object: %s", ref)
	})
	if f := c.String("format"); f != "" && len(out) > 0 {
		return formatEach(f, out, err)
	}
	if len(out) > 0 {
		b, _ := json.MarshalIndent(out, "", "    ")
		fmt.Println(string(b))
	}
	return err
}

// formatEach prints each record through a Go template, as docker
// inspect -f '{{.State.Pid}}' does (the JSON's field names).
func formatEach(format string, records []any, err error) error {
	tmpl, terr := template.New("").Funcs(template.FuncMap{"json": func(v any) string { b, _ := json.Marshal(v); return string(b) }}).Parse(format)
	if terr != nil {
		return fmt.Errorf("template parsing error: %v", terr)
	}
	for _, r := range records {
		var m any
		b, _ := json.Marshal(r)
		json.Unmarshal(b, &m)
		if e := tmpl.Execute(os.Stdout, m); e != nil {
			return fmt.Errorf("template: %v", e)
		}
		fmt.Println()
	}
	return err
}

func topCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "top CONTAINER [ps OPTIONS]"); err != nil {
		return err
	}
	t, err := eng.ContainerTop(ctx, c.Args().First(), strings.Join(c.Args().Tail(), " "))
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	fmt.Fprintln(w, strings.Join(t.Titles, "\t"))
	for _, p := range t.Processes {
		fmt.Fprintln(w, strings.Join(p, "\t"))
	}
	return w.Flush()
}

// region stats
// statsCmd shows each container's CPU %, memory, network and block I/O and
// PIDs, computed as the docker CLI computes them from the API's samples:
// CPU % is the container's CPU time over the host's between two samples,
// times the CPUs (200% = two CPUs busy); memory is usage minus the
// inactive page cache; block I/O is the bytes read and written on every
// device (the io/blkio controller's counters).
func statsCmd(c *cli.Context) error {
	refs := c.Args().Slice()
	if len(refs) == 0 {
		cs, err := eng.ContainerList(ctx, engine.ListOptions{})
		if err != nil {
			return err
		}
		for _, ct := range cs {
			refs = append(refs, ct.ID)
		}
	}
	for {
		samples := make([]*types.StatsJSON, len(refs))
		for i, ref := range refs {
			if err := eng.ContainerStats(ctx, ref, false, func(s *types.StatsJSON) error { samples[i] = s; return nil }); err != nil {
				return err
			}
		}
		w := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
		if !c.Bool("no-stream") {
			fmt.Fprint(w, "\033[2J\033[H") // clear the screen, as docker stats does
		}
		fmt.Fprintln(w, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tNET I/O\tBLOCK I/O\tPIDS")
		for _, s := range samples {
			cpu := 0.0
			cpuDelta := float64(s.CPUStats.CPUUsage.TotalUsage) - float64(s.PreCPUStats.CPUUsage.TotalUsage)
			sysDelta := float64(s.CPUStats.SystemUsage) - float64(s.PreCPUStats.SystemUsage)
			if sysDelta > 0 && cpuDelta > 0 {
				cpu = cpuDelta / sysDelta * float64(s.CPUStats.OnlineCPUs) * 100
			}
			cache := s.MemoryStats.Stats["inactive_file"] + s.MemoryStats.Stats["total_inactive_file"]
			used := s.MemoryStats.Usage - min(cache, s.MemoryStats.Usage)
			mem := 0.0
			if s.MemoryStats.Limit > 0 {
				mem = float64(used) / float64(s.MemoryStats.Limit) * 100
			}
			var rx, tx, read, written uint64
			for _, n := range s.Networks {
				rx, tx = rx+n.RxBytes, tx+n.TxBytes
			}
			for _, e := range s.BlkioStats.IoServiceBytesRecursive {
				switch strings.ToLower(e.Op) { // v2: read, write; v1: Read, Write (and Sync, Async, Total)
				case "read":
					read += e.Value
				case "write":
					written += e.Value
				}
			}
			fmt.Fprintf(w, "%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%s / %s\t%s / %s\t%d\n", s.ID[:12], strings.TrimPrefix(s.Name, "/"), cpu,
				binSize(used), binSize(s.MemoryStats.Limit), mem, decSize(int64(rx)), decSize(int64(tx)), decSize(int64(read)), decSize(int64(written)),
				s.PidsStats.Current)
		}
		w.Flush()
		if c.Bool("no-stream") {
			return nil
		}
	}
}

// endregion stats

func eventsCmd(c *cli.Context) error {
	return eng.Events(ctx, engine.EventsOptions{Since: c.Int64("since"), Until: c.Int64("until"), Filters: filterFlags(c)}, func(ev types.Event) error {
		attrs := make([]string, 0, len(ev.Actor.Attributes))
		for k, v := range ev.Actor.Attributes {
			attrs = append(attrs, k+"="+v)
		}
		sort.Strings(attrs)
		_, err := fmt.Printf("%s %s %s %s (%s)\n", time.Unix(0, ev.TimeNano).Format("2006-01-02T15:04:05.000000000Z07:00"), ev.Type, ev.Action, ev.Actor.ID, strings.Join(attrs, ", "))
		return err
	})
}

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
	ims, err := eng.ImageList(ctx, engine.ListOptions{All: c.Bool("all")})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	digests := c.Bool("digests")
	if !c.Bool("quiet") {
		fmt.Fprintln(w, "REPOSITORY\tTAG\t"+map[bool]string{true: "DIGEST\t"}[digests]+"IMAGE ID\tCREATED\tSIZE")
	}
	for _, im := range ims {
		id := strings.TrimPrefix(im.ID, "sha256:")[:12]
		if c.Bool("quiet") {
			fmt.Fprintln(w, id)
			continue
		}
		tags := im.RepoTags
		if len(tags) == 0 {
			tags = []string{"<none>:<none>"}
		}
		for _, t := range tags {
			i := strings.LastIndex(t, ":")
			repo, tag := t[:i], t[i+1:]
			if digests { // the digest a registry knows this repository's image by
				d := "<none>"
				for _, rd := range im.RepoDigests {
					if r, dg, _ := strings.Cut(rd, "@"); r == repo {
						d = dg
					}
				}
				tag += "\t" + d
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s ago\t%s\n", repo, tag, id, state.HumanDuration(time.Since(time.Unix(im.Created, 0))), decSize(im.Size))
		}
	}
	return w.Flush()
}

func importCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "import [-c CHANGE] TAR [NAME]"); err != nil {
		return err
	}
	var r io.Reader = os.Stdin
	if p := c.Args().Get(0); p != "-" {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	id, err := eng.ImageImport(ctx, r, c.Args().Get(0), c.Args().Get(1), c.StringSlice("change"))
	if err != nil {
		return err
	}
	fmt.Println(id)
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
	if dir := c.String("oci"); dir != "" {
		if output != "" {
			return errors.New("export: --oci writes a directory, -o a tarball: give one")
		}
		return exportOCI(dir, c.Args().First())
	}
	return writeOutput(output, func(w io.Writer) error { return eng.ContainerExport(ctx, c.Args().First(), w) })
}

// region exportoci
// exportOCI is `export --oci DIR CONTAINER`: the export tarball unpacked
// by the safe extractor into DIR/rootfs (through the engine, so it works
// against a daemon too), and DIR/config.json made from the container's
// inspect (oci.FromContainer). DIR must be new; on an error it goes.
func exportOCI(dir, ref string) (err error) {
	j, err := eng.ContainerInspect(ctx, ref)
	if err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0755); err != nil {
		return fmt.Errorf("export --oci: %v (give a directory that does not exist yet)", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.Mkdir(rootfs, 0755); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(eng.ContainerExport(ctx, ref, pw)) }()
	if _, err := archive.Extract(pr, rootfs, archive.Limits{}); err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("export --oci: %v", err)
	}
	spec, err := oci.FromContainer(j, rootfs)
	if err != nil {
		return err
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "\t")
	enc.SetEscapeHTML(false) // "echo x > /f" stays readable
	if err := enc.Encode(spec); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), []byte(b.String()), 0644)
}

// endregion exportoci

// writeOutput writes to stdout, or to the file path: under a temporary
// name first, renamed when all of it is written, so a failed export or
// save leaves no half tarball that looks whole.
func writeOutput(path string, write func(io.Writer) error) error {
	if path == "" {
		return write(os.Stdout)
	}
	out, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	err = write(out)
	if e := out.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Rename(path+".tmp", path)
	}
	if err != nil {
		os.Remove(path + ".tmp")
	}
	return err
}

// endregion export

func commitCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "commit [-c CHANGE] [-m MESSAGE] CONTAINER [NAME]"); err != nil {
		return err
	}
	id, err := eng.ContainerCommit(ctx, c.Args().Get(0), engine.CommitOptions{Ref: c.Args().Get(1),
		Changes: c.StringSlice("change"), Comment: c.String("message"), Author: c.String("author")})
	if err != nil {
		return err
	}
	fmt.Println(id)
	return nil
}

func rmiCmd(c *cli.Context) error {
	return each(c, "rmi IMAGE...", func(ref string) error {
		items, err := eng.ImageRemove(ctx, ref, c.Bool("force"))
		for _, it := range items {
			if it.Untagged != "" {
				fmt.Println("Untagged: " + it.Untagged)
			}
			if it.Deleted != "" {
				fmt.Println("Deleted: " + it.Deleted)
			}
		}
		return err
	})
}

func tagCmd(c *cli.Context) error {
	if err := needArgs(c, 2, "tag IMAGE NAME[:TAG]"); err != nil {
		return err
	}
	repo, tag := c.Args().Get(1), ""
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo, tag = repo[:i], repo[i+1:]
	}
	return eng.ImageTag(ctx, c.Args().Get(0), repo, tag)
}

func versionCmd(c *cli.Context) error {
	v, err := eng.Version(ctx)
	if err != nil {
		return err
	}
	exec := ""
	if len(v.Components) > 0 {
		exec = v.Components[0].Details["Exec"]
	}
	fmt.Printf("Client: minidocker\n Version:    %s\n\nServer: %s\n Version:    %s\n API version: %s\n Go version: %s\n OS/Arch:    %s/%s\n Kernel:     %s\n Exec:       %s\n",
		Version, v.Platform.Name, v.Version, v.APIVersion, v.GoVersion, v.Os, v.Arch, v.KernelVersion, exec)
	return nil
}

func infoCmd(c *cli.Context) error {
	in, err := eng.Info(ctx)
	if err != nil {
		return err
	}
	bridge := ""
	if len(in.DriverStatus) > 0 {
		bridge = in.DriverStatus[0][1]
	}
	fmt.Printf("Containers: %d\n Running: %d\n Paused: %d\n Stopped: %d\nImages: %d\nServer Version: %s\nStorage Driver: %s\nLogging Driver: %s\nCgroup Version: %s\nDefault Bridge: %s\nKernel Version: %s\nOperating System: %s\nCPUs: %d\nTotal Memory: %s\nMinidocker Root Dir: %s\n",
		in.Containers, in.ContainersRunning, in.ContainersPaused, in.ContainersStopped, in.Images, in.ServerVersion, in.Driver, in.LoggingDriver, in.CgroupVersion,
		bridge, in.KernelVersion, in.OperatingSystem, in.NCPU, binSize(uint64(in.MemTotal)), in.DockerRootDir)
	printSecurityOptions(in.SecurityOptions)
	return nil
}

// portCmd is `port C [PORT[/PROTO]]`: "80/tcp -> 0.0.0.0:8080", or with a
// port only the host side, as `docker port` prints it.
func portCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "port CONTAINER [PRIVATE_PORT[/PROTO]]"); err != nil {
		return err
	}
	j, err := eng.ContainerInspect(ctx, c.Args().First())
	if err != nil {
		return err
	}
	want := c.Args().Get(1)
	if want != "" && !strings.Contains(want, "/") {
		want += "/tcp"
	}
	keys := make([]string, 0, len(j.NetworkSettings.Ports))
	for k := range j.NetworkSettings.Ports {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		pa, _ := strconv.Atoi(strings.Split(keys[a], "/")[0])
		pb, _ := strconv.Atoi(strings.Split(keys[b], "/")[0])
		return pa < pb
	})
	found := false
	for _, k := range keys {
		for _, b := range j.NetworkSettings.Ports[k] {
			switch {
			case want == "":
				fmt.Printf("%s -> %s:%s\n", k, b.HostIP, b.HostPort)
			case want == k:
				fmt.Printf("%s:%s\n", b.HostIP, b.HostPort)
				found = true
			}
		}
	}
	if want != "" && !found {
		return fmt.Errorf("no public port '%s' published for %s", want, strings.TrimPrefix(j.Name, "/"))
	}
	return nil
}
