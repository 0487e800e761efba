//go:build linux

package archive

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/minidocker/build-your-own-docker/final/archive/hostile"
	"github.com/minidocker/build-your-own-docker/internal/needroot"
	"golang.org/x/sys/unix"
)

// makeCanary and treeSum are hostile's, failing the test on an error.
func makeCanary(t testing.TB, dir string) {
	t.Helper()
	if err := hostile.MakeCanary(dir); err != nil {
		t.Fatal(err)
	}
}

func treeSum(t testing.TB, dir string) string {
	t.Helper()
	sum, err := hostile.TreeSum(dir)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// checkCase asserts what a safe extractor did with one hostile case: the
// outcome, a one-line error, and for contained cases where things landed.
func checkCase(t *testing.T, c hostile.Case, root string, res *Result, err error) {
	t.Helper()
	switch c.Want {
	case hostile.Refused:
		if err == nil {
			t.Errorf("%s: extracted without an error, want it refused", c.Name)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: the error is not one line: %q", c.Name, err)
		} else {
			t.Logf("%s: %v", c.Name, err)
		}
	case hostile.Contained:
		if err != nil {
			t.Errorf("%s: %v, want it unpacked inside the layer", c.Name, err)
			return
		}
		for p, want := range c.Inside {
			full := filepath.Join(root, p)
			fi, err := os.Lstat(full)
			if err != nil {
				t.Errorf("%s: %s is not inside the layer: %v", c.Name, p, err)
				continue
			}
			if want == "" {
				continue
			}
			if got, _ := os.ReadFile(full); !fi.Mode().IsRegular() || string(got) != want {
				t.Errorf("%s: %s in the layer holds %q, want %q", c.Name, p, got, want)
			}
		}
		for _, p := range c.Absent {
			if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
				t.Errorf("%s: %s was made in the layer", c.Name, p)
			}
		}
		t.Logf("%s: contained, left out %v", c.Name, res.Skipped)
	}
}

// TestExtractHostile: every hostile tarball is refused or contained, and the
// canary outside the layer is byte-for-byte unchanged after each.
func TestExtractHostile(t *testing.T) {
	needroot.Require(t)
	base := t.TempDir()
	canary := filepath.Join(base, "canary")
	makeCanary(t, canary)
	before := treeSum(t, canary)
	cases := hostile.Cases(canary)
	if len(cases) < 15 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	for i, c := range cases {
		root := filepath.Join(base, fmt.Sprintf("layer%d", i))
		os.Mkdir(root, 0755)
		res, err := Extract(bytes.NewReader(c.Tar), root, Limits{})
		checkCase(t, c, root, res, err)
		if after := treeSum(t, canary); after != before {
			t.Fatalf("%s: the canary outside the layer changed", c.Name)
		}
		if names := dirNames(t, base); len(names) != i+2 {
			t.Fatalf("%s: something was made beside the layer: %v", c.Name, names)
		}
	}
}

func dirNames(t testing.TB, dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// TestExtractLimits: the byte and entry limits stop a tarball early.
func TestExtractLimits(t *testing.T) {
	needroot.Require(t)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i < 10; i++ {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("f%d", i), Mode: 0644, Size: 1000})
		tw.Write(make([]byte, 1000))
	}
	tw.Close()
	for _, c := range []struct {
		lim  Limits
		want string
	}{{Limits{Bytes: 5500}, "limit of 5500 bytes"}, {Limits{Entries: 3}, "more than 3 entries"}, {Limits{}, ""}} {
		_, err := Extract(bytes.NewReader(b.Bytes()), t.TempDir(), c.lim)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: got %v, want %q", c.lim, err, c.want)
		}
	}
}

// TestExtractLayer: a well-formed layer comes out as overlayfs wants it:
// whiteouts as 0/0 character devices, opaque directories marked, owners,
// modes (setuid kept), hard links, symlinks, file capabilities.
func TestExtractLayer(t *testing.T) {
	needroot.Require(t)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	add(&tar.Header{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0755}, "")
	add(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/.wh.gone", Mode: 0644}, "")
	add(&tar.Header{Typeflag: tar.TypeDir, Name: "opq/", Mode: 0700}, "")
	add(&tar.Header{Typeflag: tar.TypeReg, Name: "opq/.wh..wh..opq", Mode: 0644}, "")
	add(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/su", Mode: 04755, Uid: 0}, "su")
	add(&tar.Header{Typeflag: tar.TypeReg, Name: "home/u/f", Mode: 0640, Uid: 1000, Gid: 1000}, "f")
	add(&tar.Header{Typeflag: tar.TypeLink, Name: "home/u/g", Linkname: "home/u/f"}, "")
	add(&tar.Header{Typeflag: tar.TypeSymlink, Name: "etc/mtab", Linkname: "/proc/mounts"}, "")
	capv := "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	add(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/ping", Mode: 0755, PAXRecords: map[string]string{"SCHILY.xattr.security.capability": capv}}, "ping")
	tw.Close()
	root := t.TempDir()
	if _, err := Extract(&b, root, Limits{}); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, "etc/gone"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("etc/.wh.gone: want a 0/0 character device etc/gone, got %v %o", err, st.Mode)
	}
	if v := make([]byte, 8); true {
		n, err := unix.Lgetxattr(filepath.Join(root, "opq"), "trusted.overlay.opaque", v)
		if err != nil || string(v[:n]) != "y" {
			t.Errorf("opq: want trusted.overlay.opaque=y, got %v %q", err, v[:n])
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "bin/su")); err != nil || fi.Mode()&os.ModeSetuid == 0 {
		t.Errorf("bin/su: want setuid kept, got %v %v", err, fi)
	}
	if err := unix.Lstat(filepath.Join(root, "home/u/g"), &st); err != nil || st.Nlink != 2 || st.Uid != 1000 || st.Mode&0777 != 0640 {
		t.Errorf("home/u/g: want a hard link of f owned by 1000 mode 0640, got %v %+v", err, st)
	}
	if l, err := os.Readlink(filepath.Join(root, "etc/mtab")); err != nil || l != "/proc/mounts" {
		t.Errorf("etc/mtab: want -> /proc/mounts, got %q %v", l, err)
	}
	v := make([]byte, 64)
	if n, err := unix.Lgetxattr(filepath.Join(root, "bin/ping"), "security.capability", v); err != nil || string(v[:n]) != capv {
		t.Errorf("bin/ping: want its file capability kept, got %v", err)
	}
}

// TestTarCopyTreeDoNotFollow: Tar and CopyTree read a tree's symlinks as
// symlinks (a container's planted /etc/x -> the host's file): the host
// file's bytes are never in the output, and the copy holds the links.
func TestTarCopyTreeDoNotFollow(t *testing.T) {
	needroot.Require(t)
	base := t.TempDir()
	canary := filepath.Join(base, "canary")
	makeCanary(t, canary)
	before := treeSum(t, canary)
	tree := filepath.Join(base, "tree")
	os.MkdirAll(filepath.Join(tree, "etc"), 0755)
	os.Symlink(filepath.Join(canary, hostile.CanaryFile), filepath.Join(tree, "etc/x"))
	os.Symlink(canary, filepath.Join(tree, "dirlink"))
	os.Symlink(strings.Repeat("../", 12), filepath.Join(tree, "up"))
	os.WriteFile(filepath.Join(tree, "etc/hosts"), []byte("mine\n"), 0644)
	var out bytes.Buffer
	if err := Tar(&out, tree); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out.Bytes(), []byte(hostile.CanaryContent)) {
		t.Error("Tar followed a symlink out of the tree: the canary's content is in the tarball")
	}
	tr := tar.NewReader(&out)
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, fmt.Sprintf("%s:%c", h.Name, h.Typeflag))
	}
	want := "dirlink:2 etc/:5 etc/hosts:0 etc/x:2 up:2"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("tarball entries: got %q, want %q", got, want)
	}
	dst := filepath.Join(base, "copy")
	os.Mkdir(dst, 0755)
	if _, err := CopyTree(tree, dst); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(dst, "etc/x")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("CopyTree: etc/x must stay a symlink: %v %v", err, fi)
	}
	if treeSum(t, canary) != before {
		t.Error("the canary changed")
	}
}
