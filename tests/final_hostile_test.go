//go:build linux

package tests

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
)

// Hostile input (chapter 07, "Untrusted tarballs"): what strangers write
// (tarballs, a container's own files) must never reach outside its root.

// canaryDir makes a canary directory (the files every attack aims at) and
// returns it with a function that fails the test if it changed.
func canaryDir(t *testing.T) (string, func(what string)) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "canary")
	if err := hostile.MakeCanary(dir); err != nil {
		t.Fatal(err)
	}
	sum := func() string {
		s, err := hostile.TreeSum(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	want := sum()
	return dir, func(what string) {
		t.Helper()
		if sum() != want {
			t.Fatalf("%s: the canary %s outside the root changed", what, dir)
		}
	}
}

// storeListing is what minidocker's image store holds: image records and layers.
func storeListing(t *testing.T) string {
	t.Helper()
	var names []string
	for _, d := range []string{"images", "layers"} {
		ents, _ := os.ReadDir(filepath.Join(mdRoot(), d))
		for _, e := range ents {
			names = append(names, d+"/"+e.Name())
		}
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// TestFinalImportHostile: `minidocker import` of each hostile tarball
// (final/archive/hostile) is refused with one line naming the entry, and
// leaves no image and no layer; or it is imported with everything inside
// the layer. The canary outside is byte-for-byte unchanged after each.
func TestFinalImportHostile(t *testing.T) {
	md := minidockerTest(t)
	canary, unchanged := canaryDir(t)
	cases := hostile.Cases(canary)
	if len(cases) < 15 {
		t.Fatalf("only %d hostile tarballs", len(cases))
	}
	mustRun(t, md, "images", "-q") // the busybox image, made on first use, is part of the baseline
	dir := t.TempDir()
	for i, c := range cases {
		before := storeListing(t)
		tarball := filepath.Join(dir, fmt.Sprintf("case%d.tar", i))
		if err := os.WriteFile(tarball, c.Tar, 0644); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("hostile-%d", i)
		r := run(t, md, "import", tarball, name)
		switch c.Want {
		case hostile.Refused:
			if r.code != 125 {
				t.Errorf("%s: import exited %d, want 125 (refused): %s", c.Name, r.code, r)
			}
			oneLine(t, r, "refused: entry ")
			if after := storeListing(t); after != before {
				t.Errorf("%s: a refused tarball left something in the store: %q -> %q", c.Name, before, after)
			}
		case hostile.Contained:
			if r.code != 0 {
				t.Errorf("%s: import failed, want it contained: %s", c.Name, r)
				continue
			}
			mustRun(t, md, "rmi", name)
		}
		unchanged(c.Name)
	}
}

// TestFinalContainerSymlinks: a container's own files are hostile too. It
// plants symlinks to a host file, to /, a ../ chain, and swaps a directory
// for a symlink; then export, commit and `run -v` over the committed image
// (whose /data is a symlink to / and /up a ../ chain) must neither read
// nor write anything outside the container's root.
func TestFinalContainerSymlinks(t *testing.T) {
	md := minidockerTest(t)
	canary, unchanged := canaryDir(t)
	secret := filepath.Join(canary, hostile.CanaryFile)
	removeOnCleanup(t, md, "planter")
	plant := fmt.Sprintf(`ln -s %s /etc/x; ln -s / /hostroot; ln -s ../../../../../../../.. /up
mkdir -p /d; echo mine > /d/f; rm -rf /d; ln -s %s /d
rm -rf /data; ln -s / /data; echo planted`, secret, canary)
	if r := mustRun(t, md, "run", "--name", "planter", "--network", "none", "busybox", "sh", "-c", plant); !strings.Contains(r.stdout, "planted") {
		t.Fatalf("planting: %s", r)
	}
	// export: the symlinks are in the tarball as symlinks, and no byte of
	// the host file they point at.
	out := filepath.Join(t.TempDir(), "planter.tar")
	mustRun(t, md, "export", "planter", "-o", out)
	b, _ := os.ReadFile(out)
	if bytes.Contains(b, []byte(hostile.CanaryContent)) {
		t.Errorf("export followed a planted symlink: the host file's content is in the tarball")
	}
	types := map[string]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		types[h.Name] = h.Typeflag
	}
	for _, name := range []string{"etc/x", "hostroot", "up", "d", "data"} {
		if types[name] != tar.TypeSymlink {
			t.Errorf("export: %s should be a symlink in the tarball, got type %q", name, types[name])
		}
	}
	unchanged("export")
	// commit: the new layer holds the links, not what they point at.
	removeOnCleanup(t, md, "linked")
	mustRun(t, md, "commit", "planter", "planted-img")
	t.Cleanup(func() { run(t, md, "rmi", "planted-img") })
	r := mustRun(t, md, "run", "--rm", "--network", "none", "planted-img", "sh", "-c", "for f in /etc/x /data /up; do readlink $f; done; cat /etc/x 2>&1 | head -c 40")
	if !strings.Contains(r.stdout, secret+"\n/\n../../../../../../../..\n") || strings.Contains(r.stdout, "canary: must") {
		t.Errorf("commit: the planted links should be links inside the image (and lead nowhere in it): %s", r)
	}
	unchanged("commit")
	// run -v onto paths through the image's symlinks: the binds land on the
	// container's own /tmp, and nothing is made on the host's.
	vol := t.TempDir()
	os.WriteFile(filepath.Join(vol, "in-volume"), []byte("v\n"), 0644)
	escape := fmt.Sprintf("/tmp/minidocker-escape-%d", os.Getpid())
	os.RemoveAll(escape)
	r = mustRun(t, md, "run", "--rm", "--network", "none", "-v", vol+":/data"+escape+"-a", "-v", vol+":/up"+escape+"-b:ro",
		"planted-img", "sh", "-c", "cat "+escape+"-a/in-volume "+escape+"-b/in-volume; touch "+escape+"-b/x 2>&1 | grep -c Read-only")
	if r.stdout != "v\nv\n1\n" {
		t.Errorf("run -v through the image's symlinks: want the volume at the container's %s-a and read-only at %s-b: %s", escape, escape, r)
	}
	for _, p := range []string{escape + "-a", escape + "-b"} {
		if _, err := os.Lstat(p); err == nil {
			os.RemoveAll(p)
			t.Errorf("run -v made %s on the host: the mount point was resolved through the image's symlink on the host's side", p)
		}
	}
	unchanged("run -v")
}
