//go:build linux

// Package hostile builds the tarballs an attacker would hand to
// `minidocker import` (or, later, to pull, load and build): each tries to
// write, link, delete or mark something outside the layer it is unpacked
// into, or to exhaust it. The extractor's table test, its fuzz target
// (as the seed corpus) and the end-to-end test of `minidocker import` all
// use this one list.
package hostile

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Outcome is what a safe extractor must do with a case.
type Outcome int

const (
	Refused   Outcome = iota // an error naming the entry, and nothing kept
	Contained                // unpacked, but everything lands inside the layer
)

// Case is one hostile tarball.
type Case struct {
	Name string
	Tar  []byte
	Want Outcome
	// Inside, for a contained case: paths (relative to the layer) that must
	// exist afterwards, with "" for "a directory or non-regular file" or
	// the content of a regular file.
	Inside map[string]string
	// Absent, for a contained case: paths that must not exist in the layer.
	Absent []string
}

// Canary names the files a test puts in the canary directory: a file that
// every case tries to reach, and a subdirectory.
const (
	CanaryFile    = "file"
	CanaryContent = "canary: must never change\n"
	CanarySub     = "sub"
)

// entry is one tar header (and content, for a regular file).
type entry struct {
	h    tar.Header
	body string
}

func file(name, body string) entry {
	return entry{tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0644, Size: int64(len(body))}, body}
}
func dir(name string) entry {
	return entry{h: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0755}}
}
func symlink(name, target string) entry {
	return entry{h: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0777}}
}
func hardlink(name, target string) entry {
	return entry{h: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target}}
}

// Build writes entries as a tarball. A header may claim more bytes than
// follow (the huge-size case): the tarball is then cut short on purpose.
func build(entries ...entry) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := e.h
		h.ModTime = time.Unix(1700000000, 0)
		if h.Format == 0 {
			h.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(&h); err != nil {
			panic(err)
		}
		if int64(len(e.body)) < h.Size { // a lie: stop here, unfinished
			tw.Write([]byte(e.body))
			return b.Bytes()
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// Cases are the hostile tarballs for a canary directory (an absolute path
// outside the layer holding CanaryFile and CanarySub): at least 15, each
// named for its trick.
func Cases(canary string) []Case {
	rel := strings.TrimPrefix(canary, "/") // the canary's path as a name inside the layer
	up := strings.Repeat("../", 16)        // more than any temporary directory is deep
	return []Case{
		{Name: "symlink then a file through it",
			Tar: build(symlink("etc", canary), file("etc/passwd", "root::0:0::/:/bin/sh\n")), Want: Refused},
		{Name: "symlink chain out",
			Tar: build(symlink("a", "b"), symlink("b", "c"), symlink("c", canary), file("a/x", "x")), Want: Refused},
		{Name: "symlink to .. climbed through",
			Tar:  build(symlink("up", ".."), file("up/up/up/up/up/up/up/up/up/up/up/up/up/up/up/up/"+rel+"/evil", "x")),
			Want: Contained, Inside: map[string]string{rel + "/evil": "x"}},
		{Name: "absolute symlink to / written through",
			Tar:  build(symlink("abs", "/"), file("abs/"+rel+"/"+CanaryFile, "overwritten")),
			Want: Contained, Inside: map[string]string{rel + "/" + CanaryFile: "overwritten", "abs": ""}},
		{Name: "relative symlink climbing out",
			Tar: build(symlink("rel", up+rel), file("rel/evil", "x")), Want: Refused},
		{Name: "hard link to a host file",
			Tar: build(hardlink("shadow", canary+"/"+CanaryFile)), Want: Refused},
		{Name: "hard link climbing with ../",
			Tar: build(hardlink("shadow", up+rel+"/"+CanaryFile)), Want: Refused},
		{Name: "hard link through a planted symlink",
			Tar: build(symlink("s", canary), hardlink("shadow", "s/"+CanaryFile)), Want: Refused},
		{Name: "../ in the name",
			Tar: build(file(up+rel+"/evil", "x")), Want: Refused},
		{Name: "absolute name",
			Tar:  build(file(canary+"/evil", "x")),
			Want: Contained, Inside: map[string]string{rel + "/evil": "x"}},
		{Name: "directory replaced by a symlink mid-archive",
			Tar: build(dir("d/"), file("d/a", "a"), symlink("d", canary), file("d/b", "b")), Want: Refused},
		{Name: "whiteout naming ..",
			Tar: build(dir("sub/"), file("sub/.wh...", "")), Want: Refused},
		{Name: "a tarball of ./ (as tar -C dir -c . writes it) with a symlink to the canary",
			Tar:  build(dir("./"), dir("./etc/"), symlink("./etc/x", canary+"/"+CanaryFile), file("./etc/hosts", "mine")),
			Want: Contained, Inside: map[string]string{"etc/x": "", "etc/hosts": "mine"}},
		{Name: "whiteout through a planted symlink",
			Tar: build(symlink("s", canary), file("s/.wh."+CanaryFile, "")), Want: Refused},
		{Name: "whiteout through / lands inside",
			Tar:  build(symlink("s", "/"), file("s/"+rel+"/.wh."+CanaryFile, "")),
			Want: Contained, Inside: map[string]string{rel + "/" + CanaryFile: ""}},
		{Name: "opaque marker through a planted symlink",
			Tar: build(symlink("s", canary), file("s/.wh..wh..opq", "")), Want: Refused},
		{Name: "huge size in a header",
			Tar: build(entry{tar.Header{Typeflag: tar.TypeReg, Name: "big", Mode: 0644, Size: 1 << 50}, "only a few bytes"}), Want: Refused},
		{Name: "block and character device nodes",
			Tar: build(entry{h: tar.Header{Typeflag: tar.TypeBlock, Name: "sda", Mode: 0660, Devmajor: 8}},
				entry{h: tar.Header{Typeflag: tar.TypeChar, Name: "mem", Mode: 0640, Devmajor: 1, Devminor: 1}}, file("ok", "ok")),
			Want: Contained, Inside: map[string]string{"ok": "ok"}, Absent: []string{"sda", "mem"}},
		{Name: "duplicate entries: a file replaces a symlink, never writes through it",
			Tar:  build(file("a", "one"), file("a", "two"), symlink("b", canary+"/"+CanaryFile), file("b", "replaced")),
			Want: Contained, Inside: map[string]string{"a": "two", "b": "replaced"}},
		{Name: "a directory replaces a symlink to the canary",
			Tar:  build(symlink("d", canary), dir("d/"), file("d/"+CanaryFile, "mine")),
			Want: Contained, Inside: map[string]string{"d/" + CanaryFile: "mine"}},
		{Name: "odd bytes in names",
			Tar:  build(file("\xff\xfe", "1"), file("new\nline", "2"), file("-rf", "3"), file(" ", "4"), file("back\\slash", "5")),
			Want: Contained, Inside: map[string]string{"\xff\xfe": "1", "new\nline": "2", "-rf": "3", " ": "4", "back\\slash": "5"}},
		{Name: "symlink loop",
			Tar: build(symlink("a", "b"), symlink("b", "a"), file("a/x", "x")), Want: Refused},
		{Name: "the layer's root replaced by a symlink",
			Tar: build(symlink("./", canary)), Want: Refused},
		{Name: "overlay xattrs forged in PAX records",
			Tar: build(entry{h: tar.Header{Typeflag: tar.TypeDir, Name: "x/", Mode: 0755, PAXRecords: map[string]string{
				"SCHILY.xattr.trusted.overlay.redirect": "/" + rel, "SCHILY.xattr.trusted.overlay.metacopy": ""}}}),
			Want: Contained, Inside: map[string]string{"x": ""}},
		{Name: "hard link to a directory",
			Tar: build(dir("d/"), hardlink("x", "d")), Want: Refused},
		{Name: "hard link to a symlink that points out",
			Tar:  build(symlink("l", canary+"/"+CanaryFile), hardlink("l2", "l"), file("ok", "ok")),
			Want: Contained, Inside: map[string]string{"l2": "", "ok": "ok"}},
		{Name: "gzip of a symlink then a file through it",
			Tar: gz(build(symlink("etc", canary), file("etc/passwd", "x"))), Want: Refused},
		{Name: "a fifo and a setuid file",
			Tar: build(entry{h: tar.Header{Typeflag: tar.TypeFifo, Name: "fifo", Mode: 0600}},
				entry{tar.Header{Typeflag: tar.TypeReg, Name: "su", Mode: 04755, Size: 2}, "su"}),
			Want: Contained, Inside: map[string]string{"fifo": "", "su": "su"}},
		{Name: "entry with a negative owner",
			Tar: build(entry{tar.Header{Typeflag: tar.TypeReg, Name: "x", Mode: 0644, Uid: -5, Size: 1}, "x"}), Want: Refused},
	}
}

// MakeCanary fills dir with the files every case tries to reach. A file
// already right is left alone, and a new one appears whole (rename): the
// fuzzer's workers share one canary and check it at any time.
func MakeCanary(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, CanarySub), 0755); err != nil {
		return err
	}
	path := filepath.Join(dir, CanaryFile)
	if b, err := os.ReadFile(path); err == nil && string(b) == CanaryContent {
		return nil
	}
	tmp := fmt.Sprintf("%s.%d", path, os.Getpid())
	if err := os.WriteFile(tmp, []byte(CanaryContent), 0644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// TreeSum is a digest of everything below dir: names, types, modes,
// owners, sizes, link counts, link targets, contents, xattr names. Two
// equal sums: the tree is byte-for-byte the same.
func TreeSum(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		fmt.Fprintf(h, "%q %v %d:%d %d %d\n", p, fi.Mode(), st.Uid, st.Gid, fi.Size(), st.Nlink)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			fmt.Fprintf(h, "-> %q\n", l)
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		buf := make([]byte, 4096)
		if n, _ := unix.Llistxattr(p, buf); n > 0 {
			h.Write(buf[:n])
		}
		return nil
	})
	return fmt.Sprintf("%x", h.Sum(nil)), err
}
