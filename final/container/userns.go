//go:build linux

package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/security"
	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// userns is a container's own user namespace (--userns=private): root in
// the container is uid uids.Start on the host, a uid no file of the host
// belongs to, with no capability outside the namespace.
type userns struct {
	uids, gids security.IDRange
}

// usernsOf is the container's user namespace, nil for --userns=host.
func usernsOf(c *state.Container) (*userns, error) {
	if c.HostConfig.UsernsMode != "private" {
		return nil, nil
	}
	uids, gids, err := security.RemapRanges()
	if err != nil {
		return nil, errorf(125, "%v", err)
	}
	return &userns{uids: uids, gids: gids}, nil
}

// region usernsclone
// clone adds the user namespace to init's clone: CLONE_NEWUSER with the
// others, so that the user namespace owns them (init has its
// capabilities over its own mounts, hostname and network, none over the
// host's), and the maps Go writes into /proc/PID/uid_map and gid_map
// before init execs, as `unshare --user --map-users=0:100000:65536` would.
// Init then becomes root of the namespace (setresuid(0) inside).
func (u *userns) clone(flags *int, sys *syscall.SysProcAttr) {
	*flags |= unix.CLONE_NEWUSER
	sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(u.uids.Start), Size: int(u.uids.Count)}}
	sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(u.gids.Start), Size: int(u.gids.Count)}}
	sys.GidMappingsEnableSetgroups = true // the container's root may set groups (--user's)
	sys.Credential = &syscall.Credential{Uid: 0, Gid: 0}
}

// endregion usernsclone

// ownDirs gives the container's writable layer to its root: upper, work
// and the init layer belong to the mapped uid, and the container's
// directory (0710, group: the mapped gid) and the one above it (0711)
// let that uid through to them, and no other user of the host.
func (u *userns) ownDirs(dir string) error {
	uid, gid := int(u.uids.Start), int(u.gids.Start)
	if err := os.Chmod(filepath.Dir(dir), 0711); err != nil {
		return err
	}
	if err := os.Chown(dir, 0, gid); err != nil {
		return err
	}
	for _, d := range []string{"upper", "work", "init", "init/etc"} {
		if err := os.Chown(filepath.Join(dir, d), uid, gid); err != nil {
			return err
		}
	}
	return nil
}

// ownInitLayer gives the container's root its /etc/hosts, hostname and
// resolv.conf.
func (u *userns) ownInitLayer(dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "init", "etc", "*"))
	for _, f := range files {
		os.Lchown(f, int(u.uids.Start), int(u.gids.Start))
	}
}

// region layers
// layers makes the image's layers usable by the container's root, whose
// host uid owns none of their files. Where the kernel can, an idmapped
// mount of each layer (Linux 5.12, overlayfs on top of one since 5.19;
// the filesystem must support it: ext4, xfs, btrfs; tmpfs since 6.3):
// open_tree(2) clones the layer's mount, mount_setattr(2) with
// MOUNT_ATTR_IDMAP and init's user namespace makes uid 0 on disk appear
// as the namespace's root, nothing copied. The mounts are detached (in
// no mount namespace yet): their descriptors go to init, which attaches
// them inside its own (move_mount) and stacks the overlay on them.
// Elsewhere, a chown copy of each layer, once per image
// (image.ShiftedLowerDirs; MINIDOCKER_USERNS_COPY=1 forces it, to compare).
// It returns the lower dirs and the descriptors.
func (u *userns) layers(im *image.Image, dir string, pid int) ([]string, []int, error) {
	start := time.Now()
	lower, fds, err := idmapped(im.LowerDirs(), dir, pid)
	if err == nil && os.Getenv("MINIDOCKER_USERNS_COPY") != "" { // to compare the two (TestSecurityUserns, docs/10-security.md)
		closeAll(fds)
		err = errors.New("MINIDOCKER_USERNS_COPY is set")
	}
	if err == nil {
		trace("# idmapped mounts of %d layers (open_tree + mount_setattr MOUNT_ATTR_IDMAP): %s", len(fds), time.Since(start).Round(time.Microsecond))
		return lower, fds, nil
	}
	trace("# no idmapped mounts here (%v): chown copies of the layers", err)
	lower, err = im.ShiftedLowerDirs(u.uids.Start, u.gids.Start)
	return lower, nil, err
}

// idmapped clones and idmaps each layer; the mount points it returns are
// empty directories of the container's, where init attaches them.
func idmapped(layers []string, dir string, pid int) ([]string, []int, error) {
	ns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	defer unix.Close(ns)
	var lower []string
	var fds []int
	fail := func(err error) ([]string, []int, error) {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, nil, err
	}
	for i, l := range layers {
		trace("mount --bind --map-users=... %s  # open_tree(OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_IDMAP)", l)
		fd, err := unix.OpenTree(unix.AT_FDCWD, l, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return fail(err)
		}
		fds = append(fds, fd)
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns)}
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
			return fail(err)
		}
		point := filepath.Join(dir, "layers", fmt.Sprint(i))
		if err := os.MkdirAll(point, 0755); err != nil && !errors.Is(err, os.ErrExist) {
			return fail(err)
		}
		lower = append(lower, point)
	}
	return lower, fds, nil
}

// endregion layers

func uidStart(u *userns) uint32 {
	if u == nil {
		return 0
	}
	return u.uids.Start
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
