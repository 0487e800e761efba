//go:build linux

package container

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minidocker/build-your-own-docker/final/events"
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
	if r, err := state.Update(c.ID, func(r *state.Container) error {
		if !state.Reconcile(r) {
			return errors.New("unchanged")
		}
		return nil
	}); err == nil {
		attrs := EventAttrs(r)
		attrs["exitCode"] = strconv.Itoa(r.State.ExitCode)
		events.Container("die", r.ID, attrs)
		Release(r)
		return r
	}
	if r, err := state.Load(c.ID); err == nil {
		return r
	}
	return c
}

// region stop
// Stop is docker stop: SIGTERM to the container's init (which forwards it
// to the command), then SIGKILL if it is still running after timeout. The
// kernel delivers SIGKILL to a PID namespace's init from outside; when
// init dies, every process in the namespace dies with it.
func Stop(c *state.Container, timeout time.Duration) {
	if !state.Alive(c.State.Pid, c.State.PidStart) {
		return
	}
	trace("kill -TERM %d", c.State.Pid)
	unix.Kill(c.State.Pid, unix.SIGTERM)
	if !waitExit(c.State.Pid, c.State.PidStart, timeout) {
		trace("kill -KILL %d  # still running after %s", c.State.Pid, timeout)
		unix.Kill(c.State.Pid, unix.SIGKILL)
		waitExit(c.State.Pid, c.State.PidStart, 10*time.Second)
	}
	waitMonitor(c)
}

// endregion stop

// Kill sends sig to the container's init; SIGKILL ends the container.
func Kill(c *state.Container, sig unix.Signal) {
	trace("kill -%d %d", sig, c.State.Pid)
	unix.Kill(c.State.Pid, sig)
	if sig == unix.SIGKILL {
		waitExit(c.State.Pid, c.State.PidStart, 10*time.Second)
		waitMonitor(c)
	}
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
// StartMonitor starts `minidocker monitor ID`: a process of its own session
// (setsid), with no terminal, that starts and waits for the container, so
// the container outlives whoever started it (the CLI, or the daemon: live
// restore). Its fd 3 is a pipe back to us: "ok PID" once the container
// runs, or "error CODE MSG". We reap it when it ends (a daemon would
// otherwise collect zombies); if we end first, init adopts it.
func StartMonitor(id string) error {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command("/proc/self/exe", "monitor", id)
	cmd.Args[0] = "minidocker"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = append(os.Environ(), "MINIDOCKER_ROOT="+state.Root)
	trace("setsid minidocker monitor %s &", id[:12])
	err = cmd.Start()
	w.Close()
	if err != nil {
		return err
	}
	go cmd.Wait()
	sc := bufio.NewScanner(r)
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
