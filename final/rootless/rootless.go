//go:build linux

// Package rootless runs minidocker as an ordinary user (docs/10-security.md):
// the user namespace first, then everything else. A command that needs the
// local engine re-executes itself in a new user namespace (and a mount
// namespace it owns) where the user is root: uid 0 inside is the user's
// own uid outside, and, where /etc/subuid and /etc/subgid give the user a
// range, uids 1..N are that range (newuidmap and newgidmap, setuid helpers
// of the uidmap package, write those maps: only they may map ids that are
// not the caller's own). Inside, minidocker is root of a namespace that
// owns nothing of the host's: it can make the container's namespaces,
// mount overlayfs, /proc and tmpfs, but not write the host's cgroups (unless
// one was delegated to the user), make a bridge, or make device nodes.
package rootless

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"

	"github.com/minidocker/build-your-own-docker/final/security"
	"golang.org/x/sys/unix"
)

// Env marks the re-executed minidocker inside the user namespace. stageEnv
// is set only for the moment between the clone and the maps (see Enter).
const (
	Env      = "MINIDOCKER_ROOTLESS"
	stageEnv = "_MINIDOCKER_ROOTLESS_STAGE"
	killEnv  = "_MINIDOCKER_ROOTLESS_KILL" // the descriptor of the socket to the signaller (see Kill)
)

// On: this process is rootless minidocker, inside its user namespace (root
// there, Env set) or the user itself (exec, see main's chooseEngine).
func On() bool { return unix.Geteuid() != 0 || os.Getenv(Env) == "1" && !initialUserNS() }

// initialUserNS: this process is in the host's user namespace, whose
// uid_map maps every uid to itself.
func initialUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return true
	}
	var inside, outside, count uint64
	fmt.Sscan(string(b), &inside, &outside, &count)
	return inside == 0 && outside == 0 && count == 4294967295
}

// Root is where a rootless user's images and containers live, as Docker
// rootless keeps ~/.local/share/docker: $XDG_DATA_HOME/minidocker, or
// ~/.local/share/minidocker (MINIDOCKER_ROOT overrides both).
func Root() (string, error) {
	if r := os.Getenv("MINIDOCKER_ROOT"); r != "" {
		return r, nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "minidocker"), nil
	}
	if h := os.Getenv("HOME"); filepath.IsAbs(h) && h != "/" && h != "/nonexistent" {
		return filepath.Join(h, ".local", "share", "minidocker"), nil
	}
	return "", fmt.Errorf("rootless: no home directory to keep images and containers in: set HOME, XDG_DATA_HOME or MINIDOCKER_ROOT")
}

// region maps
// idMaps are the uid and gid maps of the user namespace, as
// /proc/PID/uid_map takes them: "0 UID 1" (root inside is the user), then
// "1 START COUNT" for the user's range in /etc/subuid, if any.
type idMaps struct {
	uid, gid     int
	uids, gids   security.IDRange // Count 0: no range
	uidmap, gidm string           // newuidmap, newgidmap ("" if absent)
}

func maps() idMaps {
	m := idMaps{uid: os.Getuid(), gid: os.Getgid()}
	name := strconv.Itoa(m.uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	m.uids, _ = subIDs("/etc/subuid", name, m.uid)
	m.gids, _ = subIDs("/etc/subgid", name, m.uid)
	m.uidmap, _ = exec.LookPath("newuidmap")
	m.gidm, _ = exec.LookPath("newgidmap")
	return m
}

// subIDs is the user's range, by name or by number (both forms are valid
// in /etc/subuid).
func subIDs(file, name string, uid int) (security.IDRange, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return security.IDRange{}, err
	}
	r, err := security.ParseSubIDs(b, name, file)
	if err != nil {
		r, err = security.ParseSubIDs(b, strconv.Itoa(uid), file)
	}
	return r, err
}

// full: a range for both uids and gids, and the helpers to map them.
func (m idMaps) full() bool {
	return m.uids.Count > 0 && m.gids.Count > 0 && m.uidmap != "" && m.gidm != ""
}

// String is the map as unshare(1) would be told it.
func (m idMaps) String() string {
	if m.full() {
		return fmt.Sprintf("0:%d:1,1:%d:%d", m.uid, m.uids.Start, m.uids.Count)
	}
	return fmt.Sprintf("0:%d:1", m.uid)
}

// endregion maps

// region enter
// Enter re-executes minidocker with the same arguments in a new user and
// mount namespace and exits with its status; it returns only on failure.
// Without a range (or without newuidmap), Go writes the one-line maps
// itself before the child execs: the user's own uid and gid may always be
// mapped, with setgroups(2) denied (a user could otherwise drop a group
// that denies it access). With a range, the maps must come from
// newuidmap/newgidmap after the clone, and a process's capabilities are
// computed at execve: so the child first waits (stage "wait") until the
// maps are written, then execs itself once more, as root of the namespace.
func Enter() error {
	root, err := Root()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(root, 0700); err != nil {
		return fmt.Errorf("rootless: %v", err)
	}
	m := maps()
	trace("unshare --user --map-users=%s --mount %s  # rootless: the user namespace first", m, os.Args[0])
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), Env+"=1", "MINIDOCKER_ROOT="+root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS}
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	ours, theirs := os.NewFile(uintptr(sp[0]), "signaller"), os.NewFile(uintptr(sp[1]), "signaller")
	defer ours.Close()
	cmd.ExtraFiles = []*os.File{theirs} // fd 3
	cmd.Env = append(cmd.Env, killEnv+"=3")
	var go_ *os.File
	if m.full() {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		defer r.Close()
		go_ = w
		cmd.ExtraFiles = append(cmd.ExtraFiles, r) // fd 4
		cmd.Env = append(cmd.Env, stageEnv+"=wait")
	} else {
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: m.uid, Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: m.gid, Size: 1}}
		cmd.SysProcAttr.GidMappingsEnableSetgroups = false
	}
	// Ctrl-C and Ctrl-\ reach the child from the terminal (same process
	// group); the signals sent to us alone are passed on.
	signal.Ignore(unix.SIGINT, unix.SIGQUIT)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGHUP)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("rootless: cannot make a user namespace (%v): is kernel.unprivileged_userns_clone (or user.max_user_namespaces) 0 here?", err)
	}
	theirs.Close()
	go signaller(int(ours.Fd()))
	if go_ != nil {
		pid := strconv.Itoa(cmd.Process.Pid)
		err := run(m.uidmap, pid, "0", strconv.Itoa(m.uid), "1", "1", fmt.Sprint(m.uids.Start), fmt.Sprint(m.uids.Count))
		if err == nil {
			err = run(m.gidm, pid, "0", strconv.Itoa(m.gid), "1", "1", fmt.Sprint(m.gids.Start), fmt.Sprint(m.gids.Count))
		}
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return fmt.Errorf("rootless: %v", err)
		}
		go_.Write([]byte("go"))
		go_.Close()
	}
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			os.Exit(128 + int(ws.Signal()))
		}
		os.Exit(ee.ExitCode())
	}
	if err != nil {
		return err
	}
	os.Exit(0)
	return nil
}

func run(prog string, args ...string) error {
	trace("%s %s", filepath.Base(prog), join(args))
	if out, err := exec.Command(prog, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", filepath.Base(prog), join(args), err, out)
	}
	return nil
}

// Continue is the child's first step (called before anything else in
// main): in stage "wait" it blocks until the parent has written the maps,
// then execs itself again, now root of the namespace with its
// capabilities.
func Continue() {
	if os.Getenv(stageEnv) != "wait" {
		if fd, err := strconv.Atoi(os.Getenv(killEnv)); err == nil && fd > 2 {
			killFd = fd // ours alone: not passed on to the monitor or init
			unix.CloseOnExec(fd)
			os.Unsetenv(killEnv)
		}
		return
	}
	os.Unsetenv(stageEnv)
	f := os.NewFile(4, "maps")
	buf := make([]byte, 2)
	if n, _ := f.Read(buf); string(buf[:n]) != "go" {
		os.Exit(125) // the parent failed, and said so
	}
	f.Close()
	err := unix.Exec("/proc/self/exe", os.Args, os.Environ())
	fmt.Fprintf(os.Stderr, "minidocker: rootless: %v\n", err)
	os.Exit(125)
}

// endregion enter

// region signaller
// Kill is kill(2) for a rootless minidocker. Each command runs in a user
// namespace of its own, and the containers of another command (run -d)
// are in that one's: a sibling, where this one has no CAP_KILL. Its
// processes are root's there, so the user's own uid outside, and kill(2)
// checks uids first: that works. But a container whose user is another
// (--user 1000, START+999 outside) can only be signalled with CAP_KILL in
// its namespace, which the user outside has, as its owner. So the first
// minidocker, the user's, stays outside as the signaller: a command that
// gets EPERM asks it over a socket, and it sends the signal itself. It
// can do no more than the user can.
var (
	killFd = -1
	killMu sync.Mutex // one request and its answer at a time
)

func Kill(pid int, sig unix.Signal) error {
	err := unix.Kill(pid, sig)
	if err != unix.EPERM || killFd < 0 {
		return err
	}
	killMu.Lock()
	defer killMu.Unlock()
	trace("kill -%d %d  # by the user outside (the signaller)", sig, pid)
	if _, err := unix.Write(killFd, []byte(fmt.Sprintf("%d %d", pid, sig))); err != nil {
		return err
	}
	b := make([]byte, 16)
	n, err := unix.Read(killFd, b)
	if err != nil {
		return err
	}
	if errno, _ := strconv.Atoi(string(b[:n])); errno != 0 {
		return unix.Errno(errno)
	}
	return nil
}

// signaller answers Kill's requests: "PID SIGNAL", then the errno.
func signaller(fd int) {
	b := make([]byte, 64)
	for {
		n, err := unix.Read(fd, b)
		if err != nil || n == 0 {
			return
		}
		var pid, sig int
		if _, err := fmt.Sscan(string(b[:n]), &pid, &sig); err != nil || pid <= 0 {
			unix.Write(fd, []byte(strconv.Itoa(int(unix.EINVAL))))
			continue
		}
		errno := 0
		if err := unix.Kill(pid, unix.Signal(sig)); err != nil {
			errno = int(err.(unix.Errno))
		}
		unix.Write(fd, []byte(strconv.Itoa(errno)))
	}
}

// endregion signaller
