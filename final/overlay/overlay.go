//go:build linux

// Package overlay mounts a stack of layers with overlayfs, the one place
// minidocker does (the container's root in its init, an image's merged
// view for volumes). Chapter: docs/05-overlay.md; the layer limit:
// docs/11-registry.md.
package overlay

import (
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// region limit
// How many layers one mount can stack. overlayfs itself takes at most 500
// lower layers (OVL_MAX_STACK). mount(2) passes its options as one string
// of at most a page (4096 bytes), so with minidocker's paths
// (/var/lib/minidocker/layers/<64 hex digits>, 92 bytes each) the old API
// stacks about 40. Linux 6.8 added "lowerdir+" to the new mount API
// (fsopen/fsconfig/fsmount): one layer per call, no page limit, the full
// 500. Docker's overlay2 caps images at 128 layers: it mounts through
// 26-byte links (l/ABC...) to fit 128 in the page.
const (
	KernelMaxStack = 500
	pageSize       = 4096
)

var (
	probeOnce  sync.Once
	lowerdirOK bool
)

// LowerdirPlus tells whether this kernel's overlayfs takes "lowerdir+"
// (Linux 6.8+). Asked once: fsopen("overlay") and fsconfig, no mount.
func LowerdirPlus() bool {
	probeOnce.Do(func() {
		accepts := func(key string) bool {
			fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
			if err != nil {
				return false
			}
			defer unix.Close(fd)
			return unix.FsconfigSetString(fd, key, "/") == nil
		}
		// An overlayfs older than the new mount API (before 6.5) sits
		// behind the kernel's legacy shim, which takes any key (it only
		// collects "key=value" for mount(2)'s page) and refuses at create:
		// a key no kernel knows tells that shim apart.
		lowerdirOK = !accepts("minidocker-probe") && accepts("lowerdir+")
	})
	return lowerdirOK
}

// MaxLower is the number of lower layers one mount can stack here, for
// layers at paths of pathLen bytes and an upper and work dir of fixed
// bytes in all.
func MaxLower(pathLen, fixed int) int {
	if LowerdirPlus() {
		return KernelMaxStack
	}
	n := (pageSize - 1 - fixed - len("lowerdir=,upperdir=,workdir=,volatile")) / (pathLen + 1)
	if n > KernelMaxStack {
		n = KernelMaxStack
	}
	return n
}

// endregion limit

// region mount
// Mount stacks lower (top first) read-only under upper (the writable
// layer; with work, overlayfs's scratch dir on the same filesystem) at
// target. Without upper, the view is read-only (no work dir needed, and
// whiteouts in any layer still hide what is below). volatile skips every
// sync of the upper layer (run --rm: it is thrown away anyway). trace, if
// set, is told the shell command for the same mount.
func Mount(target string, lower []string, upper, work string, volatile bool, trace func(format string, a ...any)) error {
	if trace == nil {
		trace = func(string, ...any) {}
	}
	if len(lower) > KernelMaxStack {
		return fmt.Errorf("overlayfs stacks at most %d layers; this needs %d", KernelMaxStack, len(lower))
	}
	if LowerdirPlus() {
		err := mountNew(target, lower, upper, work, volatile, trace)
		if err != nil && volatile { // a filesystem that refuses volatile
			err = mountNew(target, lower, upper, work, false, trace)
		}
		return err
	}
	opts := "lowerdir=" + strings.Join(lower, ":")
	if upper != "" {
		opts += ",upperdir=" + upper + ",workdir=" + work
	}
	if volatile {
		opts += ",volatile"
	}
	if len(opts) >= pageSize {
		return fmt.Errorf("%d layers do not fit in mount(2)'s one page of options (%d bytes with these paths; this kernel stacks at most %d, Linux 6.8+ stacks %d with fsconfig lowerdir+)",
			len(lower), len(opts), MaxLower(len(lower[0]), len(upper)+len(work)), KernelMaxStack)
	}
	flags := uintptr(0)
	if upper == "" {
		flags = unix.MS_RDONLY
	}
	trace("mount -t overlay -o %s overlay %s", opts, target)
	err := unix.Mount("overlay", target, "overlay", flags, opts)
	if err != nil && volatile { // "volatile" is Linux 5.10+
		opts = strings.TrimSuffix(opts, ",volatile")
		trace("mount -t overlay -o %s overlay %s", opts, target)
		err = unix.Mount("overlay", target, "overlay", flags, opts)
	}
	if err != nil {
		return fmt.Errorf("mount overlay on %s: %v", target, err)
	}
	return nil
}

// mountNew is the same mount with the new API: fsopen makes an overlayfs
// context, each fsconfig sets one option (one lower layer each:
// "lowerdir+"), fsmount makes the mount and move_mount puts it at target.
func mountNew(target string, lower []string, upper, work string, volatile bool, trace func(string, ...any)) error {
	show := "lowerdir+=" + strings.Join(lower, ",lowerdir+=")
	if upper != "" {
		show += ",upperdir=" + upper + ",workdir=" + work
	}
	if volatile {
		show += ",volatile"
	}
	trace("mount -t overlay -o %s overlay %s   # fsopen, fsconfig per option, fsmount, move_mount", show, target)
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen overlay: %v", err)
	}
	defer unix.Close(fd)
	set := func(k, v string) error {
		if err := unix.FsconfigSetString(fd, k, v); err != nil {
			return fmt.Errorf("overlay option %s=%s: %v", k, v, err)
		}
		return nil
	}
	if err := set("source", "overlay"); err != nil { // the name /proc/mounts shows, as mount(8) gives it
		return err
	}
	for _, l := range lower {
		if err := set("lowerdir+", l); err != nil {
			return err
		}
	}
	attr := unix.MOUNT_ATTR_RDONLY
	if upper != "" {
		attr = 0
		if err := set("upperdir", upper); err != nil {
			return err
		}
		if err := set("workdir", work); err != nil {
			return err
		}
	}
	if volatile {
		if err := unix.FsconfigSetFlag(fd, "volatile"); err != nil {
			return fmt.Errorf("overlay option volatile: %v", err)
		}
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return fmt.Errorf("mount overlay on %s: %v", target, err)
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return fmt.Errorf("fsmount overlay: %v", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount overlay to %s: %v", target, err)
	}
	return nil
}

// endregion mount
