//go:build linux

package container

import (
	"errors"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/minidocker/build-your-own-docker/final/watch"
)

// errStopped: a user stopped the container while its restart was on the way.
var errStopped = errors.New("stopped by a user before its restart")

// region restartpolicy
// WantsRestart is Docker's restart policy (--restart): after the container
// exited with code, having been restarted restarts times, does its policy
// start it again? stopped: a user stopped it (stop, kill, rm -f).
//
//	no              never
//	on-failure[:N]  when it failed (code != 0), at most N times (0: no limit)
//	always          whatever the code; a container a user stopped is not
//	                restarted by its monitor, but comes back when the
//	                daemon starts again
//	unless-stopped  the same, except that a container a user stopped
//	                stays stopped when the daemon starts again
//
// The monitor asks it only of containers nobody stopped; the daemon, when it
// starts, asks it of every container that is not running.
func WantsRestart(p types.RestartPolicy, code, restarts int, stopped bool) bool {
	switch p.Name {
	case "always":
		return true
	case "unless-stopped":
		return !stopped
	case "on-failure":
		return code != 0 && (p.MaximumRetryCount == 0 || restarts < p.MaximumRetryCount)
	}
	return false
}

// endregion restartpolicy

// region backoff
// Backoff is Docker's delay before a restart: 100 ms, doubled at each
// restart, at most a minute, and back to 100 ms after a run that lasted
// 10 s. A command that fails at once is not restarted in a busy loop that
// eats a CPU and floods the log; one that ran well for a while, then
// crashed, is back at once.
type Backoff struct{ delay time.Duration }

// Next is the delay before the next start, after a run that lasted ran.
func (b *Backoff) Next(ran time.Duration) time.Duration {
	if ran >= 10*time.Second {
		b.delay = 0
	}
	switch {
	case b.delay == 0:
		b.delay = 100 * time.Millisecond
	case b.delay < time.Minute:
		b.delay *= 2
	}
	b.delay = min(b.delay, time.Minute)
	return b.delay
}

// endregion backoff

// restartAfter decides, once a run ended with code, whether the monitor
// starts the container again, and after how long. The record is read
// again: a user may have stopped the container (the flag is set before the
// signal is sent), or removed it.
func restartAfter(c *state.Container, code int, b *Backoff) (time.Duration, bool) {
	r, err := state.Load(c.ID)
	if err != nil || r.ManuallyStopped || !WantsRestart(r.HostConfig.RestartPolicy, code, r.RestartCount, false) {
		return 0, false
	}
	return b.Next(time.Since(r.State.StartedAt)), true
}

// sleepUnlessStopped waits out the back-off, unless a user stops or removes
// the container meanwhile (false): stop, kill and rm -f write its record,
// and inotify on its directory wakes us (package watch).
func sleepUnlessStopped(id string, d time.Duration) bool {
	w, err := watch.Dir(state.Dir(id))
	if err != nil {
		return false
	}
	defer w.Close()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		if c, err := state.Load(id); err != nil || c.ManuallyStopped {
			return false
		}
		select {
		case <-timer.C:
			return true
		case _, ok := <-w.C:
			if !ok {
				return false // removed
			}
		}
	}
}
