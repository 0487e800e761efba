//go:build linux

package image

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// region whiteout
// Two ways to say "deleted in this layer". In a tarball (Docker's layer
// format) it is an empty file named .wh.NAME, and .wh..wh..opq in a
// directory means "hide everything below from lower layers". On disk,
// overlayfs wants a character device 0/0 named NAME, and the xattr
// trusted.overlay.opaque=y on the directory. Untar converts the first into
// the second.
const (
	whPrefix = ".wh."
	whOpaque = ".wh..wh..opq"
)

func whiteout(path string) error {
	return unix.Mknod(path, unix.S_IFCHR|0000, int(unix.Mkdev(0, 0)))
}

func opaque(dir string) error {
	return unix.Lsetxattr(dir, "trusted.overlay.opaque", []byte("y"), 0)
}

// endregion whiteout

// Untar unpacks a tarball (gzip or not) into dir, returning the bytes written.
func Untar(r io.Reader, dir string) (int64, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 0, err
		}
		r = zr
	} else {
		r = br
	}
	tr := tar.NewReader(r)
	var size int64
	type dirTime struct {
		path string
		t    time.Time
	}
	var dirs []dirTime
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return size, err
		}
		name := filepath.Clean("/" + h.Name) // no ../ escapes
		if name == "/" {
			if h.Typeflag == tar.TypeDir {
				os.Chmod(dir, os.FileMode(h.Mode)&os.ModePerm)
			}
			continue
		}
		path := filepath.Join(dir, name)
		base := filepath.Base(name)
		parent := filepath.Dir(path)
		if err := os.MkdirAll(parent, 0755); err != nil {
			return size, err
		}
		switch {
		case base == whOpaque:
			if err := opaque(parent); err != nil {
				return size, fmt.Errorf("opaque %s: %v", parent, err)
			}
			continue
		case strings.HasPrefix(base, whPrefix):
			p := filepath.Join(parent, strings.TrimPrefix(base, whPrefix))
			os.RemoveAll(p)
			if err := whiteout(p); err != nil {
				return size, fmt.Errorf("whiteout %s: %v", p, err)
			}
			continue
		}
		if fi, err := os.Lstat(path); err == nil && !(fi.IsDir() && h.Typeflag == tar.TypeDir) {
			os.RemoveAll(path) // a later entry replaces an earlier one
		}
		mode := uint32(h.Mode & 07777)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.Mkdir(path, 0755); err != nil && !os.IsExist(err) {
				return size, err
			}
			dirs = append(dirs, dirTime{path, h.ModTime})
		case tar.TypeReg, tar.TypeRegA:
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0600)
			if err != nil {
				return size, err
			}
			n, err := io.Copy(f, tr)
			f.Close()
			size += n
			if err != nil {
				return size, err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, path); err != nil {
				return size, err
			}
		case tar.TypeLink:
			if err := os.Link(filepath.Join(dir, filepath.Clean("/"+h.Linkname)), path); err != nil {
				return size, err
			}
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			t := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[h.Typeflag]
			if err := unix.Mknod(path, t|mode, int(unix.Mkdev(uint32(h.Devmajor), uint32(h.Devminor)))); err != nil {
				return size, err
			}
		default:
			continue // xattr headers and the like
		}
		os.Lchown(path, h.Uid, h.Gid)
		if h.Typeflag != tar.TypeSymlink {
			os.Chmod(path, os.FileMode(mode)&os.ModePerm|specialBits(mode))
			os.Chtimes(path, h.ModTime, h.ModTime)
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- { // after their contents were written
		os.Chtimes(dirs[i].path, dirs[i].t, dirs[i].t)
	}
	return size, nil
}

func specialBits(mode uint32) os.FileMode {
	var m os.FileMode
	if mode&unix.S_ISUID != 0 {
		m |= os.ModeSetuid
	}
	if mode&unix.S_ISGID != 0 {
		m |= os.ModeSetgid
	}
	if mode&unix.S_ISVTX != 0 {
		m |= os.ModeSticky
	}
	return m
}

// region tar
// Tar writes dir as a `docker export` tarball: paths relative to the root
// (bin/busybox, not ./bin/busybox), owners as numbers, hard links once.
func Tar(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{} // (dev, inode) -> first name, for hard links
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "." {
			return nil
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name = rel
		if fi.IsDir() {
			h.Name += "/"
		}
		st := fi.Sys().(*syscall.Stat_t) // FileInfoHeader filled uid/gid/devices from it
		h.Uname, h.Gname = "", ""
		if fi.Mode().IsRegular() && st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if first, ok := links[key]; ok {
				h.Typeflag, h.Linkname, h.Size = tar.TypeLink, first, 0
			} else {
				links[key] = rel
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// endregion tar

// CopyTree copies src into dst keeping what a layer needs: modes, owners,
// times, symlinks, devices (so whiteouts 0/0 survive) and the
// trusted.overlay.* xattrs (so opaque directories survive).
func CopyTree(src, dst string) (int64, error) {
	var size int64
	err := filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		st := fi.Sys().(*syscall.Stat_t)
		switch {
		case fi.IsDir():
			if err := os.MkdirAll(target, 0755); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			n, err := copyFile(path, target)
			size += n
			if err != nil {
				return err
			}
		case fi.Mode()&os.ModeSymlink != 0:
			l, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Symlink(l, target); err != nil {
				return err
			}
		default: // devices, fifos, sockets, whiteouts
			if err := unix.Mknod(target, st.Mode, int(st.Rdev)); err != nil {
				return err
			}
		}
		copyXattrs(path, target)
		os.Lchown(target, int(st.Uid), int(st.Gid))
		if fi.Mode()&os.ModeSymlink == 0 {
			os.Chmod(target, fi.Mode()&(os.ModePerm|os.ModeSetuid|os.ModeSetgid|os.ModeSticky))
		}
		unix.UtimesNanoAt(unix.AT_FDCWD, target, []unix.Timespec{unix.NsecToTimespec(time.Now().UnixNano()), unix.NsecToTimespec(fi.ModTime().UnixNano())}, unix.AT_SYMLINK_NOFOLLOW)
		return nil
	})
	return size, err
}

func copyFile(src, dst string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, in) // copy_file_range(2) where the kernel can
	if e := out.Close(); err == nil {
		err = e
	}
	return n, err
}

func copyXattrs(src, dst string) {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(src, buf)
	if err != nil || n <= 0 {
		return
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		// Of overlay's own xattrs only "opaque" means something in a lower
		// layer; origin/impure describe the old mount and would confuse a new one.
		if name != "trusted.overlay.opaque" && !strings.HasPrefix(name, "user.") && name != "security.capability" {
			continue
		}
		val := make([]byte, 256)
		if m, err := unix.Lgetxattr(src, name, val); err == nil {
			unix.Lsetxattr(dst, name, val[:m], 0)
		}
	}
}

// DirSize is what `du -sb` reports, roughly: bytes of regular files.
func DirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
