//go:build linux

package tests

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
)

// TestFinalRunEcho: `run --rm busybox echo hi` prints hi and leaves nothing:
// no mount, cgroup, link or state directory.
func TestFinalRunEcho(t *testing.T) {
	md := minidockerTest(t)
	r := mustRun(t, md, "run", "--rm", "--network", "none", "busybox", "echo", "hi")
	if r.stdout != "hi\n" {
		t.Errorf("want hi, got %s", r)
	}
}

// TestFinalRmIsVolatile: a --rm container's layer is mounted "volatile" (no
// sync of a layer that is deleted at exit); a kept container's is not. The
// kernel shows the option as "volatile" (6.1) or "fsync=volatile" (6.12+).
func TestFinalRmIsVolatile(t *testing.T) {
	md := minidockerTest(t)
	overlay := func(args ...string) string {
		r := mustRun(t, md, append(args, "busybox", "grep", "^overlay / ", "/proc/mounts")...)
		return r.stdout
	}
	if m := overlay("run", "--rm", "--network", "none"); !strings.Contains(m, "volatile") {
		t.Errorf("run --rm: the container's root is not volatile: %s", m)
	}
	if m := overlay("run", "--name", "kept", "--network", "none"); strings.Contains(m, "volatile") || m == "" {
		t.Errorf("run without --rm: want a non-volatile overlay root, got %q", m)
	}
	mustRun(t, md, "rm", "kept")
}

// TestFinalBornInCgroup: init is cloned into its cgroup, never moved in
// afterwards. The --debug trace shows, on cgroup v1, the cloning thread's
// own move into each of the group's hierarchies (echo 0 > tasks), then the
// clone, then its move back; on v2, clone3 with CLONE_INTO_CGROUP; and on
// neither a PID written to cgroup.procs. The command sees itself in the
// group.
func TestFinalBornInCgroup(t *testing.T) {
	md := minidockerTest(t)
	r := mustRun(t, md, "--debug", "run", "--rm", "--network", "none", "busybox", "cat", "/proc/self/cgroup")
	clone, into, back := -1, 0, 0
	for i, l := range strings.Split(r.stderr, "\n") {
		switch {
		case strings.HasPrefix(l, "+ unshare "):
			clone = i
		case strings.HasPrefix(l, "+ echo ") && strings.HasSuffix(l, "/cgroup.procs"):
			t.Errorf("a process was moved into the cgroup: %s", l)
		case strings.HasPrefix(l, "+ clone3(CLONE_INTO_CGROUP, ") && clone < 0:
			into++
		case strings.HasPrefix(l, "+ echo 0 > ") && strings.HasSuffix(l, "/tasks") && strings.Contains(l, "/minidocker-") && clone < 0:
			into++
		case strings.HasPrefix(l, "+ echo 0 > ") && strings.HasSuffix(l, "/tasks") && clone >= 0:
			back++
		}
	}
	v2 := cgroups.V2()
	if clone < 0 || into == 0 || (v2 && (into != 1 || back != 0)) || (!v2 && (into < 3 || back != into)) {
		t.Errorf("want the clone after %s, got clone at line %d, %d moves in, %d back:\n%s",
			map[bool]string{true: "one clone3(CLONE_INTO_CGROUP)", false: "the thread's moves into every hierarchy, then as many back"}[v2], clone, into, back, r.stderr)
	}
	if !strings.Contains(r.stdout, "/minidocker-") {
		t.Errorf("the command is not in the container's cgroup:\n%s", r.stdout)
	}
}

// TestFinalSigProxy: SIGTERM and SIGINT sent to a foreground `run` reach
// the container's command (docker run's --sig-proxy), through init.
func TestFinalSigProxy(t *testing.T) {
	md := minidockerTest(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		l := start(t, md, "run", "--rm", "--network", "none", "busybox", "sh", "-c",
			`trap 'echo got TERM; exit 3' TERM; trap 'echo got INT; exit 4' INT; echo ready; while :; do sleep 0.1; done`)
		l.waitFor("ready")
		l.cmd.Process.Signal(sig)
		r := l.finish()
		want := map[syscall.Signal]string{syscall.SIGTERM: "got TERM", syscall.SIGINT: "got INT"}[sig]
		if !strings.Contains(r.stdout, want) || r.code != map[syscall.Signal]int{syscall.SIGTERM: 3, syscall.SIGINT: 4}[sig] {
			t.Errorf("%v to minidocker run: want %q and the trap's exit code, %s", sig, want, r)
		}
	}
}

// TestFinalExitCodes: the container's status, 127 not found, 126 cannot
// invoke, 137 killed by SIGKILL.
func TestFinalExitCodes(t *testing.T) {
	md := minidockerTest(t)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"sh", "-c", "exit 7"}, 7, ""},
		{[]string{"no-such-command"}, 127, "no-such-command"},
		{[]string{"/etc/passwd"}, 126, "/etc/passwd"},
		{[]string{"sh", "-c", "kill -9 $$"}, 137, ""},
	} {
		r := run(t, md, append([]string{"run", "--rm", "--network", "none", "busybox"}, c.args...)...)
		if r.code != c.code {
			t.Errorf("%v: want exit %d, %s", c.args, c.code, r)
		}
		if c.msg != "" {
			oneLine(t, r, c.msg)
		}
	}
}

// TestFinalBadInput: every engine error is one line and exit 125, and
// leaves nothing half-made behind.
func TestFinalBadInput(t *testing.T) {
	requireRoot(t)
	md := program(t, "minidocker")
	name := "mdt-bad-dup"
	removeOnCleanup(t, md, name)
	mustRun(t, md, "run", "--name", name, "--network", "none", "busybox", "true")
	running := "mdt-bad-running"
	removeOnCleanup(t, md, running)
	mustRun(t, md, "run", "-d", "-i", "--name", running, "--network", "none", "busybox", "sh", "-c", "read x")
	before, dirs := snapshot(t), containerDirs(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--rm", "--pull", "never", "no-such-image", "true"}, "No such image: no-such-image:latest"},
		{[]string{"run", "--rm", "--pull", "sometimes", "busybox", "true"}, "invalid pull option"},
		{[]string{"run", "--rm", "--name", name, "--network", "none", "busybox", "true"}, "already in use"},
		{[]string{"run", "--rm", "-m", "lots", "busybox", "true"}, "memory"},
		{[]string{"run", "--rm", "--cpus", "fast", "busybox", "true"}, "cpus"},
		{[]string{"run", "--rm", "--pids-limit", "many", "busybox", "true"}, "pids-limit"},
		{[]string{"run", "--rm", "--pids-limit", "5", "busybox", "true"}, "pids-limit 5: minidocker's init"},
		{[]string{"run", "--rm", "--network", "carrier-pigeon", "busybox", "true"}, "network"},
		{[]string{"run", "--rm", "-v", "rel/ative:/x", "busybox", "true"}, "volume"},
		{[]string{"run", "--rm", "--no-such-flag", "busybox", "true"}, "no-such-flag"},
		{[]string{"logs", "mdt-nobody"}, "No such container"},
		{[]string{"inspect", "mdt-nobody"}, "No such object: mdt-nobody"},
		{[]string{"inspect", "--type", "container", "mdt-nobody"}, "No such container"},
		{[]string{"stop", "mdt-nobody"}, "No such container"},
		{[]string{"rm", "mdt-nobody"}, "No such container"},
		{[]string{"exec", "mdt-nobody", "true"}, "No such container"},
		{[]string{"rm", running}, "running"},
		{[]string{"exec", name, "true"}, "not running"},
	} {
		r := run(t, md, c.args...)
		if r.code != 125 {
			t.Errorf("%v: want exit 125, %s", c.args, r)
		}
		oneLine(t, r, c.want)
	}
	// A missing image is pulled, as docker run does; this machine has no
	// way to Docker Hub, and says so in one line after Docker's notice.
	r := run(t, md, "run", "--rm", "no-such-image", "true")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != 125 || len(lines) != 2 || lines[0] != "Unable to find image 'no-such-image:latest' locally" ||
		!strings.Contains(lines[1], "no-such-image") {
		t.Errorf("run of an image nobody has: %s", r)
	}
	checkNoContainerLeaks(t, before, dirs)
	if r := mustRun(t, md, "ps", "-q"); !strings.Contains(r.stdout, "\n") {
		t.Errorf("the running container vanished after the failed rm: %s", r)
	}
}

// TestFinalDetachedLifecycle: run -d returns once the container runs; the
// container outlives the CLI (its parent is the monitor); ps, logs,
// inspect and stop show and change its state; rm removes every trace.
func TestFinalDetachedLifecycle(t *testing.T) {
	md := minidockerTest(t)
	name := "mdt-detached"
	id, pid := runReady(t, md, name, "-i", "--network", "none", "busybox", "sh", "-c", "echo ready; read x")
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("run -d should print a 64-hex id: %q", id)
	}
	// The CLI has exited; the container still runs, child of the monitor.
	in := inspect(t, md, name)
	if jget(in, "State.Status") != "running" || pid <= 0 || procState(pid) == "" {
		t.Fatalf("want a running container with a live pid: %v", in["State"])
	}
	mon := ppid(pid)
	if c := comm(mon); !strings.Contains(strings.Join(strings.Fields(readCmdline(mon)), " "), "monitor "+id) {
		t.Errorf("the container's parent %d (%s) should be `minidocker monitor %s`", mon, c, id)
	}
	ps := mustRun(t, md, "ps").stdout
	header := regexp.MustCompile(`^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n`)
	if !header.MatchString(ps) {
		t.Errorf("ps header: %q", ps)
	}
	line := regexp.MustCompile(id[:12] + `\s+busybox\s+"sh -c echo ready; r…"\s+.* ago\s+Up .*\s+` + name)
	if !line.MatchString(ps) {
		t.Errorf("ps line for %s: %q", id[:12], ps)
	}
	if q := mustRun(t, md, "ps", "-q").stdout; !strings.Contains(q, id[:12]+"\n") {
		t.Errorf("ps -q: %q", q)
	}
	start := time.Now()
	mustRun(t, md, "stop", "-t", "5", name)
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("stop of a command that dies on SIGTERM took %s", d)
	}
	in = inspect(t, md, name)
	if jget(in, "State.Status") != "exited" || jget(in, "State.ExitCode").(float64) != 143 || jget(in, "State.FinishedAt") == "" {
		t.Errorf("after stop: %v", in["State"])
	}
	if procState(pid) != "" {
		t.Errorf("pid %d still exists after stop", pid)
	}
	if ps := mustRun(t, md, "ps", "-a").stdout; !regexp.MustCompile(id[:12] + `.*Exited \(143\) .* ago`).MatchString(ps) {
		t.Errorf("ps -a: %q", ps)
	}
	if ps := mustRun(t, md, "ps").stdout; strings.Contains(ps, id[:12]) {
		t.Errorf("ps without -a lists the stopped container: %q", ps)
	}
	if r := mustRun(t, md, "logs", name); r.stdout != "ready\n" {
		t.Errorf("logs: %q", r.stdout)
	}
	mustRun(t, md, "rm", name)
}

func readCmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(b), "\x00", " ")
}

// TestFinalStopTimeout: a command that ignores SIGTERM is SIGKILLed after
// -t seconds: exit 137.
func TestFinalStopTimeout(t *testing.T) {
	md := minidockerTest(t)
	name := "mdt-stubborn"
	runReady(t, md, name, "--network", "none", "busybox", "sh", "-c", `trap "" TERM; echo ready; while true; do sleep 1; done`)
	start := time.Now()
	mustRun(t, md, "stop", "-t", "1", name)
	d := time.Since(start)
	if d < time.Second || d > 8*time.Second {
		t.Errorf("stop -t 1 took %s: want the 1 s grace, then SIGKILL", d)
	}
	in := inspect(t, md, name)
	if jget(in, "State.ExitCode").(float64) != 137 || jget(in, "State.Status") != "exited" {
		t.Errorf("after stop -t 1: %v", in["State"])
	}
	mustRun(t, md, "rm", name)
}

// TestFinalOOM: a command that outgrows -m is killed by the kernel's OOM
// killer: exit 137, OOMKilled in inspect, and the cgroup's own counter.
func TestFinalOOM(t *testing.T) {
	md := minidockerTest(t)
	name := "mdt-oom"
	removeOnCleanup(t, md, name)
	// tail keeps the current line in memory; /dev/zero has no newline.
	r := run(t, md, "run", "--name", name, "-m", "16m", "--memory-swap", "16m", "--network", "none", "busybox", "tail", "/dev/zero")
	if r.code != 137 {
		t.Errorf("want 137, %s", r)
	}
	in := inspect(t, md, name)
	if jget(in, "State.OOMKilled") != true || jget(in, "State.ExitCode").(float64) != 137 {
		t.Errorf("inspect State: %v", in["State"])
	}
	if m := jget(in, "HostConfig.Memory").(float64); m != 16<<20 {
		t.Errorf("HostConfig.Memory = %v", m)
	}
	mustRun(t, md, "rm", name)
}

// TestFinalLimits: every step04 limit lands in the container's cgroup
// files (v1 or v2, whichever this kernel has), inspect shows them, the
// container's processes are in the cgroup, and the PIDs limit bites.
func TestFinalLimits(t *testing.T) {
	md := minidockerTest(t)
	name := "mdt-limits"
	id, pid := runReady(t, md, name, "-i", "--network", "none", "-m", "64m", "--memory-swap", "128m",
		"--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "20", "--cpuset-cpus", "0", "busybox", "sh", "-c", "echo ready; read x")
	v2 := false
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		v2 = true
	}
	check := func(file, want string) {
		t.Helper()
		if got := readTrim(t, file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	if v2 {
		check(cgroupFile(id, "", "", "memory.max"), "67108864")
		check(cgroupFile(id, "", "", "memory.swap.max"), "67108864")
		check(cgroupFile(id, "", "", "cpu.max"), "50000 100000")
		check(cgroupFile(id, "", "", "cpu.weight"), "20")
		check(cgroupFile(id, "", "", "pids.max"), "20")
		check(cgroupFile(id, "", "", "cpuset.cpus"), "0")
	} else {
		check(cgroupFile(id, "memory", "memory.limit_in_bytes", ""), "67108864")
		if _, err := os.Stat(cgroupFile(id, "memory", "memory.memsw.limit_in_bytes", "")); err == nil {
			check(cgroupFile(id, "memory", "memory.memsw.limit_in_bytes", ""), "134217728")
		}
		check(cgroupFile(id, "cpu,cpuacct", "cpu.cfs_quota_us", ""), "50000")
		check(cgroupFile(id, "cpu,cpuacct", "cpu.cfs_period_us", ""), "100000")
		check(cgroupFile(id, "cpu,cpuacct", "cpu.shares", ""), "512")
		check(cgroupFile(id, "pids", "pids.max", ""), "20")
		check(cgroupFile(id, "cpuset", "cpuset.cpus", ""), "0")
	}
	procs := readTrim(t, cgroupFile(id, "pids", "cgroup.procs", "cgroup.procs"))
	if !regexp.MustCompile(fmt.Sprintf(`(^|\n)%d(\n|$)`, pid)).MatchString(procs) {
		t.Errorf("init %d not in the cgroup: %q", pid, procs)
	}
	hc := inspect(t, md, name)["HostConfig"].(map[string]any)
	for k, want := range map[string]any{"Memory": float64(64 << 20), "MemorySwap": float64(128 << 20), "NanoCpus": float64(5e8),
		"CpuShares": float64(512), "PidsLimit": float64(20), "CpusetCpus": "0"} {
		if hc[k] != want {
			t.Errorf("inspect HostConfig.%s = %v, want %v", k, hc[k], want)
		}
	}
	stats := mustRun(t, md, "stats", "--no-stream", name).stdout
	if !regexp.MustCompile(`CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE / LIMIT\s+MEM %\s+NET I/O\s+BLOCK I/O\s+PIDS\n` + id[:12] + `\s+` + name +
		`\s+[0-9.]+%\s+[0-9.]+[KMG]?i?B / 64MiB\s+[0-9.]+%\s+0B / 0B\s+[0-9.]+[kMG]?B / [0-9.]+[kMG]?B\s+[1-9]`).MatchString(stats) {
		t.Errorf("stats: %q", stats)
	}
	mustRun(t, md, "rm", "-f", name)
	// The PIDs limit bites: a fork beyond 16 tasks (init's threads
	// included) fails (EAGAIN).
	r := run(t, md, "run", "--rm", "--network", "none", "--pids-limit", "16", "busybox", "sh", "-c",
		"for i in $(seq 30); do sleep 5 & done; echo all-started")
	if !strings.Contains(r.stderr, "can't fork") || strings.Contains(r.stdout, "all-started") {
		t.Errorf("--pids-limit 16 should stop the 30 forks: %s", r)
	}
}

// TestFinalVolumesEnvWorkdir: -v binds are visible both ways, :ro is
// enforced by the kernel, -e and -w apply, --hostname sets the name and
// /etc/hosts (init layer) names the container.
func TestFinalVolumesEnvWorkdir(t *testing.T) {
	md := minidockerTest(t)
	rw, ro := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(rw, "in"), []byte("from-host\n"), 0644)
	os.WriteFile(filepath.Join(ro, "file"), []byte("read-only\n"), 0644)
	r := mustRun(t, md, "run", "--rm", "--network", "none", "--name", "mdt-vol", "--hostname", "volbox", "-v", rw+":/data", "-v", ro+":/ro:ro",
		"-e", "FOO=bar baz", "-e", "A=1,2", "-w", "/work/dir", "busybox", "sh", "-c",
		`echo "foo=$FOO a=$A"; echo "pwd=$(pwd)"; echo "in=$(cat /data/in)"; echo out > /data/out
		 echo "ro=$(cat /ro/file)"; touch /ro/x 2>/dev/null && echo ro-write=yes || echo ro-write=no
		 echo "host=$(hostname)"; grep -q "volbox mdt-vol" /etc/hosts && echo hosts=ok; echo "etchostname=$(cat /etc/hostname)"`)
	for _, want := range []string{"foo=bar baz a=1,2", "pwd=/work/dir", "in=from-host", "ro=read-only", "ro-write=no", "host=volbox", "hosts=ok", "etchostname=volbox"} {
		if !strings.Contains(r.stdout, want+"\n") {
			t.Errorf("want %q in %s", want, r)
		}
	}
	if b, err := os.ReadFile(filepath.Join(rw, "out")); err != nil || string(b) != "out\n" {
		t.Errorf("file written in /data not on the host: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(ro, "x")); err == nil {
		t.Error(":ro volume was written")
	}
}

// TestFinalCommit: commit takes the container layer only — a new file and
// a deletion (kept as a whiteout) — not the init layer; a container of the
// new image sees the change.
func TestFinalCommit(t *testing.T) {
	md := minidockerTest(t)
	name, img := "mdt-commit", "mdt-committed"
	removeOnCleanup(t, md, name)
	t.Cleanup(func() { exec.Command(md, "rmi", img).Run() })
	mustRun(t, md, "run", "--name", name, "--hostname", "committer", "--network", "none", "busybox", "sh", "-c", "echo hello > /greeting; rm /bin/vi")
	r := mustRun(t, md, "commit", name, img)
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`).MatchString(r.stdout) {
		t.Errorf("commit output: %q", r.stdout)
	}
	if !strings.Contains(mustRun(t, md, "images").stdout, img) {
		t.Error("committed image not in `images`")
	}
	r = mustRun(t, md, "run", "--rm", "--network", "none", "--hostname", "fresh", img, "sh", "-c",
		"cat /greeting; test -e /bin/vi && echo vi=present || echo vi=gone; cat /etc/hostname")
	if r.stdout != "hello\nvi=gone\nfresh\n" {
		t.Errorf("run of the committed image: %s", r)
	}
	// The new layer holds the whiteout for /bin/vi (a 0/0 character device)
	// and no /etc/hostname (the init layer stayed out).
	var layers []string
	filepath.Walk(filepath.Join(mdRoot(), "layers"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && filepath.Base(p) == "greeting" {
			layers = append(layers, filepath.Dir(p))
		}
		return nil
	})
	if len(layers) != 1 {
		t.Fatalf("want one layer with /greeting, found %v", layers)
	}
	fi, err := os.Lstat(filepath.Join(layers[0], "bin/vi"))
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 || fi.Sys().(*syscall.Stat_t).Rdev != 0 {
		t.Errorf("no whiteout for bin/vi in the committed layer: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(layers[0], "etc/hostname")); err == nil {
		t.Error("the init layer's /etc/hostname was committed")
	}
	mustRun(t, md, "rm", name)
	mustRun(t, md, "rmi", img)
	if _, err := os.Stat(layers[0]); err == nil {
		t.Error("rmi left the committed layer behind")
	}
}

// TestFinalExportImport: export writes the merged view as `docker export`
// does; import (plain and gzip) makes an image that runs and has the file.
func TestFinalExportImport(t *testing.T) {
	md := minidockerTest(t)
	name := "mdt-export"
	removeOnCleanup(t, md, name)
	for _, img := range []string{"mdt-imported", "mdt-imported-gz"} {
		img := img
		t.Cleanup(func() { exec.Command(md, "rmi", img).Run() })
	}
	mustRun(t, md, "run", "--name", name, "--network", "none", "busybox", "sh", "-c", "echo exported > /marker; rm /bin/vi")
	tarPath := filepath.Join(t.TempDir(), "c.tar")
	mustRun(t, md, "export", name, "-o", tarPath)
	f, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names[h.Name] = true
	}
	f.Close()
	for _, want := range []string{"bin/busybox", "bin/sh", "marker", "etc/passwd"} {
		if !names[want] {
			t.Errorf("export lacks %s", want)
		}
	}
	for n := range names {
		if strings.HasPrefix(n, "./") || strings.HasPrefix(n, "/") || strings.Contains(n, ".wh.") || n == "bin/vi" {
			t.Errorf("unexpected entry %q in the export", n)
		}
	}
	gzPath := tarPath + ".gz"
	in, _ := os.Open(tarPath)
	out, _ := os.Create(gzPath)
	zw := gzip.NewWriter(out)
	io.Copy(zw, in)
	zw.Close()
	out.Close()
	in.Close()
	for img, file := range map[string]string{"mdt-imported": tarPath, "mdt-imported-gz": gzPath} {
		if r := mustRun(t, md, "import", file, img); !strings.HasPrefix(r.stdout, "sha256:") {
			t.Errorf("import: %s", r)
		}
		r := mustRun(t, md, "run", "--rm", "--network", "none", img, "sh", "-c", "cat /marker; test -e /bin/vi && echo vi || echo novi")
		if r.stdout != "exported\nnovi\n" {
			t.Errorf("run %s: %s", img, r)
		}
		images := mustRun(t, md, "images").stdout
		if !regexp.MustCompile(`(?m)^` + img + `\s+latest\s+[0-9a-f]{12}\s+.* ago\s+[0-9.]+[kMG]?B$`).MatchString(images) {
			t.Errorf("images: %q", images)
		}
		mustRun(t, md, "rmi", img)
	}
	mustRun(t, md, "rm", name)
}

// TestFinalExec: exec enters the running container's namespaces (its
// hostname, its mount table with the image as /, its PID namespace) and
// its cgroup; exit status passes through. Tested the three ways exec can
// go in: minidocker-nsenter beside minidocker (`make minidocker`: C
// constructor + setns), minidocker built with cgo alone (`go run ./final`:
// the same constructor in the CLI) and without cgo alone (nsenter(1)).
func TestFinalExec(t *testing.T) {
	requireRoot(t)
	marker := hostMarker(t)
	for _, v := range []struct {
		name, bin string
		alone     bool
		helper    string
	}{
		{"helper", "minidocker", false, "minidocker-nsenter (setns in a C constructor)"},
		{"cgo", "minidocker-cgo", true, "minidocker exec-helper (setns in a C constructor"},
		{"nocgo", "minidocker", true, "nsenter(1)"},
	} {
		t.Run(v.name, func(t *testing.T) {
			md := program(t, v.bin)
			if v.alone {
				md = alone(t, md)
			}
			if r := mustRun(t, md, "version"); !strings.Contains(r.stdout, v.helper) {
				t.Fatalf("want exec by %q, %s", v.helper, r)
			}
			leakChecked(t)
			name := "mdt-exec-" + v.name
			id, init := runReady(t, md, name, "-i", "--hostname", "exhost", "--network", "none",
				"-e", "CTR=yes", "-w", "/tmp", "busybox", "sh", "-c", "echo ready; read x")
			r := mustRun(t, md, "exec", name, "sh", "-c",
				`echo "host=$(hostname) env=$CTR pwd=$(pwd)"; echo "pid1=$(cat /proc/1/cmdline | tr '\0' ' ')"
				 test -e `+marker+` && echo marker=visible || echo marker=hidden; test -x /bin/busybox && echo busybox=yes
				 echo "cgroup=$(grep -c minidocker-`+id[:12]+` /proc/self/cgroup)"`)
			for _, want := range []string{"host=exhost env=yes pwd=/tmp", "pid1=minidocker init " + id, "marker=hidden", "busybox=yes"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("want %q in %s", want, r)
				}
			}
			if regexp.MustCompile(`cgroup=0\b`).MatchString(r.stdout) {
				t.Errorf("exec'd process not in the container's cgroup: %s", r)
			}
			if r := run(t, md, "exec", name, "sh", "-c", "exit 5"); r.code != 5 {
				t.Errorf("exec exit status: %s", r)
			}
			if r := run(t, md, "exec", name, "no-such-command"); r.code != 127 {
				t.Errorf("exec of a missing command: want 127, %s", r)
			}
			// -t: a terminal; with the constructor, one of the container's
			// own /dev/pts (nsenter(1) cannot hand one back: the host's).
			wantTTY := map[bool]string{true: "/dev/pts/0\nisatty\n24 80\n", false: "not a tty\nisatty\n24 80\n"}[v.name != "nocgo"]
			if r := mustRun(t, md, "exec", "-t", name, "sh", "-c", "tty; [ -t 0 ] && echo isatty; stty size"); strings.ReplaceAll(r.stdout, "\r", "") != wantTTY {
				t.Errorf("exec -t: want %q, %s", wantTTY, r)
			}
			// From the host: the exec'd process has the container's namespaces and cgroup.
			l := start(t, md, "exec", "-i", name, "sh", "-c", "echo inside; read x")
			l.waitFor("inside")
			var shPid int
			poll(t, 5*time.Second, "the exec'd sh in the container's cgroup", func() bool {
				for _, p := range strings.Fields(readTrim(t, cgroupFile(id, "pids", "cgroup.procs", "cgroup.procs"))) {
					var n int
					fmt.Sscan(p, &n)
					if n != init && comm(n) == "sh" && ppid(n) != init {
						shPid = n
						return true
					}
				}
				return false
			})
			for _, ns := range []string{"uts", "mnt", "pid", "ipc", "net"} {
				if nsInode(t, fmt.Sprint(shPid), ns) != nsInode(t, fmt.Sprint(init), ns) {
					t.Errorf("exec'd process %d is not in the container's %s namespace", shPid, ns)
				}
			}
			if r := l.finish(); r.code != 0 {
				t.Errorf("exec -i: %s", r)
			}
			mustRun(t, md, "rm", "-f", name)
		})
	}
}

// TestFinalZombies: minidocker's init reaps orphans: children whose parent
// exited are adopted by the container's PID 1 and do not stay zombies.
func TestFinalZombies(t *testing.T) {
	md := minidockerTest(t)
	name := "mdt-zombies"
	_, init := runReady(t, md, name, "-i", "--network", "none", "busybox", "sh", "-c",
		`for i in 1 2 3 4 5; do sh -c "sleep 1 &"; done; echo ready; read x`)
	orphans := func() (sleeping, zombies int) {
		for _, k := range children(init) {
			switch {
			case procState(k) == "Z":
				zombies++
			case comm(k) == "sleep":
				sleeping++
			}
		}
		return
	}
	// The sleeps' parents exited at once: init adopted them.
	if s, z := orphans(); s+z == 0 {
		t.Logf("the orphans ended before we looked (sleep=%d zombies=%d)", s, z)
	}
	// When they exit, init must reap them: no zombie children may remain.
	poll(t, 10*time.Second, "the orphaned sleeps to end and be reaped", func() bool {
		s, z := orphans()
		return s == 0 && z == 0
	})
	if n := len(children(init)); n != 1 {
		t.Errorf("init should have only the command left as child, has %d", n)
	}
	mustRun(t, md, "rm", "-f", name)
}

// TestFinalEngineCrash: after kill -9 of the monitor (-d) or of the CLI
// (foreground), ps shows the container as exited (the kernel killed it
// with its parent), and rm removes every cgroup and state file.
func TestFinalEngineCrash(t *testing.T) {
	md := minidockerTest(t)
	name := "mdt-crash-monitor"
	id, init := runReady(t, md, name, "-i", "--network", "none", "-m", "32m", "busybox", "sh", "-c", "echo ready; read x")
	syscall.Kill(ppid(init), syscall.SIGKILL)
	poll(t, 10*time.Second, "ps -a to show the container exited", func() bool {
		return regexp.MustCompile(id[:12] + `.*Exited \(137\)`).MatchString(run(t, md, "ps", "-a").stdout)
	})
	if procState(init) != "" && procState(init) != "Z" {
		t.Errorf("the container's init %d outlived its monitor", init)
	}
	mustRun(t, md, "rm", name)

	name = "mdt-crash-cli"
	removeOnCleanup(t, md, name)
	l := start(t, md, "run", "-i", "--name", name, "--network", "none", "busybox", "sh", "-c", "echo ready; read x")
	l.waitFor("ready")
	l.cmd.Process.Kill()
	l.cmd.Wait()
	poll(t, 10*time.Second, "ps -a to show the container exited", func() bool {
		return regexp.MustCompile(`Exited \(137\).*` + name).MatchString(run(t, md, "ps", "-a").stdout)
	})
	mustRun(t, md, "rm", name)
}

// TestFinalCycles: 20 run/rm cycles and 5 parallel runs leave nothing.
func TestFinalCycles(t *testing.T) {
	md := minidockerTest(t)
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("mdt-cycle-%d", i)
		if i%2 == 0 {
			mustRun(t, md, "run", "--rm", "--network", "none", "-m", "32m", "busybox", "true")
		} else {
			mustRun(t, md, "run", "-d", "--name", name, "--network", "none", "busybox", "true")
			mustRun(t, md, "rm", "-f", name)
		}
	}
	var wg sync.WaitGroup
	results := make([]result, 5)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = run(t, md, "run", "--rm", "--network", "none", "--name", fmt.Sprintf("mdt-par-%d", i), "busybox", "sh", "-c", fmt.Sprintf("echo par-%d", i))
		}(i)
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 || r.stdout != fmt.Sprintf("par-%d\n", i) {
			t.Errorf("parallel run %d: %s", i, r)
		}
	}
}

// TestFinalTTY: -t gives the command a real terminal from the container's
// own devpts, with a window size.
func TestFinalTTY(t *testing.T) {
	md := minidockerTest(t)
	r := mustRun(t, md, "run", "--rm", "-t", "--network", "none", "busybox", "sh", "-c", "tty; stty size")
	if !strings.Contains(r.stdout, "/dev/pts/0") || !strings.Contains(r.stdout, "24 80") {
		t.Errorf("run -t: %q", r.stdout)
	}
}

// TestFinalVersionInfo: version and info answer without a container.
func TestFinalVersionInfo(t *testing.T) {
	requireRoot(t)
	md := program(t, "minidocker")
	if r := mustRun(t, md, "version"); !strings.Contains(r.stdout, "Version:") {
		t.Errorf("version: %s", r)
	}
	r := mustRun(t, md, "info")
	for _, want := range []string{"Containers:", "Storage Driver: overlay", "Cgroup Version: ", "Default Bridge: minidocker0 172.29.0.0/16"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("info lacks %q: %s", want, r)
		}
	}
	if r := mustRun(t, md, "images"); !regexp.MustCompile(`(?m)^busybox\s+latest\s+[0-9a-f]{12}`).MatchString(r.stdout) {
		t.Errorf("images lacks busybox: %s", r)
	}
}

// TestFinalHostNetworkAndKill: --network host shares the host's network
// namespace (and only that); kill sends SIGKILL: Exited (137).
func TestFinalHostNetworkAndKill(t *testing.T) {
	md := minidockerTest(t)
	name := "mdt-hostnet"
	_, init := runReady(t, md, name, "-i", "--network", "host", "busybox", "sh", "-c", "echo ready; read x")
	pid := fmt.Sprint(init)
	if nsInode(t, pid, "net") != nsInode(t, "self", "net") {
		t.Error("--network host: the container should share the host's network namespace")
	}
	if nsInode(t, pid, "uts") == nsInode(t, "self", "uts") {
		t.Error("--network host must not share the other namespaces")
	}
	mustRun(t, md, "kill", name)
	in := inspect(t, md, name)
	if jget(in, "State.Status") != "exited" || jget(in, "State.ExitCode").(float64) != 137 {
		t.Errorf("after kill: %v", in["State"])
	}
	mustRun(t, md, "rm", name)
}

// TestFinalInitProgram: the container's PID 1 is minidocker-init when it
// lies beside minidocker (its cmdline still `minidocker init ID`), and
// minidocker itself, re-executed, when it does not (as with `go run`).
func TestFinalInitProgram(t *testing.T) {
	requireRoot(t)
	md := program(t, "minidocker")
	self := alone(t, md)
	leakChecked(t)
	for i, c := range []struct{ bin, wantExe string }{
		{md, filepath.Join(filepath.Dir(md), "minidocker-init")},
		{self, self},
	} {
		name := fmt.Sprintf("mdt-init-%d", i)
		id, pid := runReady(t, c.bin, name, "-i", "--network", "none", "busybox", "sh", "-c", "echo ready; read x")
		// The same file, not the same path: after pivot_root the kernel
		// names the program relative to a mount the container no longer
		// sees (on the cgroup v2 runner, /bin/minidocker-init).
		exe, err1 := os.Stat(fmt.Sprintf("/proc/%d/exe", pid))
		want, err2 := os.Stat(c.wantExe)
		if err1 != nil || err2 != nil || !os.SameFile(exe, want) {
			link, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
			t.Errorf("%s: the container's init runs %q, want %s (%v, %v)", c.bin, link, c.wantExe, err1, err2)
		}
		if cmdline := strings.Join(strings.Fields(readCmdline(pid)), " "); cmdline != "minidocker init "+id {
			t.Errorf("%s: init's cmdline %q, want \"minidocker init %s\"", c.bin, cmdline, id)
		}
		mustRun(t, c.bin, "rm", "-f", name)
	}
}

// TestFinalCreateStartAttach: the daemonless CLI's create, start -a, start,
// attach, wait and rename: a created container stays created (nobody has
// to hold it), start -a gets its whole output and exit status, a second
// start runs it again in its own layer.
func TestFinalCreateStartAttach(t *testing.T) {
	md := minidockerTest(t)
	removeOnCleanup(t, md, "mdt-created", "mdt-created2")
	mustRun(t, md, "create", "--name", "mdt-created", "--network", "none", "busybox", "sh", "-c", "echo run >> /runs; cat /runs; exit 3")
	if r := mustRun(t, md, "ps", "-a", "--filter", "name=mdt-created"); !strings.Contains(r.stdout, "Created") {
		t.Errorf("ps -a after create: %s", r)
	}
	if r := run(t, md, "start", "-a", "mdt-created"); r.code != 3 || r.stdout != "run\n" {
		t.Errorf("start -a: want run and exit 3: %s", r)
	}
	if r := run(t, md, "start", "-a", "mdt-created"); r.code != 3 || r.stdout != "run\nrun\n" {
		t.Errorf("a second start -a: the same layer, so two lines: %s", r)
	}
	mustRun(t, md, "rename", "mdt-created", "mdt-created2")
	if r := mustRun(t, md, "wait", "mdt-created2"); r.stdout != "3\n" {
		t.Errorf("wait of an exited container: %s", r)
	}
	mustRun(t, md, "rm", "mdt-created2")
	// attach to a running one: its stdin, its output from now on
	mustRun(t, md, "run", "-d", "-i", "--name", "mdt-created", "--network", "none", "busybox", "sh", "-c", "read l; echo got $l; exit 4")
	cmd := exec.Command(md, "attach", "mdt-created")
	cmd.Stdin = strings.NewReader("line\n")
	if r := runCmd(t, cmd); r.code != 4 || r.stdout != "got line\n" {
		t.Errorf("attach: want our line read and exit 4: %s", r)
	}
	mustRun(t, md, "rm", "mdt-created")
}
