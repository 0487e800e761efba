//go:build linux

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStep03MountNamespace: own mnt namespace; the container's / is the
// rootfs (a host-only file is not there); ps lists only the container's
// processes; /dev is minimal and /sys read-only; the host's mount table is
// the same before and after.
func TestStep03MountNamespace(t *testing.T) {
	requireRoot(t)
	bin := program(t, "step03-mnt-chroot")
	marker := hostMarker(t)
	before := snapshot(t)
	c := start(t, bin, "--rootfs", rootfs(t), "--", "sh", "-c",
		`ps -o pid= > /tmp/ps; echo ps=$(wc -l < /tmp/ps); ls /dev | tr '\n' ' ' | sed 's/^/dev=/'; echo
		 test -e `+marker+` && echo marker=visible || echo marker=hidden
		 touch /sys/x 2>/dev/null && echo sys=rw || echo sys=ro
		 echo ready; read x`)
	// Only sh (PID 1) and ps itself: the host has many more.
	if got := c.waitFor("ps="); got != "ps=2" {
		t.Errorf("ps inside lists %q processes, want only the container's", got)
	}
	dev := c.waitFor("dev=")
	for _, want := range []string{"null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx"} {
		if !strings.Contains(dev, " "+want+" ") && !strings.HasPrefix(dev, "dev="+want+" ") {
			t.Errorf("/dev lacks %s: %q", want, dev)
		}
	}
	if strings.Contains(dev, "sda") || strings.Contains(dev, "vda") || len(strings.Fields(dev)) > 16 {
		t.Errorf("/dev is not minimal: %q", dev)
	}
	if got := c.waitFor("marker="); got != "marker=hidden" {
		t.Errorf("host-only file %s: %s", marker, got)
	}
	if got := c.waitFor("sys="); got != "sys=ro" {
		t.Errorf("/sys: %s", got)
	}
	c.waitFor("ready")
	pid := fmt.Sprint(c.pid())
	if nsInode(t, pid, "mnt") == nsInode(t, "self", "mnt") {
		t.Error("container shares the host's mount namespace")
	}
	// From outside: the container's root is the rootfs.
	if root, _ := os.Readlink("/proc/" + pid + "/root"); root != "/" {
		// After pivot_root the kernel shows the process's root relative to its own namespace.
		t.Logf("/proc/%s/root -> %s", pid, root)
	}
	if _, err := os.Stat(filepath.Join("/proc", pid, "root", "bin/busybox")); err != nil {
		t.Errorf("container's root has no /bin/busybox: %v", err)
	}
	if _, err := os.Stat(filepath.Join("/proc", pid, "root", marker)); err == nil {
		t.Errorf("host-only %s reachable through the container's root", marker)
	}
	// While it runs, its /proc and /dev mounts are not in the host's table.
	checkNoLeaks(t, before)
	if r := c.finish(); r.code != 0 {
		t.Errorf("%s", r)
	}
	checkNoLeaks(t, before)
}

// TestStep03ChrootEscape: the classic escape works under --chroot and fails
// under pivot_root.
func TestStep03ChrootEscape(t *testing.T) {
	requireRoot(t)
	bin := program(t, "step03-mnt-chroot")
	fs := rootfsWith(t, "chroot-escape")
	marker := hostMarker(t)
	before := snapshot(t)
	r := mustRun(t, bin, "--rootfs", fs, "--chroot", "--", "chroot-escape", marker)
	if !strings.Contains(r.stdout, "escaped: "+marker+" exists") {
		t.Errorf("under --chroot the escape should succeed: %s", r)
	}
	r = mustRun(t, bin, "--rootfs", fs, "--", "chroot-escape", marker)
	if !strings.Contains(r.stdout, "contained: "+marker+" not found") {
		t.Errorf("under pivot_root the escape should fail: %s", r)
	}
	checkNoLeaks(t, before)
}

// TestStep03MissingRootfs: a missing rootfs is one line naming the make target.
func TestStep03MissingRootfs(t *testing.T) {
	requireRoot(t)
	r := run(t, program(t, "step03-mnt-chroot"), "--rootfs", filepath.Join(t.TempDir(), "none"), "--", "true")
	if r.code == 0 {
		t.Fatalf("want failure: %s", r)
	}
	oneLine(t, r, "make rootfs")
}
