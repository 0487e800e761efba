//go:build linux

// Package local is the engine that does the work itself, in this process:
// the daemonless `minidocker` CLI, and `minidocker daemon`, which serves it
// as the Docker Engine API. Each method checks what it is asked, then
// calls the packages of chapters 01-08 (container, cgroups, image,
// network, state) and volume. Chapter: docs/09-daemon.md.
package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/events"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/network"
	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// Engine is the local engine.
type Engine struct {
	// Version is minidocker's version, as /version and `version` report it.
	Release string
	// Daemon: the engine serves the API (the daemon), rather than one CLI
	// command: containers it runs are always held by a monitor.
	Daemon bool
	// Insecure lists the registries spoken to without TLS, or with TLS
	// unchecked (--insecure-registry); loopback ones always are.
	Insecure []string

	// UsernsRemap is Docker's daemon option: "default" gives every
	// container a user namespace of its own unless it asks --userns=host
	// (MINIDOCKER_USERNS_REMAP, or the daemon's --userns-remap).
	UsernsRemap string

	mu    sync.Mutex
	execs map[string]*execState // exec instances (exec create, start, inspect)
}

// New returns a local engine.
func New(version string, daemon bool) *Engine {
	return &Engine{Release: version, Daemon: daemon, execs: map[string]*execState{}, UsernsRemap: os.Getenv("MINIDOCKER_USERNS_REMAP")}
}

var _ engine.Engine = (*Engine)(nil)

// findContainer resolves a container reference (a name, "/name", an id or a
// unique prefix), with its state corrected.
func findContainer(ref string) (*state.Container, error) {
	c, err := state.Find(ref)
	if errors.Is(err, state.ErrNotFound) {
		return nil, engine.Errorf(engine.ErrNotFound, "No such container: %s", ref)
	}
	if err != nil {
		return nil, engine.Errorf(engine.ErrInvalid, "%v", err)
	}
	return container.Refresh(c), nil
}

// findImage resolves an image reference, with Docker's "No such image"
// wording (docker-compose relies on it to decide to pull).
func findImage(ref string) (*image.Image, error) {
	im, err := image.Get(ref)
	if errors.Is(err, image.ErrNotFound) || (err != nil && strings.Contains(err.Error(), "unable to find image")) {
		return nil, engine.Errorf(engine.ErrNotFound, "No such image: %s", withTag(ref))
	}
	return im, err
}

// findImageConfig is findImage and the image's config blob.
func findImageConfig(ref string) (*image.Image, *image.Config, error) {
	im, err := findImage(ref)
	if err != nil {
		return nil, nil, err
	}
	c, err := im.Config()
	return im, c, err
}

// withTag adds ":latest" to a name without a tag or digest, as Docker
// prints references.
func withTag(ref string) string {
	if i := strings.LastIndex(ref, "/"); !strings.Contains(ref[i+1:], ":") && !strings.Contains(ref, "@") && !strings.HasPrefix(ref, "sha256:") && len(ref) != 64 {
		return ref + ":latest"
	}
	return ref
}

// invalid is a 400 with a message.
func invalid(format string, a ...any) error { return engine.Errorf(engine.ErrInvalid, format, a...) }

// asEngineError keeps an engine error, and makes any other one a 500
// (an ExitError of the container's start keeps its exit status).
func asEngineError(err error) error {
	if err == nil {
		return nil
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		return err
	}
	var xe *container.ExitError
	if errors.As(err, &xe) {
		return &engine.Error{Kind: errors.New("start failed"), Msg: xe.Msg, Code: xe.Code}
	}
	return err
}

// Version is `minidocker version`'s server part and GET /version.
func (e *Engine) Version(ctx context.Context) (*types.Version, error) {
	v := &types.Version{Version: e.Release, APIVersion: types.APIVersion, MinAPIVersion: types.MinAPIVersion,
		GitCommit: "minidocker", GoVersion: runtime.Version(), Os: runtime.GOOS, Arch: runtime.GOARCH,
		KernelVersion: kernelVersion(), BuildTime: ""}
	v.Platform.Name = "minidocker " + e.Release
	v.Components = []types.ComponentVersion{{Name: "Engine", Version: e.Release, Details: map[string]string{
		"ApiVersion": types.APIVersion, "MinAPIVersion": types.MinAPIVersion, "Os": runtime.GOOS, "Arch": runtime.GOARCH,
		"GoVersion": runtime.Version(), "KernelVersion": kernelVersion(), "Exec": container.ExecHelperName()}}}
	return v, nil
}

func kernelVersion() string {
	var uts unix.Utsname
	unix.Uname(&uts)
	return unix.ByteSliceToString(uts.Release[:])
}

// Info is `minidocker info` and GET /info.
func (e *Engine) Info(ctx context.Context) (*types.Info, error) {
	cs, _ := state.List()
	running, paused := 0, 0
	for _, c := range cs {
		switch c = container.Refresh(c); stateWord(c) {
		case "running", "restarting":
			running++
		case "paused":
			paused++
		}
	}
	ims, _ := image.List()
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	osName := "Linux"
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "PRETTY_NAME=") {
				osName = strings.Trim(l[12:], `"`)
			}
		}
	}
	host, _ := os.Hostname()
	cgv := "1"
	if cgroups.V2() {
		cgv = "2"
	}
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	nw := network.Default()
	in := &types.Info{ID: "minidocker", Name: host, ServerVersion: e.Release, Containers: len(cs),
		ContainersRunning: running, ContainersPaused: paused, ContainersStopped: len(cs) - running - paused, Images: len(ims),
		Driver: "overlay", DriverStatus: [][2]string{{"Default Bridge", nw.Bridge + " " + nw.Subnet.String()}},
		Plugins:     types.PluginsInfo{Volume: []string{"local"}, Network: []string{"bridge", "host", "none"}, Log: []string{"json-file"}},
		MemoryLimit: true, SwapLimit: true, CPUCfsPeriod: true, CPUCfsQuota: true, PidsLimit: true, IPv4Forwarding: true,
		LoggingDriver: "json-file", CgroupDriver: "cgroupfs", CgroupVersion: cgv, KernelVersion: kernelVersion(),
		OperatingSystem: osName, OSType: "linux", Architecture: arch, NCPU: runtime.NumCPU(),
		MemTotal: int64(si.Totalram) * int64(si.Unit), DockerRootDir: state.Root,
		Runtimes: map[string]struct{ Path string }{"minidocker": {Path: "minidocker init"}}, DefaultRuntime: "minidocker",
		LiveRestoreEnabled: true, SecurityOptions: e.securityOptions(), Warnings: []string{}}
	in.Swarm.LocalNodeState = "inactive"
	return in, nil
}

// Events is `events` and GET /events: the log from opts.Since (or from
// now), filtered, followed until ctx ends or opts.Until passes.
func (e *Engine) Events(ctx context.Context, opts engine.EventsOptions, fn func(types.Event) error) error {
	from := events.Now()
	if opts.Since > 0 {
		from = events.Cursor{}
	}
	if opts.Until > 0 { // what happened until then, and no more
		var cancel func()
		ctx, cancel = context.WithDeadline(ctx, time.Unix(opts.Until+1, 0))
		defer cancel()
	}
	f, err := newFilter(opts.Filters, "type", "container", "event", "label", "image", "network", "volume")
	if err != nil {
		return err
	}
	err = events.Follow(ctx, from, func(ev types.Event) error {
		if opts.Since > 0 && ev.Time < opts.Since {
			return nil
		}
		if opts.Until > 0 && ev.Time > opts.Until {
			return events.ErrStop
		}
		name := ev.Actor.Attributes["name"]
		if !f.match("type", ev.Type) || !f.match("event", ev.Action) || !f.matchAny("container", ev.Actor.ID, name) ||
			!f.labels(ev.Actor.Attributes) || !f.match("image", ev.Actor.Attributes["image"]) {
			return nil
		}
		return fn(ev)
	})
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// notImplemented is a 501 for what minidocker does not do.
func notImplemented(what string) error {
	return engine.Errorf(engine.ErrNotSupported, "%s is not supported by minidocker", what)
}

var _ = fmt.Sprint
