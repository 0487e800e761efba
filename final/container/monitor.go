//go:build linux

package container

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

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
//
// It is also what restarts the container (--restart): it is the one
// process that sees the exit (wait4), whoever started the container and
// whether or not anyone is attached. The container cannot restart itself:
// when its PID 1 exits, the kernel kills everything in its PID namespace,
// and nothing of it is left to start the command again.
func Monitor(id string) int {
	report := os.NewFile(3, "report")
	if id == "-" { // a spare, started ahead: the id comes on fd 4 (EOF: not needed after all)
		state.Warm()
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
	con := &console{once: c.Config.StdinOnce}
	l, err := serveConsole(id, con)
	if err != nil {
		return fail(report, c, err)
	}
	defer l.Close()
	r, err := con.start(c, logw)
	if err != nil {
		return fail(report, c, err)
	}
	fmt.Fprintf(report, "ok %d\n", r.p.Pid())
	report.Close()
	logrus.SetOutput(os.Stderr)
	var backoff Backoff
	for {
		code, oom := con.wait(r)
		delay, again := restartAfter(r.p.C, code, &backoff)
		if !again {
			l.Close() // no more attachers
			Finish(r.p.C, code, oom)
			return code
		}
		at := time.Now().Add(delay) // from the exit on: the teardown below is part of the wait
		end(r.p.C, code, oom, "restarting")
		if !sleepUnlessStopped(id, time.Until(at)) {
			state.Update(id, func(c *state.Container) error { c.State.Status = "exited"; return nil })
			return code
		}
		if c, err = state.Load(id); err == nil {
			r, err = con.start(c, logw)
		}
		if err != nil { // Docker leaves it exited, with the reason
			state.Update(id, func(c *state.Container) error {
				c.State.Status = "exited"
				if !errors.Is(err, errStopped) {
					c.State.Error = err.Error()
				}
				return nil
			})
			return code
		}
	}
}

// endregion monitor

// run is one run of the container under its monitor: the process, and
// the copiers of its output into the log.
type run struct {
	p       *Process
	copying sync.WaitGroup
}

// start starts one run: fresh pipes for its stdio (or the pty that init
// makes), copied into the log; the console's stdin and pty are this run's.
func (con *console) start(c *state.Container, logw *LogWriter) (*run, error) {
	r := &run{}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	stdio := [3]*os.File{null, null, null}
	defer func() {
		for _, f := range stdio {
			f.Close() // the container has them now (null may be there three times)
		}
	}()
	if !c.Config.Tty {
		if c.Config.OpenStdin { // -i: a pipe whose other end attachers write to
			rd, w, err := os.Pipe()
			if err != nil {
				return nil, err
			}
			stdio[0] = rd
			con.mu.Lock()
			con.stdin = w
			con.mu.Unlock()
		}
		for i, stream := range []string{"stdout", "stderr"} {
			rd, w, err := os.Pipe()
			if err != nil {
				return nil, err
			}
			stdio[i+1] = w
			r.copying.Add(1)
			go func(rd *os.File, stream string) { defer r.copying.Done(); logw.Copy(rd, stream, nil); rd.Close() }(rd, stream)
		}
	}
	p, err := Start(c, stdio)
	if err != nil {
		return nil, err
	}
	r.p = p
	if p.Pty != nil { // with -t, init made the pty and sent us its master
		con.mu.Lock()
		con.pty = p.Pty
		if c.Config.OpenStdin {
			con.stdin = nopCloser{p.Pty}
		}
		con.mu.Unlock()
		r.copying.Add(1)
		go func() { defer r.copying.Done(); logw.Copy(p.Pty, "stdout", nil) }()
	}
	return r, nil
}

// wait waits for the run to end and for all of its output to be in the
// log (the pty's copier reads to EIO).
func (con *console) wait(r *run) (code int, oom bool) {
	code, oom = r.p.Wait()
	con.mu.Lock()
	if con.stdin != nil && r.p.Pty == nil {
		con.stdin.Close()
	}
	con.stdin, con.pty = nil, nil
	con.mu.Unlock()
	r.copying.Wait()
	if r.p.Pty != nil {
		r.p.Pty.Close()
	}
	return code, oom
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// fail reports a start failure to the starter. The container stays,
// "created" with the failure's exit code and message, as Docker leaves it
// (with --rm it is removed): the starter, not the monitor, decides. The
// record is written first: a starter that removes the container (run -d)
// must not be overtaken by this last write, which would leave a record
// behind in a directory that rm had already emptied.
func fail(report *os.File, c *state.Container, err error) int {
	code := 125
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
	}
	Failed(c, code, err)
	fmt.Fprintf(report, "error %d %v\n", code, err)
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
