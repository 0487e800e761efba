//go:build linux

package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/watch"
)

// freezeTimeout bounds how long a freeze may take. A task freezes at its
// next return to user space or interruptible sleep; one stuck in
// uninterruptible sleep (D state, e.g. on a hung NFS server) delays the
// whole group.
const freezeTimeout = 5 * time.Second

// region freeze
// Freeze stops every process of the group where it is (docker pause): the
// scheduler no longer runs them, and they do not notice. Writing the file
// only starts the freeze; it is done when the kernel says so, and `pause`
// returns only then.
//
//	v2: echo 1 > cgroup.freeze, then cgroup.events says "frozen 1"
//	    (the kernel notifies a change of cgroup.events: inotify wakes us)
//	v1: echo FROZEN > freezer.state, which reads FREEZING until it is done
//
// Unlike SIGSTOP, which a process's parent sees (wait4 WUNTRACED) and which
// SIGCONT from anyone undoes, the freezer is invisible to the processes and
// only the cgroup file undoes it.
func (cg *Cgroup) Freeze() error {
	if err := cg.setFrozen(true); err != nil {
		return err
	}
	deadline := time.Now().Add(freezeTimeout)
	var changed <-chan struct{}
	if cg.V2 {
		if w, err := watch.Dir(cg.Dirs[""]); err == nil {
			defer w.Close()
			changed = w.C
		}
	}
	for try := 0; !cg.Frozen(); try++ {
		if time.Now().After(deadline) {
			cg.Thaw()
			return fmt.Errorf("the container did not freeze within %s (a process in uninterruptible sleep, D in ps?); thawed it again", freezeTimeout)
		}
		if !cg.V2 && try%100 == 99 {
			cg.setFrozen(true) // v1: asking again gets a stuck freeze going (runc does the same)
		}
		select { // woken by cgroup.events (v2), or look again in a millisecond (v1 has no event)
		case <-changed:
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// Thaw lets the group's processes run again (docker unpause).
//
//	v2: echo 0 > cgroup.freeze      v1: echo THAWED > freezer.state
func (cg *Cgroup) Thaw() error { return cg.setFrozen(false) }

// Frozen tells whether the whole group is frozen, as the kernel says:
// "frozen 1" in cgroup.events (v2), FROZEN in freezer.state (v1).
func (cg *Cgroup) Frozen() bool {
	if len(cg.Dirs) == 0 {
		return false
	}
	if cg.V2 {
		return keyed(filepath.Join(cg.Dirs[""], "cgroup.events"), "frozen") == 1
	}
	b, _ := os.ReadFile(filepath.Join(cg.Dirs["freezer"], "freezer.state"))
	return strings.TrimSpace(string(b)) == "FROZEN"
}

// endregion freeze

func (cg *Cgroup) setFrozen(frozen bool) error {
	if len(cg.Dirs) == 0 {
		return fmt.Errorf("pause needs the container's cgroup (the freezer), and it has none: %s", noneWhy)
	}
	if cg.V2 {
		return write(filepath.Join(cg.Dirs[""], "cgroup.freeze"), map[bool]string{true: "1", false: "0"}[frozen])
	}
	if cg.Dirs["freezer"] == "" {
		return fmt.Errorf("pause needs the freezer cgroup, and this machine mounts none (ls %s)", Mount)
	}
	return write(filepath.Join(cg.Dirs["freezer"], "freezer.state"), map[bool]string{true: "FROZEN", false: "THAWED"}[frozen])
}
