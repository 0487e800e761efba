//go:build linux

package pid1

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/minidocker/build-your-own-docker/final/inroot"
	"golang.org/x/sys/unix"
)

// OCISpec is what minidocker-runc's create sends the init of an OCI
// container (fd 3), from a config.json it has checked: paths made
// absolute, mount options turned into flags. The init is the same program
// as minidocker's (this package), but an OCI container's init does not
// stay: once `start` opens the exec fifo it becomes process.args (execve),
// so the container's PID is the user's process, as runc's is.
type OCISpec struct {
	Rootfs      string
	Readonly    bool
	Propagation uintptr // rootfsPropagation as MS_* flags, 0 for the default (rslave)
	Mounts      []OCIMount
	Hostname    *string // nil: the UTS namespace is not ours to name
	Sysctl      map[string]string
	Devices     []OCIDevice
	CgroupNS    bool // unshare the cgroup namespace once in the cgroup
	CgroupV2    bool
	UserNS      bool // root of a user namespace: mknod(2) is not ours, device nodes are bind mounts
	Args        []string
	Env         []string
	Cwd         string
	Rlimits     []OCIRlimit
	UID, GID    uint32
	Groups      []uint32 // the supplementary groups
	OOMScoreAdj *int
	Umask       *uint32 // nil: the umask create was run with (022 mostly)
	// Priv are the fences (capabilities, no_new_privs, the seccomp
	// filter), applied by the security code's drop just before execve.
	Priv                       Privileges
	MaskedPaths, ReadonlyPaths []string
	Terminal                   bool // fd 6 is the console socket
}

// OCIMount is one config.json mount, checked.
type OCIMount struct {
	Source, Destination, Type string
	Flags, Propagation        uintptr
	Data                      string
	Bind                      bool
}

// OCIDevice is a device node to make in the container's /dev.
type OCIDevice struct {
	Path         string
	Mode         uint32 // S_IFCHR etc. | permission bits
	Major, Minor uint32
	UID, GID     uint32
}

// OCIRlimit is one setrlimit(2).
type OCIRlimit struct {
	Resource   int
	Soft, Hard uint64
}

// The descriptors an OCI init starts with.
const (
	ociSpecFd    = 3
	ociStatusFd  = 4
	ociFifoFd    = 5
	ociConsoleFd = 6
)

// MainOCI is `minidocker-runc init`: the init of an OCI container.
func MainOCI() {
	for fd := ociSpecFd; fd <= ociConsoleFd; fd++ {
		unix.CloseOnExec(fd)
	}
	status := os.NewFile(ociStatusFd, "status")
	var spec OCISpec
	specFile := os.NewFile(ociSpecFd, "spec")
	b, err := io.ReadAll(specFile)
	specFile.Close()
	if err == nil {
		err = json.Unmarshal(b, &spec)
	}
	in := &initProc{status: status}
	if err == nil {
		err = in.setupOCI(&spec)
	}
	if err != nil {
		fmt.Fprintf(status, "error 1 %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(1)
	}
	if err := in.waitStartAndExec(&spec); err != nil {
		fmt.Fprintf(os.Stderr, "minidocker-runc: %v\n", err)
		code := 1
		var ee *ExitError
		if errors.As(err, &ee) {
			code = ee.Code
		}
		os.Exit(code)
	}
}

// region ocisetup
// setupOCI builds the container's world from config.json, everything but
// the process itself: mounts inside the root (each destination resolved
// there, never on the host), devices, sysctls, the hostname, pivot_root,
// then rlimits, the working directory and the terminal.
func (in *initProc) setupOCI(s *OCISpec) error {
	if s.CgroupNS {
		// Now that the parent has put us in our cgroup: it becomes the
		// root of what the container sees in /proc/self/cgroup.
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare the cgroup namespace: %v", err)
		}
	}
	if s.OOMScoreAdj != nil {
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(fmt.Sprint(*s.OOMScoreAdj)), 0); err != nil {
			return fmt.Errorf("oomScoreAdj: %v", err)
		}
	}
	// Nothing we mount may reach the host: rslave first, whatever
	// rootfsPropagation asks (the host's mounts still reach us). "shared"
	// here, in a copy of the host's mount table, would make our mounts
	// peers of the host's and every mount below would appear on the host
	// too; it is applied to the new root after pivot_root, where the
	// slave link keeps it one-way.
	if err := in.mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return err
	}
	// pivot_root needs the new root to be a mount point: bind it on itself.
	if err := in.mount(s.Rootfs, s.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	root, err := unix.Open(s.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	devTmpfs := false
	for _, m := range s.Mounts {
		if err := in.ociMount(root, m, s.CgroupV2); err != nil {
			return fmt.Errorf("mount %s: %v", m.Destination, err)
		}
		if inroot.Clean(m.Destination) == "dev" && m.Type == "tmpfs" {
			devTmpfs = true
		}
	}
	if devTmpfs { // runc's rule: the default devices when /dev is ours
		if err := defaultDevices(root, s.UserNS); err != nil {
			return err
		}
	}
	for _, d := range s.Devices {
		if err := makeNode(root, d, s.UserNS); err != nil {
			return fmt.Errorf("device %s: %v", d.Path, err)
		}
	}
	if s.Hostname != nil {
		if err := unix.Sethostname([]byte(*s.Hostname)); err != nil {
			return fmt.Errorf("sethostname: %v", err)
		}
	}
	if err := in.pivotRoot(s.Rootfs); err != nil {
		return err
	}
	if s.Propagation != 0 {
		if err := in.mount("", "/", "", s.Propagation, ""); err != nil {
			return err
		}
	}
	for k, v := range s.Sysctl {
		file := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(file, []byte(v), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %v", k, v, err)
		}
	}
	if s.Readonly {
		// The flags the root's mount has are repeated: in a user
		// namespace they are locked, and a remount that drops one fails.
		if err := in.mount("", "/", "", lockedFlags("/")|unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			return err
		}
	}
	in.spec.MaskedPaths, in.spec.ReadonlyPaths = s.MaskedPaths, s.ReadonlyPaths
	if err := in.maskPaths(); err != nil {
		return err
	}
	if err := in.readonlyPaths(); err != nil {
		return err
	}
	for _, r := range s.Rlimits {
		// syscall's, not unix's: Go remembers RLIMIT_NOFILE for execve.
		if err := syscall.Setrlimit(r.Resource, &syscall.Rlimit{Cur: r.Soft, Max: r.Hard}); err != nil {
			return fmt.Errorf("setrlimit %d: %v", r.Resource, err)
		}
	}
	if err := unix.Chdir(s.Cwd); err != nil {
		return errorf(1, "chdir %s: %v", s.Cwd, err)
	}
	if _, err := LookPath(s.Args[0], s.Env); err != nil {
		return err
	}
	if s.Terminal {
		return consoleOCI()
	}
	return nil
}

// endregion ocisetup

// region ocimount
// ociMount is one config.json mount. The destination is a path of the
// container's, resolved inside its root (openat2 RESOLVE_IN_ROOT), made
// if missing, and the mount goes onto the descriptor that lookup returned.
func (in *initProc) ociMount(root int, m OCIMount, v2 bool) error {
	if m.Bind {
		fi, err := os.Stat(m.Source)
		if err != nil {
			return err
		}
		target, err := mountpoint(root, m.Destination, fi.IsDir())
		if err != nil {
			return err
		}
		defer unix.Close(target)
		at := inroot.ProcPath(target)
		if err := in.mount(m.Source, at, "", m.Flags&(unix.MS_BIND|unix.MS_REC), ""); err != nil {
			return err
		}
		if rest := m.Flags &^ (unix.MS_BIND | unix.MS_REC); rest != 0 {
			// ro, nosuid...: only a remount applies them to a bind mount.
			mounted, err := inroot.Open(root, m.Destination, unix.O_PATH)
			if err != nil {
				return err
			}
			defer unix.Close(mounted)
			at := inroot.ProcPath(mounted)
			if err := in.mount("", at, "", lockedFlags(at)|unix.MS_BIND|unix.MS_REMOUNT|rest, ""); err != nil {
				return err
			}
		}
		return in.propagate(root, m)
	}
	target, err := inroot.MkdirAll(root, m.Destination, 0755)
	if err != nil {
		return err
	}
	defer unix.Close(target)
	at := inroot.ProcPath(target)
	switch {
	case m.Type == "cgroup" && v2, m.Type == "cgroup2":
		err = in.mount("cgroup2", at, "cgroup2", m.Flags, "")
	case m.Type == "cgroup":
		// cgroup v1: the host's hierarchies, read-only all the way down
		// (mount_setattr with AT_RECURSIVE; a remount would reach only
		// the top mount).
		if err = in.mount("/sys/fs/cgroup", at, "", unix.MS_BIND|unix.MS_REC, ""); err == nil && m.Flags&unix.MS_RDONLY != 0 {
			var mounted int
			if mounted, err = inroot.Open(root, m.Destination, unix.O_PATH); err == nil {
				err = unix.MountSetattr(mounted, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE,
					&unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC})
				unix.Close(mounted)
			}
		}
	default:
		err = in.mount(m.Source, at, m.Type, m.Flags, m.Data)
	}
	if err != nil {
		return err
	}
	return in.propagate(root, m)
}

// endregion ocimount

func (in *initProc) propagate(root int, m OCIMount) error {
	if m.Propagation == 0 {
		return nil
	}
	fd, err := inroot.Open(root, m.Destination, unix.O_PATH)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return in.mount("", inroot.ProcPath(fd), "", m.Propagation, "")
}

// defaultDevices are the nodes every OCI container has in /dev, with
// their links (runtime-spec, "Default Devices").
func defaultDevices(root int, userNS bool) error {
	dev, err := inroot.Open(root, "/dev", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(dev)
	for _, d := range []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}} {
		if err := makeNode(root, OCIDevice{Path: "/dev/" + d.name, Mode: unix.S_IFCHR | 0666, Major: d.major, Minor: d.minor}, userNS); err != nil {
			return fmt.Errorf("mknod /dev/%s: %v", d.name, err)
		}
	}
	for link, target := range map[string]string{"ptmx": "pts/ptmx", "fd": "/proc/self/fd",
		"stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := unix.Symlinkat(target, dev, link); err != nil && err != unix.EEXIST {
			return fmt.Errorf("ln -s %s /dev/%s: %v", target, link, err)
		}
	}
	return nil
}

// makeNode is mknod inside the root, in a parent resolved there. In a
// user namespace mknod(2) is refused (a device node would be a way to the
// host's disks), so the host's node of the same path is bind-mounted onto
// an empty file instead, as runc does: the device cgroup still decides.
func makeNode(root int, d OCIDevice, userNS bool) error {
	dir, base := inroot.Split(d.Path)
	parent, err := inroot.MkdirAll(root, dir, 0755)
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	unix.Unlinkat(parent, base, 0) // a node the image or a mount left there
	if userNS {
		fd, err := unix.Openat(parent, base, unix.O_CREAT|unix.O_EXCL|unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0600)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Mount(d.Path, inroot.ProcPath(fd), "", unix.MS_BIND, "")
	}
	if err := unix.Mknodat(parent, base, d.Mode, int(unix.Mkdev(d.Major, d.Minor))); err != nil {
		return err
	}
	// Fchmodat: the umask took bits from mknod's mode.
	if err := unix.Fchmodat(parent, base, d.Mode&07777, 0); err != nil {
		return err
	}
	return unix.Fchownat(parent, base, int(d.UID), int(d.GID), unix.AT_SYMLINK_NOFOLLOW)
}

// region console
// consoleOCI is the console socket's protocol (runc's, which containerd's
// shim and conmon speak): a pty made in the container's own devpts, its
// master sent over the socket in one message (the data: the pty's name;
// SCM_RIGHTS: the master), no reply; the slave becomes stdin, stdout,
// stderr, the controlling terminal and /dev/console.
func consoleOCI() error {
	master, slave, err := OpenPty()
	if err != nil {
		return fmt.Errorf("open pty: %v", err)
	}
	defer master.Close()
	defer slave.Close()
	if err := SendFd(ociConsoleFd, slave.Name(), master); err != nil {
		return fmt.Errorf("console socket: %v", err)
	}
	unix.Close(ociConsoleFd)
	if fi, err := os.Stat("/dev/console"); err == nil || os.IsNotExist(err) {
		if os.IsNotExist(err) || !fi.IsDir() {
			f, _ := os.OpenFile("/dev/console", os.O_CREATE|os.O_RDONLY, 0600)
			f.Close()
			if err := unix.Mount(slave.Name(), "/dev/console", "", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("bind %s to /dev/console: %v", slave.Name(), err)
			}
		}
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup2(int(slave.Fd()), fd); err != nil {
			return err
		}
	}
	if _, err := unix.Setsid(); err != nil {
		return err
	}
	return unix.IoctlSetInt(0, unix.TIOCSCTTY, 0)
}

// endregion console

// region fifo
// waitStartAndExec tells create that the container is ready, then blocks
// in open(2) of the exec fifo until `start` opens its other end, and
// becomes process.args. The fifo is reopened through /proc/self/fd: the
// descriptor create gave us is O_PATH (opening the fifo itself for
// writing would block create too).
func (in *initProc) waitStartAndExec(s *OCISpec) error {
	fmt.Fprintln(in.status, "ok")
	in.status.Close()
	fifo, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", ociFifoFd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the exec fifo: %v", err)
	}
	if _, err := unix.Write(fifo, []byte("0")); err != nil {
		return fmt.Errorf("write the exec fifo: %v", err)
	}
	unix.Close(fifo)
	unix.Close(ociFifoFd)
	if s.Umask != nil {
		unix.Umask(int(*s.Umask & 0777)) // process.user.umask: the mode bits new files lose
	}
	path, err := LookPath(s.Args[0], s.Env)
	if err != nil {
		return err
	}
	// No descriptor the runtime's caller left open (without O_CLOEXEC)
	// reaches the container: stdin, stdout and stderr only. Before the
	// fences: a seccomp profile older than close_range(2) (Linux 5.9)
	// refuses it with EPERM.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("close_range: %v", err)
	}
	// The user and the fences, for every thread (the one that execs
	// among them), by the security code's drop.
	if err := drop(s.Priv, identity{uid: s.UID, gid: s.GID, groups: s.Groups}, true); err != nil {
		return err
	}
	err = unix.Exec(path, s.Args, s.Env)
	return errorf(126, "exec %s: %v", filepath.Clean(path), err)
}

// endregion fifo
