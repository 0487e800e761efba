//go:build linux

package container

import (
	"testing"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
)

// TestBackoff: Docker's delays, 100 ms doubled up to a minute, and back to
// 100 ms after a run of 10 s.
func TestBackoff(t *testing.T) {
	var b Backoff
	ms := time.Millisecond
	for i, want := range []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 6400 * ms, 12800 * ms,
		25600 * ms, 51200 * ms, time.Minute, time.Minute} {
		if got := b.Next(time.Second); got != want {
			t.Errorf("restart %d: %s, want %s", i+1, got, want)
		}
	}
	if got := b.Next(10 * time.Second); got != 100*ms {
		t.Errorf("after a run of 10 s: %s, want 100ms again", got)
	}
	if got := b.Next(9 * time.Second); got != 200*ms {
		t.Errorf("after a run of 9 s: %s, want 200ms", got)
	}
}

func TestWantsRestart(t *testing.T) {
	p := func(name string, max int) types.RestartPolicy {
		return types.RestartPolicy{Name: name, MaximumRetryCount: max}
	}
	for _, c := range []struct {
		p                types.RestartPolicy
		code, restarts   int
		stopped, restart bool
	}{
		{p("", 0), 1, 0, false, false},
		{p("no", 0), 1, 0, false, false},
		{p("always", 0), 0, 99, false, true},
		{p("always", 0), 0, 0, true, true}, // the daemon's start brings it back
		{p("unless-stopped", 0), 0, 5, false, true},
		{p("unless-stopped", 0), 0, 0, true, false},
		{p("on-failure", 0), 0, 0, false, false},
		{p("on-failure", 0), 1, 1000, false, true},
		{p("on-failure", 3), 1, 2, false, true},
		{p("on-failure", 3), 1, 3, false, false},
		{p("on-failure", 3), 137, 0, true, true},
	} {
		if got := WantsRestart(c.p, c.code, c.restarts, c.stopped); got != c.restart {
			t.Errorf("%+v, exit %d, %d restarts, stopped %v: %v, want %v", c.p, c.code, c.restarts, c.stopped, got, c.restart)
		}
	}
}
