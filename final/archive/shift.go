//go:build linux

package archive

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// region shift
// Shift moves the owner of dir and of everything below it by uidOff and
// gidOff: `chown -R` by arithmetic, 0 -> 100000, 1000 -> 101000. It
// is the "chown copy" of a layer for a user namespace on a kernel that
// cannot idmap the layer's mount (tmpfs before Linux 6.3, overlayfs layers
// before 5.19), and its reverse (negative offsets) for a commit of such a
// container. chown(2) clears the setuid and setgid bits and a file's
// capabilities (security.capability): they are put back. Nothing is
// followed: the tree is read with walk.
func Shift(dir string, uidOff, gidOff int64) error {
	shift := func(id uint32, off int64) (int, error) {
		n := int64(id) + off
		if n < 0 { // shifting back: an id below the range was never shifted (the layer's own root)
			return int(id), nil
		}
		if n > 1<<32-2 {
			return 0, fmt.Errorf("owner %d cannot be shifted by %d", id, off)
		}
		return int(n), nil
	}
	one := func(fd int, st *unix.Stat_t, chown func(uid, gid int) error) error {
		uid, err := shift(st.Uid, uidOff)
		if err != nil {
			return err
		}
		gid, err := shift(st.Gid, gidOff)
		if err != nil {
			return err
		}
		caps := make([]byte, 64)
		n := -1
		if fd >= 0 {
			n, _ = unix.Fgetxattr(fd, "security.capability", caps)
		}
		if err := chown(uid, gid); err != nil {
			return err
		}
		if fd < 0 {
			return nil
		}
		if st.Mode&(unix.S_ISUID|unix.S_ISGID) != 0 {
			if err := unix.Fchmod(fd, st.Mode&07777); err != nil {
				return err
			}
		}
		if n > 0 {
			unix.Fsetxattr(fd, "security.capability", caps[:n], 0)
		}
		return nil
	}
	root, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	var st unix.Stat_t
	if err := unix.Fstat(root, &st); err != nil {
		return err
	}
	if err := one(root, &st, func(u, g int) error { return unix.Fchown(root, u, g) }); err != nil {
		return err
	}
	return walk(dir, func(n *node) error {
		if fd := n.fd(); fd >= 0 {
			return one(fd, &n.st, func(u, g int) error { return unix.Fchown(fd, u, g) })
		}
		return one(-1, &n.st, func(u, g int) error {
			return unix.Fchownat(root, n.rel, u, g, unix.AT_SYMLINK_NOFOLLOW)
		})
	})
}

// endregion shift
