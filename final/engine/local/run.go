//go:build linux

package local

import (
	"context"
	"io"
	"os"
	"sync"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// region run
// ContainerRun is `minidocker run`. Detached (-d), or in the daemon, the
// container gets a monitor (ContainerStart); so does one with a restart
// policy, which must outlive this command (engine.StartAttached). In the
// foreground, the daemonless CLI is the container's parent itself, as it
// was before there was a daemon: no monitor to start, and with --rm and no
// terminal the container writes straight to our stdout and stderr, with no
// log and no copying. A run whose start fails leaves nothing behind.
func (e *Engine) ContainerRun(ctx context.Context, name string, req *types.ContainerCreateRequest, s engine.Streams) (string, int, error) {
	c, warnings, err := e.create(name, req, true)
	if err != nil {
		return "", 125, err
	}
	for _, w := range warnings {
		logrus.Warn(w)
	}
	if s.Detach || e.Daemon {
		if err := e.ContainerStart(ctx, c.ID); err != nil {
			container.Remove(c)
			return "", engine.ExitCodeOf(err), err
		}
		if s.Started != nil {
			s.Started(c.ID)
		}
		return c.ID, 0, nil
	}
	if p := c.HostConfig.RestartPolicy.Name; p != "" && p != "no" {
		code, err := engine.StartAttached(ctx, e, c.ID, s, true)
		if r, _ := state.Load(c.ID); err != nil && r != nil && r.State.Status == "created" {
			container.Remove(r) // it never ran
		}
		return c.ID, code, err
	}
	code, err := runForeground(c, s)
	return c.ID, code, err
}

// endregion run

// runForeground starts the container as our child and waits for it. Our
// own files (the CLI's stdin, stdout, stderr) are given to the container
// directly when they are files; other readers and writers get pipes.
func runForeground(c *state.Container, s engine.Streams) (int, error) {
	var stdio [3]*os.File
	var toClose []*os.File
	var copying sync.WaitGroup
	var logw *container.LogWriter
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	stdio = [3]*os.File{null, null, null}
	var err error
	// --rm without -t writes straight to our stdout/stderr: no log.
	if !c.HostConfig.AutoRemove || c.Config.Tty {
		if logw, err = container.OpenLog(c.ID); err != nil {
			container.Remove(c)
			return 125, err
		}
		defer logw.Close()
	}
	var stdinW *os.File
	if c.Config.OpenStdin && !c.Config.Tty && s.Stdin != nil {
		if f, ok := s.Stdin.(*os.File); ok {
			stdio[0] = f
		} else {
			r, w, err := os.Pipe()
			if err != nil {
				container.Remove(c)
				return 125, err
			}
			stdio[0], stdinW = r, w
			toClose = append(toClose, r)
		}
	}
	if !c.Config.Tty {
		for i, out := range []io.Writer{s.Stdout, s.Stderr} {
			if out == nil {
				out = io.Discard
			}
			f, isFile := out.(*os.File)
			if c.HostConfig.AutoRemove && isFile {
				stdio[i+1] = f // --rm: the log would go with the container anyway
				continue
			}
			r, w, err := os.Pipe()
			if err != nil {
				container.Remove(c)
				return 125, err
			}
			stdio[i+1] = w
			toClose = append(toClose, w)
			stream := []string{"stdout", "stderr"}[i]
			copying.Add(1)
			go func(r *os.File, out io.Writer) {
				defer copying.Done()
				if logw != nil {
					logw.Copy(r, stream, out)
				} else {
					io.Copy(out, r)
				}
				r.Close()
			}(r, out)
		}
	}
	// Signals reach the container (docker run's --sig-proxy); the caller
	// registered for them while we created the container.
	p, err := container.Start(c, stdio)
	for _, f := range toClose {
		f.Close() // the container has them now
	}
	if err != nil {
		copying.Wait()
		container.Remove(c)
		return engine.ExitCodeOf(asEngineError(err)), asEngineError(err)
	}
	if stdinW != nil {
		go func() { io.Copy(stdinW, s.Stdin); stdinW.Close() }()
	}
	if s.Started != nil {
		s.Started(c.ID)
	}
	if master := p.Pty; master != nil {
		var in io.Reader
		if c.Config.OpenStdin {
			in = s.Stdin
		}
		container.Feed(master, in, s.Resize)
		copying.Add(1)
		go func() { defer copying.Done(); logw.Copy(master, "stdout", s.Stdout) }()
	}
	// Forwarded through a pidfd, not kill(PID): once we have reaped init, a
	// signal still arriving goes to the ended process (a no-op), never to
	// an unrelated process that got the PID again.
	if s.Signal != nil {
		pidfd, _ := unix.PidfdOpen(p.Pid(), 0)
		go func() {
			for name := range s.Signal {
				if sig, err := container.SignalName(name); err == nil {
					unix.PidfdSendSignal(pidfd, sig, nil, 0)
				}
			}
		}()
	}
	code, oom := p.Wait()
	copying.Wait()
	if p.Pty != nil {
		p.Pty.Close()
	}
	container.Finish(p.C, code, oom)
	return code, nil
}
