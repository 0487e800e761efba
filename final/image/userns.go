//go:build linux

package image

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/minidocker/build-your-own-docker/final/archive"
	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// RemappedRoot is where the layers and containers of a user namespace
// live whose root is uid/gid on the host: Root/userns/UID.GID, owned by
// that uid and 0700, so that a container's root can reach its own
// layers and no other user of the host can (Docker keeps
// /var/lib/docker/100000.100000 for the same reason).
func RemappedRoot(uid, gid uint32) string {
	return filepath.Join(state.Root, "userns", fmt.Sprintf("%d.%d", uid, gid))
}

// region shifted
// ShiftedLowerDirs are the image's layers, top first, as copies whose
// owners are shifted into the user namespace (archive.Shift: root's
// files belong to uid, and so are root's again inside): the fallback
// where the kernel cannot idmap a layer's mount. Each layer is copied
// once, the first time a container of this mapping needs it, and shared
// from then on; rmi removes the copies with the layer.
func (im *Image) ShiftedLowerDirs(uid, gid uint32) ([]string, error) {
	base := filepath.Join(RemappedRoot(uid, gid), "layers")
	if err := os.MkdirAll(filepath.Dir(RemappedRoot(uid, gid)), 0711); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(base, 0700); err != nil {
		return nil, err
	}
	os.Chown(RemappedRoot(uid, gid), int(uid), int(gid))
	os.Chown(base, int(uid), int(gid))
	var dirs []string
	for i := len(im.Layers) - 1; i >= 0; i-- {
		dst := filepath.Join(base, im.Layers[i])
		if err := shiftedCopy(LayerDir(im.Layers[i]), dst, uid, gid); err != nil {
			return nil, err
		}
		dirs = append(dirs, dst)
	}
	return dirs, nil
}

// shiftedCopy makes dst once: a copy of src in a temporary directory
// beside it, shifted, then renamed into place (a crash leaves no half
// copy under the final name), under a lock of its own.
func shiftedCopy(src, dst string, uid, gid uint32) error {
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	lock, err := os.OpenFile(dst+".lock", os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0600)
	if err != nil {
		return err
	}
	defer os.Remove(dst + ".lock")
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	if _, err := os.Stat(dst); err == nil { // made meanwhile
		return nil
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dst, os.Getpid())
	os.RemoveAll(tmp)
	if err := os.Mkdir(tmp, 0755); err != nil {
		return err
	}
	start := time.Now()
	trace("cp -a %s %s && chown -R +%d:+%d %s  # a chown copy, once per layer", src, tmp, uid, gid, tmp)
	_, err = archive.CopyTree(src, tmp)
	if err == nil {
		err = archive.Shift(tmp, int64(uid), int64(gid))
	}
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("copy layer %s for the user namespace: %v", filepath.Base(src), err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	trace("# chown copy of %s: %s", filepath.Base(src), time.Since(start).Round(time.Millisecond))
	return nil
}

// endregion shifted

// removeShifted removes the shifted copies of a layer (rmi).
func removeShifted(layer string) {
	copies, _ := filepath.Glob(filepath.Join(state.Root, "userns", "*", "layers", layer))
	for _, c := range copies {
		os.RemoveAll(c)
	}
}
