//go:build linux

package tests

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// step05StateDir is where step05-overlay makes one directory per run.
const step05StateDir = "/var/lib/minidocker/step05"

// TestStep05CopyOnWrite: a container appends to an image file, deletes one and
// creates one. Inside it sees its own changes; the image layer is unchanged,
// byte for byte; the kept container layer (upper dir) holds exactly the
// copied-up file, a whiteout (character device 0/0) and the new file.
func TestStep05CopyOnWrite(t *testing.T) {
	requireRoot(t)
	bin := program(t, "step05-overlay")
	image := rootfsWith(t)
	ovlWriteFile(t, filepath.Join(image, "data/app.conf"), "v1\n")
	ovlWriteFile(t, filepath.Join(image, "data/old.txt"), "old\n")
	imageBefore := ovlTree(t, image)
	runsBefore := ovlRunDirs(t)
	before := snapshot(t)

	r := mustRun(t, bin, "--rootfs", image, "--keep-layer", "--", "sh", "-c",
		"echo v2 >> /data/app.conf && rm /data/old.txt && echo new > /data/new.txt && cat /data/app.conf && ls /data")
	if r.stdout != "v1\nv2\napp.conf\nnew.txt\n" {
		t.Errorf("inside, the container should see its own changes: %s", r)
	}
	upper := ovlKeptLayer(t, r)

	if diff := ovlTreeDiff(imageBefore, ovlTree(t, image)); diff != "" {
		t.Errorf("the image layer changed: %s", diff)
	}
	// The container layer holds only what changed: nothing else was copied up.
	var got []string
	filepath.Walk(upper, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != upper {
			rel, _ := filepath.Rel(upper, p)
			got = append(got, rel)
		}
		return nil
	})
	sort.Strings(got)
	if want := []string{"data", "data/app.conf", "data/new.txt", "data/old.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("container layer holds %v, want %v", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(upper, "data/app.conf")); string(b) != "v1\nv2\n" {
		t.Errorf("copied-up data/app.conf in the container layer: %q, want %q", b, "v1\nv2\n")
	}
	if b, _ := os.ReadFile(filepath.Join(upper, "data/new.txt")); string(b) != "new\n" {
		t.Errorf("new file in the container layer: %q", b)
	}
	fi, err := os.Lstat(filepath.Join(upper, "data/old.txt"))
	if err != nil {
		t.Fatalf("no whiteout for the deleted file: %v", err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode()&os.ModeCharDevice == 0 || st.Rdev != 0 {
		t.Errorf("deleted data/old.txt should be a character device 0/0 (a whiteout), got mode %v rdev %d", fi.Mode(), st.Rdev)
	}
	// Only the upper dir is kept: work and merged are removed.
	if entries, _ := os.ReadDir(filepath.Dir(upper)); len(entries) != 1 {
		t.Errorf("run dir %s should hold only upper, has %d entries", filepath.Dir(upper), len(entries))
	}
	if extra := added(runsBefore, ovlRunDirs(t)); len(extra) != 1 || extra[0] != filepath.Base(filepath.Dir(upper)) {
		t.Errorf("with --keep-layer exactly the kept run dir should remain, new run dirs: %v", extra)
	}
	checkNoLeaks(t, before)
}

// TestStep05TwoContainersShareImage: two containers run at the same time on
// one image; each sees its own writes only, and the image is untouched.
func TestStep05TwoContainersShareImage(t *testing.T) {
	requireRoot(t)
	bin := program(t, "step05-overlay")
	image := rootfsWith(t)
	imageBefore := ovlTree(t, image)
	runsBefore := ovlRunDirs(t)
	before := snapshot(t)

	script := `echo i-am-%s > /who; touch /only-%s; echo ready; read x
		echo who=$(cat /who) other=$(test -e /only-%s && echo seen || echo unseen)`
	a := start(t, bin, "--rootfs", image, "--", "sh", "-c", fmt.Sprintf(script, "a", "a", "b"))
	b := start(t, bin, "--rootfs", image, "--", "sh", "-c", fmt.Sprintf(script, "b", "b", "a"))
	a.waitFor("ready")
	b.waitFor("ready")
	// Both are alive and have written. From the host, through each one's root:
	for who, c := range map[string]*live{"a": a, "b": b} {
		pid := fmt.Sprint(c.pid())
		if got, _ := os.ReadFile(filepath.Join("/proc", pid, "root/who")); string(got) != "i-am-"+who+"\n" {
			t.Errorf("container %s's /who seen from the host: %q", who, got)
		}
		// Its / is an overlay, in its own mount table only.
		if !ovlRootIsOverlay(t, "/proc/"+pid+"/mountinfo") {
			t.Errorf("container %s's / is not an overlay mount", who)
		}
	}
	if ovlRootIsOverlay(t, "/proc/self/mountinfo") || strings.Contains(ovlReadFile(t, "/proc/self/mountinfo"), step05StateDir) {
		t.Error("the overlay is in the host's mount table: it should live in the container's mount namespace only")
	}
	if extra := added(runsBefore, ovlRunDirs(t)); len(extra) != 2 {
		t.Errorf("two live containers should have two run dirs, new: %v", extra)
	}
	if r := a.finish(); !strings.Contains(r.stdout, "who=i-am-a other=unseen") {
		t.Errorf("container a: %s", r)
	}
	if r := b.finish(); !strings.Contains(r.stdout, "who=i-am-b other=unseen") {
		t.Errorf("container b: %s", r)
	}
	if diff := ovlTreeDiff(imageBefore, ovlTree(t, image)); diff != "" {
		t.Errorf("the shared image changed: %s", diff)
	}
	if extra := added(runsBefore, ovlRunDirs(t)); len(extra) != 0 {
		t.Errorf("run dirs left behind: %v", extra)
	}
	checkNoLeaks(t, before)
}

// TestStep05StackedLayers: with --layer TOP --layer BOTTOM, a file in the top
// layer hides the same path in the bottom one; the order decides; the rootfs
// is the base below both (a layer hides its /etc/hostname); a write inside
// does not reach any layer.
func TestStep05StackedLayers(t *testing.T) {
	requireRoot(t)
	bin := program(t, "step05-overlay")
	top, bottom := filepath.Join(t.TempDir(), "top"), filepath.Join(t.TempDir(), "bottom")
	ovlWriteFile(t, filepath.Join(top, "etc/greeting"), "from-top\n")
	ovlWriteFile(t, filepath.Join(bottom, "etc/greeting"), "from-bottom\n")
	ovlWriteFile(t, filepath.Join(bottom, "only-bottom"), "bottom-only\n")
	ovlWriteFile(t, filepath.Join(bottom, "etc/hostname"), "layer-over-rootfs\n")
	topBefore, bottomBefore := ovlTree(t, top), ovlTree(t, bottom)
	before := snapshot(t)

	show := "cat /etc/greeting /only-bottom /etc/hostname; test -x /bin/busybox && echo base-visible; echo changed > /etc/greeting"
	r := mustRun(t, bin, "--rootfs", rootfs(t), "--layer", top, "--layer", bottom, "--", "sh", "-c", show)
	if r.stdout != "from-top\nbottom-only\nlayer-over-rootfs\nbase-visible\n" {
		t.Errorf("--layer top --layer bottom: the top layer should win: %s", r)
	}
	r = mustRun(t, bin, "--rootfs", rootfs(t), "--layer", bottom, "--layer", top, "--", "sh", "-c", show)
	if r.stdout != "from-bottom\nbottom-only\nlayer-over-rootfs\nbase-visible\n" {
		t.Errorf("--layer bottom --layer top: the first --layer should win: %s", r)
	}
	if diff := ovlTreeDiff(topBefore, ovlTree(t, top)) + ovlTreeDiff(bottomBefore, ovlTree(t, bottom)); diff != "" {
		t.Errorf("a read-only layer changed: %s", diff)
	}
	checkNoLeaks(t, before)
}

// TestStep05NoLeftovers: after any end (success, exit status, command not
// found, SIGKILL, a failed overlay mount) no mount and no run dir is left;
// with --keep-layer the printed path exists (and the test removes it).
func TestStep05NoLeftovers(t *testing.T) {
	requireRoot(t)
	bin := program(t, "step05-overlay")
	runsBefore := ovlRunDirs(t)
	before := snapshot(t)
	noRunDirs := func(when string) {
		t.Helper()
		if extra := added(runsBefore, ovlRunDirs(t)); len(extra) != 0 {
			t.Errorf("%s: run dirs left in %s: %v", when, step05StateDir, extra)
		}
		checkNoLeaks(t, before)
	}

	if r := run(t, bin, "--rootfs", rootfs(t), "--", "sh", "-c", "echo x > /tmp/x; exit 7"); r.code != 7 {
		t.Errorf("exit 7: %s", r)
	}
	noRunDirs("after exit 7")
	if r := run(t, bin, "--rootfs", rootfs(t), "--", "no-such-command"); r.code != 127 {
		t.Errorf("missing command: %s", r)
	}
	noRunDirs("after command not found")

	c := start(t, bin, "--rootfs", rootfs(t), "--", "sh", "-c", "echo data > /root/f; echo ready; read x")
	c.waitFor("ready")
	syscall.Kill(c.pid(), syscall.SIGKILL)
	if r := c.finish(); r.code != 137 {
		t.Errorf("SIGKILL: want 137, %s", r)
	}
	noRunDirs("after SIGKILL")

	// 600 layers: more than overlayfs stacks (500), and their paths overflow
	// the one page the mount options must fit in. The mount fails in the
	// child (125) and the parent still removes the run dir.
	many := []string{"--rootfs", rootfs(t)}
	layers := t.TempDir()
	for i := 0; i < 600; i++ {
		dir := filepath.Join(layers, fmt.Sprint(i))
		os.Mkdir(dir, 0755)
		many = append(many, "--layer", dir)
	}
	r := run(t, bin, append(many, "--", "true")...)
	if r.code != 125 {
		t.Errorf("600 layers: want the mount to fail with 125, %s", r)
	}
	oneLine(t, r, "mount overlay")
	noRunDirs("after a failed mount")

	// --keep-layer: the printed upper dir exists; a container that wrote
	// nothing leaves it empty.
	r = mustRun(t, bin, "--rootfs", rootfs(t), "--keep-layer", "--", "true")
	upper := ovlKeptLayer(t, r)
	if entries, err := os.ReadDir(upper); err != nil || len(entries) != 0 {
		t.Errorf("kept layer of a container that wrote nothing: %v %v", entries, err)
	}
	os.RemoveAll(filepath.Dir(upper))
	noRunDirs("after --keep-layer and removing the kept dir")
}

// TestStep05BadLayer: a --layer that is not a directory is one line, exit 1.
func TestStep05BadLayer(t *testing.T) {
	requireRoot(t)
	r := run(t, program(t, "step05-overlay"), "--layer", filepath.Join(t.TempDir(), "none"), "--", "true")
	if r.code != 1 {
		t.Errorf("want exit 1: %s", r)
	}
	oneLine(t, r, "is not a directory")
}

// ovlKeptLayer returns the upper dir that --keep-layer printed (one line on
// stderr), checks it exists, and removes its run dir when the test ends.
func ovlKeptLayer(t *testing.T, r result) string {
	t.Helper()
	const prefix = "step05-overlay: kept the container layer: "
	msg := strings.TrimSpace(r.stderr)
	if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, prefix) {
		t.Fatalf("--keep-layer should print one line %q..., stderr: %q", prefix, msg)
	}
	upper := strings.TrimPrefix(msg, prefix)
	if filepath.Dir(filepath.Dir(upper)) != step05StateDir || filepath.Base(upper) != "upper" {
		t.Fatalf("kept layer %q is not %s/ID/upper", upper, step05StateDir)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(upper)) })
	if fi, err := os.Stat(upper); err != nil || !fi.IsDir() {
		t.Fatalf("kept layer %s: %v", upper, err)
	}
	return upper
}

// ovlRunDirs lists the per-run directories of step05-overlay.
func ovlRunDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(step05StateDir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// ovlRootIsOverlay reports whether a mountinfo file has an overlay mounted on /.
func ovlRootIsOverlay(t *testing.T, mountinfo string) bool {
	t.Helper()
	for _, line := range strings.Split(ovlReadFile(t, mountinfo), "\n") {
		f := strings.Fields(line)
		for i, field := range f {
			if field == "-" && i+1 < len(f) && len(f) > 4 && f[4] == "/" && f[i+1] == "overlay" {
				return true
			}
		}
	}
	return false
}

// ovlTree describes every entry under dir: type and mode, owner, size,
// mtime, device number, symlink target and a hash of the content.
func ovlTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	d := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v uid=%d gid=%d size=%d mtime=%d rdev=%d", fi.Mode(), st.Uid, st.Gid, fi.Size(), fi.ModTime().UnixNano(), st.Rdev)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" sha256=%x", sha256.Sum256(b))
		}
		rel, _ := filepath.Rel(dir, p)
		d[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ovlTreeDiff says how two treeDigests differ, or "" when they are equal.
func ovlTreeDiff(before, after map[string]string) string {
	var out bytes.Buffer
	for p, b := range before {
		if a, ok := after[p]; !ok {
			fmt.Fprintf(&out, "\n  removed %s", p)
		} else if a != b {
			fmt.Fprintf(&out, "\n  changed %s: %s -> %s", p, b, a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			fmt.Fprintf(&out, "\n  added %s", p)
		}
	}
	return out.String()
}

func ovlWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0644); err != nil {
		t.Fatal(err)
	}
}

func ovlReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
