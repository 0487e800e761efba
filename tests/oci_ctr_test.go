//go:build linux

package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/build-your-own-docker/final/oci"
	"github.com/minidocker/build-your-own-docker/final/pid1"
	"golang.org/x/sys/unix"
)

// ctrNS is the containerd namespace the test works in. Its containers'
// cgroups are /ctrNS/ID (containerd's default cgroupsPath), named for the
// project, so the leak check sees any that is left.
const ctrNS = "minidocker-ctr"

// containerd is Debian's containerd 1.6, started for one test with a
// config of its own: root, state, temp dir and both sockets in a temporary
// directory (nothing in /var/lib/containerd, /run/containerd, /etc or /opt:
// the cgroup v2 guest's / is read-only), no CRI, no TCP, no debug or
// metrics listener.
type containerd struct {
	t        *testing.T
	dir      string
	sock     string
	runcRoot string // --runc-root: minidocker-runc's --root is runcRoot/ctrNS
	fifos    string // ctr's --fifo-dir (its default is /run/containerd/fifo)
	rt       string // minidocker-runc
}

// containerdConfig is the config (version 2): the plugins a ctr run
// does not need are off. The old v1 runtime stays: in 1.6 the tasks
// service will not load without it (it only gets a directory of ours).
const containerdConfig = `version = 2
root = "%[1]s/root"
state = "%[1]s/state"
temp = "%[1]s/tmp"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.native", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]

[grpc]
  address = "%[1]s/containerd.sock"
  tcp_address = ""

[ttrpc]
  address = "%[1]s/containerd.sock.ttrpc"

[debug]
  address = ""
  level = "debug"

[metrics]
  address = ""

[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = "%[1]s/state/runtime-v1"
`

func startContainerd(t *testing.T, rt string) *containerd {
	t.Helper()
	bin := tool(t, "containerd")
	tool(t, "ctr")
	tool(t, "containerd-shim-runc-v2")
	dir, err := os.MkdirTemp("", "md-containerd-")
	if err != nil {
		t.Fatal(err)
	}
	c := &containerd{t: t, dir: dir, sock: filepath.Join(dir, "containerd.sock"), runcRoot: filepath.Join(dir, "runc"),
		fifos: filepath.Join(dir, "fifo"), rt: rt}
	for _, d := range []string{"tmp", "fifo", "runc"} {
		os.MkdirAll(filepath.Join(dir, d), 0700)
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(containerdConfig, dir)), 0600); err != nil {
		t.Fatal(err)
	}
	// The shim's socket is the one path no setting moves: containerd 1.6
	// puts it in /run/containerd/s/ (a constant, defaults.DefaultStateDir).
	// It removes the socket itself; the directories go if we made them.
	_, runErr := os.Stat("/run/containerd")
	before := snapshot(t)
	logPath := filepath.Join(dir, "containerd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", cfg)
	// TMPDIR: the shim inherits it, and writes exec's process.json and the
	// console socket of a tty there (Go's os.CreateTemp).
	cmd.Env = append(os.Environ(), "TMPDIR="+filepath.Join(dir, "tmp"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		c.stop(cmd, exited)
		if runErr != nil {
			os.Remove("/run/containerd/s")
			os.Remove("/run/containerd")
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("containerd log (the last 8 KiB):\n%s", tail(b, 8192))
		}
		os.RemoveAll(dir)
		checkNoLeaks(t, before)
	})
	poll(t, 60*time.Second, "containerd's socket", func() bool {
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("containerd exited:\n%s", tail(b, 4096))
		default:
		}
		return c.ctr("version").code == 0
	})
	return c
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// stop removes what a failed test left (tasks, containers), stops
// containerd, and makes sure that none of its shims, containers, mounts
// or cgroups outlives it.
func (c *containerd) stop(cmd *exec.Cmd, exited chan struct{}) {
	t := c.t
	for _, id := range strings.Fields(c.ctr("task", "ls", "-q").stdout) {
		c.ctr("task", "delete", "--force", id)
	}
	for _, id := range strings.Fields(c.ctr("containers", "ls", "-q").stdout) {
		c.ctr("containers", "rm", id)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	// The shims are in process groups of their own: found by the socket
	// they were told to call back (-address), killed by PID.
	var shims []int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if shims = c.shims(); len(shims) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, pid := range shims {
		t.Errorf("containerd-shim-runc-v2 %d outlived containerd", pid)
		unix.Kill(pid, unix.SIGKILL)
	}
	for _, id := range listDir(filepath.Join(c.runcRoot, ctrNS)) {
		t.Errorf("container %s left in minidocker-runc's state", id)
		exec.Command(c.rt, "--root", filepath.Join(c.runcRoot, ctrNS), "delete", "--force", id).Run()
	}
	// The snapshots are overlay mounts of the shim, on each bundle's
	// rootfs: gone with the task, unless something failed.
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		lines := strings.Split(string(b), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if f := strings.Fields(lines[i]); len(f) > 4 && strings.HasPrefix(f[4], c.dir+"/") {
				t.Errorf("mount %s left", f[4])
				unix.Unmount(f[4], unix.MNT_DETACH)
			}
		}
	}
	// The parents of the containers' cgroups (/ctrNS, the systemd form's
	// slice): made by the runtime, left as runc leaves them; empty by now.
	for _, h := range []string{"", "pids", "memory", "cpu", "cpuacct", "blkio", "freezer", "devices", "cpuset", "systemd"} {
		for _, p := range []string{ctrNS, ctrNS + ".slice"} {
			os.Remove(filepath.Join("/sys/fs/cgroup", h, p))
		}
	}
}

// shims are the containerd-shim-runc-v2 processes of this containerd.
func (c *containerd) shims() []int {
	return processesWhere(func(cmdline string, _ []string) bool {
		return strings.Contains(cmdline, "containerd-shim") && strings.Contains(cmdline, "\x00"+c.sock+"\x00")
	})
}

// processesWhere are the PIDs whose command line (NUL-separated, and as
// its arguments) match says are the ones: the servers' helper processes
// a test must see gone (shims, conmon), not its children.
func processesWhere(match func(cmdline string, args []string) bool) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if match(string(b), strings.Split(string(b), "\x00")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (c *containerd) cmd(args ...string) *exec.Cmd {
	return exec.Command("ctr", append([]string{"-a", c.sock, "-n", ctrNS}, args...)...)
}

// ctr runs `ctr -a SOCK -n ctrNS ARGS...`.
func (c *containerd) ctr(args ...string) result {
	c.t.Helper()
	return runCmd(c.t, c.cmd(args...))
}

func (c *containerd) must(args ...string) result {
	c.t.Helper()
	r := c.ctr(args...)
	if r.code != 0 {
		c.t.Fatalf("ctr %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// run is `ctr run` with minidocker-runc as the runc of containerd's runc
// shim (io.containerd.runc.v2), its state in the test's directory.
func (c *containerd) run(args ...string) []string {
	return append([]string{"run", "--fifo-dir", c.fifos, "--runc-binary", c.rt, "--runc-root", c.runcRoot}, args...)
}

// task is the task's PID and status as `ctr task ls` shows them.
func (c *containerd) task(id string) (pid int, status string) {
	c.t.Helper()
	for _, line := range strings.Split(c.must("task", "ls").stdout, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == id {
			pid, _ = strconv.Atoi(f[1])
			return pid, f[2]
		}
	}
	return 0, ""
}

// TestOCIContainerd: containerd 1.6 runs containers with minidocker-runc.
// Its runc shim calls it as it calls runc (create --bundle --pid-file,
// start, exec --process --detach, ps --format json, kill [--all] with a
// number, delete, delete --force, create and exec with --console-socket
// for a tty, with --root, --log and --log-format json every time): ctr
// run in the foreground (output, exit status), detached, exec into it
// (attached, detached, with a tty), task ps, task kill, task delete,
// containers rm, run with a tty, the systemd cgroup form, and a create
// that fails, its error passed back through log.json. From outside: the
// task's namespaces, its cgroup while it runs and after, minidocker-runc's
// own state, the mounts.
func TestOCIContainerd(t *testing.T) {
	requireRoot(t)
	rt := program(t, "minidocker-runc")
	program(t, "minidocker-nsenter") // exec's way in, beside it
	// The busybox image as `docker save` writes it: minidocker makes it
	// from the rootfs on first use (in a store of the test's own) and
	// saves it; ctr images import takes that tarball.
	s := &store{t: t, md: program(t, "minidocker"), root: t.TempDir()}
	tarball := filepath.Join(t.TempDir(), "busybox.tar")
	s.must("save", "-o", tarball, "busybox")
	c := startContainerd(t, rt)
	const image = "docker.io/library/busybox:latest"
	if r := c.must("images", "import", tarball); !strings.Contains(r.stdout, "unpacking "+image) {
		t.Fatalf("ctr images import: %s", r)
	}
	host, _ := os.Hostname()
	runtimeRoot := filepath.Join(c.runcRoot, ctrNS)

	// In the foreground: the output, and the container's exit status as ctr's.
	r := c.ctr(c.run("--rm", image, "fg1", "sh", "-c", "echo hi from $(hostname); cat /proc/1/cmdline; echo; exit 3")...)
	if r.code != 3 || r.stdout != "hi from "+host+"\nsh\x00-c\x00echo hi from $(hostname); cat /proc/1/cmdline; echo; exit 3\x00\n" {
		t.Errorf("ctr run --rm: want exit 3 and the output: %s", r)
	}

	// Detached: the task seen from outside.
	c.must(c.run("-d", image, "d1", "sleep", "1000")...)
	pid, status := c.task("d1")
	if pid == 0 || status != "RUNNING" {
		t.Fatalf("ctr task ls: d1 has pid %d, status %q", pid, status)
	}
	spid := strconv.Itoa(pid)
	if b, _ := os.ReadFile("/proc/" + spid + "/cmdline"); string(b) != "sleep\x001000\x00" {
		t.Errorf("the task's process %d is %q", pid, b)
	}
	for _, ns := range []string{"pid", "mnt", "uts", "ipc", "net"} {
		if nsInode(t, spid, ns) == nsInode(t, "self", ns) {
			t.Errorf("the task shares the host's %s namespace", ns)
		}
	}
	if st := readTrim(t, "/proc/"+spid+"/status"); !strings.Contains(st, "NoNewPrivs:\t1") {
		t.Errorf("containerd's default spec asks for no_new_privs:\n%s", st)
	}
	cg := ociCgroupDir(ctrNS + "/d1") // containerd's cgroupsPath: /NAMESPACE/ID
	if procs := readTrim(t, filepath.Join(cg, "cgroup.procs")); procs != spid {
		t.Errorf("%s/cgroup.procs = %q, want %d", cg, procs, pid)
	}
	// minidocker-runc's own record of it (the shim never asks for state).
	var st oci.State
	r = mustRun(t, rt, "--root", runtimeRoot, "state", "d1")
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Status != "running" || st.Pid != pid {
		t.Errorf("minidocker-runc state d1: %v %s", err, r.stdout)
	}

	// exec: the container's world, the exit status, process.rlimits (the
	// shim sends the container's RLIMIT_NOFILE 1024 with every exec).
	r = c.ctr("task", "exec", "--fifo-dir", c.fifos, "--exec-id", "e1", "d1", "sh", "-c", "cat /proc/1/cmdline; echo; ulimit -n; ulimit -Hn; exit 4")
	if r.code != 4 || r.stdout != "sleep\x001000\x00\n1024\n1024\n" {
		t.Errorf("ctr task exec: want exit 4, PID 1 sleep, RLIMIT_NOFILE 1024/1024: %s", r)
	}
	c.must("task", "exec", "--fifo-dir", c.fifos, "-d", "--exec-id", "e2", "d1", "sleep", "999")
	// The relay forks the command once it is in the cgroup: wait for both.
	poll(t, 20*time.Second, "the exec e2's command", func() bool { return len(readLines(filepath.Join(cg, "cgroup.procs"))) == 3 })
	// ps --format json: the PIDs in the cgroup; the shim names the exec's.
	r = c.must("task", "ps", "d1")
	if !strings.Contains(r.stdout, spid+" ") || !strings.Contains(r.stdout, "ExecID:e2") || len(strings.Split(strings.TrimSpace(r.stdout), "\n")) != 4 {
		t.Errorf("ctr task ps: want the task, the exec's relay (e2) and its command: %s", r)
	}
	// The exec's PID is minidocker-runc's relay outside the container: it
	// passes SIGTERM on to the command.
	c.must("task", "kill", "--exec-id", "e2", "--signal", "SIGTERM", "d1")
	poll(t, 20*time.Second, "the exec e2 to end", func() bool { return len(readLines(filepath.Join(cg, "cgroup.procs"))) == 1 })

	// exec -t: the console socket of exec (the relay hands over the pty
	// minidocker-nsenter made in the container's devpts).
	code, screen := c.onTerminal("task", "exec", "--fifo-dir", c.fifos, "-t", "--exec-id", "t1", "d1", "sh", "-c", "tty; exit 5")
	if code != 5 || !strings.Contains(screen, "/dev/pts/") {
		t.Errorf("ctr task exec -t: want exit 5 and a /dev/pts/N: %d %q", code, screen)
	}

	// kill --all (every process of the cgroup), then delete: the exit
	// status, and nothing left of the container but its record.
	c.must("task", "kill", "--all", "--signal", "SIGKILL", "d1")
	poll(t, 20*time.Second, "d1 to stop", func() bool { _, status := c.task("d1"); return status == "STOPPED" })
	if _, err := os.Stat(cg); err != nil {
		t.Errorf("the cgroup of a stopped task (not deleted yet): %v", err)
	}
	if r := c.must("task", "delete", "d1"); !strings.Contains(r.stderr, "exit code 137") {
		t.Errorf("ctr task delete: want exit code 137 (SIGKILL): %s", r)
	}
	if _, err := os.Stat(cg); !os.IsNotExist(err) {
		t.Errorf("cgroup %s left after task delete: %v", cg, err)
	}
	if _, err := os.Stat("/proc/" + spid); !os.IsNotExist(err) {
		t.Errorf("process %d still there after task delete: %v", pid, err)
	}
	if left := listDir(runtimeRoot); len(left) > 0 {
		t.Errorf("minidocker-runc's state after task delete: %v", left)
	}
	c.must("containers", "rm", "d1")
	if r := c.must("containers", "ls", "-q"); r.stdout != "" {
		t.Errorf("containers after rm: %q", r.stdout)
	}

	// A tty: the shim gives minidocker-runc a console socket and gets the
	// container's pty master back over it.
	code, screen = c.onTerminal(c.run("--rm", "-t", image, "tty1", "sh", "-c", "tty; test -t 0 && echo stdin-is-a-tty; exit 6")...)
	if code != 6 || !strings.Contains(screen, "/dev/pts/0") || !strings.Contains(screen, "stdin-is-a-tty") {
		t.Errorf("ctr run -t: want exit 6, /dev/pts/0 and stdin-is-a-tty: %d %q", code, screen)
	}

	// The systemd form of cgroupsPath (go-runc adds --systemd-cgroup to
	// every call): slice:prefix:name is /slice/prefix-name.scope, seen
	// from the host (inside, a cgroup namespace would show only /).
	c.must(c.run("-d", "--runc-systemd-cgroup", "--cgroup", ctrNS+".slice:ctr:sd1", image, "sd1", "sleep", "1000")...)
	pid, _ = c.task("sd1")
	scope := ociCgroupDir(ctrNS + ".slice/ctr-sd1.scope")
	if procs := readLines(filepath.Join(scope, "cgroup.procs")); len(procs) != 1 || procs[0] != strconv.Itoa(pid) {
		t.Errorf("%s/cgroup.procs = %v, want the task's PID %d", scope, procs, pid)
	}
	c.must("task", "kill", "--signal", "SIGKILL", "sd1")
	poll(t, 20*time.Second, "sd1 to stop", func() bool { _, status := c.task("sd1"); return status == "STOPPED" })
	c.must("task", "delete", "sd1")
	if _, err := os.Stat(scope); !os.IsNotExist(err) {
		t.Errorf("cgroup %s left after task delete: %v", scope, err)
	}
	c.must("containers", "rm", "sd1")

	// A create that fails: the shim reports the last error minidocker-runc
	// wrote to --log (log.json), and nothing is left.
	r = c.ctr(c.run("--rm", image, "bad1", "/no/such/program")...)
	if r.code == 0 || !strings.Contains(r.stderr, "OCI runtime create failed: /no/such/program: no such file or directory") {
		t.Errorf("ctr run of a missing program: %s", r)
	}
	if left := listDir(runtimeRoot); len(left) > 0 {
		t.Errorf("minidocker-runc's state after a failed create: %v", left)
	}
	if _, err := os.Stat(ociCgroupDir(ctrNS + "/bad1")); err == nil {
		t.Error("the cgroup of a failed create was left")
	}
	if r := c.must("containers", "ls", "-q"); r.stdout != "" {
		t.Errorf("containers left: %q", r.stdout)
	}
}

// onTerminal runs ctr with a terminal as its stdio, which ctr -t needs
// (it makes its own console raw; without one it panics). It returns
// ctr's exit status and the screen.
func (c *containerd) onTerminal(args ...string) (int, string) {
	c.t.Helper()
	return ptyRun(c.t, c.cmd(args...))
}

// ptyRun runs cmd with a pty's slave as its stdio (the -t of ctr and
// podman needs a terminal) and a master the test reads. It returns the
// exit status and the screen.
func ptyRun(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	master, slave, err := pid1.OpenPty()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&screen, master); close(read) }() // EIO once the program is gone
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(commandTimeout):
		cmd.Process.Kill()
		t.Fatalf("%s did not finish within %v", strings.Join(cmd.Args, " "), commandTimeout)
	}
	<-read
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, screen.String()
}

// readLines is a file's non-empty lines (nil if it cannot be read).
func readLines(path string) []string {
	b, _ := os.ReadFile(path)
	return strings.Fields(string(b))
}
