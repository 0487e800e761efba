//go:build linux

package cgroups

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Mount is where the cgroup filesystems are (MINIDOCKER_CGROUP_ROOT
// overrides: e.g. a hybrid host's v2 tree, /sys/fs/cgroup/unified).
var Mount = mountDir()

func mountDir() string {
	if d := os.Getenv("MINIDOCKER_CGROUP_ROOT"); d != "" {
		return d
	}
	return "/sys/fs/cgroup"
}

func trace(format string, a ...any) {
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("+ "+format, a...)
	}
}

// region detect
// V2 tells which cgroup version to use: on a v2-only machine
// /sys/fs/cgroup/cgroup.controllers exists (the unified tree is mounted
// there); on a v1 or hybrid machine each controller has its own tree
// (/sys/fs/cgroup/memory, /sys/fs/cgroup/cpu, ...).
// Shell: stat -fc %T /sys/fs/cgroup   (cgroup2fs = v2, tmpfs = v1)
func V2() bool {
	_, err := os.Stat(filepath.Join(Mount, "cgroup.controllers"))
	return err == nil
}

// endregion detect

// v1Controllers are the trees a v1 container joins; cpuset only when asked
// (a new v1 cpuset group starts empty and must be filled before use).
// blkio (I/O limits and counters) and freezer (pause) are joined where the
// machine mounts them: a container that was not in the freezer tree from
// its start could not be paused later without moving every process, and a
// process forking during the move would escape.
var v1Controllers = []string{"memory", "cpu,cpuacct", "pids"}

// v1Optional are the trees joined only when mounted (ls /sys/fs/cgroup).
var v1Optional = sync.OnceValue(func() []string {
	var have []string
	for _, c := range []string{"blkio", "freezer"} {
		if _, err := os.Stat(filepath.Join(Mount, c, "cgroup.procs")); err == nil {
			have = append(have, c)
		}
	}
	return have
})

// Cgroup is one container's group: a directory in the v2 tree, or one per
// v1 controller, all named minidocker-<id>.
type Cgroup struct {
	Name string
	V2   bool
	Dirs map[string]string // controller -> directory ("" for v2)
}

// Open describes the cgroup of a container without touching the kernel.
func Open(id string, cpuset bool) *Cgroup { return open("minidocker-"+id[:12], cpuset) }

// open describes the group at name, a path below each hierarchy's root.
func open(name string, cpuset bool) *Cgroup {
	cg := &Cgroup{Name: name, V2: V2(), Dirs: map[string]string{}}
	if none { // rootless without delegation: no directory, every method a no-op
		return cg
	}
	if cg.V2 {
		cg.Dirs[""] = filepath.Join(parentDir(), cg.Name)
		return cg
	}
	for _, c := range v1Controllers {
		dir := filepath.Join(Mount, c)
		if _, err := os.Stat(dir); err != nil {
			dir = filepath.Join(Mount, strings.Split(c, ",")[0])
		}
		cg.Dirs[c] = filepath.Join(dir, cg.Name)
	}
	for _, c := range v1Optional() {
		cg.Dirs[c] = filepath.Join(Mount, c, cg.Name)
	}
	// Some hosts mount cpu and cpuacct as two hierarchies, not one
	// "cpu,cpuacct": CPU accounting (stats) is then a group of its own.
	if _, err := os.Stat(filepath.Join(Mount, "cpu,cpuacct")); err != nil {
		if _, err := os.Stat(filepath.Join(Mount, "cpuacct", "cpuacct.usage")); err == nil {
			cg.Dirs["cpuacct"] = filepath.Join(Mount, "cpuacct", cg.Name)
		}
	}
	if cpuset {
		cg.Dirs["cpuset"] = filepath.Join(Mount, "cpuset", cg.Name)
	}
	// The devices controller: the device fence (AllowDevices).
	if _, err := os.Stat(filepath.Join(Mount, "devices", "devices.allow")); err == nil {
		cg.Dirs["devices"] = filepath.Join(Mount, "devices", cg.Name)
	}
	return cg
}

// region create
// Create makes the group and writes the limits, before any process is in it.
func Create(id string, l Limits) (*Cgroup, error) {
	return create(Open(id, l.CpusetCpus != ""), l)
}

func create(cg *Cgroup, l Limits) (*Cgroup, error) {
	if none {
		if !l.Empty() {
			return nil, fmt.Errorf("rootless: %s: the container cannot have limits (-m, --cpus, --pids-limit...) here; without them it runs in none", noneWhy)
		}
		return cg, nil
	}
	if cg.V2 {
		return cg, cg.createV2(l)
	}
	return cg, cg.createV1(l)
}

func (cg *Cgroup) createV2(l Limits) error {
	if delegated != "" { // rootless: only what the limits need, if the delegation has it
		if err := enableDelegated(l); err != nil {
			return err
		}
	} else if err := enableV2(l.CpusetCpus != ""); err != nil {
		return err
	}
	dir := cg.Dirs[""]
	if err := makeParents(dir, l); err != nil {
		return err
	}
	trace("mkdir %s", dir)
	if err := os.Mkdir(dir, 0755); err != nil {
		return fmt.Errorf("create cgroup: %v", err)
	}
	err := cg.setV2(l)
	if err != nil {
		cg.Destroy()
	}
	return err
}

// setV2 writes the limits l sets into the group's files.
func (cg *Cgroup) setV2(l Limits) error {
	dir := cg.Dirs[""]
	var err error
	set := func(file, value string) {
		if err == nil {
			err = write(filepath.Join(dir, file), value)
		}
	}
	if l.Memory > 0 {
		set("memory.max", strconv.FormatInt(l.Memory, 10))
		switch {
		case l.MemorySwap == -1:
			set("memory.swap.max", "max")
		case l.MemorySwap > 0: // v2 counts swap alone; Docker's flag is memory+swap
			set("memory.swap.max", strconv.FormatInt(l.MemorySwap-l.Memory, 10))
		default: // Docker's default: as much swap as memory
			set("memory.swap.max", strconv.FormatInt(l.Memory, 10))
		}
	}
	if l.NanoCPUs > 0 {
		set("cpu.max", fmt.Sprintf("%d 100000", l.NanoCPUs/1e4)) // quota per 100 ms period
	}
	if l.CPUQuota != 0 || l.CPUPeriod != 0 {
		set("cpu.max", cpuMax(l.CPUQuota, l.CPUPeriod))
	}
	if l.CPUShares > 0 {
		set("cpu.weight", strconv.FormatInt(Weight(l.CPUShares), 10))
	}
	if l.PidsLimit > 0 {
		set("pids.max", strconv.FormatInt(l.PidsLimit, 10))
	}
	if l.CpusetCpus != "" {
		set("cpuset.cpus", l.CpusetCpus)
	}
	if l.CpusetMems != "" {
		set("cpuset.mems", l.CpusetMems)
	}
	if err == nil {
		err = cg.setIO(l.IO)
	}
	return err
}

// enableV2 hands the controllers down from the root of the v2 tree: a v2
// group can only use those its parent enables. io only where the kernel
// has it (cat /sys/fs/cgroup/cgroup.controllers); the freezer is no
// controller on v2: every group has cgroup.freeze.
// Shell: echo "+memory +pids +cpu +io" > /sys/fs/cgroup/cgroup.subtree_control
func enableV2(cpuset bool) error {
	want := "+memory +pids +cpu"
	if avail, _ := os.ReadFile(filepath.Join(Mount, "cgroup.controllers")); containsAll(string(avail), "io") {
		want += " +io"
	}
	if cpuset {
		want += " +cpuset"
	}
	ctl := filepath.Join(Mount, "cgroup.subtree_control")
	if have, _ := os.ReadFile(ctl); !containsAll(string(have), want) {
		if err := write(ctl, want); err != nil {
			return fmt.Errorf("enable controllers (%s) in %s: %v", want, ctl, err)
		}
	}
	return nil
}

func (cg *Cgroup) createV1(l Limits) error {
	for _, dir := range cg.Dirs {
		if err := makeParents(dir, l); err != nil {
			cg.Destroy()
			return err
		}
		trace("mkdir %s", dir)
		if err := os.Mkdir(dir, 0755); err != nil {
			cg.Destroy()
			return fmt.Errorf("create cgroup: %v", err)
		}
	}
	err := cg.setV1(l)
	if err != nil {
		cg.Destroy()
	}
	return err
}

// setV1 writes the limits l sets into the groups' files.
func (cg *Cgroup) setV1(l Limits) error {
	var err error
	set := func(ctl, file, value string) {
		if err == nil {
			err = write(filepath.Join(cg.Dirs[ctl], file), value)
		}
	}
	if l.Memory > 0 {
		sw := l.MemorySwap
		if sw == 0 {
			sw = 2 * l.Memory // Docker's default: as much swap as memory
		}
		limit := strconv.FormatInt(l.Memory, 10)
		// memsw exists only with swap accounting (swapaccount=1), and it
		// may never be below the limit: when the new limit is above the
		// old memsw (an update), memsw goes first.
		memsw := filepath.Join(cg.Dirs["memory"], "memory.memsw.limit_in_bytes")
		if _, e := os.Stat(memsw); e == nil {
			if number(memsw) < uint64(l.Memory) {
				set("memory", "memory.memsw.limit_in_bytes", strconv.FormatInt(sw, 10))
				set("memory", "memory.limit_in_bytes", limit)
			} else {
				set("memory", "memory.limit_in_bytes", limit)
				set("memory", "memory.memsw.limit_in_bytes", strconv.FormatInt(sw, 10))
			}
		} else {
			set("memory", "memory.limit_in_bytes", limit)
			if l.MemorySwap != 0 {
				logrus.Warn("this kernel does not account swap (no memory.memsw.*): --memory-swap ignored")
			}
		}
	}
	if l.NanoCPUs > 0 {
		set("cpu,cpuacct", "cpu.cfs_period_us", "100000")
		set("cpu,cpuacct", "cpu.cfs_quota_us", strconv.FormatInt(l.NanoCPUs/1e4, 10))
	}
	if l.CPUPeriod > 0 {
		set("cpu,cpuacct", "cpu.cfs_period_us", strconv.FormatInt(l.CPUPeriod, 10))
	}
	if l.CPUQuota != 0 {
		set("cpu,cpuacct", "cpu.cfs_quota_us", strconv.FormatInt(l.CPUQuota, 10))
	}
	if l.CPUShares > 0 {
		set("cpu,cpuacct", "cpu.shares", strconv.FormatInt(l.CPUShares, 10))
	}
	if l.PidsLimit > 0 {
		set("pids", "pids.max", strconv.FormatInt(l.PidsLimit, 10))
	}
	if l.CpusetCpus != "" {
		// A new v1 cpuset group has no CPUs and no memory nodes: fill both.
		mems, _ := os.ReadFile(filepath.Join(Mount, "cpuset", "cpuset.mems"))
		if l.CpusetMems != "" {
			mems = []byte(l.CpusetMems)
		}
		set("cpuset", "cpuset.cpus", l.CpusetCpus)
		set("cpuset", "cpuset.mems", strings.TrimSpace(string(mems)))
	}
	if err == nil {
		err = cg.setIO(l.IO)
	}
	return err
}

// Update writes new limits into a group that exists (runc update, docker
// update): only those l sets; the others stay as they are.
func (cg *Cgroup) Update(l Limits) error {
	if none {
		return fmt.Errorf("rootless: %s: no cgroup to update", noneWhy)
	}
	if (l.CpusetCpus != "" || l.CpusetMems != "") && cg.Dirs["cpuset"] == "" && !cg.V2 {
		return errors.New("the container was created without a cpuset group: its cpuset cannot be updated")
	}
	if cg.V2 {
		return cg.setV2(l)
	}
	return cg.setV1(l)
}

// endregion create

// region forkin
// ForkIn starts a process inside the group, instead of moving it in
// afterwards, and says whether it did (else the caller Applies).
//
// Moving a process (echo PID > cgroup.procs) takes the kernel's cgroup
// write lock, cgroup_threadgroup_rwsem, and waits for an RCU grace period:
// milliseconds, on each of cgroup v1's trees. A thread that moves itself
// alone does not take that lock (Linux 5.18): echo 0 > tasks. And a child
// starts in the groups of the thread that cloned it. So, on v1, a thread
// of ours moves itself into each of the group's trees, calls fork (a
// clone) and moves back. The thread is locked to its goroutine throughout
// (runtime.LockOSThread): no other goroutine may run in the container's
// groups, and the child must come from this thread.
// On v2 the kernel does it in one step: clone3 with CLONE_INTO_CGROUP
// (Linux 5.7), the group's directory as a file descriptor in sys.
//
// Shell: sh -c 'echo 0 > /sys/fs/cgroup/pids/minidocker-ID/tasks; exec CMD'
func (cg *Cgroup) ForkIn(sys *syscall.SysProcAttr, fork func() (int, error)) (pid int, in bool, err error) {
	if len(cg.Dirs) == 0 { // rootless without a cgroup
		pid, err = onThread(fork, nil)
		return pid, true, err
	}
	if cg.V2 {
		if fd, err := unix.Open(cg.Dirs[""], unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
			trace("clone3(CLONE_INTO_CGROUP, %s)", cg.Dirs[""])
			sys.UseCgroupFD, sys.CgroupFD = true, fd
			pid, err = onThread(fork, nil)
			sys.UseCgroupFD = false
			unix.Close(fd)
			if err == nil {
				return pid, true, nil
			}
		}
	} else if pid, err = onThread(fork, cg); err == nil {
		return pid, true, nil
	}
	// A kernel without clone3's cgroup, a refused self-move, or a fork
	// the group refused (the thread counts against --pids-limit 1): clone
	// where we are; the caller moves the child.
	pid, err = onThread(fork, nil)
	return pid, false, err
}

// onThread calls fork on a locked thread of its own, first moved into cg's
// v1 trees when cg is not nil. The thread moves back before it is freed:
// it may not simply end, because a child's PR_SET_PDEATHSIG (Pdeathsig)
// fires when the thread that cloned it ends, not the process.
func onThread(fork func() (int, error), cg *Cgroup) (int, error) {
	type result struct {
		pid int
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		var r result
		back, err := cg.enterThread()
		if err == nil {
			r.pid, r.err = fork()
		} else {
			r.err = err
		}
		if err := leaveThread(back); err != nil {
			// Still in the container's groups: no other goroutine may run
			// here. Without a child, the goroutine ends locked and Go ends
			// the thread with it; with one, that end would kill the child
			// (Pdeathsig): the thread is parked for good.
			done <- r
			if r.err == nil {
				logrus.Warnf("cgroup: %v (one thread parked)", err)
				select {}
			}
			return
		}
		runtime.UnlockOSThread()
		done <- r
	}()
	r := <-done
	return r.pid, r.err
}

// enterThread moves the calling thread, alone, into each of cg's v1
// trees (nothing when cg is nil). It returns the tasks files to move back
// to, those of the groups it was in (/proc/thread-self/cgroup), one for
// each move made.
func (cg *Cgroup) enterThread() (back []string, err error) {
	if cg == nil {
		return nil, nil
	}
	b, err := os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		return nil, err
	}
	own := map[string]string{} // controller -> the thread's group in its tree
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.SplitN(l, ":", 3); len(f) == 3 {
			for _, c := range strings.Split(f[1], ",") {
				own[c] = f[2]
			}
		}
	}
	for _, dir := range cg.Dirs {
		rel, err := filepath.Rel(Mount, dir)
		tree := strings.Split(rel, "/")[0] // "memory", "cpu,cpuacct", ...
		group, ok := own[strings.Split(tree, ",")[0]]
		if err != nil || !ok {
			return back, fmt.Errorf("cgroup %s: not in a tree of %s", dir, Mount)
		}
		if err := write(filepath.Join(dir, "tasks"), "0"); err != nil {
			return back, err
		}
		back = append(back, filepath.Join(Mount, tree, group, "tasks"))
	}
	return back, nil
}

// leaveThread moves the calling thread back where enterThread found it.
func leaveThread(back []string) error {
	for _, f := range back {
		if err := write(f, "0"); err != nil {
			return err
		}
	}
	return nil
}

// endregion forkin

// region apply
// Apply moves a process (and so, from then on, its children) into the group.
// Shell: echo PID > /sys/fs/cgroup/minidocker-ID/cgroup.procs
func (cg *Cgroup) Apply(pid int) error {
	for _, dir := range cg.Dirs {
		if err := write(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("join cgroup: %v", err)
		}
	}
	return nil
}

// endregion apply

// region destroy
// Destroy removes the group. rmdir fails with EBUSY while a process is
// inside, so stragglers are SIGKILLed first (a crash may leave some).
// Shell: rmdir /sys/fs/cgroup/minidocker-ID
func (cg *Cgroup) Destroy() error {
	var first error
	for _, dir := range cg.Dirs {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			continue
		}
		trace("rmdir %s", dir)
		var err error
		for try := 0; try < 200; try++ {
			if err = unix.Rmdir(dir); err == nil || err == unix.ENOENT {
				err = nil
				break
			}
			if try == 0 {
				cg.Thaw() // a frozen (paused) process does not even die until thawed (v1)
			}
			for _, pid := range cg.procs(dir) {
				unix.Kill(pid, unix.SIGKILL)
			}
			time.Sleep(5 * time.Millisecond) // the killed processes take a moment to leave
		}
		if err != nil && first == nil {
			first = fmt.Errorf("remove cgroup %s: %v", dir, err)
		}
	}
	return first
}

// endregion destroy

// Sweep removes the empty groups named for containers that no longer
// exist (alive says which ids do): what a crash between a container's
// removal and its group's rmdir leaves. rmdir refuses a group that still
// has processes, so a live container's group is never touched.
func Sweep(alive func(shortID string) bool) {
	patterns := []string{filepath.Join(Mount, "*", "minidocker-*")}
	if V2() {
		patterns = []string{filepath.Join(parentDir(), "minidocker-*")}
	}
	if none {
		patterns = nil
	}
	for _, p := range patterns {
		dirs, _ := filepath.Glob(p)
		for _, d := range dirs {
			if short := strings.TrimPrefix(filepath.Base(d), "minidocker-"); !alive(short) {
				trace("rmdir %s  # left by a crash", d)
				unix.Rmdir(d)
			}
		}
	}
}

func (cg *Cgroup) procs(dir string) []int {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

// Procs lists the PIDs in the group.
func (cg *Cgroup) Procs() []int {
	for _, dir := range cg.Dirs {
		return cg.procs(dir)
	}
	return nil
}

// Contains tells whether pid is in the group.
func (cg *Cgroup) Contains(pid int) bool {
	for _, p := range cg.Procs() {
		if p == pid {
			return true
		}
	}
	return false
}

// region oom
// OOMKilled reads the kernel's own counter of OOM kills in the group:
// memory.events (v2) or memory.oom_control (v1), line "oom_kill N".
func (cg *Cgroup) OOMKilled() bool {
	if len(cg.Dirs) == 0 { // no group (rootless): no counter
		return false
	}
	file := filepath.Join(cg.Dirs[""], "memory.events")
	if !cg.V2 {
		file = filepath.Join(cg.Dirs["memory"], "memory.oom_control")
	}
	return keyed(file, "oom_kill") > 0
}

// endregion oom

// Stats is what `minidocker stats` shows.
type Stats struct {
	CPUNanos    uint64 // CPU time used so far
	MemUsage    uint64
	MemLimit    uint64 // 0 = unlimited
	Pids        uint64
	Sampled     time.Time
	OnlineCPUs  int
	HostMemory  uint64
	MemoryCache uint64
	IO          []IOStat // bytes read and written, per device
}

// Stats reads usage from the group's files.
func (cg *Cgroup) Stats() Stats {
	s := Stats{Sampled: time.Now(), OnlineCPUs: onlineCPUs()}
	switch {
	case len(cg.Dirs) == 0: // no group (rootless): no usage to read
	case cg.V2:
		d := cg.Dirs[""]
		s.CPUNanos = keyed(filepath.Join(d, "cpu.stat"), "usage_usec") * 1000
		s.MemUsage = number(filepath.Join(d, "memory.current"))
		s.MemLimit = number(filepath.Join(d, "memory.max"))
		s.MemoryCache = keyed(filepath.Join(d, "memory.stat"), "inactive_file")
		s.Pids = number(filepath.Join(d, "pids.current"))
	default:
		acct := cg.Dirs["cpuacct"]
		if acct == "" {
			acct = cg.Dirs["cpu,cpuacct"]
		}
		s.CPUNanos = number(filepath.Join(acct, "cpuacct.usage"))
		s.MemUsage = number(filepath.Join(cg.Dirs["memory"], "memory.usage_in_bytes"))
		s.MemLimit = number(filepath.Join(cg.Dirs["memory"], "memory.limit_in_bytes"))
		s.MemoryCache = keyed(filepath.Join(cg.Dirs["memory"], "memory.stat"), "total_inactive_file")
		s.Pids = number(filepath.Join(cg.Dirs["pids"], "pids.current"))
	}
	if len(cg.Dirs) > 0 {
		s.IO = cg.ioStats()
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		s.HostMemory = uint64(si.Totalram) * uint64(si.Unit)
	}
	if s.MemLimit == 0 || s.MemLimit > s.HostMemory { // "max" or v1's huge number
		s.MemLimit = s.HostMemory
	}
	return s
}

// IOStat is one counter of the group's block I/O on one device: Op is
// "read" or "write" (v2's io.stat rbytes, wbytes) or v1's words in
// blkio.throttle.io_service_bytes_recursive (Read, Write, Sync, Async,
// Discard, Total), as Docker's stats API reports them.
type IOStat struct {
	Major, Minor uint64
	Op           string
	Value        uint64
}

// ioStats reads the bytes the group read and wrote, per device.
//
//	v2: cat io.stat          -> 7:0 rbytes=5120 wbytes=4194304 rios=2 wios=4 dbytes=0 dios=0
//	v1: cat blkio.throttle.io_service_bytes_recursive -> 7:0 Read 5120 / 7:0 Write 4194304 / ...
func (cg *Cgroup) ioStats() []IOStat {
	file := filepath.Join(cg.Dirs[""], "io.stat")
	if !cg.V2 {
		if cg.Dirs["blkio"] == "" {
			return nil
		}
		file = filepath.Join(cg.Dirs["blkio"], "blkio.throttle.io_service_bytes_recursive")
	}
	b, _ := os.ReadFile(file)
	var out []IOStat
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		var major, minor uint64
		if len(f) < 2 || !parseDevice(f[0], &major, &minor) {
			continue // v1's last line: "Total N"
		}
		if !cg.V2 {
			if v, err := strconv.ParseUint(f[len(f)-1], 10, 64); err == nil && len(f) == 3 {
				out = append(out, IOStat{major, minor, f[1], v})
			}
			continue
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.ParseUint(v, 10, 64)
			switch k {
			case "rbytes":
				out = append(out, IOStat{major, minor, "read", n})
			case "wbytes":
				out = append(out, IOStat{major, minor, "write", n})
			}
		}
	}
	return out
}

func parseDevice(s string, major, minor *uint64) bool {
	a, b, ok := strings.Cut(s, ":")
	var err1, err2 error
	*major, err1 = strconv.ParseUint(a, 10, 64)
	*minor, err2 = strconv.ParseUint(b, 10, 64)
	return ok && err1 == nil && err2 == nil
}

func onlineCPUs() int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil {
		return set.Count()
	}
	return 1
}

func number(file string) uint64 {
	b, _ := os.ReadFile(file)
	n, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n
}

func keyed(file, key string) uint64 {
	b, _ := os.ReadFile(file)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == key {
			n, _ := strconv.ParseUint(f[1], 10, 64)
			return n
		}
	}
	return 0
}

func containsAll(have, want string) bool {
	for _, w := range strings.Fields(want) {
		if !strings.Contains(" "+strings.Join(strings.Fields(have), " ")+" ", " "+strings.TrimPrefix(w, "+")+" ") {
			return false
		}
	}
	return true
}

// write is echo VALUE > FILE, traced.
func write(file, value string) error {
	trace("echo %s > %s", value, file)
	if err := os.WriteFile(file, []byte(value), 0644); err != nil {
		return fmt.Errorf("echo %s > %s: %v", value, file, err)
	}
	return nil
}
