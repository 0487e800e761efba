//go:build linux

package pid1

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/inroot"
	"golang.org/x/sys/unix"
)

// region masks
// maskPaths hides files of /proc and /sys that tell or change the host's
// kernel (runc's and Docker's default list): a file gets /dev/null bound
// over it (`mount --bind /dev/null /proc/kcore`: reading it gives
// nothing), a directory an empty read-only tmpfs. What the kernel does
// not have is skipped.
func (in *initProc) maskPaths() error {
	for _, p := range in.spec.MaskedPaths {
		fi, err := os.Lstat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.IsDir() {
			err = in.mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, "size=0")
		} else {
			in.trace("mount --bind /dev/null %s", p)
			err = unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("mask %s: %v", p, err)
		}
	}
	return nil
}

// readonlyPaths makes the writable places of /proc that reach the kernel
// read-only: /proc/sys (every sysctl), /proc/sysrq-trigger (`echo b >` it
// reboots the host), /proc/irq, /proc/bus, /proc/fs. A bind mount of the
// path onto itself, then a remount of that bind with MS_RDONLY; the flags
// /proc already has (nosuid, nodev, noexec) are kept, as a user namespace
// refuses a remount that would clear them (they are locked).
func (in *initProc) readonlyPaths() error {
	for _, p := range in.spec.ReadonlyPaths {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			continue
		}
		in.trace("mount --bind %s %s && mount -o remount,bind,ro %s", p, p, p)
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("read-only %s: %v", p, err)
		}
		if err := unix.Mount(p, p, "", lockedFlags(p)|unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("read-only %s: %v", p, err)
		}
	}
	return nil
}

// endregion masks

// lockedFlags are the per-mount flags path's mount has that a remount
// must repeat: statfs(2)'s f_flags.
func lockedFlags(path string) uintptr {
	var st unix.Statfs_t
	if unix.Statfs(path, &st) != nil {
		return 0
	}
	var flags uintptr
	for _, f := range []struct{ st, ms uintptr }{{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC}, {unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME}} {
		if uintptr(st.Flags)&f.st != 0 {
			flags |= f.ms
		}
	}
	return flags
}

// region tmpfs
// tmpfs mounts --tmpfs DST:OPTIONS, DST resolved inside the container's
// root as a volume's is. Docker's defaults: nosuid, nodev, noexec (exec,
// suid, dev undo them); size=, mode=, uid=, gid= go to tmpfs itself.
func (in *initProc) tmpfs(root int, entry string) error {
	dst, opts, _ := strings.Cut(entry, ":")
	flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	var data []string
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "":
		case "ro":
			flags |= unix.MS_RDONLY
		case "rw":
			flags &^= unix.MS_RDONLY
		case "exec", "suid", "dev":
			flags &^= map[string]uintptr{"exec": unix.MS_NOEXEC, "suid": unix.MS_NOSUID, "dev": unix.MS_NODEV}[o]
		case "noexec", "nosuid", "nodev":
			flags |= map[string]uintptr{"noexec": unix.MS_NOEXEC, "nosuid": unix.MS_NOSUID, "nodev": unix.MS_NODEV}[o]
		default:
			data = append(data, o)
		}
	}
	target, err := inroot.MkdirAll(root, dst, 0755)
	if err != nil {
		return fmt.Errorf("--tmpfs %s: %v", dst, err)
	}
	defer unix.Close(target)
	in.trace("mount -t tmpfs -o %s tmpfs %s  # %s resolved inside the container's root", optionString(flags, strings.Join(data, ",")), filepath.Join(in.spec.Merged, dst), dst)
	if err := unix.Mount("tmpfs", inroot.ProcPath(target), "tmpfs", flags, strings.Join(data, ",")); err != nil {
		return fmt.Errorf("--tmpfs %s: mount: %v", dst, err)
	}
	return nil
}

// endregion tmpfs

// region devices
// makeDevice makes one device node of the container: "TYPE MAJOR MINOR
// MODE PATH [HOSTPATH]", as `mknod PATH TYPE MAJOR MINOR`. In a user namespace
// mknod(2) is refused (a device is the host's, whoever its owner inside):
// the host's node is bind-mounted onto an empty file instead, from the
// descriptor opened before pivot_root (hostDevs).
func (in *initProc) makeDevice(root, dev string) error {
	typ, major, minor, mode, name, _, err := parseDevice(dev)
	if err != nil {
		return err
	}
	fd, bind := in.hostDevs[name]
	path := root + name
	if err := os.MkdirAll(filepath.Dir(path), 0755); err != nil {
		return err
	}
	if bind {
		if err := os.WriteFile(path, nil, 0644); err != nil {
			return err
		}
		in.trace("mount --bind /dev/%s %s  # no mknod in a user namespace", filepath.Base(path), path)
		return unix.Mount(inroot.ProcPath(fd), path, "", unix.MS_BIND, "")
	}
	kind := uint32(unix.S_IFCHR)
	if typ == "b" {
		kind = unix.S_IFBLK
	}
	if err := unix.Mknod(path, kind|mode, int(unix.Mkdev(major, minor))); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("mknod %s %s %d %d: %v", path, typ, major, minor, err)
	}
	return os.Chmod(path, os.FileMode(mode)) // mknod's mode went through the umask
}

// openHostDevices opens, before pivot_root hides the host's /dev, the
// nodes a user namespace will bind-mount instead of making them.
func (in *initProc) openHostDevices() error {
	in.hostDevs = map[string]int{}
	for _, dev := range in.devices() {
		_, _, _, _, path, host, err := parseDevice(dev)
		if err != nil {
			return err
		}
		fd, err := unix.Open(host, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("device %s: %v", host, err)
		}
		in.hostDevs[path] = fd
	}
	return nil
}

// parseDevice reads "TYPE MAJOR MINOR MODE PATH [HOSTPATH]".
func parseDevice(dev string) (typ string, major, minor, mode uint32, path, host string, err error) {
	f := strings.Fields(dev)
	if len(f) == 5 {
		f = append(f, f[4])
	}
	if len(f) != 6 || (f[0] != "c" && f[0] != "b") || !strings.HasPrefix(f[4], "/dev/") {
		return "", 0, 0, 0, "", "", fmt.Errorf("bad device %q", dev)
	}
	if _, err = fmt.Sscanf(f[1]+" "+f[2]+" "+f[3], "%d %d %o", &major, &minor, &mode); err != nil {
		return "", 0, 0, 0, "", "", fmt.Errorf("bad device %q", dev)
	}
	return f[0], major, minor, mode, f[4], f[5], nil
}

// devices are the harmless nodes every container has, then the spec's.
func (in *initProc) devices() []string {
	return append([]string{"c 1 3 666 /dev/null", "c 1 5 666 /dev/zero", "c 1 7 666 /dev/full",
		"c 1 8 666 /dev/random", "c 1 9 666 /dev/urandom", "c 5 0 666 /dev/tty"}, in.spec.Devices...)
}

// endregion devices

// region pivot
// beforePivot does what needs the host's tree, still visible: --tmpfs
// mounts (resolved inside the container's root, as volumes are), and in
// a user namespace all of /proc, /sys and /dev: the kernel lets a user
// namespace mount proc or sysfs only while one it can see whole is
// mounted in its mount namespace (mount_too_revealing), and bind the
// host's device nodes only while their mount is still there.
func (in *initProc) beforePivot() error {
	s := in.spec
	root, err := unix.Open(s.Merged, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	for _, t := range s.Tmpfs {
		if err := in.tmpfs(root, t); err != nil {
			return err
		}
	}
	if !s.Userns {
		return nil
	}
	if err := in.openHostDevices(); err != nil {
		return err
	}
	return in.mountSpecial(s.Merged)
}

// afterPivot, inside the container's root: the user (from its own
// /etc/passwd), a -w directory that does not exist yet (made and owned
// by that user, so that a non-root user can work in it), HOME when the
// environment has none, then --read-only.
func (in *initProc) afterPivot() error {
	s := &in.spec
	var err error
	if in.id, err = lookupUser(s.Priv.User); err != nil {
		return errorf(125, "%v", err)
	}
	if s.Cwd != "" {
		if err := mkdirOwned(s.Cwd, in.id); err != nil {
			return errorf(125, "cannot make the working directory %s: %v", s.Cwd, err)
		}
	}
	home := false
	for _, kv := range s.Env {
		home = home || strings.HasPrefix(kv, "HOME=")
	}
	if !home {
		s.Env = append(s.Env, "HOME="+in.id.home)
	}
	if s.ReadonlyRoot {
		in.trace("mount -o remount,bind,ro /  # --read-only")
		if err := unix.Mount("", "/", "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("--read-only: remount / read-only: %v", err)
		}
	}
	return nil
}

// mkdirOwned is `mkdir -p DIR` whose new directories belong to the user
// (Docker makes them root's: a --user then cannot write in its own -w).
func mkdirOwned(dir string, id identity) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirOwned(parent, id); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return os.Lchown(dir, int(id.uid), int(id.gid))
}

// endregion pivot

// region attach
// attachLayers receives the idmapped mounts of the image's layers (made by
// the parent: open_tree + mount_setattr, detached) and attaches each, in
// our own mount namespace, on its mount point: move_mount(2), the new
// mount API's `mount --move`. overlayfs takes only attached mounts as
// layers.
func (in *initProc) attachLayers() error {
	points := in.spec.Lower[1:]
	buf, oob := make([]byte, 16), make([]byte, unix.CmsgSpace(4*len(points)))
	n, oobn, _, _, err := unix.Recvmsg(int(in.status.Fd()), buf, oob, 0)
	if err != nil || string(buf[:n]) != "layers" {
		return fmt.Errorf("receiving the idmapped layers: %v", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return fmt.Errorf("receiving the idmapped layers: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != len(points) {
		return fmt.Errorf("receiving the idmapped layers: %d of %d (%v)", len(fds), len(points), err)
	}
	for i, fd := range fds {
		unix.CloseOnExec(fd)
		in.trace("mount --move /proc/self/fd/%d %s  # move_mount(MOVE_MOUNT_F_EMPTY_PATH): an idmapped layer", fd, points[i])
		err := unix.MoveMount(fd, "", unix.AT_FDCWD, points[i], unix.MOVE_MOUNT_F_EMPTY_PATH)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("attach the idmapped layer %s: %v", points[i], err)
		}
	}
	return nil
}

// endregion attach
