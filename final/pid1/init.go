//go:build linux

package pid1

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/minidocker/build-your-own-docker/final/inroot"
	"github.com/minidocker/build-your-own-docker/final/overlay"
	"golang.org/x/sys/unix"
)

// The container's init joins another container's network namespace
// (--network container:C) with setns(2), which moves only the calling
// thread. Locked to the main thread from the start (an init function runs
// there), the main goroutine stays on the thread that joined: the command
// it forks and /proc/PID/ns/net (the main thread's) are both in C's
// namespace.
func init() {
	if len(os.Args) > 2 && os.Args[1] == "init" {
		runtime.LockOSThread()
	}
}

// Main is the program `minidocker init` and minidocker-init: it refuses to
// run anywhere but as a container's PID 1, then runs Init and exits.
func Main() {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "minidocker: init is minidocker's own container init; it runs only as a container's PID 1")
		os.Exit(125)
	}
	Init()
}

// Init is the container's PID 1: `minidocker init`, started by clone(2) in
// the new namespaces. fd 3 brings the Spec, fd 4 takes back traces and the
// outcome ("ok", or "error CODE MESSAGE").
func Init() {
	unix.CloseOnExec(3) // the user's command must not inherit them
	unix.CloseOnExec(4)
	// Not dumpable: no process of the container may ptrace us or open
	// /proc/1/exe (the host's minidocker-init: CVE-2019-5736 overwrote
	// runc's binary that way) or /proc/1/mem without CAP_SYS_PTRACE.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	status := os.NewFile(4, "status")
	// Catch signals before the command exists: PID 1 gets no signal it has
	// no handler for, so one sent early would be lost. These are what stop,
	// Ctrl-C and a terminal send; the rest (for `kill -s`) are caught once
	// the command runs (supervise): registering a handler is a round trip
	// between two of the Go runtime's threads, and ~60 of them take
	// milliseconds.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT,
		unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH, unix.SIGCONT)
	var spec Spec
	// The parent writes the spec only after it has put us in the cgroup and
	// wired the network: reading it to EOF is also the "go ahead".
	b, err := io.ReadAll(os.NewFile(3, "spec"))
	if err == nil {
		err = spec.Decode(b)
	}
	if err != nil {
		exe, _ := os.Executable()
		fmt.Fprintf(status, "error 125 %s: reading the spec: %v (rebuild both: make minidocker)\n", exe, err)
		os.Exit(125)
	}
	in := &initProc{spec: spec, status: status}
	var pid int
	if spec.JoinNetNS != "" { // first, while /proc is still the host's
		in.trace("nsenter --net=%s", spec.JoinNetNS)
		err = joinNetNS(spec.JoinNetNS)
	}
	if err == nil {
		pid, err = in.setup()
	}
	if err != nil {
		code := 125
		var ee *ExitError
		if errors.As(err, &ee) {
			code = ee.Code
		}
		fmt.Fprintf(status, "error %d %s\n", code, strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(code)
	}
	fmt.Fprintf(status, "ok %d\n", pid)
	status.Close()
	os.Exit(in.supervise(pid, sigs))
}

type initProc struct {
	spec     Spec
	status   *os.File
	id       identity       // who the command runs as (--user)
	hostDevs map[string]int // in a user namespace: the host's device nodes, opened before pivot_root
}

func (in *initProc) trace(format string, a ...any) {
	if in.spec.Debug {
		fmt.Fprintf(in.status, "trace "+format+"\n", a...)
	}
}

// region setup
// setup builds the container's world from inside its namespaces, then
// starts the user's command as our child.
func (in *initProc) setup() (int, error) {
	s := in.spec
	in.trace("hostname %s", s.Hostname)
	if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
		return 0, fmt.Errorf("sethostname: %v", err)
	}
	// Nothing we mount may propagate back to the host (systemd makes / shared).
	if err := in.mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return 0, err
	}
	if s.IdmapLayers {
		if err := in.attachLayers(); err != nil {
			return 0, err
		}
	}
	// The layers, stacked: the image's read-only layers and the init layer
	// below, the container's writable layer on top (copy-on-write). run
	// --rm's container layer is deleted at exit, so it need not reach the
	// disk: "volatile" (Linux 5.10+) skips every sync of the upper layer,
	// the one at unmount too, which would otherwise wait for the writeback
	// of the whole host filesystem below it (podman does the same for --rm).
	if err := overlay.Mount(s.Merged, s.Lower, s.Upper, s.Work, s.Volatile, in.trace); err != nil {
		return 0, err
	}
	for _, m := range s.Mounts {
		if err := in.bind(m); err != nil {
			return 0, err
		}
	}
	if err := in.beforePivot(); err != nil {
		return 0, err
	}
	if err := in.pivotRoot(s.Merged); err != nil {
		return 0, err
	}
	if !s.Userns {
		if err := in.mountSpecial(""); err != nil {
			return 0, err
		}
	}
	if err := in.protectPaths(); err != nil {
		return 0, err
	}
	if s.NetNS {
		in.trace("ip link set lo up")
		if err := loUp(); err != nil {
			return 0, fmt.Errorf("ip link set lo up: %v", err)
		}
	}
	if err := in.afterPivot(); err != nil {
		return 0, err
	}
	return in.startCommand()
}

// endregion setup

// region bind
// bind mounts a host directory (or file) into the container: -v SRC:DST[:ro].
// DST is a path of the container's, so it is resolved inside the
// container's root (openat2 RESOLVE_IN_ROOT, package inroot), not on the
// host: an image whose /data is a symlink to / or ../../.. gets the bind
// on its own /, never on the host's (runc's CVE-2021-30465 was this). The
// mount goes onto /proc/self/fd/N, the descriptor that lookup returned,
// so no second lookup can be redirected. A read-only bind needs a second
// mount call: MS_RDONLY is ignored on the first MS_BIND, only a remount
// applies it (onto the mount just made: the path is opened again).
func (in *initProc) bind(m Mount) error {
	fi, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("volume %s: %v", m.Source, err)
	}
	root, err := unix.Open(in.spec.Merged, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	target, err := mountpoint(root, m.Destination, fi.IsDir())
	if err != nil {
		return fmt.Errorf("volume target %s: %v", m.Destination, err)
	}
	in.trace("mount --rbind %s %s  # %s resolved inside the container's root", m.Source, filepath.Join(in.spec.Merged, m.Destination), m.Destination)
	err = unix.Mount(m.Source, inroot.ProcPath(target), "", unix.MS_BIND|unix.MS_REC, "")
	unix.Close(target)
	if err != nil {
		return fmt.Errorf("mount --rbind %s %s: %v", m.Source, m.Destination, err)
	}
	if m.RW {
		return nil
	}
	mounted, err := inroot.Open(root, m.Destination, unix.O_PATH)
	if err != nil {
		return err
	}
	defer unix.Close(mounted)
	return in.mount("", inroot.ProcPath(mounted), "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
}

// mountpoint makes (if missing) and opens the mount point dst inside the
// container's root: a directory for a directory, an empty file for a file.
func mountpoint(root int, dst string, dir bool) (int, error) {
	if dir {
		return inroot.MkdirAll(root, dst, 0755)
	}
	parentDir, base := inroot.Split(dst)
	if base == "" {
		return -1, errors.New("a file cannot be mounted on the container's /")
	}
	parent, err := inroot.MkdirAll(root, parentDir, 0755)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Openat(parent, base, unix.O_RDONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0644)
	unix.Close(parent)
	if err == nil {
		unix.Close(fd)
	} else if err != unix.ELOOP && err != unix.EISDIR { // a symlink (followed below, inside the root) or a directory
		return -1, err
	}
	return inroot.Open(root, dst, unix.O_PATH)
}

// endregion bind

// pivotRoot makes dir the root of this mount namespace and drops the old
// root, as step03 does.
func (in *initProc) pivotRoot(dir string) error {
	if err := unix.Chdir(dir); err != nil {
		return err
	}
	in.trace("cd %s && pivot_root . .", dir)
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %v", err)
	}
	in.trace("umount -l .")
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("umount old root: %v", err)
	}
	return unix.Chdir("/")
}

// region special
// mountSpecial mounts /proc, /sys (read-only unless --privileged), a
// minimal /dev, devpts and /dev/shm under root: "" after pivot_root; the
// container's root before it, in a user namespace (see beforePivot). In
// a user namespace that does not own its network namespace (--network
// host), sysfs is refused: the host's /sys is bound instead, as runc does.
func (in *initProc) mountSpecial(root string) error {
	sysFlags := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if in.spec.Privileged {
		sysFlags &^= unix.MS_RDONLY
	}
	for _, m := range []struct {
		src, dst, fs string
		flags        uintptr
		data         string
	}{
		{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		{"sysfs", "/sys", "sysfs", sysFlags, ""},
		{"tmpfs", "/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=65536k"},
	} {
		dst := root + m.dst
		if err := realDir(dst); err != nil {
			return err
		}
		var err error
		if m.fs == "sysfs" && in.spec.Userns && !in.spec.NetNS {
			in.trace("mount --rbind /sys %s  # sysfs of a network namespace we do not own", dst)
			err = unix.Mount("/sys", dst, "", unix.MS_BIND|unix.MS_REC, "")
		} else {
			err = in.mount(m.src, dst, m.fs, m.flags, m.data)
		}
		if err != nil {
			return err
		}
	}
	for _, dev := range in.devices() {
		if err := in.makeDevice(root, dev); err != nil {
			return err
		}
	}
	in.trace("mknod /dev/{null,zero,full,random,urandom,tty}%s", map[bool]string{true: " and the spec's devices", false: ""}[len(in.spec.Devices) > 0])
	for _, dir := range []string{"/dev/pts", "/dev/shm"} {
		os.Mkdir(root+dir, 0755) // on the fresh tmpfs: no image file can be there
	}
	if err := in.mount("devpts", root+"/dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return err
	}
	if err := in.mount("shm", root+"/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size=65536k"); err != nil {
		return err
	}
	for link, target := range map[string]string{"/dev/ptmx": "pts/ptmx", "/dev/fd": "/proc/self/fd",
		"/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2"} {
		os.Symlink(target, root+link)
	}
	return nil
}

// protectPaths masks and write-protects what of /proc and /sys reaches
// the host's kernel (after pivot_root: the paths are the container's).
func (in *initProc) protectPaths() error {
	if err := in.maskPaths(); err != nil {
		return err
	}
	return in.readonlyPaths()
}

// endregion special

// realDir makes dir if it is missing and refuses a symlink: the image
// decides what /proc or /sys are in its tree, and a /proc that is a link
// to elsewhere would put the kernel's files where a volume or an LSM rule
// does not expect them (runc refuses the same, CVE-2019-19921).
func realDir(dir string) error {
	fi, err := os.Lstat(dir)
	if os.IsNotExist(err) {
		return os.Mkdir(dir, 0755)
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errorf(125, "the image's %s is not a directory (%s): refusing to mount over it", dir, fi.Mode().Type())
	}
	return nil
}

// region start
// startCommand forks and execs the user's command. It stays our child: we
// are PID 1, we wait for it, and our exit status is its exit status.
// Just before, init takes on the command's identity and privileges for
// all of its threads (drop), so the command inherits exactly those, and
// init is no more than the command, as tini under `docker run --init`.
// A build with cgo cannot change every thread (the Go runtime does not
// know those C made): it drops them for the main thread only, which the
// command is forked from; see cgoInit.
func (in *initProc) startCommand() (int, error) {
	s := in.spec
	files := []*os.File{os.Stdin, os.Stdout, os.Stderr}
	if s.Tty {
		// The terminal is made here, in the container's own devpts, so
		// `tty` inside says /dev/pts/0; the master goes to the parent.
		master, slave, err := OpenPty()
		if err != nil {
			return 0, fmt.Errorf("open pty: %v", err)
		}
		var rows, cols uint16
		if _, err := fmt.Sscan(s.Winsize, &rows, &cols); err == nil && rows > 0 && cols > 0 {
			in.trace("stty rows %d cols %d  # ioctl(TIOCSWINSZ)", rows, cols)
			unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
		}
		in.trace("# pty %s, master sent to the parent (SCM_RIGHTS)", slave.Name())
		if err := SendFd(int(in.status.Fd()), "pty", master); err != nil {
			return 0, fmt.Errorf("send pty: %v", err)
		}
		master.Close()
		defer slave.Close()
		files = []*os.File{slave, slave, slave}
	}
	attr := &syscall.ProcAttr{Env: s.Env, Files: []uintptr{files[0].Fd(), files[1].Fd(), files[2].Fd()},
		Sys: &syscall.SysProcAttr{Setsid: s.Tty, Setctty: s.Tty, Ctty: 0}}
	if err := cgoInit(s); err != nil {
		return 0, err
	}
	in.trace("setpriv --reuid %d --regid %d --groups %v --bounding-set ... --no-new-privs=%v  # for init and the command; seccomp: %v",
		in.id.uid, in.id.gid, in.id.groups, s.Priv.NoNewPrivs, s.Priv.Seccomp != "")
	if err := drop(s.Priv, in.id, allThreads); err != nil {
		return 0, errorf(125, "cannot take the container's privileges: %v", err)
	}
	path, err := enter(s)
	if err != nil {
		return 0, err
	}
	in.trace("exec %s", strings.Join(s.Args, " "))
	// syscall.ForkExec, not os.StartProcess: no throwaway pidfd probe.
	pid, err := syscall.ForkExec(path, s.Args, attr)
	if err != nil {
		return 0, execError(s.Args[0], path, err)
	}
	return pid, nil
}

// enter goes to the command's working directory and finds the command,
// as the container's user (whose permissions they are).
func enter(s Spec) (string, error) {
	if s.Cwd != "" {
		if err := unix.Chdir(s.Cwd); err != nil {
			return "", errorf(125, "cannot chdir to %s: %v", s.Cwd, err)
		}
	}
	return LookPath(s.Args[0], s.Env)
}

// execError is a failed execve: 127 when the program is not there, 126
// when it cannot be run.
func execError(name, path string, err error) error {
	if errors.Is(err, unix.ENOENT) {
		return errorf(127, "%s: %v", name, &os.PathError{Op: "fork/exec", Path: path, Err: err})
	}
	return errorf(126, "cannot run %s: %v", name, &os.PathError{Op: "fork/exec", Path: path, Err: err})
}

// endregion start

// region supervise
// supervise is what tini does for Docker (docker run --init): PID 1 gets
// every orphan of the container as its child, and a zombie stays in the
// process table until its parent waits for it. So we wait4(-1) for any
// child, again and again; when the user's command ends, we exit with its
// status (and the kernel kills whatever is left in the PID namespace).
// Signals sent to us (docker stop's SIGTERM, Ctrl-C) go on to the command:
// the kernel does not deliver to PID 1 signals it has no handler for.
func (in *initProc) supervise(child int, sigs chan os.Signal) int {
	go func() {
		signal.Notify(sigs) // every other signal too
		for s := range sigs {
			if s == unix.SIGCHLD || s == unix.SIGURG { // ours: SIGURG is Go's preemption signal
				continue
			}
			unix.Kill(child, s.(syscall.Signal))
		}
	}()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil { // ECHILD: nothing left to wait for
			return 125
		}
		if pid != child {
			continue // an orphan, reaped: no zombie left behind
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}

// endregion supervise

// mount is mount(2), traced as mount(8).
func (in *initProc) mount(source, target, fstype string, flags uintptr, data string) error {
	switch {
	case flags&unix.MS_REMOUNT != 0:
		in.trace("mount -o remount,bind,ro %s", target)
	case flags&unix.MS_PRIVATE != 0:
		in.trace("mount --make-rprivate %s", target)
	case flags&unix.MS_BIND != 0:
		in.trace("mount --rbind %s %s", source, target)
	default:
		in.trace("mount -t %s -o %s %s %s", fstype, optionString(flags, data), source, target)
	}
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %v", fstype+source, target, err)
	}
	return nil
}

func optionString(flags uintptr, data string) string {
	var opts []string
	for _, f := range []struct {
		bit  uintptr
		name string
	}{{unix.MS_RDONLY, "ro"}, {unix.MS_NOSUID, "nosuid"}, {unix.MS_NODEV, "nodev"}, {unix.MS_NOEXEC, "noexec"}, {unix.MS_STRICTATIME, "strictatime"}} {
		if flags&f.bit != 0 {
			opts = append(opts, f.name)
		}
	}
	if data != "" {
		opts = append(opts, data)
	}
	if len(opts) == 0 {
		return "defaults"
	}
	return strings.Join(opts, ",")
}

// loUp is `ip link set lo up`: SIOCSIFFLAGS with IFF_UP, on any socket.
func loUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// joinNetNS is `nsenter --net=PATH` for the calling thread: --network
// container:C, done first, while /proc is still the host's.
func joinNetNS(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("--network container: open %s: %v (is the container still running?)", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("--network container: setns %s: %v", path, err)
	}
	return nil
}
