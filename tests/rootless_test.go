//go:build linux

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Rootless minidocker (docs/10-security.md): the same busybox run by an
// ordinary user, here nobody (uid 65534), with its state in that user's
// home.

const nobody = 65534

// rootlessUser is a home for nobody with minidocker's three programs in
// it (the test's own build directory is root's), and a way to run them as
// nobody: setpriv, with no supplementary groups, HOME there, no
// MINIDOCKER_ROOT (rootless keeps its store in ~/.local/share/minidocker).
type rootlessUser struct {
	home, md string
	env      []string // added to the environment
	cgroupFD int      // if > 0: the cgroup v2 directory the user's commands start in
}

func newRootlessUser(t *testing.T) *rootlessUser {
	t.Helper()
	requireRoot(t)
	home := t.TempDir()
	for d := home; d != "/"; d = filepath.Dir(d) { // /tmp/TestX123/001: reachable by nobody
		if d == os.TempDir() {
			break
		}
		os.Chmod(d, 0755)
	}
	os.Chown(home, nobody, nobody)
	bin := filepath.Join(home, "bin")
	os.Mkdir(bin, 0755)
	for _, p := range []string{"minidocker", "minidocker-init", "minidocker-nsenter"} {
		if out, err := exec.Command("cp", program(t, p), filepath.Join(bin, p)).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
	}
	u := &rootlessUser{home: home, md: filepath.Join(bin, "minidocker")}
	t.Cleanup(func() { // nothing of nobody's may outlive the test
		u.run(t, "rm", "-f", "mdt-rootless")
		out, _ := exec.Command("pgrep", "-u", strconv.Itoa(nobody), "-f", home).Output()
		if len(out) > 0 {
			t.Errorf("processes of the rootless user left: %s", out)
			exec.Command("pkill", "-KILL", "-u", strconv.Itoa(nobody), "-f", home).Run()
		}
		if ents, _ := os.ReadDir(filepath.Join(u.store(), "containers")); len(ents) > 0 {
			t.Errorf("containers left in the rootless store: %d", len(ents))
		}
	})
	return u
}

func (u *rootlessUser) store() string { return filepath.Join(u.home, ".local", "share", "minidocker") }

func (u *rootlessUser) run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command("setpriv", append([]string{"--reuid", strconv.Itoa(nobody), "--regid", strconv.Itoa(nobody), "--clear-groups", u.md}, args...)...)
	cmd.Dir = u.home
	env := []string{"HOME=" + u.home, "PATH=" + os.Getenv("PATH")}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MINIDOCKER_ROOTFS=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, u.env...)
	if u.cgroupFD > 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: u.cgroupFD}
	}
	return runCmd(t, cmd)
}

func (u *rootlessUser) mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := u.run(t, args...)
	if r.code != 0 {
		t.Fatalf("as nobody: minidocker %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// TestRootless: as nobody, with no range of its own in /etc/subuid (root
// inside is nobody outside, and nothing else is mapped), busybox runs
// with --network none: root inside, 65534 outside (init and command), the
// fences as for root's containers, exec, logs, stop and rm; the store is
// in its home and its files are nobody's. Where the host gives no cgroup
// (cgroup v1, or v2 not delegated) one line says there are no limits, and
// a limit asked for is refused; the bridge is refused with the way out.
func TestRootless(t *testing.T) {
	u := newRootlessUser(t)
	r := u.mustRun(t, "run", "--rm", "--network", "none", "busybox", "sh", "-c",
		`id -u; cat /proc/self/uid_map; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; touch /x && echo writable`)
	for _, want := range []string{"0\n", fmt.Sprintf("%10d%11d%11d", 0, nobody, 1), "CapEff:\t" + dockerCaps, "NoNewPrivs:\t1", "Seccomp:\t2", "writable"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("rootless run: want %q in %q", want, r.stdout)
		}
	}
	oneLine(t, r, "the container runs without limits")
	if fi, err := os.Stat(filepath.Join(u.store(), "images")); err != nil || fi.Sys().(*syscall.Stat_t).Uid != nobody {
		t.Errorf("the rootless store: %v %v", fi, err)
	}
	u.mustRun(t, "run", "-d", "--name", "mdt-rootless", "--network", "none", "busybox", "sh", "-c", "echo ready; exec sleep 60")
	poll(t, 10e9, "the rootless container's log", func() bool {
		return strings.HasPrefix(u.run(t, "logs", "mdt-rootless").stdout, "ready")
	})
	pid, err := strconv.Atoi(strings.TrimSpace(u.mustRun(t, "inspect", "-f", "{{.State.Pid}}", "mdt-rootless").stdout))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append([]int{pid}, children(pid)...) {
		if uid := hostUID(t, p); uid != nobody {
			t.Errorf("pid %d (%s) is uid %d on the host, want %d", p, comm(p), uid, nobody)
		}
	}
	if r := u.mustRun(t, "exec", "mdt-rootless", "sh", "-c", "id -u; grep ^CapEff /proc/self/status"); !strings.Contains(r.stdout, "0\nCapEff:\t"+dockerCaps) {
		t.Errorf("rootless exec: %q", r.stdout)
	}
	if r := u.run(t, "pause", "mdt-rootless"); r.code == 0 {
		t.Errorf("pause without a cgroup: %s", r)
	} else {
		oneLine(t, r, "pause needs the container's cgroup")
	}
	if r := u.mustRun(t, "inspect", "-f", "{{.State.Status}}", "mdt-rootless"); strings.TrimSpace(r.stdout) != "running" {
		t.Errorf("after a refused pause: %s", r.stdout)
	}
	u.mustRun(t, "stop", "-t", "1", "mdt-rootless")
	u.mustRun(t, "rm", "mdt-rootless")
	if r := u.run(t, "run", "--rm", "--network", "none", "-m", "64m", "busybox", "true"); r.code != 125 {
		t.Errorf("a limit without a delegated cgroup: %s", r)
	} else {
		oneLine(t, r, "no limits")
	}
	if r := u.run(t, "run", "--rm", "busybox", "true"); r.code != 125 {
		t.Errorf("the default bridge, rootless: %s", r)
	} else {
		oneLine(t, r, "use --network none or --network host")
	}
	if r := u.run(t, "daemon"); r.code != 125 {
		t.Errorf("a rootless daemon: %s", r)
	}
	if r := u.mustRun(t, "info"); !strings.Contains(r.stdout, "\n rootless\n") {
		t.Errorf("info: no rootless in %s", r.stdout)
	}
}

// TestRootlessRange: nobody with a range in /etc/subuid and /etc/subgid
// (added for the test, the files restored after): newuidmap and newgidmap
// map it as uids 1..N, so --user 1000 inside is START+999 outside.
func TestRootlessRange(t *testing.T) {
	u := newRootlessUser(t)
	tool(t, "newuidmap")
	start := 0
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		old, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(old), "\n") {
			if p := strings.Split(l, ":"); len(p) == 3 {
				a, _ := strconv.Atoi(p[1])
				n, _ := strconv.Atoi(p[2])
				start = max(start, a+n)
			}
		}
	}
	start = max(start, 200000)
	// The range goes into a copy bound over the file (mount --bind), not
	// into the file itself: the host's stays untouched, and a read-only
	// /etc (the cgroup v2 guest's) works the same.
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		old, _ := os.ReadFile(f)
		cp := filepath.Join(t.TempDir(), filepath.Base(f))
		if err := os.WriteFile(cp, append(old, fmt.Sprintf("nobody:%d:65536\n", start)...), 0644); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mount(cp, f, "", syscall.MS_BIND, ""); err != nil {
			t.Fatalf("mount --bind %s %s: %v", cp, f, err)
		}
		t.Cleanup(func() { syscall.Unmount(f, syscall.MNT_DETACH) })
	}
	r := u.mustRun(t, "run", "--rm", "--network", "none", "busybox", "cat", "/proc/self/uid_map", "/proc/self/gid_map")
	for _, want := range []string{fmt.Sprintf("%10d%11d%11d", 0, nobody, 1), fmt.Sprintf("%10d%11d%11d", 1, start, 65536)} {
		if strings.Count(r.stdout, want) != 2 {
			t.Errorf("uid and gid maps: want %q twice in %q", want, r.stdout)
		}
	}
	u.mustRun(t, "run", "-d", "--name", "mdt-rootless", "--network", "none", "--user", "1000:1000", "busybox", "sh", "-c", "echo ready; exec sleep 60")
	poll(t, 10e9, "the rootless container's log", func() bool {
		return strings.HasPrefix(u.run(t, "logs", "mdt-rootless").stdout, "ready")
	})
	pid, _ := strconv.Atoi(strings.TrimSpace(u.mustRun(t, "inspect", "-f", "{{.State.Pid}}", "mdt-rootless").stdout))
	kids := children(pid)
	if len(kids) != 1 {
		t.Fatalf("children of init: %v", kids)
	}
	for _, p := range []int{pid, kids[0]} { // init takes the user too, for all its threads
		if uid := hostUID(t, p); uid != start+999 {
			t.Errorf("--user 1000 in a rootless container with a range: pid %d (%s) is host uid %d, want %d", p, comm(p), uid, start+999)
		}
	}
	// A signal from another command's user namespace: init is not the
	// user's uid outside, so only the signaller (the user, owner of the
	// container's namespace) may send it.
	u.mustRun(t, "kill", "mdt-rootless")
	if running := strings.TrimSpace(u.mustRun(t, "inspect", "-f", "{{.State.Running}}", "mdt-rootless").stdout); running != "false" {
		t.Errorf("after kill: running %s", running)
	}
	u.mustRun(t, "rm", "mdt-rootless")
}

// TestRootlessCgroup: a cgroup v2 group delegated to the user, as systemd
// makes one (Delegate=yes: the directory and its cgroup.procs,
// cgroup.subtree_control and cgroup.threads chowned to the user), with
// minidocker started in a group under it: the container's group is made
// beside that one (their common parent is the user's), no warning, and
// gone with rm. A limit is applied where the delegation has the
// controller, and refused in one line where it has not (the v2 tree of a
// hybrid host has no memory controller).
func TestRootlessCgroup(t *testing.T) {
	u := newRootlessUser(t)
	mount := "/sys/fs/cgroup"
	if _, err := os.Stat(filepath.Join(mount, "cgroup.controllers")); err != nil { // hybrid: the v2 tree is unified/
		mount = filepath.Join(mount, "unified")
		u.env = append(u.env, "MINIDOCKER_CGROUP_ROOT="+mount)
	}
	deleg := filepath.Join(mount, fmt.Sprintf("mdt-rootless-%d", os.Getpid()))
	if ctl, _ := os.ReadFile(filepath.Join(mount, "cgroup.controllers")); strings.Contains(string(ctl), "memory") {
		os.WriteFile(filepath.Join(mount, "cgroup.subtree_control"), []byte("+memory +pids"), 0644) // handed down, as systemd does
	}
	cli := filepath.Join(deleg, "cli")
	for _, d := range []string{deleg, cli} {
		if err := os.Mkdir(d, 0755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"} {
			os.Chown(filepath.Join(d, f), nobody, nobody)
		}
	}
	t.Cleanup(func() {
		u.run(t, "rm", "-f", "mdt-rootless")
		if left, _ := filepath.Glob(filepath.Join(deleg, "minidocker-*")); len(left) > 0 {
			t.Errorf("container groups left: %v", left)
		}
		for _, d := range []string{cli, deleg} {
			poll(t, 10e9, "rmdir "+d, func() bool { return syscall.Rmdir(d) == nil })
		}
	})
	fd, err := syscall.Open(cli, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	u.cgroupFD = fd
	defer func() { u.cgroupFD = 0; syscall.Close(fd) }()
	memory := false
	if ctl, _ := os.ReadFile(filepath.Join(deleg, "cgroup.controllers")); strings.Contains(string(ctl), "memory") {
		memory = true
	}
	args := []string{"run", "-d", "--name", "mdt-rootless", "--network", "none"}
	if memory {
		args = append(args, "-m", "64m")
	}
	r := u.mustRun(t, append(args, "busybox", "sh", "-c", "echo ready; exec sleep 60")...)
	if strings.Contains(r.stderr, "without limits") {
		t.Errorf("a delegated cgroup, and still: %s", r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	group := filepath.Join(deleg, "minidocker-"+id[:12])
	pid, _ := strconv.Atoi(strings.TrimSpace(u.mustRun(t, "inspect", "-f", "{{.State.Pid}}", "mdt-rootless").stdout))
	if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); !strings.Contains(string(b), "0::"+strings.TrimPrefix(group, mount)+"\n") {
		t.Errorf("init's cgroup: %q, want %s", b, group)
	}
	if memory {
		if got := readTrim(t, filepath.Join(group, "memory.max")); got != "67108864" {
			t.Errorf("memory.max of the delegated group: %s", got)
		}
	} else if r := u.run(t, "run", "--rm", "--network", "none", "-m", "64m", "busybox", "true"); r.code != 125 {
		t.Errorf("-m without a delegated memory controller: %s", r)
	} else {
		oneLine(t, r, "no memory controller")
	}
	u.mustRun(t, "rm", "-f", "mdt-rootless")
	if _, err := os.Stat(group); !os.IsNotExist(err) {
		t.Errorf("the container's group after rm: %v", err)
	}
}

// TestRootlessBuild: nobody builds an image in its own store: COPY writes
// through an overlay mount in its user namespace, RUN runs in a container
// of it (the host's network: rootless has no bridge), the files the image
// holds are root's inside; the image runs, and a rebuild comes from the
// cache.
func TestRootlessBuild(t *testing.T) {
	u := newRootlessUser(t)
	ctx := filepath.Join(u.home, "ctx")
	os.Mkdir(ctx, 0755)
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM busybox\nCOPY greeting /app/\nRUN stat -c '%u %n' /app/greeting > /app/owner\nCMD [\"cat\", \"/app/greeting\", \"/app/owner\"]\n"), 0644)
	os.WriteFile(filepath.Join(ctx, "greeting"), []byte("built by nobody\n"), 0644)
	exec.Command("chown", "-R", fmt.Sprint(nobody), ctx).Run()
	first := u.mustRun(t, "build", "-t", "rootless-built", ctx)
	if r := u.mustRun(t, "run", "--rm", "--network", "none", "rootless-built"); r.stdout != "built by nobody\n0 /app/greeting\n" {
		t.Errorf("the image built rootless: %q\n%s", r.stdout, first.stdout)
	}
	if again := u.mustRun(t, "build", "-t", "rootless-built", ctx); strings.Count(again.stdout, "Using cache") != 3 {
		t.Errorf("rebuild: %s", again.stdout)
	}
}
