//go:build linux

package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/build-your-own-docker/internal/needroot"
	"golang.org/x/sys/unix"
)

// forkSleep clones `sleep 30` with ForkIn, its death signal set as the
// container's init has it, and removes it and the group at the end.
func forkSleep(t *testing.T, cg *Cgroup) (pid int, in bool) {
	t.Helper()
	attr := &syscall.ProcAttr{Sys: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}}
	pid, in, err := cg.ForkIn(attr.Sys, func() (int, error) {
		return syscall.ForkExec("/bin/sleep", []string{"sleep", "30"}, attr)
	})
	if err != nil {
		t.Fatalf("ForkIn: %v", err)
	}
	t.Cleanup(func() {
		unix.Kill(pid, unix.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
	})
	return pid, in
}

// procsOf lists the PIDs in a group directory (cgroup.procs).
func procsOf(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func newGroup(t *testing.T, l Limits) *Cgroup {
	t.Helper()
	cg, err := Create(fmt.Sprintf("%012x%052d", time.Now().UnixNano()&(1<<48-1), 0), l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cg.Destroy(); err != nil {
			t.Error(err)
		}
	})
	return cg
}

// TestForkIn: a child cloned by ForkIn is in the group from its first
// instruction, in every tree (v1) or the one group (v2), with nothing
// moved; none of the test's own threads is left in the group; and the
// child's Pdeathsig did not fire, though it belongs to the thread that
// cloned it (that thread must live on). Then the fallback: on v1, a group
// whose pids.max is 1 refuses a fork from a thread inside it (the thread
// counts), so ForkIn clones outside and says so, and Apply moves the child.
func TestForkIn(t *testing.T) {
	needroot.Require(t)
	cg := newGroup(t, Limits{PidsLimit: 50})
	pid, in := forkSleep(t, cg)
	if !in {
		t.Errorf("ForkIn: the child was not cloned into the group")
	}
	for c, dir := range cg.Dirs {
		if got := procsOf(t, dir); len(got) != 1 || got[0] != strconv.Itoa(pid) {
			t.Errorf("%s: cgroup.procs %v, want only the child %d (no thread of ours)", c, got, pid)
		}
	}
	time.Sleep(100 * time.Millisecond) // a death signal would have come by now
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err != nil || strings.Contains(string(b), ") Z ") {
		t.Fatalf("the child died after ForkIn: %q %v", b, err)
	}
	if b, _ := os.ReadFile("/proc/self/cgroup"); strings.Contains(string(b), cg.Name) {
		t.Errorf("this process is still in the group:\n%s", b)
	}

	one := newGroup(t, Limits{PidsLimit: 1})
	pid, in = forkSleep(t, one)
	if one.V2 {
		if !in {
			t.Errorf("v2: the child was not cloned into the group (CLONE_INTO_CGROUP)")
		}
		return
	}
	if in {
		t.Fatalf("v1, pids.max 1: ForkIn says the child is in the group")
	}
	if err := one.Apply(pid); err != nil {
		t.Fatal(err)
	}
	if got := procsOf(t, one.Dirs["pids"]); len(got) != 1 || got[0] != strconv.Itoa(pid) {
		t.Errorf("after Apply: pids cgroup.procs %v, want %d", got, pid)
	}
}
