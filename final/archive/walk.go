//go:build linux

package archive

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/inroot"
	"golang.org/x/sys/unix"
)

// node is one entry of a tree being read: its name relative to the root,
// its metadata, and for a directory or a regular file an open descriptor.
type node struct {
	rel  string
	st   unix.Stat_t
	f    *os.File // directories and regular files, opened; nil otherwise
	link string   // symlinks: the target, as read
}

// fd is the node's descriptor, -1 when it has none.
func (n *node) fd() int {
	if n.f == nil {
		return -1
	}
	return int(n.f.Fd())
}

func (n *node) kind() uint32 { return n.st.Mode & unix.S_IFMT }

// region walk
// walk reads the tree below the directory dir the way a container's files
// must be read from the host: every name is opened relative to its parent's
// descriptor with O_NOFOLLOW, one component at a time, and its metadata is
// taken from the descriptor it opened (fstat), not from the name. A
// running container that swaps a file for a symlink to the host's
// /etc/shadow between our look and our open gets its symlink read as a
// symlink: no path is ever resolved through the tree's own links. Names
// come sorted, so the same tree gives the same tarball.
func walk(dir string, fn func(n *node) error) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return walkDir(fd, "", fn)
}

func walkDir(dirfd int, rel string, fn func(n *node) error) error {
	names, err := readNames(dirfd)
	if err != nil {
		return fmt.Errorf("read %s: %v", rel, err)
	}
	for _, name := range names {
		n, err := openNode(dirfd, name, path.Join(rel, name))
		if err != nil {
			return err
		}
		if n == nil {
			continue // gone meanwhile
		}
		err = fn(n)
		if err == fs.SkipDir {
			err = nil
		} else if err == nil && n.kind() == unix.S_IFDIR {
			err = walkDir(n.fd(), n.rel, fn)
		}
		if n.f != nil {
			n.f.Close()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// openNode opens or reads one entry of a directory without following it.
// If it changes type between the look and the open (a file swapped for a
// symlink), it is looked at again, as what it now is.
func openNode(dirfd int, name, rel string) (*node, error) {
	for try := 0; try < 8; try++ {
		n := &node{rel: rel}
		if err := unix.Fstatat(dirfd, name, &n.st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if err == unix.ENOENT {
				return nil, nil
			}
			return nil, fmt.Errorf("stat %s: %v", rel, err)
		}
		var flags int
		switch n.kind() {
		case unix.S_IFDIR:
			flags = unix.O_RDONLY | unix.O_DIRECTORY
		case unix.S_IFREG:
			flags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY // a fifo swapped in must not block us
		case unix.S_IFLNK:
			buf := make([]byte, unix.PathMax)
			m, err := unix.Readlinkat(dirfd, name, buf)
			if err == unix.EINVAL {
				continue // no longer a symlink
			}
			if err != nil {
				return nil, fmt.Errorf("readlink %s: %v", rel, err)
			}
			n.link = string(buf[:m])
			return n, nil
		default: // devices, fifos, sockets: metadata only, never opened
			return n, nil
		}
		fd, err := unix.Openat(dirfd, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.ELOOP || err == unix.ENOTDIR || err == unix.ENXIO {
			continue // changed type: look again
		}
		if err != nil {
			return nil, fmt.Errorf("open %s: %v", rel, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != n.kind() {
			unix.Close(fd)
			continue
		}
		n.st, n.f = st, os.NewFile(uintptr(fd), rel)
		return n, nil
	}
	return nil, fmt.Errorf("%s keeps changing while it is read", rel)
}

// endregion walk

// Entry is one entry of a tree read by WalkFd.
type Entry struct {
	Rel  string      // its path below the top, with slashes
	Stat unix.Stat_t // taken from the descriptor it was opened as
	File *os.File    // directories and regular files, opened read-only; nil otherwise
	Link string      // symlinks: the target, as read
}

// WalkFd reads the tree below the open directory dirfd as walk does
// (every name opened in its parent with O_NOFOLLOW, sorted), calling fn
// for each entry; fn may return fs.SkipDir to leave a directory's
// contents out. The descriptors are closed once fn returns.
func WalkFd(dirfd int, fn func(e *Entry) error) error {
	return walkDir(dirfd, "", func(n *node) error {
		return fn(&Entry{Rel: n.rel, Stat: n.st, File: n.f, Link: n.link})
	})
}

// readNames lists a directory through a duplicate of its descriptor, so
// that closing the listing leaves the walk's descriptor open. The two
// share one offset: it is rewound first, so a directory can be listed
// twice (build hashes a tree, then copies it).
func readNames(dirfd int) ([]string, error) {
	dup, err := unix.Dup(dirfd)
	if err != nil {
		return nil, err
	}
	unix.Seek(dup, 0, io.SeekStart)
	f := os.NewFile(uintptr(dup), "")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}

// xattrs reads the extended attributes worth keeping from a descriptor:
// see metaFd for which and why (trusted.overlay.opaque only where keep asks).
func xattrs(fd int, opaque bool) map[string]string {
	buf := make([]byte, 4096)
	n, err := unix.Flistxattr(fd, buf)
	if err != nil || n <= 0 {
		return nil
	}
	out := map[string]string{}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if !(name == "security.capability" || strings.HasPrefix(name, "user.") || (opaque && name == "trusted.overlay.opaque")) {
			continue
		}
		val := make([]byte, 4096)
		if m, err := unix.Fgetxattr(fd, name, val); err == nil {
			out[name] = string(val[:m])
		}
	}
	return out
}

// region tar
// Tar writes the tree below dir as a `docker export` tarball: paths
// relative to the root (bin/busybox, not ./bin/busybox), owners as
// numbers, hard links once, file capabilities and user xattrs as PAX
// records, read with walk (never following the tree's symlinks).
func Tar(w io.Writer, dir string) error { return writeTar(w, dir, false, false) }

// TarLayer writes a container's upper directory as a layer tarball:
// overlayfs's whiteouts become Docker's again (a 0/0 character device NAME
// is an empty file .wh.NAME; a directory marked trusted.overlay.opaque=y
// gets an entry .wh..wh..opq), the other way round from Extract.
func TarLayer(w io.Writer, dir string) error { return writeTar(w, dir, true, false) }

// TarRootOwned is Tar with every entry root's: a tree of the host's root
// read from a user namespace (rootless), where owners the namespace does
// not map look like the overflow uid, 65534.
func TarRootOwned(w io.Writer, dir string) error { return writeTar(w, dir, false, true) }

func writeTar(w io.Writer, dir string, layer, rootOwned bool) error {
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{} // (dev, inode) -> first name, for hard links
	err := walk(dir, func(n *node) error {
		h := &tar.Header{Name: n.rel, Mode: int64(n.st.Mode & 07777), Uid: int(n.st.Uid), Gid: int(n.st.Gid),
			ModTime: time.Unix(n.st.Mtim.Unix()).UTC(), Format: tar.FormatPAX}
		if rootOwned {
			h.Uid, h.Gid = 0, 0
		}
		opaque := false
		switch n.kind() {
		case unix.S_IFDIR:
			h.Typeflag, h.Name = tar.TypeDir, n.rel+"/"
		case unix.S_IFREG:
			h.Typeflag, h.Size = tar.TypeReg, n.st.Size
			if n.st.Nlink > 1 {
				key := [2]uint64{n.st.Dev, n.st.Ino}
				if first, ok := links[key]; ok {
					h.Typeflag, h.Linkname, h.Size = tar.TypeLink, first, 0
				} else {
					links[key] = n.rel
				}
			}
		case unix.S_IFLNK:
			h.Typeflag, h.Linkname = tar.TypeSymlink, n.link
		case unix.S_IFCHR, unix.S_IFBLK:
			if layer && n.kind() == unix.S_IFCHR && n.st.Rdev == 0 { // a whiteout
				d, base := path.Split(n.rel)
				h.Typeflag, h.Name, h.Mode = tar.TypeReg, d+whPrefix+base, 0
				break
			}
			h.Typeflag = map[uint32]byte{unix.S_IFCHR: tar.TypeChar, unix.S_IFBLK: tar.TypeBlock}[n.kind()]
			h.Devmajor, h.Devminor = int64(unix.Major(n.st.Rdev)), int64(unix.Minor(n.st.Rdev))
		case unix.S_IFIFO:
			h.Typeflag = tar.TypeFifo
		default:
			return nil // sockets have no tar form
		}
		if n.f != nil {
			for k, v := range xattrs(n.fd(), layer) {
				if k == "trusted.overlay.opaque" {
					opaque = v == "y"
					continue
				}
				if h.PAXRecords == nil {
					h.PAXRecords = map[string]string{}
				}
				h.PAXRecords["SCHILY.xattr."+k] = v
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if opaque {
			return tw.WriteHeader(&tar.Header{Name: n.rel + "/" + whOpaque, Typeflag: tar.TypeReg, ModTime: h.ModTime, Format: tar.FormatPAX})
		}
		if h.Typeflag == tar.TypeReg && h.Size > 0 {
			return copyExactly(tw, n.f, h.Size)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// endregion tar

// copyExactly copies size bytes of f into the tarball: a file that grows
// while it is read is cut at the size its header announced, one that
// shrinks is padded with zeros (as GNU tar does, "file shrank").
func copyExactly(w io.Writer, f *os.File, size int64) error {
	n, err := io.Copy(w, io.LimitReader(f, size))
	if err != nil {
		return err
	}
	if n < size {
		_, err = io.CopyN(w, zeros{}, size-n)
	}
	return err
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0
	}
	return len(p), nil
}

// region copytree
// CopyTree copies the tree below src into dst (an empty directory of our
// own) keeping what a layer needs: modes, owners, times, symlinks, fifos,
// overlay whiteouts (0/0 character devices) and opaque directories
// (trusted.overlay.opaque), file capabilities. src is read with walk,
// never following its symlinks (commit reads a live container's layer);
// each copy is made in its parent, resolved inside dst. Device nodes other
// than whiteouts are left out, as Extract leaves them out.
func CopyTree(src, dst string) (int64, error) {
	root, err := unix.Open(dst, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(root)
	var size int64
	err = walk(src, func(n *node) error {
		dir, base := inroot.Split(n.rel)
		parent, err := inroot.Open(root, dir, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		defer unix.Close(parent)
		mode := n.st.Mode & 07777
		var out *os.File // the copy, for directories and regular files
		switch n.kind() {
		case unix.S_IFDIR:
			if err := unix.Mkdirat(parent, base, 0700); err != nil {
				return err
			}
			if out, err = openAt(parent, base, unix.O_RDONLY|unix.O_DIRECTORY, 0); err != nil {
				return err
			}
		case unix.S_IFREG:
			if out, err = openAt(parent, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0600); err != nil {
				return err
			}
			// copy_file_range(2) where the kernel can (io.Copy between two *os.File)
			m, err := io.Copy(out, n.f)
			size += m
			if err != nil {
				out.Close()
				return err
			}
		case unix.S_IFLNK:
			if err := unix.Symlinkat(n.link, parent, base); err != nil {
				return err
			}
		case unix.S_IFIFO:
			if err := unix.Mknodat(parent, base, unix.S_IFIFO|mode, 0); err != nil {
				return err
			}
		case unix.S_IFCHR:
			if n.st.Rdev != 0 {
				return nil // a device node: see Extract
			}
			if err := unix.Mknodat(parent, base, unix.S_IFCHR, 0); err != nil { // a whiteout
				return err
			}
		default:
			return nil // block devices, sockets
		}
		if out != nil {
			defer out.Close()
			fd := int(out.Fd())
			for k, v := range xattrs(n.fd(), true) {
				unix.Fsetxattr(fd, k, []byte(v), 0)
			}
			if err := unix.Fchown(fd, int(n.st.Uid), int(n.st.Gid)); err != nil {
				return err
			}
			if err := unix.Fchmod(fd, mode); err != nil {
				return err
			}
		} else if err := unix.Fchownat(parent, base, int(n.st.Uid), int(n.st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		ts := []unix.Timespec{n.st.Atim, n.st.Mtim}
		return unix.UtimesNanoAt(parent, base, ts, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		return size, err
	}
	return size, fixDirTimes(src, root)
}

// endregion copytree

// openAt is openat(2) of name in the directory parent, never following a
// symlink, as an *os.File.
func openAt(parent int, name string, flags int, mode uint32) (*os.File, error) {
	fd, err := unix.Openat(parent, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// fixDirTimes sets the copied directories' times again: copying their
// contents changed them.
func fixDirTimes(src string, root int) error {
	return walk(src, func(n *node) error {
		if n.kind() != unix.S_IFDIR {
			return nil
		}
		dir, base := inroot.Split(n.rel)
		parent, err := inroot.Open(root, dir, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return nil
		}
		defer unix.Close(parent)
		return unix.UtimesNanoAt(parent, base, []unix.Timespec{n.st.Atim, n.st.Mtim}, unix.AT_SYMLINK_NOFOLLOW)
	})
}
