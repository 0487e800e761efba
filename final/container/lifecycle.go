//go:build linux

package container

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/events"
	"github.com/minidocker/build-your-own-docker/final/rootless"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Refresh loads a record and corrects it if its processes died unseen
// (see state.Reconcile), saving the correction under the lock.
func Refresh(c *state.Container) *state.Container {
	if c.State.Status == "exited" || (c.State.Status == "running" && state.Alive(c.State.Pid, c.State.PidStart)) ||
		(c.State.Status == "created" && c.State.MonitorPid == 0) || state.Alive(c.State.MonitorPid, c.State.MonStart) {
		return c
	}
	died := true
	if r, err := state.Update(c.ID, func(r *state.Container) error {
		died = r.State.Status != "restarting" // a restarting one said "die" already
		if !state.Reconcile(r) {
			return errors.New("unchanged")
		}
		return nil
	}); err == nil {
		if died {
			attrs := EventAttrs(r)
			attrs["exitCode"] = strconv.Itoa(r.State.ExitCode)
			events.Container("die", r.ID, attrs)
		}
		Release(r)
		return r
	}
	if r, err := state.Load(c.ID); err == nil {
		return r
	}
	return c
}

// region stop
// Stop is docker stop: the stop signal (SIGTERM, or the image's
// STOPSIGNAL, or --stop-signal) to the container's init (which forwards it
// to the command), then SIGKILL if it is still running after timeout. The
// kernel delivers SIGKILL to a PID namespace's init from outside; when
// init dies, every process in the namespace dies with it.
//
// The record says first that a user stopped it: its monitor, which sees
// the exit, must not restart it (a restart policy ends with stop), and
// one waiting out a restart's back-off wakes up and gives up. A paused
// container is thawed after the signal, as Docker does: frozen, it could
// not act on it, and its processes meet the signal first thing.
func Stop(c *state.Container, timeout time.Duration) {
	c = markStopped(c)
	if c.State.Status == "restarting" {
		waitMonitor(c) // between two runs: nothing to signal
		return
	}
	if !state.Alive(c.State.Pid, c.State.PidStart) {
		return
	}
	sig := unix.SIGTERM
	if s, err := SignalName(c.Config.StopSignal); c.Config.StopSignal != "" && err == nil {
		sig = s
	}
	trace("kill -%d %d", sig, c.State.Pid)
	rootless.Kill(c.State.Pid, sig)
	thaw(c)
	if !waitExit(c.State.Pid, c.State.PidStart, timeout) {
		trace("kill -KILL %d  # still running after %s", c.State.Pid, timeout)
		rootless.Kill(c.State.Pid, unix.SIGKILL)
		waitExit(c.State.Pid, c.State.PidStart, 10*time.Second)
	}
	waitMonitor(c)
}

// endregion stop

// Kill sends sig to the container's init; SIGKILL ends the container. A
// signal meant to end it (Docker's rule: SIGKILL, the container's
// --stop-signal, or any signal when it has none) ends its restart policy
// too and thaws it if it is paused.
func Kill(c *state.Container, sig unix.Signal) {
	ends := sig == unix.SIGKILL || c.Config.StopSignal == ""
	if s, err := SignalName(c.Config.StopSignal); err == nil && s == sig {
		ends = true
	}
	if ends {
		c = markStopped(c)
	}
	if c.State.Status == "restarting" {
		if ends {
			waitMonitor(c)
		}
		return
	}
	trace("kill -%d %d", sig, c.State.Pid)
	rootless.Kill(c.State.Pid, sig)
	if ends {
		thaw(c)
	}
	if sig == unix.SIGKILL {
		waitExit(c.State.Pid, c.State.PidStart, 10*time.Second)
		waitMonitor(c)
	}
}

// markStopped records that a user stopped the container (see Stop).
func markStopped(c *state.Container) *state.Container {
	if c.ManuallyStopped {
		return c
	}
	if r, err := state.Update(c.ID, func(r *state.Container) error { r.ManuallyStopped = true; return nil }); err == nil {
		return r
	}
	return c
}

// thaw lets a paused container run again, to act on the signal just sent.
func thaw(c *state.Container) {
	if !c.State.Paused {
		return
	}
	cgroups.Open(c.ID, c.HostConfig.CpusetCpus != "").Thaw()
	state.Update(c.ID, func(r *state.Container) error { r.State.Paused = false; return nil })
}

// WaitMonitor waits (bounded) until the container's monitor has recorded
// its end and released what it held.
func WaitMonitor(c *state.Container) { waitMonitor(c) }

// waitMonitor waits (bounded) until the monitor has recorded the end.
func waitMonitor(c *state.Container) {
	if c.State.MonitorPid != os.Getpid() {
		waitExit(c.State.MonitorPid, c.State.MonStart, 10*time.Second)
	}
}

// waitExit waits until pid (started at start) has exited, up to timeout.
// pidfd_open(2) gives a file descriptor that becomes readable when the
// process exits: no polling, even for a process that is not our child.
func waitExit(pid int, start uint64, timeout time.Duration) bool {
	if !state.Alive(pid, start) {
		return true
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err == nil {
		defer unix.Close(fd)
		if !state.Alive(pid, start) { // the PID was reused before we opened it
			return true
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		deadline := time.Now().Add(timeout)
		for {
			ms := int(time.Until(deadline).Milliseconds())
			if ms < 0 {
				ms = 0
			}
			n, err := unix.Poll(fds, ms)
			if err == unix.EINTR {
				continue
			}
			return n > 0 || !state.Alive(pid, start)
		}
	}
	// Kernels before 5.3: poll the process's existence.
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !state.Alive(pid, start) {
			return true
		}
	}
	return false
}

// region startmonitor
// StartMonitor has `minidocker monitor ID` start the container: a process
// of its own session (setsid), with no terminal, that starts and waits for
// the container, so the container outlives whoever started it (the CLI, or
// the daemon: live restore). Its fd 3 is a pipe back to us: "ok PID" once
// the container runs, or "error CODE MSG". A daemon keeps one monitor
// started ahead, waiting for an id (a spare): a start then costs no exec
// and no Go runtime start (about 5 ms here).
func StartMonitor(id string) error {
	m, err := takeSpare()
	switch {
	case err != nil:
		if m, err = spawnMonitor(id); err != nil {
			return err
		}
	default:
		defer func() { go refillSpare() }() // after this start: not a second process starting beside it
		if _, err := io.WriteString(m.id, id+"\n"); err != nil {
			m.report.Close()
			return fmt.Errorf("the spare monitor went away: %v", err)
		}
	}
	m.id.Close()
	defer m.report.Close()
	trace("setsid minidocker monitor %s &", id[:12])
	sc := bufio.NewScanner(m.report)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "trace "):
			logrus.Debugf("+ %s", line[6:])
		case strings.HasPrefix(line, "ok"):
			return nil
		case strings.HasPrefix(line, "error "):
			f := strings.SplitN(line, " ", 3)
			code, _ := strconv.Atoi(f[1])
			return &ExitError{Code: code, Msg: f[len(f)-1]}
		}
	}
	return errors.New("the monitor died before the container started")
}

// endregion startmonitor

// monitorProc is a started monitor: where to send it the container's id
// (a spare reads it; nil for one started with its id) and its report.
type monitorProc struct {
	id, report *os.File
}

// spawnMonitor starts `minidocker monitor ID` (id "-": a spare, which
// reads the id from its fd 4). We reap it when it ends (a daemon would
// otherwise collect zombies); if we end first, init adopts it.
func spawnMonitor(id string) (*monitorProc, error) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	rr, rw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	ir, iw, err := os.Pipe()
	if err != nil {
		rr.Close()
		rw.Close()
		return nil, err
	}
	cmd := exec.Command("/proc/self/exe", "monitor", id)
	cmd.Args[0] = "minidocker"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{rw, ir} // fd 3: the report; fd 4: the id, for a spare
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = append(os.Environ(), "MINIDOCKER_ROOT="+state.Root)
	err = cmd.Start()
	rw.Close()
	ir.Close()
	if err != nil {
		rr.Close()
		iw.Close()
		return nil, err
	}
	go cmd.Wait()
	return &monitorProc{id: iw, report: rr}, nil
}

// The spare: off until a daemon turns it on (KeepSpare).
var spare struct {
	sync.Mutex
	on   bool
	next *monitorProc
}

// KeepSpare has this process keep one monitor started ahead (the daemon).
// The spare exits by itself when we do (its id pipe ends).
func KeepSpare() {
	spare.Lock()
	spare.on = true
	spare.Unlock()
	go refillSpare()
}

func refillSpare() {
	m, err := spawnMonitor("-")
	if err != nil {
		return
	}
	spare.Lock()
	defer spare.Unlock()
	if spare.next != nil {
		m.id.Close() // another refill won: this one reads EOF and exits
		m.report.Close()
		return
	}
	spare.next = m
}

// takeSpare hands out the spare (StartMonitor starts the next one).
func takeSpare() (*monitorProc, error) {
	spare.Lock()
	defer spare.Unlock()
	if !spare.on || spare.next == nil {
		return nil, errors.New("no spare monitor")
	}
	m := spare.next
	spare.next = nil
	return m, nil
}
