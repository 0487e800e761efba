//go:build linux

package tests

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Helpers for the build tests (chapter 12).

// buildTest starts a test of `minidocker build`: root, the default bridge
// (RUN's network), the program, the leak check, and the removal of every
// image the test made (its steps are the build cache) before that check.
func buildTest(t *testing.T) string {
	t.Helper()
	requireRoot(t)
	defaultBridge(t)
	md := minidockerTest(t)
	removeNewImages(t, md)
	return md
}

// removeNewImages removes, when the test ends, the images made since now.
func removeNewImages(t *testing.T, md string) {
	before := imageIDs()
	t.Cleanup(func() {
		for _, id := range added(before, imageIDs()) {
			exec.Command(md, "rmi", "-f", id).Run()
		}
	})
}

// imageIDs lists the store's image records.
func imageIDs() []string {
	var ids []string
	for _, n := range listDir(filepath.Join(mdRoot(), "images")) {
		if strings.HasSuffix(n, ".json") {
			ids = append(ids, strings.TrimSuffix(n, ".json"))
		}
	}
	return ids
}

// buildContext copies testdata/build/NAME into a fresh directory (a test
// may change its files) and returns it.
func buildContext(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join(repoRoot, "tests", "testdata", "build", name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeFiles writes a context: NAME -> content; a content starting with
// "->" makes a symlink to the rest.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0755)
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

var builtRe = regexp.MustCompile(`Successfully built ([0-9a-f]{12})`)

// builtID is the short ID a build printed.
func builtID(t *testing.T, out string) string {
	t.Helper()
	m := builtRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no 'Successfully built' in:\n%s", out)
	}
	return m[1]
}

// mustBuild runs `minidocker build ARGS...` and returns its output.
func mustBuild(t *testing.T, md string, args ...string) string {
	t.Helper()
	return mustRun(t, md, append([]string{"build"}, args...)...).stdout
}

// region compilerimage
// compilerImage makes a C compiler image from the host's gcc, offline: the
// busybox rootfs plus gcc's driver, cc1, as, ld (and collect2, the LTO
// plugin), the headers the program includes (gcc -M), the files the static
// link reads (ld -t), and the shared libraries all of them load (ldd).
// About 50 MB, imported once per test; it is removed when the test ends.
func compilerImage(t *testing.T, md, name, program string) {
	t.Helper()
	gcc := tool(t, "gcc")
	dir := t.TempDir()
	src := filepath.Join(dir, "probe.c")
	os.WriteFile(src, []byte(program), 0644)
	out := func(args ...string) string {
		t.Helper()
		r := run(t, gcc, args...)
		if r.code != 0 {
			t.Fatalf("gcc %s: %s", strings.Join(args, " "), r)
		}
		return strings.TrimSpace(r.stdout + r.stderr)
	}
	files := map[string]bool{} // paths, as in the image as on the host
	add := func(p string) {
		p = filepath.Clean(p)
		if _, err := os.Stat(p); err == nil && filepath.IsAbs(p) {
			files[p] = true
		}
	}
	prog := func(name string) string {
		p := out("-print-prog-name=" + name)
		if !filepath.IsAbs(p) {
			if lp, err := exec.LookPath(p); err == nil {
				p = lp
			}
		}
		return p
	}
	libdir := filepath.Dir(out("-print-libgcc-file-name"))
	var progs []string
	for _, p := range []string{gcc, prog("as"), prog("ld"), prog("cc1"), prog("collect2"), prog("lto-wrapper"), filepath.Join(libdir, "liblto_plugin.so")} {
		add(p)
		progs = append(progs, p)
	}
	for _, f := range strings.Fields(strings.ReplaceAll(out("-M", src), "\\", " ")) { // probe.o: probe.c /usr/include/stdio.h ...
		if strings.HasPrefix(f, "/usr/") {
			add(f)
		}
	}
	for _, l := range strings.Split(out("-static", "-Wl,-t", "-o", filepath.Join(dir, "probe"), src), "\n") {
		if i, j := strings.Index(l, "("), strings.Index(l, ")"); i >= 0 && j > i { // (libc.a)printf.o
			l = l[i+1 : j]
		}
		if strings.HasPrefix(l, "/usr/") || strings.HasPrefix(l, "/lib") {
			add(l)
		}
	}
	for _, p := range progs {
		r := run(t, "ldd", p)
		for _, l := range strings.Split(r.stdout, "\n") {
			for _, f := range strings.Fields(l) {
				if strings.HasPrefix(f, "/") {
					add(f)
				}
			}
		}
	}
	// The busybox rootfs, then gcc's files appended (tar -r), symlinks
	// followed (-h): each is stored under the name gcc looks it up by.
	tarball := busyboxTar(t, dir)
	args := []string{"-rhf", tarball, "-C", "/"}
	for p := range files {
		args = append(args, strings.TrimPrefix(p, "/"))
	}
	sort.Strings(args[4:])
	if r := run(t, "tar", args...); r.code != 0 {
		t.Fatalf("tar: %s", r)
	}
	mustRun(t, md, "import", "-c", `CMD ["sh"]`, "-c", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", tarball, name)
	t.Cleanup(func() { exec.Command(md, "rmi", "-f", name).Run() })
}

// endregion compilerimage

// tarOf makes a tarball of entries (name -> content; a name ending in /
// is a directory; content "->X" a symlink to X).
func tarOf(t *testing.T, entries [][2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e[0], Mode: 0644, Typeflag: tar.TypeReg, Size: int64(len(e[1]))}
		switch target, isLink := strings.CutPrefix(e[1], "->"); {
		case strings.HasSuffix(e[0], "/"):
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0755, 0
		case isLink:
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, target, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e[1]))
		}
	}
	tw.Close()
	return buf.Bytes()
}

// count is how many times s occurs in out.
func count(out, s string) int { return strings.Count(out, s) }
