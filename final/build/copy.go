//go:build linux

package build

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/minidocker/build-your-own-docker/final/archive"
	"github.com/minidocker/build-your-own-docker/final/dockerfile"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/inroot"
	"golang.org/x/sys/unix"
)

// source is where COPY reads from: the context (with its .dockerignore),
// or the files of an earlier stage's image (COPY --from), as an open
// directory that every path is resolved inside (inroot: openat2 with
// RESOLVE_IN_ROOT). A symlink in the context that points at /etc/passwd
// leads to the context's own etc/passwd, or nowhere.
type source struct {
	root    int
	ignore  *Ignore
	context bool
	what    string // "build context" or "stage build": for messages
}

// item is one source path that a COPY argument names (after globbing).
type item struct {
	rel string // relative to the source's root, cleaned
	f   *os.File
	st  unix.Stat_t
}

func (it *item) isDir() bool { return it.st.Mode&unix.S_IFMT == unix.S_IFDIR }

// owner is --chown, resolved (-1: keep the source's).
type owner struct{ uid, gid int }

// region copy
// copy is COPY and ADD. The sources are resolved in the context (a path
// that climbs out of it, COPY ../x, is refused) or in the --from stage;
// their content is hashed into the step's key (COPY file:<sha256> in
// /dst), so a rebuild copies again only when a copied file changed. On a
// miss, the stage's layers are mounted with a fresh upper directory
// (image.WithUpper, in a private mount namespace) and the files are
// written through it: the destination is resolved inside the image as a
// container would see it, so a symlink in the image (/app -> /etc, or ->
// ../../..) leads to a place in the image, never on the host. The upper
// directory becomes the step's layer, as a RUN's does.
func (b *builder) copy(st *stage, in dockerfile.Instruction) error {
	words, err := in.Words(st.vars())
	if err != nil {
		return err
	}
	if len(words) < 2 {
		return in.Errorf("%s needs a source and a destination once expanded", in.Cmd)
	}
	srcs, dest := words[:len(words)-1], words[len(words)-1]
	for _, s := range srcs {
		if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "git@") {
			return in.Errorf("%s %s: minidocker does not fetch URLs in a build (what a URL returns can change without the "+
				"Dockerfile changing, so the cache cannot know it): download it first and COPY the file, or RUN wget in the image", in.Cmd, s)
		}
	}
	own, chmod, flags, err := b.copyFlags(st, in)
	if err != nil {
		return err
	}
	if !path.IsAbs(dest) {
		wd := st.cfg.Config.WorkingDir
		if wd == "" {
			wd = "/"
		}
		slash := strings.HasSuffix(dest, "/") || dest == "."
		dest = path.Join(wd, dest)
		if slash {
			dest += "/"
		}
	}
	destDir := strings.HasSuffix(dest, "/") || strings.HasSuffix(dest, "/.")
	return b.withSource(st, in, func(src *source) error {
		items, err := src.resolve(in, srcs)
		if err != nil {
			return err
		}
		defer func() {
			for _, it := range items {
				it.f.Close()
			}
		}()
		if len(items) > 1 && !destDir {
			return in.Errorf("%s with more than one source file: the destination must be a directory and end with a /", in.Cmd)
		}
		sum, err := src.hash(items, in.Cmd == "ADD")
		if err != nil {
			return in.Errorf("%s: %v", in.Cmd, err)
		}
		kind := "multi"
		if len(items) == 1 {
			kind = map[bool]string{true: "dir", false: "file"}[items[0].isDir()]
		}
		createdBy := fmt.Sprintf("/bin/sh -c #(nop) %s %s%s:%s in %s ", in.Cmd, flags, kind, sum, dest)
		key := image.CacheKey(st.id(), createdBy)
		if b.cached(st, key) {
			return nil
		}
		if err := image.CheckLayerCount(len(st.lowerDirs()) + 1); err != nil {
			return in.Errorf("%s: %v", in.Cmd, err)
		}
		upper, work, err := b.scratchDirs()
		if err != nil {
			return err
		}
		cfg := b.next(st)
		err = image.WithUpper(st.lowerDirs(), upper, work, func(root string) error {
			dst, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer unix.Close(dst)
			w := &writer{root: dst, src: src, chmod: chmod, b: b}
			if w.own, err = resolveOwner(dst, own); err != nil {
				return in.Errorf("%s --chown: %v", in.Cmd, err)
			}
			for _, it := range items {
				if err := w.item(it, dest, destDir || len(items) > 1, in.Cmd == "ADD"); err != nil {
					return in.Errorf("%s %s: %v", in.Cmd, it.rel, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		made, err := b.commitLayer(st, cfg, upper, image.History{Created: cfg.Created, CreatedBy: createdBy})
		os.RemoveAll(filepath.Dir(upper))
		if err != nil {
			return err
		}
		return b.done(st, made, key)
	})
}

// endregion copy

// copyFlags reads --chown=USER[:GROUP] and --chmod=OCTAL; flags is their
// text for the step's key.
func (b *builder) copyFlags(st *stage, in dockerfile.Instruction) (own string, chmod *uint32, flags string, err error) {
	if v, ok := in.Flag("chown"); ok {
		if own, err = dockerfile.ExpandWord(v, in.Escape, st.vars()); err != nil {
			return "", nil, "", in.Errorf("%s --chown: %v", in.Cmd, err)
		}
		flags += "--chown=" + own + " "
	}
	if v, ok := in.Flag("chmod"); ok {
		m, err := strconv.ParseUint(v, 8, 32)
		if err != nil || m > 07777 {
			return "", nil, "", in.Errorf("%s --chmod=%s: want an octal mode such as 0755", in.Cmd, v)
		}
		mode := uint32(m)
		chmod = &mode
		flags += fmt.Sprintf("--chmod=%04o ", m)
	}
	return own, chmod, flags, nil
}

// withSource opens the source of a COPY: the context, or with --from the
// files of an earlier stage (or of an image), mounted read-only.
func (b *builder) withSource(st *stage, in dockerfile.Instruction, fn func(*source) error) error {
	from, ok := in.Flag("from")
	if !ok {
		root, err := unix.Open(b.o.Context, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("the build context: %v", err)
		}
		defer unix.Close(root)
		return fn(&source{root: root, ignore: b.ignore, context: true, what: "build context"})
	}
	from, err := dockerfile.ExpandWord(from, in.Escape, st.vars())
	if err != nil {
		return in.Errorf("%s --from: %v", in.Cmd, err)
	}
	var im *image.Image
	if prev := b.stageNamed(from); prev != nil {
		im = prev.im
	} else if strings.EqualFold(from, st.name) {
		return in.Errorf("%s --from=%s: a stage cannot copy from itself", in.Cmd, from)
	} else if im, err = b.image(in, from); err != nil {
		return err
	}
	if im == nil || len(im.Layers) == 0 {
		return in.Errorf("%s --from=%s: that stage has no files", in.Cmd, from)
	}
	return image.WithMerged(im.LowerDirs(), func(dir string) error {
		root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(root)
		return fn(&source{root: root, what: "stage " + from})
	})
}

// resolve turns COPY's source arguments into open files: each path is
// resolved inside the source's root; a glob (*.go, src/*/main.c) is
// expanded there, one path component at a time; what .dockerignore
// leaves out does not exist.
func (s *source) resolve(in dockerfile.Instruction, srcs []string) ([]*item, error) {
	var out []*item
	fail := func(err error) ([]*item, error) {
		for _, it := range out {
			it.f.Close()
		}
		return nil, err
	}
	for _, src := range srcs {
		if s.context {
			if c := path.Clean(src); c == ".." || strings.HasPrefix(c, "../") || strings.HasPrefix(c, "/..") {
				return fail(in.Errorf("%s %s: forbidden path outside the build context", in.Cmd, src))
			}
		}
		rels := []string{inroot.Clean(src)}
		if strings.ContainsAny(src, "*?[") {
			var err error
			if rels, err = s.glob(inroot.Clean(src)); err != nil {
				return fail(in.Errorf("%s %s: %v", in.Cmd, src, err))
			}
			if len(rels) == 0 {
				return fail(in.Errorf("%s %s: no source files were specified (nothing in the %s matches)", in.Cmd, src, s.what))
			}
		}
		for _, rel := range rels {
			if s.context && s.ignore.Excluded(rel) {
				return fail(in.Errorf("%s %s: file not found in build context or excluded by .dockerignore", in.Cmd, src))
			}
			fd, err := inroot.Open(s.root, rel, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY)
			if err != nil {
				return fail(in.Errorf("%s %s: file not found in %s: %v", in.Cmd, src, s.what, err))
			}
			it := &item{rel: rel, f: os.NewFile(uintptr(fd), rel)}
			if err := unix.Fstat(fd, &it.st); err != nil {
				it.f.Close()
				return fail(err)
			}
			if t := it.st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
				it.f.Close()
				return fail(in.Errorf("%s %s: not a regular file or a directory", in.Cmd, src))
			}
			out = append(out, it)
		}
	}
	return out, nil
}

// glob expands a pattern inside the source root, component by component
// (a * never crosses a /, as in filepath.Match), in sorted order.
func (s *source) glob(pattern string) ([]string, error) {
	paths := []string{"."}
	for _, comp := range strings.Split(pattern, "/") {
		var next []string
		for _, dir := range paths {
			if !strings.ContainsAny(comp, "*?[") {
				next = append(next, path.Join(dir, comp))
				continue
			}
			names, err := s.list(dir)
			if err != nil {
				continue // not a directory: matches nothing
			}
			for _, n := range names {
				ok, err := path.Match(comp, n)
				if err != nil {
					return nil, err
				}
				if ok && !(s.context && s.ignore.Excluded(path.Join(dir, n))) {
					next = append(next, path.Join(dir, n))
				}
			}
		}
		paths = next
	}
	var out []string
	for _, p := range paths { // the literal parts must exist too
		if fd, err := inroot.Open(s.root, p, unix.O_PATH); err == nil {
			unix.Close(fd)
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *source) list(dir string) ([]string, error) {
	fd, err := inroot.Open(s.root, dir, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}

// hash is the sha256 of what the items hold, as COPY sees it: each
// entry's path, type, mode, size, link target and bytes (not its owner:
// COPY sets that; not its times: a touched but unchanged file is still
// cached). For ADD, an archive's bytes are what is hashed: its content.
func (s *source) hash(items []*item, add bool) (string, error) {
	h := sha256.New()
	for _, it := range items {
		fmt.Fprintf(h, "item %s\n", it.rel)
		if !it.isDir() {
			if err := hashFile(h, it.rel, it.st, it.f); err != nil {
				return "", err
			}
			continue
		}
		err := archive.WalkFd(int(it.f.Fd()), func(e *archive.Entry) error {
			full := path.Join(it.rel, e.Rel)
			if s.context && s.ignore.Excluded(full) {
				if e.Stat.Mode&unix.S_IFMT == unix.S_IFDIR && s.ignore.SkipDir(full) {
					return fs.SkipDir
				}
				return nil
			}
			if e.Link != "" {
				fmt.Fprintf(h, "%s link %o %s\n", e.Rel, e.Stat.Mode&07777, e.Link)
				return nil
			}
			return hashFile(h, e.Rel, e.Stat, e.File)
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h hash.Hash, rel string, st unix.Stat_t, f *os.File) error {
	if st.Mode&unix.S_IFMT != unix.S_IFREG || f == nil {
		// A directory's size is its filesystem's business (and differs
		// between the CLI's directory and the daemon's unpacked copy).
		fmt.Fprintf(h, "%s %o %o\n", rel, st.Mode&unix.S_IFMT, st.Mode&07777)
		return nil
	}
	fmt.Fprintf(h, "%s %o %o %d\n", rel, st.Mode&unix.S_IFMT, st.Mode&07777, st.Size)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(h, io.LimitReader(f, st.Size))
	return err
}

// writer writes a COPY's items into the mounted image.
type writer struct {
	root  int // the image's root, as mounted with the step's upper layer
	src   *source
	own   owner
	chmod *uint32
	b     *builder
}

// region copyitem
// item copies one source to dest. A directory's contents go into dest;
// a file goes to dest, or into it when dest is a directory (dest ends
// with /, or is a directory in the image). ADD unpacks a local tar
// archive (plain, gzip, bzip2, zstd) into dest instead. Every parent is
// made with mkdirat in a directory resolved inside the image's root.
func (w *writer) item(it *item, dest string, destDir, add bool) error {
	if it.isDir() {
		dir, err := inroot.MkdirAll(w.root, dest, 0755)
		if err != nil {
			return err
		}
		unix.Close(dir)
		return w.tree(it, dest)
	}
	if add {
		if r, ok, err := archiveReader(it.f); err != nil {
			return err
		} else if ok {
			return w.unpack(r, dest)
		}
	}
	target := dest
	if destDir || w.isDir(dest) {
		target = path.Join(dest, path.Base(it.rel))
	}
	parentDir, base := inroot.Split(target)
	if base == "" {
		return errors.New("cannot copy a file onto /")
	}
	parent, err := inroot.MkdirAll(w.root, parentDir, 0755)
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	return w.file(parent, base, it.f, it.st)
}

// endregion copyitem

func (w *writer) isDir(p string) bool {
	fd, err := inroot.Open(w.root, p, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// tree copies a directory's contents below dest, never following a
// symlink of the source (archive.WalkFd reads it with O_NOFOLLOW, one
// name at a time).
func (w *writer) tree(it *item, dest string) error {
	return archive.WalkFd(int(it.f.Fd()), func(e *archive.Entry) error {
		if w.src.context {
			full := path.Join(it.rel, e.Rel)
			if w.src.ignore.Excluded(full) {
				if e.Stat.Mode&unix.S_IFMT == unix.S_IFDIR && w.src.ignore.SkipDir(full) {
					return fs.SkipDir
				}
				return nil
			}
		}
		parentDir, base := inroot.Split(path.Join(dest, e.Rel))
		parent, err := inroot.MkdirAll(w.root, parentDir, 0755)
		if err != nil {
			return err
		}
		defer unix.Close(parent)
		return w.entry(parent, base, e)
	})
}

// entry makes one entry of a copied tree in parent.
func (w *writer) entry(parent int, base string, e *archive.Entry) error {
	switch e.Stat.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return w.file(parent, base, e.File, e.Stat)
	case unix.S_IFDIR:
		var st unix.Stat_t
		if unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err := archive.RemoveAt(parent, base); err != nil {
				return err
			}
		}
		if err := unix.Mkdirat(parent, base, 0700); err != nil && err != unix.EEXIST {
			return err
		}
		return w.meta(parent, base, e.Stat, false)
	case unix.S_IFLNK:
		if err := archive.RemoveAt(parent, base); err != nil {
			return err
		}
		if err := unix.Symlinkat(e.Link, parent, base); err != nil {
			return err
		}
		return w.meta(parent, base, e.Stat, true)
	case unix.S_IFIFO:
		if err := archive.RemoveAt(parent, base); err != nil {
			return err
		}
		if err := unix.Mknodat(parent, base, unix.S_IFIFO|0600, 0); err != nil {
			return err
		}
		return w.meta(parent, base, e.Stat, false)
	}
	return nil // devices and sockets: an image gets none from a build
}

// file writes a regular file as parent/base: whatever was there is
// removed first (never followed: a symlink in the image at that name is
// replaced, not written through), then O_CREAT|O_EXCL|O_NOFOLLOW.
func (w *writer) file(parent int, base string, src *os.File, st unix.Stat_t) error {
	if err := archive.RemoveAt(parent, base); err != nil {
		return err
	}
	fd, err := unix.Openat(parent, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0600)
	if err != nil {
		return err
	}
	out := os.NewFile(uintptr(fd), base)
	defer out.Close()
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(out, io.LimitReader(src, st.Size)); err != nil { // copy_file_range(2) where it can
		return err
	}
	return w.meta(parent, base, st, false)
}

// meta sets owner (root, or --chown), mode (the source's, or --chmod)
// and the source's modification time.
func (w *writer) meta(parent int, base string, st unix.Stat_t, link bool) error {
	uid, gid := w.own.uid, w.own.gid
	if uid < 0 {
		uid, gid = int(st.Uid), int(st.Gid)
	}
	if err := unix.Fchownat(parent, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	ts := []unix.Timespec{st.Mtim, st.Mtim}
	if link {
		return unix.UtimesNanoAt(parent, base, ts, unix.AT_SYMLINK_NOFOLLOW)
	}
	mode := st.Mode & 07777
	if w.chmod != nil {
		mode = *w.chmod
	}
	if err := unix.Fchmodat(parent, base, mode, 0); err != nil {
		return err
	}
	return unix.UtimesNanoAt(parent, base, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// region addarchive
// unpack is ADD of a local archive: the tarball is unpacked by the safe
// extractor (package archive) into a scratch directory of the build, then
// copied into dest like a directory, with the owners the archive gives.
// Unpacking straight into the image would let the archive's own
// symlinks and whiteouts meet the image's files.
func (w *writer) unpack(r io.Reader, dest string) error {
	upper, _, err := w.b.scratchDirs()
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(upper), "unpacked")
	defer os.RemoveAll(filepath.Dir(upper))
	if err := os.Mkdir(tmp, 0700); err != nil {
		return err
	}
	if _, err := archive.Extract(r, tmp, archive.Limits{}); err != nil {
		return fmt.Errorf("unpacking the archive: %v", err)
	}
	fd, err := unix.Open(tmp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), tmp)
	defer f.Close()
	dir, err := inroot.MkdirAll(w.root, dest, 0755)
	if err != nil {
		return err
	}
	unix.Close(dir)
	keep := *w
	keep.own = owner{-1, -1}
	keep.src = &source{}
	return keep.tree(&item{rel: ".", f: f}, dest)
}

// endregion addarchive

// archiveReader tells whether a file is a tar archive ADD unpacks, by
// its first bytes, and returns the tarball.
func archiveReader(f *os.File) (io.Reader, bool, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, false, err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(512)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return br, true, nil // archive.Extract reads gzip itself
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), true, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, false, err
		}
		return zr.IOReadCloser(), true, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return nil, false, errors.New("an xz archive: minidocker's ADD unpacks plain, gzip, bzip2 and zstd tarballs (recompress it, or RUN tar -xJf)")
	case len(magic) >= 262 && string(magic[257:262]) == "ustar":
		return br, true, nil
	}
	return nil, false, nil // not an archive: copied as a file
}

// resolveOwner reads --chown USER[:GROUP]: numbers, or names looked up in
// the image's own /etc/passwd and /etc/group (read inside its root).
// None given: root (0:0), as COPY makes every file.
func resolveOwner(root int, spec string) (owner, error) {
	if spec == "" {
		return owner{0, 0}, nil
	}
	user, group, hasGroup := strings.Cut(spec, ":")
	uid, gid := -1, -1
	if n, err := strconv.Atoi(user); err == nil && n >= 0 {
		uid, gid = n, n
	} else {
		fields, err := lookup(root, "etc/passwd", user)
		if err != nil {
			return owner{}, fmt.Errorf("unable to find user %s: %v", user, err)
		}
		if uid, err = strconv.Atoi(fields[2]); err != nil {
			return owner{}, fmt.Errorf("user %s: bad uid %q in /etc/passwd", user, fields[2])
		}
		if gid, err = strconv.Atoi(fields[3]); err != nil {
			return owner{}, fmt.Errorf("user %s: bad gid %q in /etc/passwd", user, fields[3])
		}
	}
	if hasGroup {
		if n, err := strconv.Atoi(group); err == nil && n >= 0 {
			gid = n
		} else {
			fields, err := lookup(root, "etc/group", group)
			if err != nil {
				return owner{}, fmt.Errorf("unable to find group %s: %v", group, err)
			}
			if gid, err = strconv.Atoi(fields[2]); err != nil {
				return owner{}, fmt.Errorf("group %s: bad gid %q in /etc/group", group, fields[2])
			}
		}
	}
	if uid > 1<<31 || gid > 1<<31 {
		return owner{}, fmt.Errorf("%s is out of range", spec)
	}
	return owner{uid, gid}, nil
}

// lookup finds name in an /etc/passwd-style file of the image (bounded:
// the image is a stranger's too).
func lookup(root int, file, name string) ([]string, error) {
	fd, err := inroot.Open(root, file, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("no /%s in the image", file)
	}
	f := os.NewFile(uintptr(fd), file)
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 4<<20))
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 4 && fields[0] == name {
			return fields, nil
		}
	}
	return nil, fmt.Errorf("no matching entries in /%s", file)
}
