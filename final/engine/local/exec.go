//go:build linux

package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// execState is one exec instance, kept in memory: created, started once,
// then inspected for its exit code (which is set before its output
// stream is closed: the docker CLI inspects right after the stream ends).
type execState struct {
	mu          sync.Mutex
	id          string
	containerID string
	cfg         types.ExecConfig
	running     bool
	done        bool
	exitCode    int
	pid         int
	pty         *os.File
}

// ExecRun is `minidocker exec`: create, start, exit code.
func (e *Engine) ExecRun(ctx context.Context, ref string, cfg types.ExecConfig, s engine.Streams) (int, error) {
	id, err := e.ExecCreate(ctx, ref, cfg)
	if err != nil {
		return 125, err
	}
	defer e.forgetExec(id)
	if err := e.ExecStart(ctx, id, s); err != nil {
		return engine.ExitCodeOf(err), err
	}
	in, err := e.ExecInspect(ctx, id)
	if err != nil {
		return 125, err
	}
	return in.ExitCode, nil
}

// ExecCreate is POST /containers/{id}/exec.
func (e *Engine) ExecCreate(ctx context.Context, ref string, cfg types.ExecConfig) (string, error) {
	c, err := findContainer(ref)
	if err != nil {
		return "", err
	}
	switch {
	case c.State.Status == "restarting":
		return "", engine.Errorf(engine.ErrConflict, "Container %s is restarting, wait until the container is running", c.ID)
	case !c.Running():
		return "", engine.Errorf(engine.ErrConflict, "container %s is not running", c.ID)
	case c.State.Paused: // its first process would join a frozen cgroup and freeze at once
		return "", engine.Errorf(engine.ErrConflict, "Container %s is paused, unpause the container before exec", c.ID)
	}
	if len(cfg.Cmd) == 0 {
		return "", invalid("No exec command specified")
	}
	id := state.NewID()
	e.mu.Lock()
	e.execs[id] = &execState{id: id, containerID: c.ID, cfg: cfg}
	e.mu.Unlock()
	return id, nil
}

func (e *Engine) exec(id string) (*execState, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.execs[id]
	if x == nil {
		return nil, engine.Errorf(engine.ErrNotFound, "No such exec instance: %s", id)
	}
	return x, nil
}

func (e *Engine) forgetExec(id string) {
	e.mu.Lock()
	delete(e.execs, id)
	e.mu.Unlock()
}

// execIDs are a container's exec instances, for inspect.
func (e *Engine) execIDs(containerID string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []string
	for id, x := range e.execs {
		if x.containerID == containerID {
			ids = append(ids, id)
		}
	}
	return ids
}

// region execstart
// ExecStart is POST /exec/{id}/start: the command runs in the container's
// namespaces and cgroup (container.Exec), its stdio connected to s through
// pipes (or a pty with -t), and ExecStart returns when it has exited and
// its output is written.
func (e *Engine) ExecStart(ctx context.Context, id string, s engine.Streams) error {
	x, err := e.exec(id)
	if err != nil {
		return err
	}
	x.mu.Lock()
	if x.running || x.done {
		x.mu.Unlock()
		return engine.Errorf(engine.ErrConflict, "exec %s has already been started", id[:12])
	}
	x.running = true
	x.mu.Unlock()
	c, err := findContainer(x.containerID)
	if err == nil && !c.Running() {
		err = engine.Errorf(engine.ErrConflict, "container %s is not running", c.ID)
	}
	if err != nil {
		x.finish(126)
		return err
	}
	var copying sync.WaitGroup
	stdio := [3]*os.File{}
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	stdio[0] = null
	var closeAfter []*os.File
	pipeOut := func(w io.Writer) *os.File {
		if w == nil {
			w = io.Discard
		}
		if f, ok := w.(*os.File); ok {
			return f
		}
		r, pw, _ := os.Pipe()
		closeAfter = append(closeAfter, pw)
		copying.Add(1)
		go func() { defer copying.Done(); io.Copy(w, r); r.Close() }()
		return pw
	}
	if !x.cfg.Tty {
		if x.cfg.AttachStdin && s.Stdin != nil {
			if f, ok := s.Stdin.(*os.File); ok {
				stdio[0] = f
			} else {
				r, w, _ := os.Pipe()
				stdio[0] = r
				closeAfter = append(closeAfter, r)
				go func() { io.Copy(w, s.Stdin); w.Close() }()
			}
		}
		stdio[1], stdio[2] = pipeOut(s.Stdout), pipeOut(s.Stderr)
	} else {
		stdio[1], stdio[2] = null, null
	}
	onPty := func(m *os.File) {
		x.mu.Lock()
		x.pty = m
		x.mu.Unlock()
		if cs := x.cfg.ConsoleSize; cs != nil && cs[0] > 0 && cs[1] > 0 { // the client's size, from the start
			unix.IoctlSetWinsize(int(m.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(cs[0]), Col: uint16(cs[1])})
		}
		var in io.Reader
		if x.cfg.AttachStdin {
			in = s.Stdin
		}
		container.Feed(m, in, s.Resize)
		copying.Add(1)
		go func() { defer copying.Done(); io.Copy(s.Stdout, m) }()
	}
	code, err := container.Exec(c, x.cfg.Cmd, x.cfg.Env, x.cfg.WorkingDir, x.cfg.Tty, stdio, onPty, s.Signal, x.cfg.User, x.cfg.Privileged)
	for _, f := range closeAfter {
		f.Close()
	}
	if err != nil {
		x.finish(code)
		copying.Wait()
		return &engine.Error{Kind: engine.ErrInvalid, Msg: err.Error(), Code: code}
	}
	x.finish(code) // before the output ends: see execState
	copying.Wait()
	x.mu.Lock()
	if x.pty != nil {
		x.pty.Close()
	}
	x.mu.Unlock()
	return nil
}

// endregion execstart

func (x *execState) finish(code int) {
	x.mu.Lock()
	x.running, x.done, x.exitCode = false, true, code
	x.mu.Unlock()
}

// ExecResize is POST /exec/{id}/resize.
func (e *Engine) ExecResize(ctx context.Context, id string, height, width uint) error {
	x, err := e.exec(id)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.pty == nil {
		return engine.Errorf(engine.ErrConflict, "exec %s has no terminal (or is not running)", id[:12])
	}
	return unix.IoctlSetWinsize(int(x.pty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(height), Col: uint16(width)})
}

// ExecInspect is GET /exec/{id}/json.
func (e *Engine) ExecInspect(ctx context.Context, id string) (*types.ExecInspect, error) {
	x, err := e.exec(id)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	in := &types.ExecInspect{ID: x.id, ContainerID: x.containerID, Running: x.running, ExitCode: x.exitCode, Pid: x.pid,
		OpenStdin: x.cfg.AttachStdin, OpenStdout: x.cfg.AttachStdout, OpenStderr: x.cfg.AttachStderr}
	in.ProcessConfig.Tty = x.cfg.Tty
	if len(x.cfg.Cmd) > 0 {
		in.ProcessConfig.Entrypoint, in.ProcessConfig.Arguments = x.cfg.Cmd[0], x.cfg.Cmd[1:]
	}
	return in, nil
}

var _ = fmt.Sprint
