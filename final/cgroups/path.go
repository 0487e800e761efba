//go:build linux

package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// region path
// At describes the group at path, below the root of every hierarchy: an
// OCI config's cgroupsPath ("/docker/ID", or a relative "pod/ctr"), where
// minidocker's own containers have minidocker-ID. Nothing is touched.
func At(path string, cpuset bool) *Cgroup { return open(filepath.Clean("/" + path)[1:], cpuset) }

// CreateAt makes the group at path (and its parents) with the limits.
func CreateAt(path string, l Limits) (*Cgroup, error) {
	return create(At(path, l.CpusetCpus != "" || l.CpusetMems != ""), l)
}

// makeParents makes the directories above a group that a nested path
// needs. On v2 each level must hand the controllers down to the next
// (cgroup.subtree_control); a new v1 cpuset group starts with no CPUs
// and no memory nodes, and a child can only have what its parent has.
// They stay when the group goes, as runc leaves /docker.
func makeParents(dir string, l Limits) error {
	base := Mount
	if V2() {
		base = parentDir() // where v2 groups go (a rootless user's delegated group)
	}
	rel, err := filepath.Rel(base, filepath.Dir(dir))
	if err != nil || rel == "." {
		return err
	}
	parts := strings.Split(rel, "/")
	at, hierarchy := base, ""
	if !V2() {
		hierarchy = parts[0]
		at, parts = filepath.Join(Mount, parts[0]), parts[1:] // the hierarchy's root
	}
	for _, p := range parts {
		child := filepath.Join(at, p)
		if err := os.Mkdir(child, 0755); err != nil && !os.IsExist(err) {
			return fmt.Errorf("create cgroup %s: %v", child, err)
		}
		if V2() {
			if err := enableIn(at, l); err != nil {
				return err
			}
		} else if hierarchy == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				if b, _ := os.ReadFile(filepath.Join(child, f)); strings.TrimSpace(string(b)) == "" {
					up, _ := os.ReadFile(filepath.Join(at, f))
					write(filepath.Join(child, f), strings.TrimSpace(string(up)))
				}
			}
		}
		at = child
	}
	if V2() {
		return enableIn(at, l)
	}
	return nil
}

// enableIn hands the controllers a group needs from parent down (v2).
func enableIn(parent string, l Limits) error {
	want := "+memory +pids +cpu"
	if l.CpusetCpus != "" || l.CpusetMems != "" {
		want += " +cpuset"
	}
	ctl := filepath.Join(parent, "cgroup.subtree_control")
	if have, _ := os.ReadFile(ctl); !containsAll(string(have), want) {
		if err := write(ctl, want); err != nil {
			return fmt.Errorf("enable controllers (%s) in %s: %v", want, ctl, err)
		}
	}
	return nil
}

// cpuMax is v2's cpu.max: "QUOTA PERIOD", "max" for no quota.
func cpuMax(quota, period int64) string {
	q := "max"
	if quota > 0 {
		q = strconv.FormatInt(quota, 10)
	}
	if period <= 0 {
		period = 100000
	}
	return q + " " + strconv.FormatInt(period, 10)
}

// endregion path
