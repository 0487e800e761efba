//go:build linux

package container

import (
	"context"
	"fmt"
	"strconv"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/events"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/minidocker/build-your-own-docker/final/watch"
	"golang.org/x/sys/unix"
)

// WaitResult is how a waited-for container ended.
type WaitResult struct {
	Code int
	Err  error
}

// region wait
// Wait is `docker wait` and the wait `docker run` makes before it starts
// the container: it returns a channel that gets the exit status once the
// condition holds: "not-running" (now, if it does not run), "next-exit"
// (the next time it exits) or "removed" (when it is gone, --rm). It reads
// the events log (package events) from the place the log ended when Wait
// was called, looking for this container's "die" (its exitCode) and
// "destroy": the cursor is taken before the container is looked at, so an
// exit right after cannot be missed.
func Wait(ctx context.Context, id, condition string) (<-chan WaitResult, error) {
	switch condition {
	case "", "not-running", "next-exit", "removed":
	default:
		return nil, fmt.Errorf("invalid condition %q: use not-running, next-exit or removed", condition)
	}
	from := events.Now()
	c, err := state.Load(id)
	if err != nil {
		return nil, err
	}
	ch := make(chan WaitResult, 1)
	if c = Refresh(c); (condition == "" || condition == "not-running") && !c.Running() {
		ch <- WaitResult{Code: c.State.ExitCode}
		return ch, nil
	}
	go func() {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go reconcileOnExit(ctx, id) // a monitor killed -9 writes no "die": Refresh does
		code := c.State.ExitCode
		err := events.Follow(ctx, from, func(ev types.Event) error {
			if ev.Actor.ID != id {
				return nil
			}
			switch ev.Action {
			case "die":
				code, _ = strconv.Atoi(ev.Actor.Attributes["exitCode"])
				if condition != "removed" {
					return events.ErrStop
				}
			case "destroy":
				return events.ErrStop
			}
			return nil
		})
		ch <- WaitResult{Code: code, Err: err}
	}()
	return ch, nil
}

// endregion wait

// reconcileOnExit follows the container's changes as long as ctx lasts:
// waitChange refreshes the record when its processes exit, so a monitor
// killed -9 (which writes no "die") still ends the wait.
func reconcileOnExit(ctx context.Context, id string) {
	c, err := state.Load(id)
	for err == nil && waitChange(ctx, c) {
		c, err = state.Load(id)
	}
}

// waitPidfd blocks until the process exits or ctx ends (false).
func waitPidfd(ctx context.Context, pid int, start uint64) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return true
	}
	defer unix.Close(fd)
	if !state.Alive(pid, start) {
		return true
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for ctx.Err() == nil { // wakes every 200 ms to notice ctx's end
			if n, _ := unix.Poll(fds, 200); n > 0 {
				return
			}
		}
	}()
	<-done
	return ctx.Err() == nil
}

// waitChange blocks until the container's record changes, or ctx ends, or
// the process that answers for a running container exits: its init, or,
// once init is gone (or between two runs of a restart policy), its
// monitor (the record is then refreshed, which records the end if nobody
// else will). It returns false when the container is gone or ctx ended.
func waitChange(ctx context.Context, c *state.Container) bool {
	w, err := watch.Dir(state.Dir(c.ID))
	if err != nil {
		return false
	}
	defer w.Close()
	if now, err := state.Load(c.ID); err != nil || now.State != c.State {
		return err == nil // it changed before the watch was in place
	}
	exited := make(chan struct{})
	if s := c.State; s.Status == "running" || s.Status == "restarting" {
		pid, start := s.Pid, s.PidStart
		if s.Status == "restarting" || !state.Alive(pid, start) { // between runs only the monitor answers
			pid, start = s.MonitorPid, s.MonStart
		}
		if !state.Alive(pid, start) {
			Refresh(c)
			return true
		}
		go func() {
			if waitPidfd(ctx, pid, start) {
				close(exited)
			}
		}()
	}
	select {
	case <-ctx.Done():
		return false
	case _, ok := <-w.C:
		return ok
	case <-exited:
		Refresh(c)
		return true
	}
}
