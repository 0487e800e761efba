//go:build linux

// cgroups.go is step04's new mechanism: a control group (控制组) per container,
// on cgroup v2 or v1, with Docker's flags. main.go calls createCgroup, join,
// oomKills and remove; everything else is here, in the order it happens.
//
// A cgroup is a directory in a special filesystem. Making the directory makes
// the group; its files are the knobs (memory.max) and the counters
// (memory.events); writing a PID into cgroup.procs moves that process in.
// No syscall but mkdir, open, write, read and rmdir.

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where the cgroup filesystems are mounted (a variable so the
// unit tests can point it at a temporary directory).
var cgroupRoot = "/sys/fs/cgroup"

// parentGroup holds every container's group: minidocker/<id>, never one
// group shared by all containers (then one container's limit would be all of
// them together).
const parentGroup = "minidocker"

// cpuPeriod is Docker's CFS period, 100 ms: --cpus 0.5 means 50 ms of CPU
// time in every 100 ms.
const cpuPeriod = 100000

// region limits
// limits are Docker's resource flags in the kernel's units; 0 means "not set".
type limits struct {
	memory     int64  // -m: bytes
	memorySwap int64  // --memory-swap: memory + swap, bytes; -1: unlimited swap
	cpuQuota   int64  // --cpus × cpuPeriod: µs of CPU time per period
	cpuShares  int64  // --cpu-shares: relative weight, 2 to 262144
	pids       int64  // --pids-limit: tasks (processes and threads); -1: unlimited
	cpusetCpus string // --cpuset-cpus: a CPU list such as 0-1,3
}

// endregion limits

// parseLimits checks the flags the way Docker does and converts them.
func parseLimits(c config) (limits, error) {
	var l limits
	var err error
	if c.memory != "" {
		if l.memory, err = parseSize(c.memory); err != nil {
			return l, fmt.Errorf("invalid -m/--memory %q: %v", c.memory, err)
		}
		if l.memory < 6<<20 { // below this the container cannot even start
			return l, fmt.Errorf("-m/--memory %s is too small: the minimum is 6m", c.memory)
		}
	}
	switch {
	case c.memorySwap == "":
	case c.memory == "":
		return l, fmt.Errorf("--memory-swap %s needs -m/--memory too: it is the total of memory and swap", c.memorySwap)
	case c.memorySwap == "-1":
		l.memorySwap = -1
	default:
		if l.memorySwap, err = parseSize(c.memorySwap); err != nil {
			return l, fmt.Errorf("invalid --memory-swap %q: %v, or -1 for unlimited swap", c.memorySwap, err)
		}
		if l.memorySwap < l.memory {
			return l, fmt.Errorf("--memory-swap %s is below -m %s: it is memory+swap, so at least -m (equal to -m: no swap)", c.memorySwap, c.memory)
		}
	}
	if c.cpus != "" {
		n := runtime.NumCPU()
		f, err := strconv.ParseFloat(c.cpus, 64)
		if err != nil || !(f >= 0.01 && f <= float64(n)) { // !(...) also rejects NaN
			return l, fmt.Errorf("invalid --cpus %q: a number from 0.01 to %d (this machine's CPUs)", c.cpus, n)
		}
		l.cpuQuota = int64(math.Round(f * cpuPeriod))
	}
	if c.cpuShares != "" {
		if l.cpuShares, err = strconv.ParseInt(c.cpuShares, 10, 64); err != nil || l.cpuShares < 2 || l.cpuShares > 262144 {
			return l, fmt.Errorf("invalid --cpu-shares %q: a whole number from 2 to 262144 (default 1024)", c.cpuShares)
		}
	}
	if c.pidsLimit != "" {
		if l.pids, err = strconv.ParseInt(c.pidsLimit, 10, 64); err != nil || l.pids == 0 || l.pids < -1 {
			return l, fmt.Errorf("invalid --pids-limit %q: a positive number, or -1 for unlimited", c.pidsLimit)
		}
	}
	if c.cpusetCpus != "" {
		want, err := cpuList(c.cpusetCpus)
		online, _ := os.ReadFile("/sys/devices/system/cpu/online")
		have, _ := cpuList(strings.TrimSpace(string(online)))
		for _, cpu := range want {
			if err == nil && !slices.Contains(have, cpu) {
				err = fmt.Errorf("CPU %d does not exist (online: %s)", cpu, strings.TrimSpace(string(online)))
			}
		}
		if err != nil {
			return l, fmt.Errorf("invalid --cpuset-cpus %q: %v", c.cpusetCpus, err)
		}
		l.cpusetCpus = c.cpusetCpus
	}
	return l, nil
}

var sizeRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(b|[kmg]b?)?$`)

// parseSize reads Docker's sizes: a number and a unit b, k, m or g (powers of
// 1024; kb, mb, gb too), e.g. 64m = 67108864 bytes.
func parseSize(s string) (int64, error) {
	m := sizeRe.FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return 0, errors.New("a size is a number with a unit b, k, m or g, e.g. 64m")
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	unit := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[strings.TrimSuffix(m[2], "b")]
	return int64(f * unit), nil
}

// cpuList expands a kernel CPU list ("0-2,5") into CPU numbers.
func cpuList(s string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 0 || b < a {
			return nil, errors.New("a CPU list is like 0, 0-1 or 0,2-3")
		}
		for cpu := a; cpu <= b; cpu++ {
			cpus = append(cpus, cpu)
		}
	}
	return cpus, nil
}

// region detect
// layout tells how this machine mounts cgroups. statfs(2) says which
// filesystem is at /sys/fs/cgroup (`stat -fc %T /sys/fs/cgroup`):
//   - cgroup2fs: v2, one unified tree with every controller (Ubuntu 22.04+);
//   - tmpfs: v1, one tree per controller at /sys/fs/cgroup/<controller>; if
//     /sys/fs/cgroup/unified is cgroup2fs, it is "hybrid": controllers on v1,
//     a v2 tree with no controllers (systemd uses it to track services).
func layout() (v2 bool, desc string) {
	if isCgroup2(cgroupRoot) {
		return true, "v2 (one unified tree)"
	}
	if isCgroup2(filepath.Join(cgroupRoot, "unified")) {
		return false, "hybrid (v1 controllers, empty v2 at " + cgroupRoot + "/unified): using v1"
	}
	return false, "v1 (one tree per controller)"
}

func isCgroup2(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// controllers are those the limits need, by their v1 names (on v2, cpu also
// does cpuacct's accounting). cpuset only when asked: see prepareParent.
func controllers(l limits, v2 bool) []string {
	ctrls := []string{"memory", "cpu", "pids"}
	if !v2 {
		ctrls = append(ctrls, "cpuacct")
	}
	if l.cpusetCpus != "" {
		ctrls = append(ctrls, "cpuset")
	}
	return ctrls
}

// endregion detect

// checkControllers is the preflight: each needed controller is there.
func checkControllers(l limits) error {
	v2, _ := layout()
	if v2 {
		have, _ := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers"))
		for _, ctrl := range controllers(l, true) {
			if !slices.Contains(strings.Fields(string(have)), ctrl) {
				return fmt.Errorf("the cgroup v2 controller %q is missing from %s/cgroup.controllers (%q): use a kernel with it, and check that no parent group withholds it", ctrl, cgroupRoot, strings.TrimSpace(string(have)))
			}
		}
		return nil
	}
	for _, ctrl := range controllers(l, false) {
		if _, err := os.Stat(filepath.Join(cgroupRoot, ctrl, "cgroup.procs")); err != nil {
			return fmt.Errorf("the cgroup v1 controller %s is not mounted: mkdir -p %s/%s && mount -t cgroup -o %s cgroup %s/%s", ctrl, cgroupRoot, ctrl, ctrl, cgroupRoot, ctrl)
		}
	}
	return nil
}

// cgroup is one container's group: one directory on v2; on v1 one directory
// in each controller's tree, all named minidocker/<id>.
type cgroup struct {
	c    config
	v2   bool
	dirs map[string]string // controller -> the group's directory
	made []string          // the directories we created, each once
}

// region create
// createCgroup makes the container's group and writes its limits, before any
// process is in it. On error it removes what it made.
func createCgroup(c config, id string) (*cgroup, error) {
	v2, desc := layout()
	c.trace("stat -fc %%T %s  # cgroup layout: %s", cgroupRoot, desc)
	cg := &cgroup{c: c, v2: v2, dirs: map[string]string{}}
	ctrls := controllers(c.limits, v2)
	err := cg.mkdirs(ctrls, id)
	if errors.Is(err, fs.ErrNotExist) {
		err = cg.mkdirs(ctrls, id) // another run removed minidocker/ between our two mkdirs
	}
	if err == nil {
		swapFile := map[bool]string{false: "memory.memsw.limit_in_bytes", true: "memory.swap.max"}[v2]
		_, noSwap := os.Stat(filepath.Join(cg.dirs["memory"], swapFile))
		if noSwap != nil && c.memorySwap != "" {
			fmt.Fprintf(os.Stderr, "%s: warning: this kernel does not account swap (no %s): --memory-swap cannot be enforced (boot with swapaccount=1)\n", name, swapFile)
		}
		err = cg.apply(plan(c.limits, v2, noSwap == nil, cg.parentMems()))
	}
	if err != nil {
		cg.remove()
		return nil, err
	}
	return cg, nil
}

// mkdirs makes minidocker/<id> in each tree the controllers live in.
func (cg *cgroup) mkdirs(ctrls []string, id string) error {
	for _, ctrl := range ctrls {
		tree := cgroupRoot
		if !cg.v2 { // some systems mount cpu and cpuacct as one tree: cpu -> cpu,cpuacct
			tree, _ = filepath.EvalSymlinks(filepath.Join(cgroupRoot, ctrl))
		}
		cg.dirs[ctrl] = filepath.Join(tree, parentGroup, id)
		if slices.Contains(cg.made, cg.dirs[ctrl]) {
			continue // v2, or a v1 tree shared by two controllers
		}
		if err := cg.prepareParent(tree, ctrl, ctrls); err != nil {
			return err
		}
		cg.c.trace("mkdir %s", cg.dirs[ctrl])
		if err := os.Mkdir(cg.dirs[ctrl], 0755); err != nil {
			return fmt.Errorf("create the container's cgroup: %v", err)
		}
		cg.made = append(cg.made, cg.dirs[ctrl])
	}
	return nil
}

// prepareParent makes minidocker/ in a tree, ready to hold containers' groups.
func (cg *cgroup) prepareParent(tree, ctrl string, ctrls []string) error {
	parent := filepath.Join(tree, parentGroup)
	enable := "+" + strings.Join(ctrls, " +")
	// v2: a group can use only the controllers its parent enables in
	// cgroup.subtree_control, and a group that enables them for its children
	// may hold no process itself (the "no internal processes" rule). So
	// minidocker/ stays empty and each container is a leaf: minidocker/<id>.
	if cg.v2 {
		if err := cg.write(filepath.Join(tree, "cgroup.subtree_control"), enable); err != nil {
			return err
		}
	}
	cg.c.trace("mkdir -p %s", parent)
	if err := os.Mkdir(parent, 0755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %v", parent, err)
	}
	if cg.v2 {
		return cg.write(filepath.Join(parent, "cgroup.subtree_control"), enable)
	}
	// v1 cpuset: a new group has no CPUs and no memory nodes, and joining it
	// fails with ENOSPC. Copy the tree's own, as runc does.
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		if ctrl == "cpuset" && readTrim(filepath.Join(parent, f)) == "" {
			if err := cg.write(filepath.Join(parent, f), readTrim(filepath.Join(tree, f))); err != nil {
				return err
			}
		}
	}
	return nil
}

// parentMems is the memory nodes minidocker/ may use, for cpuset.mems.
func (cg *cgroup) parentMems() string {
	if cg.c.limits.cpusetCpus == "" {
		return ""
	}
	file := map[bool]string{false: "cpuset.mems", true: "cpuset.mems.effective"}[cg.v2]
	return readTrim(filepath.Join(filepath.Dir(cg.dirs["cpuset"]), file))
}

// endregion create

// region plan
// setting is one write: value into file, in the group of controller ctrl.
type setting struct{ ctrl, file, value string }

// plan turns the limits into cgroup file writes. v1 and v2 name the files
// and units differently; the meaning stays Docker's. swap: the kernel
// accounts swap. mems: the memory nodes for cpuset.mems.
func plan(l limits, v2, swap bool, mems string) []setting {
	var s []setting
	add := func(ctrl, file string, value any) { s = append(s, setting{ctrl, file, fmt.Sprint(value)}) }
	total := l.memorySwap // memory + swap, Docker's meaning
	if total == 0 {
		total = 2 * l.memory // Docker's default: as much swap as memory
	}
	pids := fmt.Sprint(l.pids)
	if l.pids == -1 {
		pids = "max"
	}
	if v2 {
		if l.memory > 0 {
			add("memory", "memory.max", l.memory)
			if swap && total == -1 {
				add("memory", "memory.swap.max", "max")
			} else if swap {
				add("memory", "memory.swap.max", total-l.memory) // v2 counts swap alone
			}
		}
		if l.cpuQuota > 0 {
			add("cpu", "cpu.max", fmt.Sprintf("%d %d", l.cpuQuota, cpuPeriod))
		}
		if l.cpuShares > 0 { // runc's conversion of shares (2..262144) to weight (1..10000)
			add("cpu", "cpu.weight", 1+((l.cpuShares-2)*9999)/262142)
		}
		if l.pids != 0 {
			add("pids", "pids.max", pids)
		}
	} else {
		if l.memory > 0 {
			add("memory", "memory.limit_in_bytes", l.memory)
			if swap { // after limit_in_bytes: the kernel wants memsw >= memory at all times
				add("memory", "memory.memsw.limit_in_bytes", total)
			}
		}
		if l.cpuQuota > 0 {
			add("cpu", "cpu.cfs_period_us", cpuPeriod)
			add("cpu", "cpu.cfs_quota_us", l.cpuQuota)
		}
		if l.cpuShares > 0 {
			add("cpu", "cpu.shares", l.cpuShares)
		}
		if l.pids != 0 {
			add("pids", "pids.max", pids)
		}
	}
	if l.cpusetCpus != "" { // the same files on v1 and v2; an empty cpuset.mems fails with ENOSPC on v1
		add("cpuset", "cpuset.cpus", l.cpusetCpus)
		add("cpuset", "cpuset.mems", mems)
	}
	return s
}

// endregion plan

// apply writes the plan into the group's files.
func (cg *cgroup) apply(plan []setting) error {
	for _, s := range plan {
		if err := cg.write(filepath.Join(cg.dirs[s.ctrl], s.file), s.value); err != nil {
			return err
		}
	}
	return nil
}

// write is `echo VALUE > FILE`. Every write is checked: the kernel refuses a
// value it cannot apply (EINVAL, ENOSPC), and a limit that silently did not
// take is worse than an error.
func (cg *cgroup) write(file, value string) error {
	cg.c.trace("echo %s > %s", value, file)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0) // never creates: a missing file is a missing feature
	if err == nil {
		_, err = f.WriteString(value)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if err != nil {
		return fmt.Errorf("cgroup: echo %s > %s: %v", value, file, err)
	}
	return nil
}

// join moves pid into the group, `echo PID > cgroup.procs` in each tree.
// Its future children start there too. Memory it used before stays charged
// to its old group: one more reason to join before the command runs.
func (cg *cgroup) join(pid int) error {
	for _, dir := range cg.made {
		if err := cg.write(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// region oom
// oomKills reads the kernel's own count of OOM kills in the group and the
// peak memory use (v2: memory.events and memory.peak; v1: memory.oom_control
// and memory.max_usage_in_bytes). Guessing from exit status 137 would blame
// the OOM killer for every `kill -9`.
func (cg *cgroup) oomKills() (kills, peak int64) {
	dir := cg.dirs["memory"]
	if cg.v2 {
		return readKey(filepath.Join(dir, "memory.events"), "oom_kill"), readInt(filepath.Join(dir, "memory.peak"))
	}
	return readKey(filepath.Join(dir, "memory.oom_control"), "oom_kill"), readInt(filepath.Join(dir, "memory.max_usage_in_bytes"))
}

// endregion oom

func (cg *cgroup) oomFile() string {
	return map[bool]string{false: "memory.oom_control", true: "memory.events"}[cg.v2]
}

// traceCounters shows, with -v, what the kernel counted while the command ran.
func (cg *cgroup) traceCounters() {
	counters := [][3]string{{"cpuacct", "cpuacct.usage", ""}, {"cpu", "cpu.stat", "nr_throttled"},
		{"memory", "memory.max_usage_in_bytes", ""}, {"memory", "memory.oom_control", "oom_kill"}, {"pids", "pids.events", "max"}}
	if cg.v2 {
		counters = [][3]string{{"cpu", "cpu.stat", "usage_usec"}, {"cpu", "cpu.stat", "nr_throttled"},
			{"memory", "memory.peak", ""}, {"memory", "memory.events", "oom_kill"}, {"pids", "pids.events", "max"}}
	}
	for _, k := range counters {
		file := filepath.Join(cg.dirs[k[0]], k[1])
		if k[2] == "" {
			cg.c.trace("cat %s  # %d", file, readInt(file))
		} else {
			cg.c.trace("grep %s %s  # %d", k[2], file, readKey(file, k[2]))
		}
	}
}

// remove deletes the group with rmdir (a cgroup directory holds only kernel
// files, so rmdir, not rm -r). rmdir fails with EBUSY while a process is
// inside: the processes of a PID namespace die with its PID 1, but may take a
// moment to leave, hence a bounded poll. The last container out removes
// minidocker/ too.
func (cg *cgroup) remove() {
	for _, dir := range cg.made {
		cg.c.trace("rmdir %s", dir)
		err := unix.Rmdir(dir)
		for try := 0; err == unix.EBUSY && try < 1000; try++ {
			for _, pid := range strings.Fields(readTrim(filepath.Join(dir, "cgroup.procs"))) {
				p, _ := strconv.Atoi(pid)
				unix.Kill(p, unix.SIGKILL)
			}
			time.Sleep(2 * time.Millisecond)
			err = unix.Rmdir(dir)
		}
		if err != nil && err != unix.ENOENT {
			fmt.Fprintf(os.Stderr, "%s: cannot remove the cgroup %s: %v; remove it with `rmdir %s`\n", name, dir, err, dir)
		}
		if unix.Rmdir(filepath.Dir(dir)) == nil { // EBUSY while other containers run
			cg.c.trace("rmdir %s", filepath.Dir(dir))
		}
	}
	cg.made = nil
}

func readTrim(file string) string {
	b, _ := os.ReadFile(file)
	return strings.TrimSpace(string(b))
}

// readInt reads a file that holds one number (memory.peak, cpuacct.usage).
func readInt(file string) int64 {
	n, _ := strconv.ParseInt(readTrim(file), 10, 64)
	return n
}

// readKey reads one "key value" line of a flat-keyed file (memory.events,
// cpu.stat, pids.events, memory.oom_control).
func readKey(file, key string) int64 {
	for _, line := range strings.Split(readTrim(file), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == key {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// bytesString prints a size the way a learner reads it: 64.0MiB.
func bytesString(n int64) string {
	switch {
	case n <= 0:
		return "none"
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
}
