//go:build linux

package container

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/sirupsen/logrus"
)

// region monitor
// Monitor is `minidocker monitor ID`, detached from whoever started it (its
// own session, no terminal): what containerd-shim is for Docker and conmon
// for podman. It starts the container, tells its starter on fd 3 that it
// runs, copies its output into the log, keeps its stdin and terminal for
// whoever attaches (the console socket), waits for it, and records the exit
// code, OOM kill and finish time (and with --rm removes it). The daemon
// may be killed and restarted meanwhile: the container, its output and its
// end do not depend on it (live restore).
func Monitor(id string) int {
	report := os.NewFile(3, "report")
	if id == "-" { // a spare, started ahead: the id comes on fd 4 (EOF: not needed after all)
		sc := bufio.NewScanner(os.NewFile(4, "id"))
		if !sc.Scan() {
			return 0
		}
		id = sc.Text()
	}
	c, err := state.Load(id)
	if err != nil {
		fmt.Fprintf(report, "error 125 %v\n", err)
		return 125
	}
	// From the start on, we answer for the container: Start records our
	// PID with the container's (state.State.MonitorPid).
	// Traces go back to the starter, which prints them with --debug.
	logrus.SetOutput(report)
	logrus.SetFormatter(&reportFormatter{})
	logw, err := OpenLog(id)
	if err != nil {
		return fail(report, c, err)
	}
	defer logw.Close()
	var stdio [3]*os.File
	var copying sync.WaitGroup
	con := &console{once: c.Config.StdinOnce}
	null, _ := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	stdio[0] = null
	if c.Config.Tty { // init makes the pty and sends us its master
		stdio = [3]*os.File{null, null, null}
	} else {
		if c.Config.OpenStdin { // -i: a pipe whose other end attachers write to
			r, w, err := os.Pipe()
			if err != nil {
				return fail(report, c, err)
			}
			stdio[0], con.stdin = r, w
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
	l, err := serveConsole(id, con)
	if err != nil {
		return fail(report, c, err)
	}
	defer l.Close()
	p, err := Start(c, stdio)
	for _, f := range stdio {
		f.Close() // the container has them now (null may be there three times)
	}
	if err != nil {
		return fail(report, c, err)
	}
	if p.Pty != nil {
		con.mu.Lock()
		con.pty = p.Pty
		if c.Config.OpenStdin {
			con.stdin = nopCloser{p.Pty}
		}
		con.mu.Unlock()
		copying.Add(1)
		go func() { defer copying.Done(); logw.Copy(p.Pty, "stdout", nil) }()
	}
	fmt.Fprintf(report, "ok %d\n", p.Pid())
	report.Close()
	logrus.SetOutput(os.Stderr)
	code, oom := p.Wait()
	l.Close() // no more attachers
	con.mu.Lock()
	if con.stdin != nil && p.Pty == nil {
		con.stdin.Close()
	}
	con.mu.Unlock()
	copying.Wait() // all output is in the log (the pty's copier reads to EIO)
	if p.Pty != nil {
		p.Pty.Close()
	}
	Finish(p.C, code, oom)
	return code
}

// endregion monitor

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// fail reports a start failure to the starter. The container stays,
// "created" with the failure's exit code and message, as Docker leaves it
// (with --rm it is removed): the starter, not the monitor, decides.
func fail(report *os.File, c *state.Container, err error) int {
	code := 125
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
	}
	fmt.Fprintf(report, "error %d %v\n", code, err)
	Failed(c, code, err)
	return code
}

// reportFormatter sends trace lines to the starter in the status protocol.
type reportFormatter struct{}

func (reportFormatter) Format(e *logrus.Entry) ([]byte, error) {
	if e.Level == logrus.DebugLevel && len(e.Message) > 2 && e.Message[:2] == "+ " {
		return []byte("trace " + e.Message[2:] + "\n"), nil
	}
	return []byte("trace # " + e.Message + "\n"), nil
}
