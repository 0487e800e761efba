//go:build linux

package tests

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/oci"
	"golang.org/x/sys/unix"
)

// ociRuntime is minidocker-runc with a --root of the test's own.
type ociRuntime struct {
	t       *testing.T
	bin     string
	root    string
	systemd bool // create with --systemd-cgroup
}

func newOCIRuntime(t *testing.T) *ociRuntime {
	t.Helper()
	requireRoot(t)
	root, err := os.MkdirTemp("", "oci-root-")
	if err != nil {
		t.Fatal(err)
	}
	rt := &ociRuntime{t: t, bin: program(t, "minidocker-runc"), root: root}
	before := snapshot(t)
	t.Cleanup(func() {
		ents, _ := os.ReadDir(root)
		for _, e := range ents { // what a failed test left
			exec.Command(rt.bin, "--root", root, "delete", "--force", e.Name()).Run()
		}
		checkNoLeaks(t, before)
		if left, _ := os.ReadDir(root); len(left) > 0 {
			t.Errorf("state left in %s: %v", root, left)
		}
		os.RemoveAll(root)
	})
	return rt
}

func (rt *ociRuntime) run(args ...string) result {
	rt.t.Helper()
	return run(rt.t, rt.bin, append([]string{"--root", rt.root}, args...)...)
}

func (rt *ociRuntime) must(args ...string) result {
	rt.t.Helper()
	r := rt.run(args...)
	if r.code != 0 {
		rt.t.Fatalf("minidocker-runc %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// create runs `create` with its stdout and stderr in files: the
// container's process keeps them (they are its stdio), so a pipe would
// never see EOF. The output is the runtime's own.
func (rt *ociRuntime) create(args ...string) result {
	rt.t.Helper()
	dir := rt.t.TempDir()
	out, _ := os.Create(filepath.Join(dir, "stdout"))
	errf, _ := os.Create(filepath.Join(dir, "stderr"))
	defer out.Close()
	defer errf.Close()
	global := []string{"--root", rt.root}
	if rt.systemd {
		global = append(global, "--systemd-cgroup")
	}
	cmd := exec.Command(rt.bin, append(append(global, "create"), args...)...)
	cmd.Stdout, cmd.Stderr = out, errf
	r := result{}
	if err := cmd.Start(); err != nil {
		rt.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(commandTimeout):
		// What each process is blocked in says which step of create hung.
		ps, _ := exec.Command("ps", "-eo", "pid,ppid,stat,wchan:32,args").CombinedOutput()
		cmd.Process.Kill()
		rt.t.Fatalf("minidocker-runc create %s did not finish within %v; processes:\n%s", strings.Join(args, " "), commandTimeout, ps)
	}
	if err != nil {
		r.code = 1
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		}
	}
	b, _ := os.ReadFile(out.Name())
	r.stdout = string(b)
	b, _ = os.ReadFile(errf.Name())
	r.stderr = string(b)
	return r
}

func (rt *ociRuntime) mustCreate(args ...string) {
	rt.t.Helper()
	if r := rt.create(args...); r.code != 0 {
		rt.t.Fatalf("minidocker-runc create %s: %s", strings.Join(args, " "), r)
	}
}

func (rt *ociRuntime) state(id string) oci.State {
	rt.t.Helper()
	var st oci.State
	if err := json.Unmarshal([]byte(rt.must("state", id).stdout), &st); err != nil {
		rt.t.Fatal(err)
	}
	return st
}

// ociBundle makes a bundle: a copy of the busybox rootfs and
// `minidocker-runc spec`'s config.json, edited.
func ociBundle(t *testing.T, edit func(*oci.Spec)) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", rootfs(t), filepath.Join(dir, "rootfs")).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v %s", err, out)
	}
	s := oci.Default()
	s.Process.Terminal = false
	s.Root.Readonly = false
	if edit != nil {
		edit(s)
	}
	writeConfig(t, dir, s)
	return dir
}

func writeConfig(t *testing.T, dir string, s *oci.Spec) {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0644); err != nil {
		t.Fatal(err)
	}
}

// ociCgroupDir is a container's group in the pids hierarchy (v1) or the
// unified tree (v2).
func ociCgroupDir(path string) string {
	if cgroups.V2() {
		return filepath.Join("/sys/fs/cgroup", path)
	}
	return filepath.Join("/sys/fs/cgroup/pids", path)
}

// TestOCILifecycle: create sets everything up but runs nothing (the
// process waits on the exec fifo); start runs it; state follows what the
// kernel says; kill and delete refuse the wrong state; delete leaves
// nothing (cgroup, state, mounts).
func TestOCILifecycle(t *testing.T) {
	rt := newOCIRuntime(t)
	bundle := ociBundle(t, func(s *oci.Spec) {
		s.Process.Args = []string{"sh", "-c", "hostname > /ran; exec sleep 1000"}
		s.Linux.Resources.Pids = &oci.Pids{Limit: 42}
		s.Process.Rlimits = []oci.Rlimit{{Type: "RLIMIT_NOFILE", Soft: 321, Hard: 654}}
		s.Process.User.AdditionalGids = []uint32{0, 10}
		adj := 123
		s.Process.OOMScoreAdj = &adj
		s.Linux.Seccomp = json.RawMessage(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdirat","mkdir"],"action":"SCMP_ACT_ERRNO"}]}`)
	})
	id := "lifecycle-" + strconv.Itoa(os.Getpid())
	pidFile := filepath.Join(bundle, "init.pid")
	rt.mustCreate("--bundle", bundle, "--pid-file", pidFile, id)
	st := rt.state(id)
	if st.Status != "created" || st.Bundle != bundle || st.ID != id || st.Version == "" {
		t.Fatalf("after create: %+v", st)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(st.Pid) {
		t.Fatalf("pid file %q (%v), state says %d", b, err, st.Pid)
	}
	if _, err := os.Stat(filepath.Join(bundle, "rootfs/ran")); err == nil {
		t.Fatal("process.args ran at create")
	}
	pid := strconv.Itoa(st.Pid)
	for _, ns := range []string{"pid", "mnt", "uts", "ipc", "net", "cgroup"} {
		if nsInode(t, pid, ns) == nsInode(t, "self", ns) {
			t.Errorf("the container shares the host's %s namespace", ns)
		}
	}
	cg := ociCgroupDir("minidocker-runc-" + id)
	if got := readTrim(t, filepath.Join(cg, "pids.max")); got != "42" {
		t.Errorf("pids.max = %s, want 42", got)
	}
	if r := rt.run("start", "no-such-container"); r.code == 0 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("start of a missing container: %s", r)
	}
	if r := rt.create("--bundle", bundle, id); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("a second create with the same id: %s", r)
	}
	if r := rt.run("delete", id); r.code == 0 {
		t.Errorf("delete of a created container succeeded: %s", r)
	}
	rt.must("start", id)
	poll(t, 10*time.Second, "the process to run", func() bool {
		b, _ := os.ReadFile(filepath.Join(bundle, "rootfs/ran"))
		return strings.TrimSpace(string(b)) == "minidocker-runc"
	})
	if st := rt.state(id); st.Status != "running" || strconv.Itoa(st.Pid) != pid {
		t.Fatalf("after start: %+v", st)
	}
	if r := rt.run("start", id); r.code == 0 {
		t.Errorf("a second start succeeded: %s", r)
	}
	program(t, "minidocker-nsenter") // exec's way in, beside minidocker-runc
	limits := readTrim(t, "/proc/"+pid+"/limits")
	if !strings.Contains(limits, "Max open files            321                  654") {
		t.Errorf("RLIMIT_NOFILE not applied:\n%s", limits)
	}
	status := readTrim(t, "/proc/"+pid+"/status")
	for _, want := range []string{"Groups:\t0 10", "CapBnd:\t0000000020000420", "CapEff:\t0000000020000420", "NoNewPrivs:\t1", "Seccomp:\t2"} {
		if !strings.Contains(status, want) {
			t.Errorf("no %q (the fences of runc's default config and a seccomp filter):\n%s", want, status)
		}
	}
	if r := rt.run("exec", id, "mkdir", "/newdir"); r.code == 0 || !strings.Contains(r.stderr, "not permitted") {
		t.Errorf("mkdir in exec, the seccomp filter denies it: %s", r)
	}
	if r := rt.run("exec", id, "sh", "-c", "echo 1 > /proc/sys/kernel/hostname"); r.code == 0 {
		t.Errorf("a read-only path was written: %s", r)
	}
	if got := readTrim(t, "/proc/"+pid+"/oom_score_adj"); got != "123" {
		t.Errorf("oom_score_adj = %s, want 123", got)
	}
	program(t, "minidocker-nsenter") // exec's way in, beside minidocker-runc
	if r := rt.must("exec", id, "sh", "-c", "hostname; cat /ran"); r.stdout != "minidocker-runc\nminidocker-runc\n" {
		t.Errorf("exec: %q", r.stdout)
	}
	if r := rt.run("exec", id, "sh", "-c", "exit 5"); r.code != 5 {
		t.Errorf("exec's exit status: %s", r)
	}
	if r := rt.run("delete", id); r.code == 0 || !strings.Contains(r.stderr, "running") {
		t.Errorf("delete of a running container: %s", r)
	}
	rt.must("kill", id, "9")
	poll(t, 10*time.Second, "the container to stop", func() bool { return rt.state(id).Status == "stopped" })
	if r := rt.run("kill", id, "KILL"); r.code == 0 {
		t.Errorf("kill of a stopped container succeeded: %s", r)
	}
	rt.must("delete", id)
	if _, err := os.Stat(cg); !os.IsNotExist(err) {
		t.Errorf("cgroup %s left: %v", cg, err)
	}
	if r := rt.run("state", id); r.code == 0 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("state after delete: %s", r)
	}
	rt.must("delete", "--force", id) // a missing container, forced: success (containerd relies on it)
}

// TestOCIRun: run = create + start + wait + delete, with the container's
// exit status and output; hooks run in the spec's order with the state
// on stdin; a relative cgroupsPath and the systemd form.
func TestOCIRun(t *testing.T) {
	rt := newOCIRuntime(t)
	hooksLog := filepath.Join(t.TempDir(), "hooks")
	hook := func(name string) oci.Hook {
		return oci.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", `read s; echo "` + name + ` $s" >> ` + hooksLog}}
	}
	bundle := ociBundle(t, func(s *oci.Spec) {
		s.Process.Args = []string{"sh", "-c", "echo out; echo err >&2; cat /proc/self/cgroup > /dev/null; exit 3"}
		s.Hooks = &oci.Hooks{Prestart: []oci.Hook{hook("prestart")}, CreateRuntime: []oci.Hook{hook("createRuntime")},
			Poststart: []oci.Hook{hook("poststart")}, Poststop: []oci.Hook{hook("poststop")}}
		s.Annotations = map[string]string{"org.example.key": "value"}
		s.Linux.CgroupsPath = "oci-test/run"
	})
	r := rt.run("run", "--bundle", bundle, "run1")
	if r.code != 3 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("run: %s", r)
	}
	b, _ := os.ReadFile(hooksLog)
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		name, js, _ := strings.Cut(line, " ")
		order = append(order, name)
		var st oci.State
		if err := json.Unmarshal([]byte(js), &st); err != nil || st.ID != "run1" || st.Annotations["org.example.key"] != "value" {
			t.Errorf("hook %s got state %q (%v)", name, js, err)
		}
	}
	if got := strings.Join(order, " "); got != "prestart createRuntime poststart poststop" {
		t.Errorf("hooks ran as %q", got)
	}
	os.Remove(ociCgroupDirParent("oci-test"))
	s := oci.Default()
	s.Process.Terminal, s.Process.Args = false, []string{"true"}
	s.Linux.CgroupsPath = "oci-test.slice:oci:test" // not system.slice: systemd's own, where it runs
	writeConfig(t, bundle, s)
	if r := rt.run("run", "--bundle", bundle, "run2"); r.code == 0 || !strings.Contains(r.stderr, "--systemd-cgroup") {
		t.Errorf("a systemd cgroupsPath without --systemd-cgroup: %s", r)
	}
	rt.systemd = true
	r = rt.create("--bundle", bundle, "run2")
	if r.code != 0 {
		t.Fatalf("create --systemd-cgroup: %s", r)
	}
	if _, err := os.Stat(ociCgroupDir("oci-test.slice/oci-test.scope")); err != nil {
		t.Errorf("the systemd form's group: %v", err)
	}
	rt.must("delete", "--force", "run2")
	ociCgroupDirParent("oci-test.slice") // the parent the runtime made, as runc leaves it
}

// TestOCIUserNamespace: linux.uidMappings and gidMappings give the
// container a user namespace (root inside, 100000 outside, as seen in
// /proc/PID/uid_map from the host and in the owner of a file it makes in
// a bind-mounted directory); /dev's nodes are the host's, bind-mounted
// (mknod is refused there); process.user.umask applies; a user namespace
// given by path is joined, and the container's other namespaces are its
// own inside it; mappings without a user namespace, or beside a path, are
// refused.
func TestOCIUserNamespace(t *testing.T) {
	rt := newOCIRuntime(t)
	out := t.TempDir()
	if err := os.Chown(out, 100000, 100000); err != nil {
		t.Fatal(err)
	}
	umask := uint32(027)
	bundle := ociBundle(t, func(s *oci.Spec) {
		s.Process.Args = []string{"sh", "-c", "cat /proc/self/uid_map; id -u; echo x > /dev/null && grep -c ' /dev/null ' /proc/self/mountinfo; umask; touch /out/made; exec sleep 1000"}
		s.Process.User.Umask = &umask
		s.Linux.Namespaces = append(s.Linux.Namespaces, oci.Namespace{Type: "user"})
		s.Linux.UIDMappings = []oci.IDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []oci.IDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Mounts = append(s.Mounts, oci.Mount{Destination: "/out", Type: "bind", Source: out, Options: []string{"rbind"}})
	})
	// The namespace's root (100000 on the host) opens the root path, and
	// cannot make a mount point in a root that the host's root owns.
	for _, d := range []string{bundle, filepath.Dir(bundle)} {
		os.Chmod(d, 0755)
	}
	if err := os.Mkdir(filepath.Join(bundle, "rootfs/out"), 0755); err != nil {
		t.Fatal(err)
	}
	id := "userns-" + strconv.Itoa(os.Getpid())
	rt.mustCreate("--bundle", bundle, id)
	pid := strconv.Itoa(rt.state(id).Pid)
	if m := strings.Fields(readTrim(t, "/proc/"+pid+"/uid_map")); strings.Join(m, " ") != "0 100000 65536" {
		t.Errorf("uid_map seen from the host: %v", m)
	}
	if nsInode(t, pid, "user") == nsInode(t, "self", "user") {
		t.Error("the container shares the host's user namespace")
	}
	rt.must("start", id)
	made := filepath.Join(out, "made")
	poll(t, 20*time.Second, "the container's file", func() bool { _, err := os.Stat(made); return err == nil })
	var st unix.Stat_t
	if err := unix.Stat(made, &st); err != nil || st.Uid != 100000 || st.Gid != 100000 {
		t.Errorf("the file root made in the container is owned by %d:%d on the host (%v), want 100000:100000", st.Uid, st.Gid, err)
	}
	if st.Mode&0777 != 0640 {
		t.Errorf("umask 027: the file's mode is %o, want 640", st.Mode&0777)
	}
	rt.must("kill", id, "KILL")
	poll(t, 20*time.Second, "stopped", func() bool { return rt.state(id).Status == "stopped" })
	rt.must("delete", id)

	// A user namespace given by path (a pod's, say): joined first by
	// minidocker-nsenter's constructor, and the container's other
	// namespaces are made after, inside it (they belong to it).
	// (Go writes the holder's maps itself: util-linux's unshare --map-users
	// goes through newuidmap, which wants /etc/subuid entries for root.)
	holder := exec.Command("sleep", "1000")
	maps := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	holder.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, UidMappings: maps, GidMappings: maps}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	hpid := strconv.Itoa(holder.Process.Pid)
	poll(t, 10*time.Second, "the holder's uid_map", func() bool {
		b, _ := os.ReadFile("/proc/" + hpid + "/uid_map")
		return strings.Join(strings.Fields(string(b)), " ") == "0 100000 65536"
	})
	joined := ociBundle(t, func(s *oci.Spec) {
		s.Process.Args = []string{"sh", "-c", "touch /out/joined; exec sleep 1000"}
		s.Linux.Namespaces = append(s.Linux.Namespaces, oci.Namespace{Type: "user", Path: "/proc/" + hpid + "/ns/user"})
		s.Mounts = append(s.Mounts, oci.Mount{Destination: "/out", Type: "bind", Source: out, Options: []string{"rbind"}})
	})
	for _, d := range []string{joined, filepath.Dir(joined)} {
		os.Chmod(d, 0755)
	}
	if err := os.Mkdir(filepath.Join(joined, "rootfs/out"), 0755); err != nil {
		t.Fatal(err)
	}
	rt.mustCreate("--bundle", joined, id+"-joined")
	pid = strconv.Itoa(rt.state(id + "-joined").Pid)
	if got, want := nsInode(t, pid, "user"), nsInode(t, hpid, "user"); got != want {
		t.Errorf("user namespace %s, want the holder's %s", got, want)
	}
	for _, ns := range []string{"pid", "mnt", "uts", "ipc", "net"} {
		if nsInode(t, pid, ns) == nsInode(t, hpid, ns) || nsInode(t, pid, ns) == nsInode(t, "self", ns) {
			t.Errorf("the %s namespace is not the container's own", ns)
		}
	}
	if b, err := os.ReadFile("/proc/" + pid + "/status"); err != nil || !strings.Contains(string(b), "NSpid:\t"+pid+"\t1\n") {
		t.Errorf("the init is not PID 1 of its namespace: %v %s", err, b)
	}
	rt.must("start", id+"-joined")
	made = filepath.Join(out, "joined")
	poll(t, 20*time.Second, "the container's file", func() bool { _, err := os.Stat(made); return err == nil })
	if err := unix.Stat(made, &st); err != nil || st.Uid != 100000 || st.Gid != 100000 {
		t.Errorf("the file root made in the joined namespace is owned by %d:%d on the host (%v), want 100000:100000", st.Uid, st.Gid, err)
	}
	rt.must("delete", "--force", id+"-joined")

	s := oci.Default()
	s.Process.Terminal = false
	s.Linux.Namespaces = append(s.Linux.Namespaces, oci.Namespace{Type: "user", Path: "/proc/" + hpid + "/ns/user"})
	s.Linux.UIDMappings = []oci.IDMapping{{ContainerID: 0, HostID: 100000, Size: 1}}
	s.Linux.GIDMappings = s.Linux.UIDMappings
	writeConfig(t, bundle, s)
	if r := rt.create("--bundle", bundle, id); r.code == 0 || !strings.Contains(r.stderr, "maps already") {
		t.Errorf("mappings with a user namespace given by path: %s", r)
	}

	s = oci.Default()
	s.Process.Terminal = false
	s.Linux.UIDMappings = []oci.IDMapping{{ContainerID: 0, HostID: 100000, Size: 1}}
	writeConfig(t, bundle, s)
	if r := rt.create("--bundle", bundle, id); r.code == 0 || !strings.Contains(r.stderr, "user namespace") {
		t.Errorf("mappings without a user namespace: %s", r)
	}
}

// TestOCIUpdate: update writes new limits into a running container's
// group, from a linux.resources document on stdin (as containerd's shim
// sends it) and from runc's flags; what it does not name stays; a
// stopped container and device rules are refused.
func TestOCIUpdate(t *testing.T) {
	rt := newOCIRuntime(t)
	bundle := ociBundle(t, func(s *oci.Spec) {
		s.Process.Args = []string{"sleep", "1000"}
		s.Linux.Resources.Pids = &oci.Pids{Limit: 42}
	})
	id := "update-" + strconv.Itoa(os.Getpid())
	rt.mustCreate("--bundle", bundle, id)
	cg := "minidocker-runc-" + id
	cmd := exec.Command(rt.bin, "--root", rt.root, "update", "--resources", "-", id)
	cmd.Stdin = strings.NewReader(`{"pids":{"limit":100},"memory":{"limit":67108864}}`)
	if r := runCmd(t, cmd); r.code != 0 {
		t.Fatalf("update --resources -: %s", r)
	}
	memory := filepath.Join("/sys/fs/cgroup/memory", cg, "memory.limit_in_bytes")
	if cgroups.V2() {
		memory = filepath.Join("/sys/fs/cgroup", cg, "memory.max")
	}
	if got := readTrim(t, filepath.Join(ociCgroupDir(cg), "pids.max")); got != "100" {
		t.Errorf("pids.max after update: %s, want 100", got)
	}
	if got := readTrim(t, memory); got != "67108864" {
		t.Errorf("memory limit after update: %s, want 67108864", got)
	}
	rt.must("update", "--pids-limit", "7", "--memory", "128m", id)
	if got := readTrim(t, filepath.Join(ociCgroupDir(cg), "pids.max")); got != "7" {
		t.Errorf("pids.max after --pids-limit 7: %s", got)
	}
	if got := readTrim(t, memory); got != "134217728" {
		t.Errorf("memory limit after --memory 128m: %s (a raise above the old limit and its swap)", got)
	}
	cmd = exec.Command(rt.bin, "--root", rt.root, "update", "--resources", "-", id)
	cmd.Stdin = strings.NewReader(`{"devices":[{"allow":true,"access":"rwm"}]}`)
	if r := runCmd(t, cmd); r.code == 0 || !strings.Contains(r.stderr, "device rules") {
		t.Errorf("update of the device rules: %s", r)
	}
	// A refused update writes nothing, not even the limits it names
	// before the bad one: pids.max and the memory limit stay.
	cmd = exec.Command(rt.bin, "--root", rt.root, "update", "--resources", "-", id)
	cmd.Stdin = strings.NewReader(`{"pids":{"limit":3},"memory":{"limit":33554432},"cpu":{"cpus":"0\n1"}}`)
	if r := runCmd(t, cmd); r.code == 0 || !strings.Contains(r.stderr, "cpu.cpus") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Errorf("update with a bad cpu list: %s", r)
	}
	if r := rt.run("update", "--pids-limit", "5", "--cpu-period", "10", id); r.code == 0 || !strings.Contains(r.stderr, "cpu.period") {
		t.Errorf("update --cpu-period 10: %s", r)
	}
	if got := readTrim(t, filepath.Join(ociCgroupDir(cg), "pids.max")); got != "7" {
		t.Errorf("pids.max after refused updates: %s, want 7 still", got)
	}
	if got := readTrim(t, memory); got != "134217728" {
		t.Errorf("memory limit after refused updates: %s, want 134217728 still", got)
	}
	rt.must("delete", "--force", id)
	if r := rt.run("update", "--pids-limit", "9", id); r.code == 0 {
		t.Errorf("update of a deleted container: %s", r)
	}
}

// TestExportOCI: `minidocker export --oci DIR C` writes a bundle that
// runc runs as it is (and minidocker-runc too): the container's files (a
// file its first run made is there), its command, environment, working
// directory and hostname, and its limits in config.json.
func TestExportOCI(t *testing.T) {
	md := minidockerTest(t)
	rt := newOCIRuntime(t)
	name := "mdt-export-oci"
	script := "test -f /made && echo second || echo first; echo made > /made; echo FOO=$FOO; hostname; pwd"
	r := mustRun(t, md, "run", "--name", name, "--network", "none", "-e", "FOO=bar", "--hostname", "h1", "-w", "/etc",
		"-m", "64m", "--pids-limit", "50", "busybox", "sh", "-c", script)
	if r.stdout != "first\nFOO=bar\nh1\n/etc\n" {
		t.Fatalf("the container's run: %q", r.stdout)
	}
	t.Cleanup(func() { run(t, md, "rm", "-f", name) })
	dir := filepath.Join(t.TempDir(), "bundle")
	mustRun(t, md, "export", "--oci", dir, name)
	var s oci.Spec
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		t.Fatal(err)
	}
	if res := s.Linux.Resources; res == nil || res.Pids == nil || res.Pids.Limit != 50 || res.Memory == nil || *res.Memory.Limit != 64<<20 {
		t.Errorf("config.json's resources: %s", b)
	}
	want := "second\nFOO=bar\nh1\n/etc\n"
	runcRoot := t.TempDir()
	cmd := exec.Command("runc", "--root", runcRoot, "run", "--bundle", dir, "export-oci-runc")
	if r := runCmd(t, cmd); r.code != 0 || r.stdout != want {
		t.Errorf("runc run of the exported bundle: %s (want %q)", r, want)
	}
	if r := rt.run("run", "--bundle", dir, "export-oci-md"); r.code != 0 || r.stdout != want {
		t.Errorf("minidocker-runc run of the exported bundle: %s (want %q)", r, want)
	}
	if r := run(t, md, "export", "--oci", dir, name); r.code == 0 || !strings.Contains(r.stderr, "does not exist yet") {
		t.Errorf("export --oci into a directory that exists: %s", r)
	}
}

// ociCgroupDirParent removes the (empty) parent group p from every
// hierarchy: delete removes the container's group, not the parents it
// made.
func ociCgroupDirParent(p string) string {
	for _, h := range []string{"", "pids", "memory", "cpu", "cpuacct", "blkio", "freezer", "devices", "cpuset"} {
		os.Remove(filepath.Join("/sys/fs/cgroup", h, p))
	}
	return ociCgroupDir(p)
}

// TestOCIConsoleSocket: process.terminal with --console-socket, as
// containerd's shim and conmon do it: one message with the pty's master
// (SCM_RIGHTS); the process sees a terminal of its own devpts.
func TestOCIConsoleSocket(t *testing.T) {
	rt := newOCIRuntime(t)
	bundle := ociBundle(t, func(s *oci.Spec) {
		s.Process.Terminal = true
		s.Process.Args = []string{"sh", "-c", "tty; test -t 0 && echo stdin-is-a-tty; exit 0"}
	})
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if r := rt.create("--bundle", bundle, "tty1"); r.code == 0 || !strings.Contains(r.stderr, "--console-socket") {
		t.Fatalf("terminal without a console socket: %s", r)
	}
	master := make(chan *os.File, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			master <- nil
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 || oobn != unix.CmsgSpace(4) {
			master <- nil
			return
		}
		fds, _ := unix.ParseUnixRights(&msgs[0])
		master <- os.NewFile(uintptr(fds[0]), "master")
	}()
	rt.mustCreate("--bundle", bundle, "--console-socket", sock, "tty1")
	m := <-master
	if m == nil {
		t.Fatal("no pty master came over the console socket")
	}
	defer m.Close()
	rt.must("start", "tty1")
	var out []byte
	buf := make([]byte, 1024)
	m.SetReadDeadline(time.Now().Add(10 * time.Second))
	for !strings.Contains(string(out), "stdin-is-a-tty") {
		n, err := m.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			break
		}
	}
	if !strings.Contains(string(out), "/dev/pts/0") || !strings.Contains(string(out), "stdin-is-a-tty") {
		t.Errorf("on the terminal: %q", out)
	}
	poll(t, 10*time.Second, "the container to stop", func() bool { return rt.state("tty1").Status == "stopped" })
	rt.must("delete", "tty1")
}

// TestOCIJoinNamespaces: namespaces given by path are joined (a pod's
// containers share the pause container's network, IPC and UTS).
func TestOCIJoinNamespaces(t *testing.T) {
	rt := newOCIRuntime(t)
	holder := exec.Command("unshare", "--net", "--uts", "--ipc", "--pid", "--mount", "--fork", "sleep", "1000")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	var target string
	defer func() {
		if target != "" { // PID 1 of the holder's namespace: the rest goes with it
			pid, _ := strconv.Atoi(target)
			unix.Kill(pid, unix.SIGKILL)
		}
		holder.Process.Kill()
		holder.Wait()
	}()
	poll(t, 10*time.Second, "unshare's child", func() bool {
		kids := children(holder.Process.Pid)
		if len(kids) == 1 {
			target = strconv.Itoa(kids[0])
		}
		return target != ""
	})
	bundle := ociBundle(t, func(s *oci.Spec) {
		s.Process.Args = []string{"sleep", "1000"}
		s.Hostname = "joined-uts" // set in the joined UTS namespace, as runc does
		var ns []oci.Namespace
		for _, n := range s.Linux.Namespaces {
			switch n.Type {
			case "network":
				n.Path = fmt.Sprintf("/proc/%s/ns/net", target)
			case "ipc", "uts", "pid":
				n.Path = fmt.Sprintf("/proc/%s/ns/%s", target, n.Type)
			}
			ns = append(ns, n)
		}
		s.Linux.Namespaces = ns
	})
	rt.mustCreate("--bundle", bundle, "join1")
	pid := strconv.Itoa(rt.state("join1").Pid)
	for _, ns := range []string{"net", "ipc", "uts", "pid"} {
		if got, want := nsInode(t, pid, ns), nsInode(t, target, ns); got != want {
			t.Errorf("%s namespace %s, want the holder's %s", ns, got, want)
		}
	}
	if nsInode(t, pid, "mnt") == nsInode(t, target, "mnt") {
		t.Error("the mount namespace is shared")
	}
	if r := run(t, "nsenter", "--target", target, "--uts", "hostname"); strings.TrimSpace(r.stdout) != "joined-uts" {
		t.Errorf("the holder's hostname after create: %s", r)
	}
	rt.must("delete", "--force", "join1")
	// A mount namespace by path: minidocker-nsenter's constructor joins
	// it before Go starts, and the container's mounts are made there,
	// never in the host's (the leak check compares the host's table).
	s := oci.Default()
	s.Process.Terminal = false
	s.Process.Args = []string{"sleep", "1000"}
	s.Linux.Namespaces = append(s.Linux.Namespaces[:4:4], oci.Namespace{Type: "mount", Path: "/proc/" + target + "/ns/mnt"})
	writeConfig(t, bundle, s)
	hostMounts := len(strings.Split(readTrim(t, "/proc/self/mountinfo"), "\n"))
	rt.mustCreate("--bundle", bundle, "join2")
	pid = strconv.Itoa(rt.state("join2").Pid)
	if got, want := nsInode(t, pid, "mnt"), nsInode(t, target, "mnt"); got != want {
		t.Errorf("mount namespace %s, want the holder's %s", got, want)
	}
	if b, err := os.ReadFile("/proc/" + pid + "/mountinfo"); err != nil || !strings.Contains(string(b), "/rootfs / ") || !strings.Contains(string(b), " / /proc ") {
		t.Errorf("the container's mounts in the joined namespace: %v\n%s", err, b)
	}
	if n := len(strings.Split(readTrim(t, "/proc/self/mountinfo"), "\n")); n != hostMounts {
		t.Errorf("the host's mount table went from %d to %d entries", hostMounts, n)
	}
	rt.must("start", "join2")
	if st := rt.state("join2").Status; st != "running" {
		t.Errorf("join2 after start: %s", st)
	}
	rt.must("delete", "--force", "join2")
	s.Linux.Namespaces = append(s.Linux.Namespaces[:4:4], oci.Namespace{Type: "mount"}, oci.Namespace{Type: "user", Path: "/proc/" + target + "/ns/user"})
	writeConfig(t, bundle, s)
	if r := rt.create("--bundle", bundle, "join3"); r.code == 0 || !strings.Contains(r.stderr, "user namespace") {
		t.Errorf("joining a user namespace: %s", r)
	}
}

// TestOCIValidation runs the OCI runtime-tools suite against
// minidocker-runc (scripts/oci-validation.sh: runtime-tools from the Go
// module proxy at Debian's commit, each program under a timeout), reports
// every program's result, and fails if fewer pass than the checked-in
// baseline for this cgroup version.
func TestOCIValidation(t *testing.T) {
	requireRoot(t)
	rt := program(t, "minidocker-runc")
	before, stateBefore := snapshot(t), listDir(oci.DefaultRoot)
	var cgroupsBefore []string
	for _, p := range []string{"/sys/fs/cgroup/*/testdir/cgrouptest", "/sys/fs/cgroup/*/cgrouptest", "/sys/fs/cgroup/*/testdir", "/sys/fs/cgroup/cgrouptest"} {
		m, _ := filepath.Glob(p)
		cgroupsBefore = append(cgroupsBefore, m...)
	}
	logs := t.TempDir()
	bundles, err := os.MkdirTemp("/var/tmp", "oci-validation-") // the suite's bundles, what it leaves of them too
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(bundles)
	// As /tmp would be: a user namespace's root (another uid on the host)
	// must reach the bundles below it.
	if err := os.Chmod(bundles, 0755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(repoRoot, "scripts/oci-validation.sh"), rt)
	jobs, timeout := "8", "20"
	if os.Getenv("MINIDOCKER_EMULATED") != "" { // every instruction emulated: fewer at once, longer each
		jobs, timeout = "4", "150"
	}
	cmd.Env = append(os.Environ(), "RT_LOGS="+logs, "RT_TMPDIR="+bundles, "RT_JOBS="+jobs, "RT_TIMEOUT="+timeout)
	r := runCmd(t, cmd)
	if r.code != 0 {
		t.Fatalf("oci-validation.sh: %s", r)
	}
	passed := 0
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		t.Log(line)
		if strings.HasPrefix(line, "pass ") {
			passed++
		}
	}
	key := "cgroup-v1"
	if cgroups.V2() {
		key = "cgroup-v2"
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "tests/testdata/oci-validation.txt"))
	if err != nil {
		t.Fatal(err)
	}
	baseline := -1
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == key {
			baseline, _ = strconv.Atoi(f[1])
		}
	}
	if baseline < 0 {
		t.Fatalf("no %s line in tests/testdata/oci-validation.txt", key)
	}
	if passed < baseline {
		t.Errorf("%d runtime-tools programs pass, the baseline (%s) is %d: see the TAP files above", passed, key, baseline)
	} else if passed > baseline {
		t.Logf("%d pass, more than the baseline %d: raise %s in tests/testdata/oci-validation.txt", passed, baseline, key)
	}
	// The suite uses the default --root. A program that fails half-way
	// (a check that times out on a slow machine) can leave its container
	// undeleted: that is the program's doing, so it is said and deleted
	// here; what the runtime's delete must then leave is nothing (the
	// leak check below: cgroups, mounts, processes, state).
	for _, id := range added(stateBefore, listDir(oci.DefaultRoot)) {
		t.Logf("a program left container %s (state %q): delete --force", id, run(t, rt, "state", id).stdout)
		if r := run(t, rt, "delete", "--force", id); r.code != 0 {
			t.Errorf("delete --force of the container a program left: %s", r)
		}
	}
	checkNoLeaks(t, before)
	// The cgroupsPath /cgrouptest (testdir/cgrouptest for the relative
	// ones); delete_only_create_resources makes /cgrouptest itself and
	// leaves it. An empty one goes; one with a process in it (rmdir
	// refuses) is a leak.
	if left := added(stateBefore, listDir(oci.DefaultRoot)); len(left) > 0 {
		t.Errorf("containers left in %s: %v", oci.DefaultRoot, left)
	}
	for _, p := range []string{"/sys/fs/cgroup/*/testdir/cgrouptest", "/sys/fs/cgroup/*/cgrouptest", "/sys/fs/cgroup/*/testdir", "/sys/fs/cgroup/cgrouptest"} {
		left, _ := filepath.Glob(p)
		for _, d := range added(cgroupsBefore, left) {
			if err := unix.Rmdir(d); err != nil {
				t.Errorf("cgroup %s left: %v", d, err)
			}
		}
	}
}

// TestOCIHostile: config.json and the rootfs come from strangers. A mount
// destination through a symlink to / lands inside the root; shared root
// propagation never reaches the host; what cannot be applied is refused
// with one line, leaving no state, cgroup or mount.
func TestOCIHostile(t *testing.T) {
	rt := newOCIRuntime(t)
	canary := fmt.Sprintf("oci-canary-%d", os.Getpid())
	bundle := ociBundle(t, func(s *oci.Spec) {
		s.Process.Args = []string{"sh", "-c", "grep -q ' /" + canary + " ' /proc/self/mountinfo && grep -q ' /etc/" + canary + " ' /proc/self/mountinfo"}
		s.Linux.RootfsPropagation = "shared"
		s.Mounts = append(s.Mounts,
			oci.Mount{Destination: "/hostroot/" + canary, Type: "tmpfs", Source: "tmpfs"},
			oci.Mount{Destination: "/up/" + canary, Type: "bind", Source: t.TempDir(), Options: []string{"rbind", "ro"}})
	})
	for link, target := range map[string]string{"hostroot": "/", "up": "../../../../../../../../etc"} {
		if err := os.Symlink(target, filepath.Join(bundle, "rootfs", link)); err != nil {
			t.Fatal(err)
		}
	}
	if r := rt.run("run", "--bundle", bundle, "hostile1"); r.code != 0 {
		t.Fatalf("the mounts through symlinks: %s", r)
	}
	for _, p := range []string{"/" + canary, "/etc/" + canary} {
		if _, err := os.Lstat(p); err == nil {
			os.Remove(p)
			t.Errorf("%s was made on the host", p)
		}
	}
	if _, err := os.Stat(filepath.Join(bundle, "rootfs", canary)); err != nil {
		t.Errorf("the mount point was not made inside the root: %v", err)
	}
	refused := []struct {
		name, want string
		edit       func(*oci.Spec)
	}{
		{"no mount namespace", "mount namespace", func(s *oci.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[:4] }},
		{"host sysctl", "not namespaced", func(s *oci.Spec) { s.Linux.Sysctl = map[string]string{"kernel.panic": "1"} }},
		{"net sysctl without netns", "namespace", func(s *oci.Spec) {
			s.Linux.Namespaces = []oci.Namespace{{Type: "mount"}, {Type: "pid"}}
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}},
		{"seccomp", "seccomp", func(s *oci.Spec) { s.Linux.Seccomp = json.RawMessage(`{"defaultAction":"SCMP_ACT_BOGUS"}`) }},
		{"capability beyond the bounding set", "capabilit", func(s *oci.Spec) {
			s.Process.Capabilities.Effective = append(s.Process.Capabilities.Effective, "CAP_SYS_ADMIN")
			s.Process.Capabilities.Permitted = append(s.Process.Capabilities.Permitted, "CAP_SYS_ADMIN")
		}},
		{"blkio weight", "blockIO", func(s *oci.Spec) { s.Linux.Resources.BlockIO = json.RawMessage(`{"weight":10}`) }},
		{"kernel memory", "kernel memory", func(s *oci.Spec) { v := int64(1 << 20); s.Linux.Resources.Memory = &oci.Memory{Kernel: &v} }},
		{"createContainer hook", "createContainer", func(s *oci.Spec) {
			s.Hooks = &oci.Hooks{CreateContainer: []oci.Hook{{Path: "/bin/true"}}}
		}},
		{"user namespace", "user namespace", func(s *oci.Spec) { s.Linux.Namespaces = append(s.Linux.Namespaces, oci.Namespace{Type: "user"}) }},
		{"apparmor", "LSM", func(s *oci.Spec) { s.Process.ApparmorProfile = "acme_secure_profile" }},
		{"missing program", "no such file", func(s *oci.Spec) { s.Process.Args = []string{"/no/such/program"} }},
		{"prestart hook fails", "hook", func(s *oci.Spec) { s.Hooks = &oci.Hooks{Prestart: []oci.Hook{{Path: "/bin/false"}}} }},
	}
	for _, c := range refused {
		s := oci.Default()
		s.Process.Terminal = false
		s.Root.Readonly = false
		c.edit(s)
		writeConfig(t, bundle, s)
		r := rt.create("--bundle", bundle, "refused")
		if r.code == 0 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%s: want one line about %q: %s", c.name, c.want, r)
		}
		if _, err := os.Stat(filepath.Join(rt.root, "refused")); err == nil {
			t.Errorf("%s: state left", c.name)
			rt.run("delete", "--force", "refused")
		}
		if _, err := os.Stat(ociCgroupDir("minidocker-runc-refused")); err == nil {
			t.Errorf("%s: cgroup left", c.name)
		}
	}
	big := make([]byte, oci.MaxConfig+10)
	copy(big, `{"ociVersion":"1.0.2","x":"`)
	for i := 27; i < len(big); i++ {
		big[i] = 'a'
	}
	os.WriteFile(filepath.Join(bundle, "config.json"), big, 0644)
	if r := rt.create("--bundle", bundle, "big"); r.code == 0 || !strings.Contains(r.stderr, "larger") {
		t.Errorf("a config of %d bytes: %s", len(big), r)
	}
	for _, id := range []string{"../escape", "", "a/b", strings.Repeat("x", 200)} {
		if r := rt.create("--bundle", bundle, id); r.code == 0 {
			t.Errorf("id %q accepted", id)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(rt.root), "escape")); err == nil {
		t.Error("an id with .. made a directory outside --root")
	}
}
