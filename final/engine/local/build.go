//go:build linux

package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/archive"
	"github.com/minidocker/build-your-own-docker/final/build"
	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/dockerfile"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/inroot"
	"github.com/minidocker/build-your-own-docker/final/reference"
	"github.com/minidocker/build-your-own-docker/final/registry"
	"github.com/minidocker/build-your-own-docker/final/rootless"
	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// DefaultMaxBuildContext bounds a build context that comes as a tarball
// (POST /build's body, `build -`): bytes of the tarball as sent. A
// stranger's context is unpacked on the daemon's disk; 2 GiB is far above
// a sensible context (one that big wants a .dockerignore).
// MINIDOCKER_MAX_BUILD_CONTEXT (64m, 1g...) sets another bound.
const DefaultMaxBuildContext = 2 << 30

func maxBuildContext() int64 {
	if s := os.Getenv("MINIDOCKER_MAX_BUILD_CONTEXT"); s != "" {
		if n, err := cgroups.ParseBytes(s); err == nil && n > 0 {
			return n
		}
	}
	return DefaultMaxBuildContext
}

// region imagebuild
// ImageBuild is POST /build and `minidocker build`. It checks what it is
// asked (names, network), makes the build's scratch directory in the
// store (removed at the end, whatever happens), unpacks a tarball
// context there with the safe extractor, bounded, and runs the build
// (package build) with the engine's pull and a RUN runner of its own.
func (e *Engine) ImageBuild(ctx context.Context, opts engine.BuildOptions, progress func(types.JSONMessage)) (string, error) {
	var tags []string
	for _, t := range opts.Tags {
		name, err := imageName(t, "")
		if err != nil {
			return "", err
		}
		tags = append(tags, name)
	}
	network := opts.NetworkMode
	if network == "" || network == "default" {
		network = "bridge"
		if rootless.On() { // no bridge to be had: a RUN shares the user's network (apt-get, wget still work)
			network = "host"
		}
	}
	h := types.HostConfig{NetworkMode: network}
	if _, err := checkNetwork(&h, nil); err != nil {
		return "", err
	}
	if strings.HasPrefix(h.NetworkMode, "container:") {
		return "", invalid("build --network %s: a build's containers use bridge, none, host or a network's name", network)
	}
	scratch, done, err := buildScratch()
	if err != nil {
		return "", err
	}
	defer done()
	contextDir := opts.ContextDir
	if opts.Context != nil {
		contextDir = filepath.Join(scratch, "context")
		if err := unpackContext(opts.Context, contextDir); err != nil {
			return "", err
		}
	}
	if contextDir == "" {
		return "", invalid("build: no context")
	}
	text := opts.DockerfileText
	if text == nil {
		if text, err = readDockerfile(contextDir, opts.Dockerfile); err != nil {
			return "", err
		}
	}
	var out io.Writer = streamWriter(progress)
	if opts.Quiet {
		out = io.Discard
	}
	o := build.Options{Context: contextDir, Dockerfile: text, Tags: tags, BuildArgs: opts.BuildArgs, Labels: opts.Labels,
		NoCache: opts.NoCache, Target: opts.Target, Network: h.NetworkMode, Out: out, Scratch: filepath.Join(scratch, "steps"),
		Run: e.buildRun,
		Pull: func(ctx context.Context, ref string) error {
			show := progress
			if opts.Quiet {
				show = func(types.JSONMessage) {}
			}
			auth := authFor(opts.Auth, ref)
			if r, err := reference.Parse(ref); err == nil && auth == nil && !e.Daemon {
				auth = registry.LookupAuth(r.Domain) // the daemonless CLI is the user: their config.json
			}
			return e.ImagePull(ctx, ref, engine.PullOptions{Auth: auth}, show)
		},
		PullAlways: opts.Pull,
		Aux:        func(id string) { progress(types.JSONMessage{Aux: types.Aux(map[string]string{"ID": "sha256:" + id})}) },
	}
	im, err := build.Build(ctx, o)
	if err != nil {
		var xe *build.ExitError
		var de *dockerfile.Error
		switch {
		case errors.As(err, &xe):
			return "", &engine.Error{Kind: errors.New("run failed"), Msg: err.Error(), Code: xe.Code}
		case errors.As(err, &de):
			return "", invalid("%v", err)
		}
		return "", err
	}
	if opts.Quiet {
		progress(types.JSONMessage{Stream: "sha256:" + im.ID + "\n"})
	}
	return "sha256:" + im.ID, nil
}

// endregion imagebuild

// streamWriter turns what the build prints into {"stream": ...} messages.
type streamWriter func(types.JSONMessage)

func (w streamWriter) Write(p []byte) (int, error) {
	w(types.JSONMessage{Stream: string(p)})
	return len(p), nil
}

// buildScratch makes a directory for one build under the store, on the
// filesystem of the layers (an overlayfs upper and work dir must be on one
// filesystem), and locks it: flock(2) on a file in it, held until done.
// Directories of builds that crashed (their lock is free) are removed.
func buildScratch() (string, func(), error) {
	base := filepath.Join(state.Root, "build")
	if err := os.MkdirAll(base, 0700); err != nil {
		return "", nil, err
	}
	ents, _ := os.ReadDir(base)
	for _, ent := range ents {
		if f, err := os.Open(filepath.Join(base, ent.Name(), ".lock")); err == nil {
			if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
				os.RemoveAll(filepath.Join(base, ent.Name()))
			}
			f.Close()
		}
	}
	dir, err := os.MkdirTemp(base, "")
	if err != nil {
		return "", nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0600)
	if err == nil {
		err = unix.Flock(int(lock.Fd()), unix.LOCK_EX)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, func() {
		os.RemoveAll(dir)
		lock.Close()
	}, nil
}

// unpackContext unpacks a context tarball (plain or gzip, as the CLI sends
// it with or without --compress) with the safe extractor, the tarball's
// own size bounded: a stranger's context cannot fill the daemon's disk.
func unpackContext(r io.Reader, dir string) error {
	if err := os.Mkdir(dir, 0700); err != nil {
		return err
	}
	max := maxBuildContext()
	lr := &limited{r: r, left: max}
	if _, err := archive.Extract(lr, dir, archive.Limits{Bytes: max, Entries: 1 << 20}); err != nil {
		if lr.over || errors.Is(err, archive.ErrTooLarge) {
			return invalid("the build context is larger than %d bytes (MINIDOCKER_MAX_BUILD_CONTEXT): leave out what the build does not need with a .dockerignore", max)
		}
		return invalid("the build context: refused: %v", err)
	}
	io.Copy(io.Discard, lr) // the rest of the body: what follows the tarball's end
	if lr.over {
		return invalid("the build context is larger than %d bytes (MINIDOCKER_MAX_BUILD_CONTEXT): leave out what the build does not need with a .dockerignore", max)
	}
	return nil
}

// limited is io.LimitReader that says it cut the stream.
type limited struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		l.over = true
		return 0, errors.New("the build context is too large")
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// readDockerfile reads the Dockerfile from the context, resolved inside
// it (a context's Dockerfile may be a symlink to the daemon's
// /etc/shadow: it leads to the context's own etc/shadow, or nowhere).
func readDockerfile(contextDir, name string) ([]byte, error) {
	if name == "" {
		name = "Dockerfile"
	}
	root, err := unix.Open(contextDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(root)
	fd, err := inroot.Open(root, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY)
	if err != nil {
		return nil, invalid("Cannot locate specified Dockerfile: %s (%v)", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, invalid("the Dockerfile %s is not a regular file", name)
	}
	return io.ReadAll(io.LimitReader(f, dockerfile.MaxDockerfile+1)) // Parse refuses more
}

// authFor picks the credentials for ref's registry from those the CLI sent.
func authFor(auths map[string]types.AuthConfig, ref string) *types.AuthConfig {
	r, err := reference.Parse(ref)
	if err != nil {
		return nil
	}
	want, err := registry.ServerKey(r.Domain)
	if err != nil {
		return nil
	}
	for k, a := range auths {
		if key, err := registry.ServerKey(k); err == nil && key == want && (a.Username != "" || a.Auth != "" || a.IdentityToken != "") {
			a := a
			return &a
		}
	}
	return nil
}

// region buildrun
// buildRun runs one RUN step in a real container, as `run` makes them:
// the stage's image, its ENV plus the build's ARGs, its WORKDIR and
// USER, the build's network; no entrypoint (RUN runs its command, not the
// image's ENTRYPOINT). The container is this process's child, stdout and
// stderr both go to the build's output as they come. After a 0 exit its
// upper directory is committed; then the container is removed (its
// record, layers, cgroup, veth), whatever happened.
func (e *Engine) buildRun(ctx context.Context, r build.RunRequest) (int, error) {
	req := &types.ContainerCreateRequest{
		Config: types.Config{Image: r.Image.ID, Cmd: r.Args, Entrypoint: types.StrSlice{""}, Env: r.Env,
			WorkingDir: r.Cwd, User: r.User, Labels: map[string]string{}},
		// No user namespace of its own, whatever the daemon's default: the
		// step's layer is hashed from the upper directory as the container
		// leaves it, and in a remapped namespace its files would carry the
		// shifted owners (100000 for root).
		HostConfig: &types.HostConfig{NetworkMode: r.Network, AutoRemove: true, UsernsMode: "host"}}
	c, warnings, err := e.create("", req, true)
	if err != nil {
		return 0, err
	}
	for _, w := range warnings {
		fmt.Fprintf(r.Out, " ---> [Warning] %s\n", w)
	}
	defer func() {
		container.Remove(c)
		fmt.Fprintf(r.Out, " ---> Removed intermediate container %s\n", c.ID[:12])
	}()
	fmt.Fprintf(r.Out, " ---> Running in %s\n", c.ID[:12])
	null, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	var copying sync.WaitGroup
	copying.Add(1)
	go func() { defer copying.Done(); io.Copy(r.Out, pr); pr.Close() }()
	p, err := container.Start(c, [3]*os.File{null, pw, pw})
	pw.Close() // the container has it now
	if err != nil {
		copying.Wait()
		return 0, asEngineError(err)
	}
	// A build that is cancelled (the client went away, ^C) kills the
	// step: through a pidfd, never a PID that may be someone else's later.
	stop := make(chan struct{})
	defer close(stop)
	if pidfd, err := unix.PidfdOpen(p.Pid(), 0); err == nil {
		go func() {
			defer unix.Close(pidfd)
			select {
			case <-ctx.Done():
				unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
			case <-stop:
			}
		}()
	}
	code, _ := p.Wait()
	copying.Wait()
	if ctx.Err() != nil {
		return 0, errors.New("build cancelled")
	}
	if code != 0 {
		return code, nil
	}
	return 0, r.Commit(filepath.Join(state.Dir(c.ID), "upper"))
}

// endregion buildrun
