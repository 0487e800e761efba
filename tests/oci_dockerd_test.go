//go:build linux

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
)

// TestOCIDockerd: Debian's dockerd 20.10 runs containers with
// minidocker-runc (--add-runtime): containerd's runc shim calls it as it
// calls runc (create with the exec fifo and a pid file, start, kill with
// numbers, delete, exec with --process and --detach), run in the
// foreground and detached, exec (with a terminal too), stop, rm.
func TestOCIDockerd(t *testing.T) {
	requireRoot(t)
	rtBin := program(t, "minidocker-runc")
	program(t, "minidocker-nsenter") // exec's way in, beside it
	before := snapshot(t)
	t.Cleanup(func() { // registered first, so it runs after dockerd's own cleanup
		for _, h := range []string{"", "pids", "memory", "cpu", "cpuacct", "blkio", "freezer", "devices", "cpuset", "systemd"} {
			os.Remove(filepath.Join("/sys/fs/cgroup", h, "docker")) // the parent the runtime made; empty by now
		}
		checkNoLeaks(t, before)
	})
	d := startDockerd(t, "--add-runtime", "minidocker="+rtBin)
	tarball := filepath.Join(t.TempDir(), "busybox.tar")
	if out, err := exec.Command("tar", "-C", rootfs(t), "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	d.must("import", tarball, "oci-busybox")
	// Docker's own fences: 14 capabilities, its seccomp profile, masked
	// and read-only paths, the device rules.
	common := []string{"--runtime", "minidocker", "--network", "none"}
	r := d.must(append(append([]string{"run", "--rm"}, common...), "oci-busybox", "sh", "-c", "echo hi from $(hostname); cat /proc/1/cmdline; echo")...)
	if !strings.HasPrefix(r.stdout, "hi from ") || !strings.Contains(r.stdout, "sh\x00-c\x00") {
		t.Errorf("docker run: %q", r.stdout)
	}
	// dockerd's device rules: mknod of any device, then c 10:229 (fuse)
	// taken back. The eBPF fence (v2) answers with the last rule that
	// matches; v1's list keeps the wider allow (a deny removes only its
	// own entry), as it does for runc.
	r = d.docker(append(append([]string{"run", "--rm"}, common...), "oci-busybox", "sh", "-c",
		"mknod /tmp/null c 1 3 && echo null made; mknod /tmp/fuse c 10 229 && echo fuse made; true")...)
	wantFuse := "null made\nfuse made\n"
	if cgroups.V2() {
		wantFuse = "null made\n"
	}
	if r.code != 0 || r.stdout != wantFuse {
		t.Errorf("mknod under dockerd's device rules: %s (want stdout %q)", r, wantFuse)
	}
	if r := d.docker(append(append([]string{"run", "--rm"}, common...), "oci-busybox", "sh", "-c", "exit 7")...); r.code != 7 {
		t.Errorf("exit status: %s", r)
	}
	id := strings.TrimSpace(d.must(append(append([]string{"run", "-d", "--name", "oci1"}, common...), "oci-busybox", "sleep", "1000")...).stdout)
	pid := strings.TrimSpace(d.must("inspect", "-f", "{{.State.Pid}}", id).stdout)
	if cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline"); string(cmdline) != "sleep\x001000\x00" {
		t.Errorf("the container's process %s is %q", pid, cmdline)
	}
	if got := d.must("inspect", "-f", "{{.State.Status}} {{.HostConfig.Runtime}}", id).stdout; got != "running minidocker\n" {
		t.Errorf("inspect: %q", got)
	}
	if r := d.must("exec", id, "sh", "-c", "echo in $(hostname); exit 0"); r.stdout != "in "+id[:12]+"\n" {
		t.Errorf("docker exec: %q", r.stdout)
	}
	if r := d.docker("exec", id, "sh", "-c", "exit 4"); r.code != 4 {
		t.Errorf("docker exec's exit status: %s", r)
	}
	if r := d.must("exec", "-t", id, "tty"); !strings.HasPrefix(r.stdout, "/dev/pts/") {
		t.Errorf("docker exec -t: %q", r.stdout)
	}
	d.must("stop", "-t", "1", id) // sleep as PID 1 ignores SIGTERM: then SIGKILL
	if got := d.must("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", id).stdout; got != "exited 137\n" {
		t.Errorf("after stop: %q", got)
	}
	d.must("rm", id)
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(strings.TrimPrefix(d.host, "unix://")), "exec", "runtime-runc", "moby", "*")); len(left) > 0 {
		t.Errorf("the runtime's state left: %v", left)
	}
}
