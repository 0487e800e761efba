package state

import (
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "Less than a second", time.Second: "1 second", 3 * time.Second: "3 seconds",
		90 * time.Second: "About a minute", 5 * time.Minute: "5 minutes", 70 * time.Minute: "About an hour", 5 * time.Hour: "5 hours", 72 * time.Hour: "3 days"} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestShortCommand(t *testing.T) {
	if got := ShortCommand([]string{"echo", "hi"}); got != `"echo hi"` {
		t.Errorf("got %s", got)
	}
	if got := ShortCommand([]string{"sh", "-c", "echo ready; read x"}); got != `"sh -c echo ready; r…"` {
		t.Errorf("got %s", got)
	}
}
