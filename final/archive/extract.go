//go:build linux

// Package archive unpacks and writes layer tarballs. Every tarball is
// written by a stranger (a `docker export` of someone else's container, a
// registry's blob, a build context), and so is every container's own tree:
// paths are resolved inside their root by the kernel (package inroot), never
// by string checks; sizes are bounded; a refused tarball is reported in one
// line naming the entry. Chapter: docs/07-final.md ("Untrusted tarballs").
package archive

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/inroot"
	"golang.org/x/sys/unix"
)

// Limits bound what one tarball may make. The zero value means the defaults.
type Limits struct {
	Bytes   int64 // bytes of file content, after decompression (a gzip bomb stops here)
	Entries int   // headers
}

// Default limits: far above any real image layer, far below a full disk.
const (
	DefaultBytes   = 32 << 30
	DefaultEntries = 2_000_000
)

// ErrTooLarge is a tarball over its Limits (bytes or entries).
var ErrTooLarge = errors.New("over the limit")

// Result says what Extract made, and what it deliberately did not.
type Result struct {
	Bytes   int64          // bytes of file content written
	Entries int            // headers read
	Skipped map[string]int // "device node", "xattr trusted.overlay.redirect", ...: entries or parts left out, by reason
}

// region whiteout
// Two ways to say "deleted in this layer". In a tarball (Docker's layer
// format) it is an empty file named .wh.NAME, and .wh..wh..opq in a
// directory means "hide everything below from lower layers". On disk,
// overlayfs wants a character device 0/0 named NAME, and the xattr
// trusted.overlay.opaque=y on the directory. Extract converts the first
// into the second.
const (
	whPrefix = ".wh."
	whOpaque = ".wh..wh..opq"
	whMeta   = ".wh..wh." // AUFS's own bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not content
)

// endregion whiteout

// region extract
// Extract unpacks a tarball (plain or gzip) into dir, an empty directory
// that nobody else writes to. Each entry's parent is resolved inside dir
// with openat2(RESOLVE_IN_ROOT) and the entry is made with a *at call
// (mkdirat, openat O_EXCL|O_NOFOLLOW, symlinkat, linkat, mknodat) on that
// parent: a symlink the tarball planted earlier (etc -> /etc) can only
// lead back into dir, so no entry can be written outside it. On an error
// the caller removes dir: a refused tarball leaves nothing.
func Extract(r io.Reader, dir string, lim Limits) (*Result, error) {
	if lim.Bytes <= 0 {
		lim.Bytes = DefaultBytes
	}
	if lim.Entries <= 0 {
		lim.Entries = DefaultEntries
	}
	root, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(root)
	r, err = decompress(r)
	if err != nil {
		return nil, err
	}
	x := &extractor{root: root, lim: lim, res: &Result{Skipped: map[string]int{}}}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return x.res, fmt.Errorf("entry %d: %v", x.res.Entries+1, err)
		}
		x.res.Entries++
		if x.res.Entries > lim.Entries {
			return x.res, fmt.Errorf("more than %d entries: refusing the tarball (%w)", lim.Entries, ErrTooLarge)
		}
		if err := x.entry(h, tr); err != nil {
			return x.res, fmt.Errorf("entry %q: %w", h.Name, err)
		}
	}
	return x.res, x.dirTimes()
}

// endregion extract

// decompress peeks at the first bytes: gzip's magic 1f 8b, or a plain tar.
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		return zr, nil
	}
	return br, nil
}

type extractor struct {
	root int
	lim  Limits
	res  *Result
	dirs []dirTime // directories' times, set last: writing into a directory changes its mtime
}

type dirTime struct {
	name string
	t    time.Time
}

// region entry
// entry makes one tar entry. The checks before any write: the name may
// not climb out (../), whiteouts may name only an entry of their own
// directory, sizes and owners must be sane.
func (x *extractor) entry(h *tar.Header, r io.Reader) error {
	name := h.Name
	if name == "" {
		return errors.New("empty name")
	}
	if c := path.Clean(name); c == ".." || strings.HasPrefix(c, "../") {
		return errors.New("the name climbs out of the layer (../)")
	}
	if h.Uid < 0 || h.Gid < 0 || h.Uid > 1<<31 || h.Gid > 1<<31 {
		return fmt.Errorf("owner %d:%d is out of range", h.Uid, h.Gid)
	}
	dir, base := inroot.Split(name)
	if base == "" { // "./": the root directory itself
		if h.Typeflag != tar.TypeDir {
			return errors.New("the layer's root can only be a directory")
		}
		return unix.Fchmod(x.root, uint32(h.Mode&07777))
	}
	switch {
	case base == whOpaque:
		return x.opaque(dir)
	case strings.HasPrefix(base, whMeta):
		x.res.Skipped["aufs metadata"]++
		return nil
	case strings.HasPrefix(base, whPrefix):
		return x.whiteout(dir, strings.TrimPrefix(base, whPrefix))
	}
	parent, err := inroot.MkdirAll(x.root, dir, 0755)
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	if err := x.replace(parent, base, h.Typeflag == tar.TypeDir); err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if err := unix.Mkdirat(parent, base, 0700); err != nil && err != unix.EEXIST {
			return err
		}
		x.dirs = append(x.dirs, dirTime{inroot.Clean(name), h.ModTime})
		return x.meta(parent, base, h, unix.O_RDONLY|unix.O_DIRECTORY)
	case tar.TypeReg, tar.TypeRegA:
		if h.Size < 0 || h.Size > x.lim.Bytes-x.res.Bytes {
			return fmt.Errorf("its size %d would pass the limit of %d bytes for the layer (%w)", h.Size, x.lim.Bytes, ErrTooLarge)
		}
		f, err := openAt(parent, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0600)
		if err != nil {
			return err
		}
		n, err := io.Copy(f, io.LimitReader(r, h.Size))
		x.res.Bytes += n
		if err == nil && n != h.Size {
			err = io.ErrUnexpectedEOF
		}
		if err == nil {
			err = x.metaFd(int(f.Fd()), h)
		}
		if e := f.Close(); err == nil {
			err = e
		}
		if err != nil {
			return err
		}
		return times(parent, base, h.ModTime)
	case tar.TypeSymlink:
		// The target is data: it is resolved later, inside the container's
		// root, where /etc/mtab -> /proc/mounts means the container's /proc.
		if h.Linkname == "" || len(h.Linkname) >= unix.PathMax {
			return errors.New("bad symlink target")
		}
		if err := unix.Symlinkat(h.Linkname, parent, base); err != nil {
			return err
		}
		if err := unix.Fchownat(parent, base, h.Uid, h.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		return times(parent, base, h.ModTime)
	case tar.TypeLink:
		return x.hardlink(parent, base, h.Linkname)
	case tar.TypeFifo:
		if err := unix.Mknodat(parent, base, unix.S_IFIFO|0600, 0); err != nil {
			return err
		}
		return x.meta(parent, base, h, unix.O_PATH)
	case tar.TypeChar, tar.TypeBlock:
		if h.Typeflag == tar.TypeChar && h.Devmajor == 0 && h.Devminor == 0 {
			// overlayfs's own whiteout, as a tool that tars an upper
			// directory as it is on disk writes it: keep its meaning.
			return unix.Mknodat(parent, base, unix.S_IFCHR|0000, 0)
		}
		// A device node in an image would reach the host's hardware
		// if the container could open it; a container's /dev is made
		// fresh at every start (a tmpfs with null, zero, tty...), so
		// an image needs none.
		x.res.Skipped["device node"]++
		return nil
	}
	return fmt.Errorf("unsupported entry type %q", h.Typeflag)
}

// endregion entry

// region hardlink
// hardlink links base to an entry already in the layer. The target's
// parent is resolved inside the root too, so `../../etc/shadow` or a path
// through a planted symlink names a file of the layer, or nothing.
func (x *extractor) hardlink(parent int, base, target string) error {
	if c := path.Clean(target); c == ".." || strings.HasPrefix(c, "../") {
		return errors.New("the hard link's target climbs out of the layer (../)")
	}
	tdir, tbase := inroot.Split(target)
	if tbase == "" {
		return errors.New("a hard link to the layer's root")
	}
	tparent, err := inroot.Open(x.root, tdir, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("hard link target %s: %v (it must be an entry earlier in the layer)", target, err)
	}
	defer unix.Close(tparent)
	var st unix.Stat_t
	if err := unix.Fstatat(tparent, tbase, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("hard link target %s: %v (it must be an entry earlier in the layer)", target, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("hard link target %s is a directory", target)
	}
	return unix.Linkat(tparent, tbase, parent, base, 0)
}

// endregion hardlink

// replace clears the way for an entry: a later entry of a tarball
// replaces an earlier one of the same name (a directory stays, to be
// merged with). It unlinks what is there, never follows it.
func (x *extractor) replace(parent int, base string, isDir bool) error {
	var st unix.Stat_t
	if err := unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil // nothing there
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR && isDir {
		return nil
	}
	return RemoveAt(parent, base)
}

// whiteout makes the on-disk whiteout for .wh.NAME: a 0/0 character device
// NAME in the same directory. NAME must be an entry of that directory.
func (x *extractor) whiteout(dir, target string) error {
	if target == "" || target == "." || target == ".." || strings.Contains(target, "/") {
		return fmt.Errorf("a whiteout must name an entry of its own directory, not %q", target)
	}
	parent, err := inroot.MkdirAll(x.root, dir, 0755)
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	if err := RemoveAt(parent, target); err != nil {
		return err
	}
	return unix.Mknodat(parent, target, unix.S_IFCHR|0000, 0)
}

// opaque marks a directory opaque: trusted.overlay.opaque=y, set through a
// descriptor of the directory resolved inside the root.
func (x *extractor) opaque(dir string) error {
	d, err := inroot.MkdirAll(x.root, dir, 0755)
	if err != nil {
		return err
	}
	unix.Close(d)
	fd, err := inroot.Open(x.root, dir, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Fsetxattr(fd, "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		return fmt.Errorf("opaque directory %s: setxattr trusted.overlay.opaque: %v", dir, err)
	}
	return nil
}

// meta sets owner, mode, xattrs and times of an entry just made in parent.
func (x *extractor) meta(parent int, base string, h *tar.Header, flags int) error {
	fd, err := unix.Openat(parent, base, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	if flags&unix.O_PATH != 0 { // a fifo: opened O_PATH, so no blocking open; chown and chmod by name
		unix.Close(fd)
		if err := unix.Fchownat(parent, base, h.Uid, h.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		if err := unix.Fchmodat(parent, base, uint32(h.Mode&07777), 0); err != nil {
			return err
		}
		return times(parent, base, h.ModTime)
	}
	err = x.metaFd(fd, h)
	unix.Close(fd)
	if err != nil {
		return err
	}
	if h.Typeflag == tar.TypeDir {
		return nil // its times are set after its contents (dirTimes)
	}
	return times(parent, base, h.ModTime)
}

// region xattrs
// metaFd sets owner, then mode (chown clears setuid bits, so mode comes
// second), then the xattrs that mean something in a layer:
// security.capability (file capabilities, e.g. ping's cap_net_raw) and
// user.*. Others are left out: trusted.overlay.* in a tarball would forge
// overlayfs's own metadata (redirect, metacopy, origin) and security.selinux
// belongs to the host's policy. setuid/setgid bits are kept, as images need
// them (su, passwd): the layer store is 0700, so no host user can run
// them, and inside the container no_new_privs is the fence.
func (x *extractor) metaFd(fd int, h *tar.Header) error {
	if err := unix.Fchown(fd, h.Uid, h.Gid); err != nil {
		return err
	}
	if err := unix.Fchmod(fd, uint32(h.Mode&07777)); err != nil {
		return err
	}
	for k, v := range h.PAXRecords {
		name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok {
			continue
		}
		if name != "security.capability" && !strings.HasPrefix(name, "user.") {
			x.res.Skipped["xattr "+name]++
			continue
		}
		if err := unix.Fsetxattr(fd, name, []byte(v), 0); err != nil {
			return fmt.Errorf("setxattr %s: %v", name, err)
		}
	}
	return nil
}

// endregion xattrs

// times sets the access and modification times without following a symlink.
func times(parent int, base string, t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	return unix.UtimesNanoAt(parent, base, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
}

// dirTimes sets the directories' times, deepest last-written first.
func (x *extractor) dirTimes() error {
	for i := len(x.dirs) - 1; i >= 0; i-- {
		d := x.dirs[i]
		dir, base := inroot.Split(d.name)
		parent, err := inroot.Open(x.root, dir, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			continue // replaced by a later entry
		}
		var st unix.Stat_t
		if unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			times(parent, base, d.t)
		}
		unix.Close(parent)
	}
	return nil
}

// region removeat
// RemoveAt is `rm -rf` of the entry name of the directory parent (a
// descriptor): directories are opened with O_NOFOLLOW and emptied through
// their own descriptors, so a symlink is removed, never followed.
func RemoveAt(parent int, name string) error {
	err := unix.Unlinkat(parent, name, 0)
	if err == nil || err == unix.ENOENT {
		return nil
	}
	if err != unix.EISDIR && err != unix.EPERM {
		return err
	}
	fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(fd), name)
	names, err := d.Readdirnames(-1)
	if err == nil {
		for _, n := range names {
			if err = RemoveAt(fd, n); err != nil {
				break
			}
		}
	}
	d.Close()
	if err != nil {
		return err
	}
	return unix.Unlinkat(parent, name, unix.AT_REMOVEDIR)
}

// endregion removeat
