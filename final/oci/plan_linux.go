//go:build linux

package oci

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/pid1"
	"github.com/minidocker/build-your-own-docker/final/security"
	"golang.org/x/sys/unix"
)

// plan is a config.json turned into what create does: the clone flags,
// the namespaces to join, the cgroup, and the init's spec.
type plan struct {
	clone   uintptr
	join    []joinNS
	mountNS string // a mount namespace to join, by path ("": one of its own)
	userNS  string // a user namespace to join, by path
	cgroup  string // cgroupsPath, below each hierarchy's root
	limits  cgroups.Limits
	init    pid1.OCISpec
	ownPID  bool                   // a PID namespace of its own: its init's death ends every process
	uidMap  []syscall.SysProcIDMap // a user namespace's maps, nil: none
	gidMap  []syscall.SysProcIDMap
	devices []cgroups.DeviceRule // the device fence, nil: none
}

type joinNS struct {
	flag int
	path string
}

var cloneFlags = map[string]uintptr{"pid": unix.CLONE_NEWPID, "network": unix.CLONE_NEWNET, "mount": unix.CLONE_NEWNS,
	"ipc": unix.CLONE_NEWIPC, "uts": unix.CLONE_NEWUTS, "user": unix.CLONE_NEWUSER, "cgroup": unix.CLONE_NEWCGROUP}

func idMaps(ms []IDMapping) []syscall.SysProcIDMap {
	var out []syscall.SysProcIDMap
	for _, m := range ms {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	return out
}

// joins: a namespace of this kind is joined by path.
func joins(join []joinNS, flag int) bool {
	for _, j := range join {
		if j.flag == flag {
			return true
		}
	}
	return false
}

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
		case ns.Type == "mount":
			// setns(2) into it needs a single-threaded process, which a
			// Go program never is: the C constructor of minidocker-nsenter
			// joins it, then becomes the init (see forkInit).
			p.mountNS = ns.Path
		case ns.Type == "user":
			// The same constructor joins it, first: the namespaces made
			// beside it must belong to it, so it unshares them after
			// (runc's nsexec does the same).
			p.userNS = ns.Path
		default:
			p.join = append(p.join, joinNS{int(cloneFlags[ns.Type]), ns.Path})
		}
	}
	if !own["mount"] && p.mountNS == "" {
		return nil, errors.New("config.json: the container needs a mount namespace of its own (pivot_root would change the host's root)")
	}
	switch {
	case p.userNS != "":
		// Its maps are its own already (/proc/PID/uid_map).
		if len(s.Linux.UIDMappings) > 0 || len(s.Linux.GIDMappings) > 0 {
			return nil, errors.New("config.json: uid/gid mappings with a user namespace given by path: that namespace has its maps already")
		}
		p.init.UserNS = true
	case own["user"]:
		// Root inside, the mapped ids outside: clone(2) with
		// CLONE_NEWUSER, and the parent writes /proc/PID/uid_map and
		// gid_map before the init goes on (Go's ForkExec does it).
		if len(s.Linux.UIDMappings) == 0 || len(s.Linux.GIDMappings) == 0 {
			return nil, errors.New("config.json: a user namespace needs linux.uidMappings and linux.gidMappings")
		}
		p.uidMap, p.gidMap = idMaps(s.Linux.UIDMappings), idMaps(s.Linux.GIDMappings)
		p.init.UserNS = true
	case len(s.Linux.UIDMappings) > 0 || len(s.Linux.GIDMappings) > 0:
		return nil, errors.New("config.json: uid/gid mappings need a user namespace of the container's own")
	}
	p.ownPID = own["pid"]
	in := &p.init
	in.CgroupNS = own["cgroup"]
	in.CgroupV2 = cgroups.V2()
	if s.Hostname != "" {
		// In a UTS namespace of its own, or one joined by path (a pod's:
		// the hostname is set there, as runc does); never the host's.
		if !own["uts"] && !joins(p.join, unix.CLONE_NEWUTS) {
			return nil, errors.New("config.json: hostname needs a UTS namespace (a new one, or one given by path), or it would change the host's")
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
	if err := securityPlan(s, p); err != nil {
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
	if pr.User.Username != "" {
		return errors.New("config.json: process.user.username is for Windows containers")
	}
	if pr.ApparmorProfile != "" || pr.SelinuxLabel != "" {
		return errors.New("config.json: AppArmor and SELinux labels: minidocker-runc has no LSM support")
	}
	if in == nil { // exec: Exec applies the rlimits (prlimit on its helper)
		if pr.User.Umask != nil {
			return errNotYet("process.user.umask for an exec'd process")
		}
		return nil
	}
	in.Args, in.Env, in.Cwd, in.Terminal = pr.Args, pr.Env, pr.Cwd, pr.Terminal
	in.UID, in.GID, in.Groups = pr.User.UID, pr.User.GID, append([]uint32{}, pr.User.AdditionalGids...)
	for _, r := range pr.Rlimits {
		in.Rlimits = append(in.Rlimits, pid1.OCIRlimit{Resource: rlimitNames[r.Type], Soft: r.Soft, Hard: r.Hard})
	}
	in.OOMScoreAdj, in.Umask = pr.OOMScoreAdj, pr.User.Umask
	return nil
}

// region refuse
// securityPlan turns the fences into what minidocker's security code
// applies (package security compiles the seccomp profile, pid1's drop
// applies capabilities, no_new_privs and the filter, the cgroups package
// the device rules) and refuses what it cannot.
func securityPlan(s *Spec, p *plan) error {
	priv, err := privileges(s.Process)
	if err != nil {
		return err
	}
	if !isNull(s.Linux.Seccomp) {
		prof, err := security.ParseProfile(s.Linux.Seccomp)
		if err != nil {
			return fmt.Errorf("config.json: linux.seccomp: %v", err)
		}
		var keep []string
		for _, n := range priv.Caps {
			i, _ := strconv.Atoi(n)
			keep = append(keep, security.CapsOf(1<<uint(i))...)
		}
		prog, err := security.Compile(prof, keep, kernelRelease())
		if err != nil {
			return fmt.Errorf("config.json: linux.seccomp: %v", err)
		}
		priv.Seccomp = base64.StdEncoding.EncodeToString(prog.Bytes())
	}
	p.init.Priv = priv
	p.init.MaskedPaths, p.init.ReadonlyPaths = s.Linux.MaskedPaths, s.Linux.ReadonlyPaths
	if s.Linux.MountLabel != "" {
		return errors.New("config.json: linux.mountLabel: minidocker-runc has no SELinux support")
	}
	if !isNull(s.Linux.IntelRdt) || !isNull(s.Linux.Personality) {
		return errNotYet("intelRdt or personality")
	}
	if r := s.Linux.Resources; r != nil && len(r.Devices) > 0 {
		if p.devices, err = deviceRules(r.Devices); err != nil {
			return err
		}
	}
	return nil
}

// endregion refuse

// privileges are a process's capabilities and no_new_privs as the
// security code's drop takes them: the bounding set, the effective and
// permitted sets equal (within it), the inheritable and ambient sets
// equal. Without a capabilities section the process keeps the runtime's
// own.
func privileges(pr *Process) (pid1.Privileges, error) {
	var priv pid1.Privileges
	priv.NoNewPrivs = pr.NoNewPrivileges
	have := ownCaps()
	keep := have["CapPrm"]
	if c := pr.Capabilities; c != nil {
		bnd, eff, prm, inh, amb := capMaskOf(c.Bounding), capMaskOf(c.Effective), capMaskOf(c.Permitted), capMaskOf(c.Inheritable), capMaskOf(c.Ambient)
		// podman gives a user other than root the bounding set alone
		// (effective and permitted empty, or only what --cap-add adds):
		// the bounding set is then a ceiling above the permitted one,
		// which drop applies with capset(2) after PR_CAPBSET_DROP.
		if eff != prm || prm&^bnd != 0 {
			return priv, errNotYet("effective and permitted capability sets that differ, or one beyond the bounding set")
		}
		// drop raises the inheritable set as the ambient one (the kernel
		// raises an ambient capability only if it is inheritable too).
		// For root, an ambient capability that is not inheritable is not
		// raised, as runc only warns that it cannot raise it (runc's
		// default spec has three ambient, no inheritable); for another
		// user the two sets must be equal.
		if amb&^prm != 0 || pr.User.UID != 0 && inh != amb {
			return priv, errNotYet("an ambient capability set other than the inheritable one (or beyond the permitted one)")
		}
		if lacking := bnd &^ have["CapPrm"]; lacking != 0 {
			return priv, fmt.Errorf("config.json asks for capabilities the runtime itself lacks (mask %#x): nobody can give them", lacking)
		}
		keep = bnd
		priv.Inheritable = capNums(inh)
		if prm != bnd {
			priv.Permitted = capNums(prm)
		}
	}
	priv.Caps = capNums(keep)
	return priv, nil
}

func capMaskOf(set []string) uint64 {
	var m uint64
	for _, n := range set {
		if i, ok := capNumber(n); ok {
			m |= 1 << uint(i)
		}
	}
	return m
}

// capNums are a mask's capabilities as drop takes them: numbers.
func capNums(m uint64) []string {
	out := []string{}
	for i := 0; i < 64; i++ {
		if m&(1<<uint(i)) != 0 {
			out = append(out, strconv.Itoa(i))
		}
	}
	return out
}

// ownCaps are this process's capability sets (/proc/self/status).
func ownCaps() map[string]uint64 {
	b, _ := os.ReadFile("/proc/self/status")
	have := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":\t"); ok && strings.HasPrefix(k, "Cap") {
			have[k], _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return have
}

// deviceRules are linux.resources.devices as the device fence takes them:
// everything no rule allows is refused, so the list must deny all first
// (then the default devices are allowed, as runc does, and the rules
// after), or be one rule that allows all.
func deviceRules(rules []DeviceRule) ([]cgroups.DeviceRule, error) {
	all := func(r DeviceRule) bool {
		return (r.Type == "" || r.Type == "a") && r.Major == nil && r.Minor == nil && strings.Count(r.Access, "")-1 >= 3
	}
	if len(rules) == 1 && rules[0].Allow && all(rules[0]) {
		return []cgroups.DeviceRule{{Type: 'a', Major: -1, Minor: -1, Access: "rwm"}}, nil
	}
	if rules[0].Allow || !all(rules[0]) {
		return nil, errNotYet("a device rule list that does not start by denying every device")
	}
	out := security.DefaultDevices()
	for _, r := range rules[1:] {
		d := cgroups.DeviceRule{Type: 'a', Major: -1, Minor: -1, Access: r.Access}
		if r.Type != "" {
			d.Type = r.Type[0]
		}
		if r.Major != nil {
			d.Major = *r.Major
		}
		if r.Minor != nil {
			d.Minor = *r.Minor
		}
		// A deny takes back what an earlier rule allows (dockerd: mknod of
		// every device, then not c 10:229): the last rule that matches wins.
		d.Deny = !r.Allow
		out = append(out, d)
	}
	return out, nil
}

func kernelRelease() string {
	var uts unix.Utsname
	unix.Uname(&uts)
	return unix.ByteSliceToString(uts.Release[:])
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
