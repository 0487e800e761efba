//go:build linux

package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/nsenter"
	"github.com/minidocker/build-your-own-docker/final/pid1"
	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// Global are runc's global flags.
type Global struct {
	Root          string // --root: where the containers' state lives
	Log           string // --log FILE
	LogFormat     string // --log-format text|json
	SystemdCgroup bool   // --systemd-cgroup
	Debug         bool
}

// LogLine appends one line to --log, if given, as runc writes it:
// containerd's shim shows the last "level":"error" msg of its log.json.
func (g *Global) LogLine(level, msg string) {
	if g.Log == "" {
		return
	}
	f, err := os.OpenFile(g.Log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0644)
	if err != nil {
		return
	}
	defer f.Close()
	if g.LogFormat == "json" {
		b, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": time.Now().Format(time.RFC3339Nano)})
		fmt.Fprintf(f, "%s\n", b)
	} else {
		fmt.Fprintf(f, "time=%q level=%s msg=%q\n", time.Now().Format(time.RFC3339Nano), level, msg)
	}
}

// DefaultRoot is --root's default. podman runs `state` with no flags at
// all, so the default is the one every caller shares.
const DefaultRoot = "/run/minidocker-runc"

// record is a container's state file, <root>/<id>/state.json: what the
// stateless commands that follow create need to know.
type record struct {
	ID          string            `json:"id"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Pid         int               `json:"pid"`
	PidStart    uint64            `json:"pidStart"` // /proc/PID/stat's start time: a reused PID is not ours
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Cgroup      string            `json:"cgroup"`
	Cpuset      bool              `json:"cpuset"`
	OwnPID      bool              `json:"ownPidNamespace"`
	Hooks       *Hooks            `json:"hooks,omitempty"`   // config.json's, as it was at create
	Seccomp     string            `json:"seccomp,omitempty"` // the filter, for exec's processes too
}

// State is the runtime-spec's state, what `state` prints and hooks read.
type State struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs,omitempty"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

// SpecVersion is the runtime-spec version this runtime implements.
const SpecVersion = SpecVersionConst

// validID: letters and digits first, then those or _.+-, at most 128 (a
// loop, not a regexp: every command checks one, and compiling a regexp
// at start is most of this package's start-up time).
func validID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i, c := range id {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("_.+-", c)) {
			return false
		}
	}
	return true
}

func (g *Global) dir(id string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("invalid container id %q: letters, digits and _.+- (at most 128)", id)
	}
	return filepath.Join(g.Root, id), nil
}

// load reads a container's record.
func (g *Global) load(id string) (*record, string, error) {
	dir, err := g.dir(id)
	if err != nil {
		return nil, "", err
	}
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if os.IsNotExist(err) {
		return nil, dir, fmt.Errorf("container %s does not exist", id)
	}
	if err != nil {
		return nil, dir, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, dir, fmt.Errorf("container %s: bad state file: %v", id, err)
	}
	return &r, dir, nil
}

// region status
// status is what the kernel says now: stopped once the PID is gone, a
// zombie (its parent, the caller's shim, has not reaped it yet) or a
// reused PID; created while the exec fifo is there; paused while frozen.
func (r *record) status(dir string) string {
	if !alive(r.Pid, r.PidStart) {
		return "stopped"
	}
	if _, err := os.Lstat(filepath.Join(dir, "exec.fifo")); err == nil {
		return "created"
	}
	if cgroups.At(r.Cgroup, r.Cpuset).Frozen() {
		return "paused"
	}
	return "running"
}

// endregion status

func alive(pid int, start uint64) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i < 0 || len(s) < i+3 || s[i+2] == 'Z' || s[i+2] == 'X' {
		return false
	}
	st, err := state.StartTime(pid)
	return err == nil && st == start
}

func (r *record) state(dir string) State {
	st := State{Version: SpecVersion, ID: r.ID, Status: r.status(dir), Pid: r.Pid, Bundle: r.Bundle, Rootfs: r.Rootfs,
		Created: r.Created, Annotations: r.Annotations, Owner: "root"}
	if st.Status == "stopped" {
		st.Pid = 0
	}
	return st
}

// StateCmd is `state ID`.
func StateCmd(g *Global, id string) error {
	r, dir, err := g.load(id)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(r.state(dir), "", "  ")
	fmt.Println(string(b))
	return nil
}

// CreateOpts are create's (and run's) flags.
type CreateOpts struct {
	Bundle, PidFile, ConsoleSocket string
}

// region create
// Create is `create ID`: everything but process.args. The init it starts
// is left waiting on the exec fifo; create exits, and the init, orphaned,
// is adopted by the caller's subreaper (containerd's shim, conmon).
func Create(g *Global, id string, o CreateOpts) (err error) {
	_, err = prepare(g, id, o)
	return err
}

// created is a container create has made, and what undoes it.
type created struct {
	g   *Global
	rec *record
	dir string
	cg  *cgroups.Cgroup
	pid int
}

// abort undoes a create that failed, so nothing is left half-made.
func (c *created) abort() {
	if c.pid > 0 {
		unix.Kill(c.pid, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(c.pid, &ws, 0, nil)
	}
	if c.cg != nil {
		c.cg.Destroy()
	}
	os.RemoveAll(c.dir)
}

func prepare(g *Global, id string, o CreateOpts) (c *created, err error) {
	dir, err := g.dir(id)
	if err != nil {
		return nil, err
	}
	bundle := o.Bundle
	if bundle == "" {
		bundle = "."
	}
	if bundle, err = filepath.Abs(bundle); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %v", bundle, err)
	}
	spec, err := Parse(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	p, err := makePlan(spec, bundle, g)
	if err != nil {
		return nil, err
	}
	if p.init.Terminal && o.ConsoleSocket == "" {
		return nil, errors.New("process.terminal is true: --console-socket is required")
	}
	if !p.init.Terminal && o.ConsoleSocket != "" {
		return nil, errors.New("--console-socket is for a process with terminal: true")
	}
	if err := os.MkdirAll(g.Root, 0700); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0700); err != nil {
		if os.IsExist(err) {
			return nil, fmt.Errorf("container %s already exists", id)
		}
		return nil, err
	}
	if p.cgroup == "" {
		p.cgroup = "minidocker-runc-" + id
	}
	c = &created{g: g, dir: dir, rec: &record{ID: id, Bundle: bundle, Rootfs: p.init.Rootfs, Created: time.Now().UTC(),
		Annotations: spec.Annotations, Cgroup: p.cgroup, Cpuset: p.limits.CpusetCpus != "", OwnPID: p.ownPID, Hooks: spec.Hooks,
		Seccomp: p.init.Priv.Seccomp}}
	defer func() {
		if err != nil {
			c.abort()
		}
	}()
	if err := c.start(p, o); err != nil {
		return c, err
	}
	if err := c.save(); err != nil {
		return c, err
	}
	if spec.Hooks != nil {
		st := c.rec.state(dir)
		for _, hs := range [][]Hook{spec.Hooks.Prestart, spec.Hooks.CreateRuntime} {
			if err := runHooks(hs, st); err != nil {
				return c, err
			}
		}
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, c.pid); err != nil {
			return c, err
		}
	}
	return c, nil
}

// endregion create

func (c *created) save() error {
	b, _ := json.Marshal(c.rec)
	tmp := filepath.Join(c.dir, ".state.json")
	if err := os.WriteFile(tmp, b, 0600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(c.dir, "state.json"))
}

// writePidFile writes the pid to a temporary file, then renames it: a
// caller polling for the file never reads half a number (runc does this).
func writePidFile(path string, pid int) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path))
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// region clone
// start makes the exec fifo and the cgroup, clones the init into the
// new namespaces (after joining those given by path), and waits for its
// report: "ok" once everything is set up, or the error.
func (c *created) start(p *plan, o CreateOpts) error {
	fifoPath := filepath.Join(c.dir, "exec.fifo")
	if err := unix.Mkfifo(fifoPath, 0622); err != nil {
		return fmt.Errorf("mkfifo %s: %v", fifoPath, err)
	}
	if p.uidMap != nil {
		// The init opens it as the container's root: in a user namespace
		// that is another uid on the host, which must own the fifo.
		if err := os.Chown(fifoPath, hostID(p.uidMap), hostID(p.gidMap)); err != nil {
			return err
		}
	}
	fifo, err := os.OpenFile(fifoPath, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer fifo.Close()
	if c.cg, err = cgroups.CreateAt(p.cgroup, p.limits); err != nil {
		return err
	}
	if p.devices != nil {
		if err := c.cg.AllowDevices(p.devices); err != nil {
			return err
		}
	}
	var console *os.File
	if o.ConsoleSocket != "" {
		conn, err := net.Dial("unix", o.ConsoleSocket)
		if err != nil {
			return fmt.Errorf("--console-socket: %v", err)
		}
		defer conn.Close()
		if console, err = conn.(*net.UnixConn).File(); err != nil {
			return err
		}
		defer console.Close()
	}
	specR, specW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer specW.Close()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		specR.Close()
		return err
	}
	statusR, statusW := pair[0], os.NewFile(uintptr(pair[1]), "status")
	defer unix.Close(statusR)
	files := []uintptr{os.Stdin.Fd(), os.Stdout.Fd(), os.Stderr.Fd(), specR.Fd(), statusW.Fd(), fifo.Fd()}
	if o.ConsoleSocket != "" {
		files = append(files, console.Fd())
	}
	attr := &syscall.ProcAttr{Env: []string{"GOMAXPROCS=1", "GOTRACEBACK=none"}, Files: files,
		Sys: &syscall.SysProcAttr{Cloneflags: p.clone, UidMappings: p.uidMap, GidMappings: p.gidMap,
			GidMappingsEnableSetgroups: p.gidMap != nil}}
	if p.uidMap != nil {
		// We are root on the host, a uid the new namespace need not map:
		// execve as an unmapped uid would leave the init without its
		// capabilities there. setuid(0) inside, once the maps are written.
		attr.Sys.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	var in bool // cloned into its group, or to be moved (see cgroups.ForkIn)
	c.pid, in, err = forkInit(p, attr, c.cg)
	specR.Close()
	statusW.Close()
	if err != nil {
		return err
	}
	if p.userNS != "" {
		// The namespace's own maps say who the container's root is here.
		if err := os.Chown(fifoPath, hostID(idMapOf(c.pid, "uid_map")), hostID(idMapOf(c.pid, "gid_map"))); err != nil {
			return err
		}
	}
	if !in {
		if err := c.cg.Apply(c.pid); err != nil {
			return err
		}
	}
	if c.rec.PidStart, err = state.StartTime(c.pid); err != nil {
		return err
	}
	c.rec.Pid = c.pid
	b, _ := json.Marshal(&p.init)
	if _, err := specW.Write(b); err != nil {
		return fmt.Errorf("sending the spec to init: %v", err)
	}
	specW.Close()
	return readStatus(statusR)
}

// forkInit clones `minidocker-runc init` into its cgroup (cgroups.ForkIn,
// which says whether it could). Namespaces given by path are joined
// first, on ForkIn's thread, locked for this alone: setns(2) moves only
// the calling thread, clone(2) copies that thread's namespaces (the PID
// namespace: its namespace for children), and the thread is thrown away
// after (never unlocked), so the rest of create (its hooks) stays in the
// runtime's namespaces. A mount or user namespace
// cannot be joined so: the clone runs minidocker-nsenter, whose C
// constructor, single-threaded, joins them (and, after a user namespace,
// makes the new ones, so that they belong to it), then becomes the init.
func forkInit(p *plan, attr *syscall.ProcAttr, cg *cgroups.Cgroup) (pid int, in bool, err error) {
	prog, argv := "/proc/self/exe", []string{"minidocker-runc", "init", "oci"}
	var pidR, pidW *os.File // the init's PID, when the constructor forks it
	if p.mountNS != "" || p.userNS != "" {
		helper := pid1.Beside("minidocker-nsenter")
		if helper == "" {
			return 0, false, errors.New("joining a mount or user namespace needs minidocker-nsenter beside minidocker-runc (make minidocker builds both)")
		}
		a := *attr
		a.Files = append([]uintptr{}, attr.Files...)
		fd := func(f *os.File) int { a.Files = append(a.Files, f.Fd()); return len(a.Files) - 1 }
		var fds [4]int // user namespace, mount namespace, our binary, the PID pipe; -1: none
		for i, path := range []string{p.userNS, p.mountNS, "/proc/self/exe"} {
			fds[i] = -1
			if path != "" {
				f, err := os.Open(path)
				if err != nil {
					return 0, false, fmt.Errorf("namespace %s: %v", path, err)
				}
				defer f.Close()
				fds[i] = fd(f)
			}
		}
		fds[3] = -1
		var unshare uintptr
		if p.userNS != "" {
			// Made by the constructor after it joined, not by the clone.
			unshare, a.Sys = p.clone, &syscall.SysProcAttr{}
			if unshare&unix.CLONE_NEWPID != 0 {
				// unshare(CLONE_NEWPID) moves only the children: the
				// constructor forks the init and tells us its PID.
				r, w, err := os.Pipe()
				if err != nil {
					return 0, false, err
				}
				defer r.Close()
				defer w.Close()
				pidR, pidW, fds[3] = r, w, fd(w)
			}
		}
		a.Env = append(append([]string{}, attr.Env...), fmt.Sprintf("%s=%d %d %d %d %d", nsenter.JoinEnv, fds[0], fds[1], fds[2], unshare, fds[3]))
		attr = &a
		prog, argv = helper, append([]string{"minidocker-nsenter"}, argv...)
	}
	pid, in, err = cg.ForkIn(attr.Sys, func() (int, error) { return forkIn(p.join, prog, argv, attr) })
	if err != nil || pidR == nil {
		return pid, in, err
	}
	// The constructor's first process ends once it has forked the init;
	// our end of the pipe goes first, or the read would wait for it.
	pidW.Close()
	var ws syscall.WaitStatus
	syscall.Wait4(pid, &ws, 0, nil)
	b, _ := io.ReadAll(io.LimitReader(pidR, 32))
	if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil || ws.ExitStatus() != 0 {
		return 0, false, errors.New("cannot start the container's init in the user namespace config.json names (see the error above)")
	}
	return pid, in, nil
}

// idMapOf reads process pid's user namespace maps (uid_map or gid_map:
// lines of "inside outside count", such as "0 100000 65536").
func idMapOf(pid int, file string) []syscall.SysProcIDMap {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	var m []syscall.SysProcIDMap
	for _, l := range strings.Split(string(b), "\n") {
		var e syscall.SysProcIDMap
		if n, _ := fmt.Sscan(l, &e.ContainerID, &e.HostID, &e.Size); n == 3 {
			m = append(m, e)
		}
	}
	return m
}

// forkIn clones prog from the calling thread (cgroups.ForkIn's) after
// it joined the namespaces given by path. Locked again and never
// unlocked when it joins any: the thread ends with its goroutine.
func forkIn(join []joinNS, prog string, argv []string, attr *syscall.ProcAttr) (int, error) {
	if len(join) > 0 {
		runtime.LockOSThread()
	}
	for _, j := range join {
		fd, err := unix.Open(j.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, fmt.Errorf("namespace %s: %v", j.path, err)
		}
		err = unix.Setns(fd, j.flag)
		unix.Close(fd)
		if err != nil {
			return 0, fmt.Errorf("setns %s: %v", j.path, err)
		}
	}
	pid, err := syscall.ForkExec(prog, argv, attr)
	if err != nil {
		err = fmt.Errorf("cannot start the container's init: %v", err)
	}
	return pid, err
}

// endregion clone

// hostID is the host's id for the container's 0 (root), -1 if the map
// has none.
func hostID(m []syscall.SysProcIDMap) int {
	for _, e := range m {
		if e.ContainerID == 0 {
			return e.HostID
		}
	}
	return -1
}

// readStatus waits for init's "ok" or "error CODE MESSAGE"; EOF first
// means it died.
func readStatus(fd int) error {
	buf := make([]byte, 8192)
	for {
		n, _, _, _, err := unix.Recvmsg(fd, buf, nil, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return errors.New("the container's init died while setting up")
		}
		line := strings.TrimSpace(string(buf[:n]))
		switch {
		case line == "ok":
			return nil
		case strings.HasPrefix(line, "error "):
			f := strings.SplitN(line, " ", 3)
			if len(f) < 3 {
				return errors.New("the container's init failed")
			}
			return errors.New(f[2])
		}
	}
}

// region start
// Start is `start ID`: open the exec fifo's read end, which lets the
// init's blocked open(2) return; it writes one byte and execs
// process.args. The fifo goes: the container is running.
func Start(g *Global, id string) error {
	r, dir, err := g.load(id)
	if err != nil {
		return err
	}
	if st := r.status(dir); st != "created" {
		return fmt.Errorf("cannot start a container that is %s", st)
	}
	fifoPath := filepath.Join(dir, "exec.fifo")
	fd, err := unix.Open(fifoPath, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the exec fifo: %v", err)
	}
	defer unix.Close(fd)
	var b [1]byte
	for deadline := time.Now().Add(10 * time.Second); ; {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		unix.Poll(fds, 100)
		if n, _ := unix.Read(fd, b[:]); n == 1 {
			break
		}
		if !alive(r.Pid, r.PidStart) {
			return fmt.Errorf("container %s: its init is gone", id)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container %s: its init did not answer on the exec fifo", id)
		}
	}
	os.Remove(fifoPath)
	if r.Hooks != nil {
		// The state as start made it: running, with its PID, even if a
		// short process has exited by now (the poststop hooks see that).
		st := r.state(dir)
		st.Status, st.Pid = "running", r.Pid
		warnHooks(r.Hooks.Poststart, st) // failures only warn (runtime-spec)
	}
	return nil
}

// endregion start

// Kill is `kill [--all] ID SIGNAL`.
func Kill(g *Global, id, sig string, all bool) error {
	r, dir, err := g.load(id)
	if err != nil {
		return err
	}
	s, err := ParseSignal(sig)
	if err != nil {
		return err
	}
	if st := r.status(dir); st == "stopped" {
		return fmt.Errorf("container %s is not running", id)
	}
	if all {
		for _, pid := range cgroups.At(r.Cgroup, r.Cpuset).Procs() {
			unix.Kill(pid, s)
		}
		return nil
	}
	if err := unix.Kill(r.Pid, s); err != nil {
		return fmt.Errorf("kill %d: %v", r.Pid, err)
	}
	return nil
}

// ParseSignal takes 15, TERM and SIGTERM.
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if n := unix.SignalNum(name); n != 0 {
		return n, nil
	}
	return 0, fmt.Errorf("invalid signal %q", s)
}

// region delete
// Delete is `delete [--force] ID`: only a stopped container, unless
// forced (then SIGKILL, and wait for it to be gone). It undoes create
// (the cgroup, the state), then runs the poststop hooks.
func Delete(g *Global, id string, force bool) error {
	r, dir, err := g.load(id)
	if err != nil {
		if force && os.IsNotExist(errors.Unwrap(err)) || force && strings.Contains(err.Error(), "does not exist") {
			return nil
		}
		return err
	}
	cg := cgroups.At(r.Cgroup, r.Cpuset)
	if st := r.status(dir); st != "stopped" {
		if !force {
			return fmt.Errorf("cannot delete container %s that is %s: stop it first, or delete --force", id, st)
		}
		cg.Thaw()
		unix.Kill(r.Pid, unix.SIGKILL)
		if !r.OwnPID { // no PID namespace to take the rest with it
			for _, pid := range cg.Procs() {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		if err := waitGone(r.Pid, r.PidStart, 10*time.Second); err != nil {
			return fmt.Errorf("container %s: %v", id, err)
		}
	}
	st := r.state(dir)
	if err := cg.Destroy(); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if r.Hooks != nil {
		warnHooks(r.Hooks.Poststop, st)
	}
	return nil
}

// endregion delete

// Run is `run ID`: create and start; without --detach, wait for the
// container (our child: we cloned it) and delete it, exiting with its
// status.
func Run(g *Global, id string, o CreateOpts, detach, keep bool) (int, error) {
	c, err := prepare(g, id, o)
	if err != nil {
		return 1, err
	}
	if err := Start(g, id); err != nil {
		c.abort()
		return 1, err
	}
	if detach {
		return 0, nil
	}
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(c.pid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	code := ws.ExitStatus()
	if ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	if !keep {
		if err := Delete(g, id, true); err != nil {
			return code, err
		}
	}
	return code, nil
}

// List is `list [--format table|json]`.
func List(g *Global, format string) error {
	ents, _ := os.ReadDir(g.Root)
	var states []State
	for _, e := range ents {
		if r, dir, err := g.load(e.Name()); err == nil {
			states = append(states, r.state(dir))
		}
	}
	if format == "json" {
		if states == nil {
			states = []State{}
		}
		b, _ := json.Marshal(states)
		fmt.Println(string(b))
		return nil
	}
	fmt.Printf("%-20s %-8s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")
	for _, s := range states {
		fmt.Printf("%-20s %-8d %-10s %-40s %-31s %s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
	}
	return nil
}

// Ps is `ps [--format json] ID`: the host PIDs in the container's cgroup.
func Ps(g *Global, id, format string) error {
	r, _, err := g.load(id)
	if err != nil {
		return err
	}
	pids := cgroups.At(r.Cgroup, r.Cpuset).Procs()
	if format == "json" {
		if pids == nil {
			pids = []int{}
		}
		b, _ := json.Marshal(pids)
		fmt.Println(string(b))
		return nil
	}
	fmt.Println("PID")
	for _, p := range pids {
		fmt.Println(p)
	}
	return nil
}

// Pause and Resume are the freezer (minidocker pause's).
func Pause(g *Global, id string, freeze bool) error {
	r, dir, err := g.load(id)
	if err != nil {
		return err
	}
	st := r.status(dir)
	cg := cgroups.At(r.Cgroup, r.Cpuset)
	switch {
	case freeze && st == "running":
		return cg.Freeze()
	case !freeze && st == "paused":
		return cg.Thaw()
	}
	return fmt.Errorf("container %s is %s", id, st)
}

// waitGone waits for a process that is not our child to exit: a pidfd
// (pidfd_open(2)) becomes readable when it does, so poll(2) wakes at the
// exit itself. The start time checked after the open says the pidfd is
// the container's process, not a later one with its PID.
func waitGone(pid int, start uint64, limit time.Duration) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil { // gone already (ESRCH), or a kernel before 5.3: poll
		for deadline := time.Now().Add(limit); alive(pid, start); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				return errors.New("still running after SIGKILL")
			}
		}
		return nil
	}
	defer unix.Close(fd)
	if !alive(pid, start) {
		return nil
	}
	for deadline := time.Now().Add(limit); ; {
		left := time.Until(deadline)
		if left <= 0 {
			return errors.New("still running after SIGKILL")
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(left.Milliseconds())+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n > 0 {
			return err
		}
	}
}

// region update
// Update is `update ID`: new limits written into the running container's
// group (the shell: echo 200 > /sys/fs/cgroup/pids/.../pids.max), from a
// linux.resources document (--resources FILE, or - for stdin: what
// containerd's shim sends) and runc's flags, which override it. Limits it
// does not name stay as they are.
func Update(g *Global, id string, resources io.Reader, flags map[string]string) error {
	rec, dir, err := g.load(id)
	if err != nil {
		return err
	}
	if st := rec.status(dir); st == "stopped" {
		return fmt.Errorf("container %s is stopped: nothing to update", id)
	}
	l, err := updateLimits(resources, flags)
	if err != nil {
		return err
	}
	return cgroups.At(rec.Cgroup, rec.Cpuset).Update(l)
}

// endregion update

// updateLimits reads update's document and flags into the limits to
// write. Everything is checked before a file is touched: a refusal leaves
// the container's limits as they were.
func updateLimits(resources io.Reader, flags map[string]string) (cgroups.Limits, error) {
	r := &Resources{}
	if resources != nil {
		var err error
		if r, err = ParseResources(resources); err != nil {
			return cgroups.Limits{}, err
		}
	}
	if err := updateFlags(r, flags); err != nil {
		return cgroups.Limits{}, err
	}
	if err := r.Check(); err != nil {
		return cgroups.Limits{}, fmt.Errorf("update: %v", err)
	}
	if len(r.Devices) > 0 {
		return cgroups.Limits{}, errNotYet("device rules in update (the fence is set at create)")
	}
	// -1 is "no limit": at create that is the default, nothing to write;
	// in an update it would lift a limit, which this runtime does not do.
	if (r.Memory != nil && ((r.Memory.Limit != nil && *r.Memory.Limit == -1) || (r.Memory.Swap != nil && *r.Memory.Swap == -1 && r.Memory.Limit == nil))) ||
		(r.Pids != nil && r.Pids.Limit == -1) {
		return cgroups.Limits{}, errors.New("update: -1 (no limit) cannot lift a limit of a running container here: give a number")
	}
	return limits(r)
}

// updateFlags puts runc update's flags into r.
func updateFlags(r *Resources, flags map[string]string) error {
	for name, v := range flags {
		if v == "" {
			continue
		}
		if name == "cpuset-cpus" || name == "cpuset-mems" {
			if r.CPU == nil {
				r.CPU = &CPU{}
			}
			if name == "cpuset-cpus" {
				r.CPU.Cpus = v
			} else {
				r.CPU.Mems = v
			}
			continue
		}
		var n int64
		var err error
		if name == "memory" || name == "memory-swap" {
			n, err = cgroups.ParseBytes(v)
		} else {
			n, err = strconv.ParseInt(v, 10, 64)
		}
		if err != nil {
			return fmt.Errorf("--%s %q: %v", name, v, err)
		}
		if r.Memory == nil && (name == "memory" || name == "memory-swap") {
			r.Memory = &Memory{}
		}
		if r.CPU == nil && strings.HasPrefix(name, "cpu-") {
			r.CPU = &CPU{}
		}
		switch name {
		case "memory":
			r.Memory.Limit = &n
		case "memory-swap":
			r.Memory.Swap = &n
		case "cpu-quota":
			r.CPU.Quota = &n
		case "cpu-period", "cpu-share":
			if n < 0 {
				return fmt.Errorf("--%s %d: not negative", name, n)
			}
			u := uint64(n)
			if name == "cpu-period" {
				r.CPU.Period = &u
			} else {
				r.CPU.Shares = &u
			}
		case "pids-limit":
			r.Pids = &Pids{Limit: n}
		default:
			return fmt.Errorf("update: unknown flag --%s", name)
		}
	}
	return nil
}
