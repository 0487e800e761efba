//go:build linux

package container

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// Refresh loads a record and corrects it if its processes died unseen
// (see state.Reconcile), saving the correction under the lock.
func Refresh(c *state.Container) *state.Container {
	if c.State.Status == "exited" || (c.State.Status == "running" && state.Alive(c.State.Pid, c.State.PidStart)) ||
		state.Alive(c.State.MonitorPid, c.State.MonStart) {
		return c
	}
	if r, err := state.Update(c.ID, func(r *state.Container) error {
		if !state.Reconcile(r) {
			return errors.New("unchanged")
		}
		return nil
	}); err == nil {
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

// Detach starts `minidocker monitor ID`: a process of its own session
// (setsid), with no terminal, that starts and waits for the container, so
// the container outlives the CLI. report is its fd 3: it says "ok" or
// "error CODE MSG" once the container runs (or failed to).
func Detach(id string, report *os.File) error {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	cmd := exec.Command("/proc/self/exe", "monitor", id)
	cmd.Args[0] = "minidocker"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{report}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = append(os.Environ(), "MINIDOCKER_ROOT="+state.Root)
	trace("setsid minidocker monitor %s &", id[:12])
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release() // not our child to wait for: init adopts it
}
