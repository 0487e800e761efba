//go:build linux

package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/pid1"
	"golang.org/x/sys/unix"
)

// plan is a config.json turned into what create does: the clone flags,
// the namespaces to join, the cgroup, and the init's spec.
type plan struct {
	clone  uintptr
	join   []joinNS
	cgroup string // cgroupsPath, below each hierarchy's root
	limits cgroups.Limits
	init   pid1.OCISpec
	ownPID bool // a PID namespace of its own: its init's death ends every process
}

type joinNS struct {
	flag int
	path string
}

var cloneFlags = map[string]uintptr{"pid": unix.CLONE_NEWPID, "network": unix.CLONE_NEWNET, "mount": unix.CLONE_NEWNS,
	"ipc": unix.CLONE_NEWIPC, "uts": unix.CLONE_NEWUTS, "user": unix.CLONE_NEWUSER, "cgroup": unix.CLONE_NEWCGROUP}

// errNotYet says what this runtime does not apply: the container is
// refused, as the spec asks, rather than run without it.
func errNotYet(what string) error {
	return fmt.Errorf("config.json asks for %s, which minidocker-runc does not apply: refusing to run the container without it", what)
}

// region plan
// makePlan checks everything that can be checked before anything is made.
func makePlan(s *Spec, bundle string, g *Global) (*plan, error) {
	p := &plan{}
	own := map[string]bool{}
	for _, ns := range s.Linux.Namespaces {
		switch {
		case ns.Path == "":
			own[ns.Type] = true
			if ns.Type != "cgroup" {
				p.clone |= cloneFlags[ns.Type]
			}
		case ns.Type == "mount" || ns.Type == "user":
			// setns(2) into these needs a single-threaded process, which
			// a Go program never is (runc joins them in C, before its
			// Go runtime starts).
			return nil, fmt.Errorf("config.json: joining an existing %s namespace (%s) is not supported", ns.Type, ns.Path)
		default:
			p.join = append(p.join, joinNS{int(cloneFlags[ns.Type]), ns.Path})
		}
	}
	if !own["mount"] {
		return nil, errors.New("config.json: the container needs a mount namespace of its own (pivot_root would change the host's root)")
	}
	if own["user"] || len(s.Linux.UIDMappings) > 0 || len(s.Linux.GIDMappings) > 0 {
		return nil, errNotYet("a user namespace (uid/gid mappings)")
	}
	p.ownPID = own["pid"]
	in := &p.init
	in.CgroupNS = own["cgroup"]
	in.CgroupV2 = cgroups.V2()
	if s.Hostname != "" {
		if !own["uts"] {
			return nil, errors.New("config.json: hostname needs a UTS namespace of its own")
		}
		h := s.Hostname
		in.Hostname = &h
	}
	root := s.Root.Path
	if !filepath.IsAbs(root) {
		root = filepath.Join(bundle, root)
	}
	root, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("root.path: %v", err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("root.path %s is not a directory", root)
	}
	in.Rootfs, in.Readonly = root, s.Root.Readonly
	if s.Linux.RootfsPropagation != "" {
		in.Propagation = propagations[s.Linux.RootfsPropagation]
	}
	for _, m := range s.Mounts {
		f, _ := MountFlags(m) // checked by Validate
		src := m.Source
		if f.Bind && !filepath.IsAbs(src) {
			src = filepath.Join(bundle, src)
		}
		in.Mounts = append(in.Mounts, pid1.OCIMount{Source: src, Destination: m.Destination, Type: m.Type,
			Flags: f.Flags, Propagation: f.Propagation, Data: f.Data, Bind: f.Bind})
	}
	for _, d := range s.Linux.Devices {
		mode := uint32(0666)
		if d.FileMode != nil {
			mode = *d.FileMode & 07777
		}
		kind := map[string]uint32{"c": unix.S_IFCHR, "u": unix.S_IFCHR, "b": unix.S_IFBLK, "p": unix.S_IFIFO}[d.Type]
		dev := pid1.OCIDevice{Path: d.Path, Mode: kind | mode, Major: uint32(d.Major), Minor: uint32(d.Minor)}
		if d.UID != nil {
			dev.UID = *d.UID
		}
		if d.GID != nil {
			dev.GID = *d.GID
		}
		in.Devices = append(in.Devices, dev)
	}
	for k := range s.Linux.Sysctl {
		if err := sysctlAllowed(k, own); err != nil {
			return nil, err
		}
	}
	in.Sysctl = s.Linux.Sysctl
	if err := processPlan(s.Process, in); err != nil {
		return nil, err
	}
	if err := securityPlan(s); err != nil {
		return nil, err
	}
	if s.Hooks != nil && (len(s.Hooks.CreateContainer) > 0 || len(s.Hooks.StartContainer) > 0) {
		return nil, errNotYet("createContainer or startContainer hooks (hooks run in the container's namespaces)")
	}
	if p.cgroup, err = cgroupPath(s.Linux.CgroupsPath, g); err != nil {
		return nil, err
	}
	if p.limits, err = limits(s.Linux.Resources); err != nil {
		return nil, err
	}
	return p, nil
}

// endregion plan

// processPlan checks a process and, for create, fills the init's spec.
func processPlan(pr *Process, in *pid1.OCISpec) error {
	if pr.User.UID != 0 || pr.User.GID != 0 || pr.User.Umask != nil {
		return errNotYet("a process user other than root (uid, gid, umask)")
	}
	if pr.User.Username != "" {
		return errors.New("config.json: process.user.username is for Windows containers")
	}
	if pr.ApparmorProfile != "" || pr.SelinuxLabel != "" {
		return errors.New("config.json: AppArmor and SELinux labels: minidocker-runc has no LSM support")
	}
	if in == nil { // exec: rlimits and the OOM score are the container's
		if len(pr.Rlimits) > 0 || len(pr.User.AdditionalGids) > 0 && !onlyRoot(pr.User.AdditionalGids) {
			return errNotYet("rlimits or supplementary groups for an exec'd process")
		}
		return nil
	}
	in.Args, in.Env, in.Cwd, in.Terminal = pr.Args, pr.Env, pr.Cwd, pr.Terminal
	// Root's supplementary groups: docker sends root's own, [0].
	in.Groups = []int{}
	for _, g := range pr.User.AdditionalGids {
		in.Groups = append(in.Groups, int(g))
	}
	for _, r := range pr.Rlimits {
		in.Rlimits = append(in.Rlimits, pid1.OCIRlimit{Resource: rlimitNames[r.Type], Soft: r.Soft, Hard: r.Hard})
	}
	in.OOMScoreAdj = pr.OOMScoreAdj
	return nil
}

// region refuse
// securityPlan refuses the fences this build does not apply yet.
func securityPlan(s *Spec) error {
	if err := fencesPlan(s.Process); err != nil {
		return err
	}
	if !isNull(s.Linux.Seccomp) {
		return errNotYet("a seccomp filter")
	}
	if len(s.Linux.MaskedPaths) > 0 || len(s.Linux.ReadonlyPaths) > 0 {
		return errNotYet("maskedPaths or readonlyPaths")
	}
	if s.Linux.MountLabel != "" {
		return errors.New("config.json: linux.mountLabel: minidocker-runc has no SELinux support")
	}
	if !isNull(s.Linux.IntelRdt) || !isNull(s.Linux.Personality) {
		return errNotYet("intelRdt or personality")
	}
	if r := s.Linux.Resources; r != nil && len(r.Devices) > 0 && !allowAll(r.Devices) {
		return errNotYet("a device cgroup rule list")
	}
	return nil
}

// endregion refuse

// onlyRoot: the groups are root's own group alone (what exec's helper,
// running as root, already has).
func onlyRoot(gids []uint32) bool {
	for _, g := range gids {
		if g != 0 {
			return false
		}
	}
	return true
}

// fencesPlan refuses a process's fences this build does not apply yet.
func fencesPlan(p *Process) error {
	if c := p.Capabilities; c != nil {
		ok, lacking, why := allCaps(c)
		if !ok {
			return errNotYet("capability sets other than the runtime's own (" + why + ")")
		}
		if lacking != 0 {
			return fmt.Errorf("config.json asks for capabilities the runtime itself lacks (mask %#x): nobody can give them", lacking)
		}
	}
	if p.NoNewPrivileges {
		return errNotYet("noNewPrivileges")
	}
	return nil
}

// allCaps: nothing to change. The bounding, effective and permitted sets
// hold every capability the runtime's own process has (there is none to
// drop), the inheritable and ambient sets are its own (empty for root).
// A capability asked for that the runtime itself lacks cannot be given
// by anyone (the kernel's rule: capset(2) never adds to the permitted
// set): lacking says which, and create refuses, as runc's capset fails.
func allCaps(c *Capabilities) (ok bool, lacking uint64, why string) {
	b, _ := os.ReadFile("/proc/self/status")
	have := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":\t"); ok && strings.HasPrefix(k, "Cap") {
			have[k], _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	mask := func(set []string) uint64 {
		var m uint64
		for _, n := range set {
			if i, ok := capNumber(n); ok {
				m |= 1 << uint(i)
			}
		}
		return m
	}
	superset := func(set []string, k string) bool {
		m := mask(set)
		lacking |= m &^ have[k]
		if m&have[k] != have[k] {
			why = fmt.Sprintf("%s: %#x asked, the runtime has %#x", k, m, have[k])
			return false
		}
		return true
	}
	same := func(set []string, k string) bool {
		if m := mask(set); m != have[k] {
			why = fmt.Sprintf("%s: %#x asked, the runtime has %#x", k, m, have[k])
			return false
		}
		return true
	}
	ok = len(have) == 5 && superset(c.Bounding, "CapBnd") && superset(c.Effective, "CapEff") &&
		superset(c.Permitted, "CapPrm") && same(c.Inheritable, "CapInh") && same(c.Ambient, "CapAmb")
	return ok, lacking, why
}

// allowAll: the rules end in "allow every device" (Docker's --privileged).
func allowAll(rules []DeviceRule) bool {
	last := rules[len(rules)-1]
	return last.Allow && (last.Type == "" || last.Type == "a") && last.Major == nil && last.Minor == nil &&
		strings.Count(last.Access, "r") > 0 && strings.Contains(last.Access, "w") && strings.Contains(last.Access, "m")
}

// sysctlAllowed: a sysctl only where it is the container's own, never
// one that would change the host.
func sysctlAllowed(k string, own map[string]bool) error {
	ipc := strings.HasPrefix(k, "fs.mqueue.") || k == "kernel.sem" || strings.HasPrefix(k, "kernel.shm") || strings.HasPrefix(k, "kernel.msg")
	switch {
	case ipc && own["ipc"], strings.HasPrefix(k, "net.") && own["network"], (k == "kernel.hostname" || k == "kernel.domainname") && own["uts"]:
		return nil
	case ipc, strings.HasPrefix(k, "net."):
		return fmt.Errorf("config.json: sysctl %s needs a namespace of the container's own (ipc or network): it would change the host's", k)
	}
	return fmt.Errorf("config.json: sysctl %s is not namespaced: it would change the host's", k)
}

// region cgrouppath
// cgroupPath is where the container's group goes. With --systemd-cgroup,
// cgroupsPath is systemd's "slice:prefix:name", the unit
// /slice/prefix-name.scope (we make the directories ourselves; no
// systemd is asked). Without a path: minidocker-runc-ID, set by create.
func cgroupPath(p string, g *Global) (string, error) {
	if g.SystemdCgroup {
		f := strings.Split(p, ":")
		if len(f) != 3 || f[2] == "" {
			return "", fmt.Errorf("config.json: cgroupsPath %q: --systemd-cgroup takes slice:prefix:name", p)
		}
		if f[0] == "" {
			f[0] = "system.slice"
		}
		if !strings.HasSuffix(f[0], ".slice") || strings.Contains(f[0], "/") {
			return "", fmt.Errorf("config.json: cgroupsPath %q: the slice must be NAME.slice", p)
		}
		unit := f[2] + ".scope"
		if f[1] != "" {
			unit = f[1] + "-" + unit
		}
		return filepath.Join(f[0], unit), nil
	}
	if strings.Contains(p, ":") {
		return "", fmt.Errorf("config.json: cgroupsPath %q looks like systemd's slice:prefix:name: run with --systemd-cgroup", p)
	}
	return strings.Trim(filepath.Clean("/"+p), "/"), nil
}

// endregion cgrouppath

// empty: null, or an object or list with nothing set in it (dockerd
// sends "blockIO": {"weight": 0}).
func empty(raw []byte) bool {
	if isNull(raw) {
		return true
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	var zero func(any) bool
	zero = func(v any) bool {
		switch x := v.(type) {
		case nil:
			return true
		case bool:
			return !x
		case float64:
			return x == 0
		case string:
			return x == ""
		case []any:
			for _, e := range x {
				if !zero(e) {
					return false
				}
			}
			return true
		case map[string]any:
			for _, e := range x {
				if !zero(e) {
					return false
				}
			}
			return true
		}
		return false
	}
	return zero(v)
}

// limits turns linux.resources into the cgroup's limits; what it cannot
// write is refused.
func limits(r *Resources) (cgroups.Limits, error) {
	var l cgroups.Limits
	if r == nil {
		return l, nil
	}
	for name, raw := range map[string][]byte{"blockIO": r.BlockIO, "hugepageLimits": r.HugepageLimits, "network": r.Network, "rdma": r.Rdma, "unified": r.Unified} {
		if !empty(raw) {
			return l, errNotYet("linux.resources." + name)
		}
	}
	if m := r.Memory; m != nil {
		if m.Reservation != nil || m.Kernel != nil || m.KernelTCP != nil || m.Swappiness != nil || (m.DisableOOMKiller != nil && *m.DisableOOMKiller) {
			return l, errNotYet("memory reservation, kernel memory, swappiness or disableOOMKiller")
		}
		if m.Limit != nil && *m.Limit > 0 {
			l.Memory = *m.Limit
		}
		if m.Swap != nil {
			if l.Memory == 0 && *m.Swap > 0 {
				return l, errors.New("config.json: memory.swap needs memory.limit")
			}
			l.MemorySwap = *m.Swap
			if !cgroups.V2() {
				if _, err := os.Stat(filepath.Join(cgroups.Mount, "memory", "memory.memsw.limit_in_bytes")); err != nil {
					return l, errors.New("config.json: memory.swap: this kernel does not account swap (no memory.memsw.*; boot with swapaccount=1)")
				}
			}
		}
	}
	if c := r.CPU; c != nil {
		if c.RealtimePeriod != nil || c.RealtimeRuntime != nil {
			return l, errNotYet("realtime CPU time")
		}
		if c.Shares != nil {
			l.CPUShares = int64(*c.Shares)
		}
		if c.Quota != nil {
			l.CPUQuota = *c.Quota
		}
		if c.Period != nil {
			l.CPUPeriod = int64(*c.Period)
		}
		l.CpusetCpus, l.CpusetMems = c.Cpus, c.Mems
		if l.CpusetMems != "" && l.CpusetCpus == "" {
			b, _ := os.ReadFile(filepath.Join(cgroups.Mount, "cpuset", "cpuset.cpus"))
			if cgroups.V2() {
				b, _ = os.ReadFile(filepath.Join(cgroups.Mount, "cpuset.cpus.effective"))
			}
			l.CpusetCpus = strings.TrimSpace(string(b))
		}
	}
	if r.Pids != nil && r.Pids.Limit > 0 {
		l.PidsLimit = r.Pids.Limit
	}
	return l, nil
}
