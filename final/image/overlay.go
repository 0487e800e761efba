//go:build linux

package image

import (
	"fmt"
	"os"
	"runtime"

	"github.com/minidocker/build-your-own-docker/final/overlay"
	"golang.org/x/sys/unix"
)

// region merged
// WithMerged mounts the layers (top first) read-only and calls fn with the
// mount point. The mount lives in a private mount namespace of one OS
// thread (unshare(CLONE_NEWNS) after runtime.LockOSThread): the host never
// sees it, and if we crash, the kernel drops it with the thread. With no
// upperdir, overlayfs needs no workdir and treats whiteouts in any lower
// layer as deletions: this is the container's view without a second writer.
//
// One layer needs no mount (overlayfs wants two lower layers without an
// upper one): fn gets the layer itself.
func WithMerged(lower []string, fn func(dir string) error) error {
	if len(lower) == 1 {
		return fn(lower[0])
	}
	return withMount(lower, "", "", fn)
}

func withMount(lower []string, upper, work string, fn func(dir string) error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: Go ends the thread with this goroutine
		errc <- func() error {
			trace("unshare --mount")
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return fmt.Errorf("unshare(CLONE_NEWNS): %v", err)
			}
			if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "minidocker-merged-")
			if err != nil {
				return err
			}
			defer os.Remove(dir)
			if err := overlay.Mount(dir, lower, upper, work, false, trace); err != nil {
				return err
			}
			defer unix.Unmount(dir, unix.MNT_DETACH)
			return fn(dir)
		}()
	}()
	return <-errc
}

// endregion merged

// WithUpper is WithMerged with a writable layer on top: upper (and work,
// overlayfs's scratch directory beside it) get what fn writes into the
// mount, whiteouts for what it deletes, as a container's upper layer
// would. Build's COPY writes through it, so that the paths it writes are
// resolved in the image as a container would see it. With no lower
// layers (FROM scratch) there is nothing to stack: fn writes into upper.
func WithUpper(lower []string, upper, work string, fn func(dir string) error) error {
	if len(lower) == 0 {
		return fn(upper)
	}
	return withMount(lower, upper, work, fn)
}
