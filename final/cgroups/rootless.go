//go:build linux

package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// region delegation
// A rootless user may write a cgroup only where one was delegated to it:
// systemd does so for the user's own manager (user@UID.service, and the
// scopes and services under it: `systemd-run --user --scope -p
// Delegate=yes CMD`), by making the directory and its cgroup.procs,
// cgroup.subtree_control and cgroup.threads the user's. Moving a process
// between two groups needs write access to their nearest common ancestor,
// so the containers' groups are made beside minidocker's own: in the
// parent of the group it runs in, if that parent is the user's (then both
// sit under it). cgroup v1 has no delegation of this kind.
var (
	delegated string // the directory the groups are made in ("" = Mount)
	none      bool   // no cgroup at all (rootless without delegation)
	noneWhy   string
)

// Rootless makes this process's groups in the delegated directory, or
// none at all: it returns why not ("" when delegated).
func Rootless() string {
	delegated, none, noneWhy = "", false, ""
	why := func() string {
		if !V2() {
			return "cgroup v1 (hybrid) cannot be delegated to a user"
		}
		b, _ := os.ReadFile("/proc/self/cgroup")
		own := ""
		for _, l := range strings.Split(string(b), "\n") {
			if p, ok := strings.CutPrefix(l, "0::"); ok {
				own = p
			}
		}
		if own == "" || own == "/" {
			return "this process is in no cgroup v2 group of its own"
		}
		parent := filepath.Join(Mount, filepath.Dir(own))
		var st syscall.Stat_t
		if err := syscall.Stat(parent, &st); err != nil || int(st.Uid) != os.Geteuid() || filepath.Clean(parent) == filepath.Clean(Mount) ||
			unix.Access(filepath.Join(parent, "cgroup.procs"), unix.W_OK) != nil || unix.Access(filepath.Join(parent, "cgroup.subtree_control"), unix.W_OK) != nil {
			return fmt.Sprintf("%s is not delegated to this user", parent)
		}
		delegated = parent
		return ""
	}()
	if why != "" {
		none, noneWhy = true, why
	}
	return why
}

// None tells whether containers get no cgroup at all, and why.
func None() (bool, string) { return none, noneWhy }

// enableDelegated hands the delegated directory's children the
// controllers the limits need, if the delegation has them.
func enableDelegated(l Limits) error {
	var want []string
	for _, c := range []struct {
		name  string
		asked bool
	}{{"memory", l.Memory > 0}, {"pids", l.PidsLimit > 0}, {"cpu", l.NanoCPUs > 0 || l.CPUShares > 0}, {"cpuset", l.CpusetCpus != ""}, {"io", !l.IO.empty()}} {
		if !c.asked {
			continue
		}
		if have, _ := os.ReadFile(filepath.Join(delegated, "cgroup.controllers")); !containsAll(string(have), c.name) {
			return fmt.Errorf("rootless: the cgroup delegated to this user (%s) has no %s controller (systemd delegates memory and pids by default; more with Delegate=%s)", delegated, c.name, c.name)
		}
		want = append(want, "+"+c.name)
	}
	ctl := filepath.Join(delegated, "cgroup.subtree_control")
	if have, _ := os.ReadFile(ctl); len(want) > 0 && !containsAll(string(have), strings.Join(want, " ")) {
		if err := write(ctl, strings.Join(want, " ")); err != nil {
			return fmt.Errorf("enable controllers (%s) in %s: %v", strings.Join(want, " "), ctl, err)
		}
	}
	return nil
}

// Empty: no limit at all is asked for.
func (l Limits) Empty() bool {
	return l.Memory == 0 && l.MemorySwap == 0 && l.NanoCPUs == 0 && l.CPUShares == 0 && l.PidsLimit == 0 && l.CpusetCpus == "" &&
		l.CpusetMems == "" && l.CPUQuota == 0 && l.CPUPeriod == 0 && l.IO.empty()
}

// parentDir is where the v2 groups are made.
func parentDir() string {
	if delegated != "" {
		return delegated
	}
	return Mount
}

// endregion delegation
