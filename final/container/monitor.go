//go:build linux

package container

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/sirupsen/logrus"
)

// region monitor
// Monitor is `minidocker monitor ID`, detached from the CLI (its own
// session, no terminal): what containerd-shim is for Docker. It starts the
// container, tells the CLI on fd 3 that it runs, copies its output into the
// log, waits for it, and records the exit code, OOM kill and finish time.
func Monitor(id string) int {
	report := os.NewFile(3, "report")
	c, err := state.Load(id)
	if err != nil {
		fmt.Fprintf(report, "error 125 %v\n", err)
		return 125
	}
	mon, _ := state.StartTime(os.Getpid())
	state.Update(id, func(r *state.Container) error { // from now on, we answer for it
		r.State.MonitorPid, r.State.MonStart = os.Getpid(), mon
		return nil
	})
	// Traces go back to the CLI, which prints them with --debug.
	logrus.SetOutput(report)
	logrus.SetFormatter(&reportFormatter{})
	logw, err := OpenLog(id)
	if err != nil {
		return fail(report, c, err)
	}
	defer logw.Close()
	var stdio [3]*os.File
	var copying sync.WaitGroup
	var keep []*os.File // our ends, closed when the container is gone
	null, _ := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	stdio[0] = null
	if c.Config.Tty { // init makes the pty and sends us its master
		stdio = [3]*os.File{null, null, null}
	} else {
		if c.Config.OpenStdin { // -d -i: stdin stays open (nobody writes; `read` blocks)
			r, w, _ := os.Pipe()
			stdio[0], keep = r, append(keep, w)
		}
		for i, stream := range []string{"stdout", "stderr"} {
			r, w, err := os.Pipe()
			if err != nil {
				return fail(report, c, err)
			}
			stdio[i+1] = w
			copying.Add(1)
			go func(r *os.File, stream string) { defer copying.Done(); logw.Copy(r, stream, nil); r.Close() }(r, stream)
		}
	}
	p, err := Start(c, stdio)
	for _, f := range stdio {
		f.Close() // the container has them now
	}
	if err != nil {
		return fail(report, c, err)
	}
	if p.Pty != nil {
		keep = append(keep, p.Pty) // also keeps -i's stdin open
		copying.Add(1)
		go func() { defer copying.Done(); logw.Copy(p.Pty, "stdout", nil) }()
	}
	fmt.Fprintf(report, "ok %d\n", p.Pid())
	report.Close()
	logrus.SetOutput(os.Stderr)
	code, oom := p.Wait()
	for _, f := range keep {
		if c.Config.Tty {
			continue // the master is read until EIO by its copier
		}
		f.Close()
	}
	copying.Wait()
	for _, f := range keep {
		f.Close()
	}
	Finish(p.C, code, oom)
	return code
}

// endregion monitor

// fail reports a start failure to the CLI and removes the container: a
// failed run leaves nothing behind.
func fail(report *os.File, c *state.Container, err error) int {
	code := 125
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
	}
	fmt.Fprintf(report, "error %d %v\n", code, err)
	Remove(c)
	return code
}

// reportFormatter sends trace lines to the CLI in the status protocol.
type reportFormatter struct{}

func (reportFormatter) Format(e *logrus.Entry) ([]byte, error) {
	if e.Level == logrus.DebugLevel && len(e.Message) > 2 && e.Message[:2] == "+ " {
		return []byte("trace " + e.Message[2:] + "\n"), nil
	}
	return []byte("trace # " + e.Message + "\n"), nil
}
