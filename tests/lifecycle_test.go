//go:build linux

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The lifecycle a daemon user expects (chapter 07): block I/O limits (the
// io controller, blkio on v1), pause and unpause (the freezer) and restart
// policies, daemonless and through the docker CLI.

// loopDisk makes a small ext4 disk of its own for an I/O test: a file, a
// loop device on it, a filesystem, mounted in a temporary directory; all
// of it goes when the test ends. It returns the device (/dev/loopN), its
// MAJOR:MINOR and the mount point.
func loopDisk(t *testing.T) (dev, id, dir string) {
	t.Helper()
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0600); err != nil || os.Truncate(img, 64<<20) != nil {
		t.Fatalf("disk image: %v", err)
	}
	out, err := exec.Command("losetup", "-f", "--show", img).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup -f --show %s: %v %s", img, err, out)
	}
	dev = strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", dev).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4 %s: %v %s", dev, err, out)
	}
	dir = t.TempDir()
	if out, err := exec.Command("mount", dev, dir).CombinedOutput(); err != nil {
		t.Fatalf("mount %s: %v %s", dev, err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dev, readTrim(t, filepath.Join("/sys/block", filepath.Base(dev), "dev")), dir
}

// ddSeconds is the wall time busybox `time` reported for a dd in the
// container's log ("real	0m 1.52s").
func ddSeconds(t *testing.T, log string) float64 {
	t.Helper()
	m := regexp.MustCompile(`real\s+(\d+)m\s*([0-9.]+)s`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no `time` report in %q", log)
	}
	min, _ := strconv.Atoi(m[1])
	sec, _ := strconv.ParseFloat(m[2], 64)
	return float64(min)*60 + sec
}

// ioWritten is the bytes the container's cgroup wrote to device id, from
// the kernel's own counter: io.stat's wbytes (v2) or the Write line of
// blkio.throttle.io_service_bytes_recursive (v1).
func ioWritten(t *testing.T, cid, id string) uint64 {
	t.Helper()
	text := readTrim(t, cgroupFile(cid, "blkio", "blkio.throttle.io_service_bytes_recursive", "io.stat"))
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != id {
			continue
		}
		for _, kv := range f[1:] {
			if v, ok := strings.CutPrefix(kv, "wbytes="); ok {
				n, _ := strconv.ParseUint(v, 10, 64)
				return n
			}
		}
		if len(f) == 3 && f[1] == "Write" {
			n, _ := strconv.ParseUint(f[2], 10, 64)
			return n
		}
	}
	return 0
}

// TestLifecycleIOLimit: --device-write-bps 1mb holds a direct-I/O writer
// to about 1 MiB/s (its own wall time, and the cgroup's counter of the
// bytes it wrote); without the limit the same writes are much faster.
// The limit sits well below what the slowest disk here does unlimited:
// the emulated cgroup v2 guest writes this loop disk at about 5 MiB/s,
// so a 2 MiB/s limit left too thin a margin to tell the two apart.
// The files are the kernel's (io.max, blkio.throttle.*); stats shows the
// bytes; bad devices and values are one line and leave nothing.
func TestLifecycleIOLimit(t *testing.T) {
	md := minidockerTest(t)
	dev, id, dir := loopDisk(t)
	// 3 MiB written with O_DIRECT: the page cache would take buffered
	// writes at memory speed and write them back later, outside the limit.
	dd := "time dd if=/dev/zero of=/data/f bs=256k count=12 oflag=direct"
	cid, _ := runReady(t, md, "life-io", "--network", "none", "-v", dir+":/data", "--device-write-bps", dev+":1mb",
		"--device-read-iops", dev+":500", "busybox", "sh", "-c", dd+"; echo ready; exec sleep 1000")
	limited := ddSeconds(t, mustRun(t, md, "logs", "life-io").stderr)
	rate := 3 / limited
	t.Logf("3 MiB under --device-write-bps 1mb: %.2f s, %.2f MiB/s", limited, rate)
	if rate < 0.7 || rate > 1.3 {
		t.Errorf("--device-write-bps %s:1mb: want about 1 MiB/s, got %.2f MiB/s (%.2f s for 3 MiB)", dev, rate, limited)
	}
	if n := ioWritten(t, cid, id); n < 3<<20 {
		t.Errorf("the cgroup's counter says %d bytes written to %s, want at least 3 MiB", n, id)
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		if got := readTrim(t, cgroupFile(cid, "", "", "io.max")); got != id+" rbps=max wbps=1048576 riops=500 wiops=max" {
			t.Errorf("io.max = %q", got)
		}
	} else {
		if got := readTrim(t, cgroupFile(cid, "blkio", "blkio.throttle.write_bps_device", "")); got != id+" 1048576" {
			t.Errorf("blkio.throttle.write_bps_device = %q", got)
		}
		if got := readTrim(t, cgroupFile(cid, "blkio", "blkio.throttle.read_iops_device", "")); got != id+" 500" {
			t.Errorf("blkio.throttle.read_iops_device = %q", got)
		}
	}
	if r := mustRun(t, md, "stats", "--no-stream", "life-io"); !regexp.MustCompile(`\s[0-9.]+[kM]?B / 3\.[0-9]+MB\s`).MatchString(r.stdout) {
		t.Errorf("stats: want BLOCK I/O with about 3MB written: %q", r.stdout)
	}
	mustRun(t, md, "rm", "-f", "life-io")
	r := mustRun(t, md, "run", "--rm", "--network", "none", "-v", dir+":/data", "busybox", "sh", "-c", strings.Replace(dd, "/data/f", "/data/g", 1))
	free := ddSeconds(t, r.stderr)
	t.Logf("the same without a limit: %.2f s", free)
	if free*3 > limited {
		t.Errorf("without a limit the writes should be much faster: %.2f s, against %.2f s with it", free, limited)
	}
	// A weight: written where this kernel has the knob, or a one-line
	// warning that it has none (then the container runs without it).
	r = mustRun(t, md, "run", "-d", "--name", "life-weight", "--network", "none", "--blkio-weight", "300", "busybox", "sleep", "1000")
	removeOnCleanup(t, md, "life-weight")
	wid := strings.TrimSpace(r.stdout)
	if strings.Contains(r.stderr, "does not support Block I/O weight") {
		oneLine(t, r, "weight")
	} else {
		// BFQ's knobs take Docker's 10-1000; io.cost's io.weight is 1-10000
		// (it reads "default 2930"), as runc converts it.
		files := map[string]string{"io.bfq.weight": "300", "io.weight": "2930", "blkio.bfq.weight": "300", "blkio.weight": "300"}
		var seen []string
		written := false
		for f, want := range files {
			if b, err := os.ReadFile(cgroupFile(wid, "blkio", f, f)); err == nil {
				seen = append(seen, f+": "+strings.TrimSpace(string(b)))
				written = written || slices.Contains(strings.Fields(string(b)), want)
			}
		}
		if !written {
			t.Errorf("--blkio-weight 300: no weight file says so (%q) and no warning: %s", seen, r)
		}
	}
	mustRun(t, md, "rm", "-f", "life-weight")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--device-write-bps", "/dev/null:1mb"}, "not a block device"},
		{[]string{"--device-write-bps", "/dev/no-such-disk:1mb"}, "no device /dev/no-such-disk"},
		{[]string{"--device-read-bps", dev + ":lots"}, "invalid rate for device"},
		{[]string{"--device-read-iops", dev + ":1.5"}, "invalid rate for device"},
		{[]string{"--device-write-bps", "/etc/passwd:1mb"}, "bad format for device path"},
		{[]string{"--blkio-weight", "5"}, "Range of blkio weight is from 10 to 1000"},
		{[]string{"--blkio-weight-device", dev + ":2000"}, "invalid weight for device"},
	} {
		r := run(t, md, append(append([]string{"run", "--rm", "--network", "none"}, c.args...), "busybox", "true")...)
		if r.code != 125 {
			t.Errorf("run %v: want exit 125, got %s", c.args, r)
		}
		oneLine(t, r, c.want)
	}
}

// TestLifecyclePause: a container counting in a loop is paused (the
// counter stops, the cgroup says frozen, ps and inspect say paused, exec
// is refused), unpaused (it counts again); stop and rm -f of a paused
// container work; pause of a stopped one is refused, in Docker's words.
func TestLifecyclePause(t *testing.T) {
	md := minidockerTest(t)
	count := "echo ready; i=0; while :; do i=$((i+1)); echo $i >/tmp/n.new; mv /tmp/n.new /tmp/n; usleep 10000; done"
	cid, _ := runReady(t, md, "life-pause", "--network", "none", "busybox", "sh", "-c", count)
	upper := jget(inspect(t, md, "life-pause"), "GraphDriver.Data.UpperDir").(string)
	counter := func() string { b, _ := os.ReadFile(filepath.Join(upper, "tmp/n")); return strings.TrimSpace(string(b)) }
	moves := func(what string) {
		t.Helper()
		first := counter()
		poll(t, 10*time.Second, "the counter to move "+what, func() bool { return counter() != first })
	}
	moves("before the pause")
	start := time.Now()
	if r := mustRun(t, md, "pause", "life-pause"); r.stdout != "life-pause\n" {
		t.Errorf("pause: %s", r)
	}
	t.Logf("minidocker pause took %s (the command, start to end)", time.Since(start).Round(time.Millisecond))
	frozen := cgroupFile(cid, "freezer", "freezer.state", "cgroup.events")
	if got := readTrim(t, frozen); !strings.Contains(got, "FROZEN") && !strings.Contains(got, "frozen 1") {
		t.Errorf("%s after pause: %q, want FROZEN (v1) or frozen 1 (v2)", frozen, got)
	}
	st := inspect(t, md, "life-pause")
	if jget(st, "State.Paused") != true || jget(st, "State.Status") != "paused" || jget(st, "State.Running") != true {
		t.Errorf("inspect of a paused container: State %v", st["State"])
	}
	if r := mustRun(t, md, "ps", "--filter", "status=paused"); !strings.Contains(r.stdout, "(Paused)") || !strings.Contains(r.stdout, "life-pause") {
		t.Errorf("ps --filter status=paused: %s", r)
	}
	n := counter()
	time.Sleep(300 * time.Millisecond) // a window for the counter to move, if it could
	if counter() != n {
		t.Errorf("the counter moved while paused: %s -> %s", n, counter())
	}
	r := run(t, md, "exec", "life-pause", "true")
	if r.code == 0 {
		t.Errorf("exec into a paused container must be refused: %s", r)
	}
	oneLine(t, r, "is paused, unpause the container before exec")
	r = run(t, md, "pause", "life-pause")
	oneLine(t, r, "is already paused")
	mustRun(t, md, "unpause", "life-pause")
	moves("after unpause")
	r = run(t, md, "unpause", "life-pause")
	oneLine(t, r, "is not paused")
	// stop of a paused container: SIGTERM, then thawed, so the shell acts
	// on it at once (143), long before the grace period's SIGKILL (137).
	mustRun(t, md, "pause", "life-pause")
	start = time.Now()
	mustRun(t, md, "stop", "-t", "20", "life-pause")
	if st := inspect(t, md, "life-pause"); jget(st, "State.ExitCode") != float64(143) || jget(st, "State.Paused") != false || time.Since(start) > 10*time.Second {
		t.Errorf("stop of a paused container: want exit 143 (SIGTERM acted upon), not paused, at once; got %v after %s", st["State"], time.Since(start))
	}
	r = run(t, md, "pause", "life-pause")
	if r.code == 0 {
		t.Errorf("pause of a stopped container must be refused: %s", r)
	}
	oneLine(t, r, "is not running")
	mustRun(t, md, "rm", "life-pause")
	// rm -f of a paused container.
	runReady(t, md, "life-pause2", "--network", "none", "busybox", "sh", "-c", "echo ready; exec sleep 1000")
	mustRun(t, md, "pause", "life-pause2")
	oneLine(t, run(t, md, "rm", "life-pause2"), "container is paused and must be unpaused first")
	mustRun(t, md, "rm", "-f", "life-pause2")
}

// event is one line of `minidocker events`: when, and what.
type event struct {
	at     time.Time
	action string
}

// containerEvents lists what happened to a container (its id: a name may
// have been another container's before), from the events log.
func containerEvents(t *testing.T, md, id string) []event {
	t.Helper()
	r := mustRun(t, md, "events", "--since", "1", "--until", strconv.FormatInt(time.Now().Unix()+1, 10), "--filter", "container="+id)
	var evs []event
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		at, err := time.Parse("2006-01-02T15:04:05.000000000Z07:00", f[0])
		if err != nil {
			t.Fatalf("events: %q: %v", l, err)
		}
		evs = append(evs, event{at, f[2]})
	}
	return evs
}

// TestLifecycleRestartOnFailure: --restart on-failure:3 of a command that
// fails runs it 4 times in all, then leaves it exited with RestartCount 3;
// the waits between an exit and the next start follow Docker's back-off
// (100, 200, 400 ms). Bad policies are refused in one line.
func TestLifecycleRestartOnFailure(t *testing.T) {
	md := minidockerTest(t)
	removeOnCleanup(t, md, "life-rf")
	id := strings.TrimSpace(mustRun(t, md, "run", "-d", "--name", "life-rf", "--network", "none", "--restart", "on-failure:3", "busybox", "sh", "-c", "echo run; exit 1").stdout)
	poll(t, 20*time.Second, "life-rf to stop restarting", func() bool {
		st := inspect(t, md, "life-rf")
		return jget(st, "State.Status") == "exited" && jget(st, "RestartCount") == float64(3)
	})
	st := inspect(t, md, "life-rf")
	if jget(st, "State.ExitCode") != float64(1) || jget(st, "HostConfig.RestartPolicy.Name") != "on-failure" || jget(st, "HostConfig.RestartPolicy.MaximumRetryCount") != float64(3) {
		t.Errorf("inspect: %v %v", st["State"], jget(st, "HostConfig.RestartPolicy"))
	}
	if r := mustRun(t, md, "logs", "life-rf"); r.stdout != "run\nrun\nrun\nrun\n" {
		t.Errorf("want 4 runs in the log: %q", r.stdout)
	}
	var starts, dies []time.Time
	for _, ev := range containerEvents(t, md, id) {
		switch ev.action {
		case "start":
			starts = append(starts, ev.at)
		case "die":
			dies = append(dies, ev.at)
		}
	}
	if len(starts) != 4 || len(dies) != 4 {
		t.Fatalf("want 4 starts and 4 dies, got %d and %d", len(starts), len(dies))
	}
	for i, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond} {
		gap := starts[i+1].Sub(dies[i])
		t.Logf("restart %d: %s from die to start (back-off %s)", i+1, gap.Round(time.Millisecond), want)
		if gap < want*9/10 || gap > want+3*time.Second {
			t.Errorf("restart %d: %s from die to start, want Docker's back-off of %s (and a start)", i+1, gap, want)
		}
	}
	mustRun(t, md, "rm", "life-rf")
	// In the foreground: the first run's output and exit status; its
	// monitor, not this command, holds the container and restarts it.
	removeOnCleanup(t, md, "life-rf2")
	r := run(t, md, "run", "--name", "life-rf2", "--network", "none", "--restart", "on-failure:1", "busybox", "sh", "-c", "echo try; exit 2")
	if r.code != 2 || r.stdout != "try\n" {
		t.Errorf("run --restart on-failure:1 in the foreground: want try and exit 2: %s", r)
	}
	poll(t, 20*time.Second, "life-rf2's second run", func() bool {
		st := inspect(t, md, "life-rf2")
		return jget(st, "State.Status") == "exited" && jget(st, "RestartCount") == float64(1)
	})
	if r := mustRun(t, md, "logs", "life-rf2"); r.stdout != "try\ntry\n" {
		t.Errorf("want 2 runs in the log: %q", r.stdout)
	}
	mustRun(t, md, "rm", "life-rf2")
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--restart", "sometimes"}, "invalid restart policy: unknown policy 'sometimes'"},
		{[]string{"--restart", "always:3"}, "maximum retry count can only be used with 'on-failure'"},
		{[]string{"--restart", "on-failure:x"}, "maximum retry count must be an integer"},
		{[]string{"--restart", "on-failure:-1"}, "maximum retry count cannot be negative"},
		{[]string{"--restart", "always", "--rm"}, "conflicting options: cannot specify both --restart and --rm"},
	} {
		r := run(t, md, append(append([]string{"run", "--network", "none"}, c.flags...), "busybox", "true")...)
		if r.code != 125 {
			t.Errorf("run %v: want 125: %s", c.flags, r)
		}
		oneLine(t, r, c.want)
	}
}

// monitorGone waits until the container's monitor has exited: then
// nothing can restart it any more.
func monitorGone(t *testing.T, id string) {
	t.Helper()
	var rec struct{ State struct{ MonitorPid int } }
	readJSON(t, filepath.Join(mdRoot(), "containers", id, "config.v2.json"), &rec)
	poll(t, 10*time.Second, fmt.Sprintf("monitor %d to exit", rec.State.MonitorPid), func() bool {
		s := procState(rec.State.MonitorPid)
		return s == "" || s == "Z"
	})
}

// TestLifecycleRestartDaemon, through the docker CLI: an always container
// survives kill -9 of its process (its monitor starts it again, with
// RestartCount 1) and of the daemon (its monitor holds it); stop is
// final. After a crash of everything (the daemon and the monitors, as at
// a reboot) a new daemon brings back the always container, stopped or
// not, and the unless-stopped one that was not stopped, not the one that was.
func TestLifecycleRestartDaemon(t *testing.T) {
	d := startDaemon(t)
	sleeper := []string{"--network", "none", "busybox", "sh", "-c", "echo ready; exec sleep 1000"}
	id := strings.TrimSpace(d.mustDocker(append([]string{"run", "-d", "--name", "life-always", "--restart", "always"}, sleeper...)...).stdout)
	inspectF := func(name, format string) string {
		return strings.TrimSpace(d.mustDocker("inspect", "-f", format, name).stdout)
	}
	pid, _ := strconv.Atoi(inspectF("life-always", "{{.State.Pid}}"))
	syscall.Kill(pid, syscall.SIGKILL)
	var pid2 int
	poll(t, 10*time.Second, "life-always to be started again", func() bool {
		var status string
		var restarts int
		fmt.Sscan(inspectF("life-always", "{{.State.Status}} {{.RestartCount}} {{.State.Pid}}"), &status, &restarts, &pid2)
		return status == "running" && restarts == 1 && pid2 != pid && pid2 > 0
	})
	d.kill9()
	if procState(pid2) == "" {
		t.Fatalf("kill -9 of the daemon took the container (init %d) with it", pid2)
	}
	d.start()
	if got := inspectF("life-always", "{{.State.Running}} {{.State.Pid}}"); got != fmt.Sprintf("true %d", pid2) {
		t.Errorf("after the daemon's restart: want the same init %d running, got %q", pid2, got)
	}
	// stop is final: once it returns, the monitor is gone, and the
	// container stays exited.
	d.mustDocker("stop", "-t", "1", "life-always")
	monitorGone(t, id)
	if got := inspectF("life-always", "{{.State.Status}} {{.RestartCount}}"); got != "exited 1" {
		t.Errorf("after stop: %q, want exited 1", got)
	}
	uid := strings.TrimSpace(d.mustDocker(append([]string{"run", "-d", "--name", "life-unless", "--restart", "unless-stopped"}, sleeper...)...).stdout)
	d.mustDocker(append([]string{"run", "-d", "--name", "life-unless-stopped", "--restart", "unless-stopped"}, sleeper...)...)
	d.mustDocker("stop", "-t", "1", "life-unless-stopped")
	// The crash: the daemon, and life-unless's monitor (its container dies
	// with it: PR_SET_PDEATHSIG).
	var rec struct{ State struct{ MonitorPid, Pid int } }
	readJSON(t, filepath.Join(mdRoot(), "containers", uid, "config.v2.json"), &rec)
	d.kill9()
	syscall.Kill(rec.State.MonitorPid, syscall.SIGKILL)
	poll(t, 10*time.Second, "life-unless's init to die with its monitor", func() bool { s := procState(rec.State.Pid); return s == "" || s == "Z" })
	d.start()
	for name, want := range map[string]string{"life-always": "running 0", "life-unless": "running 0", "life-unless-stopped": "exited 0"} {
		if got := inspectF(name, "{{.State.Status}} {{.RestartCount}}"); got != want {
			t.Errorf("%s after the daemon started again: %q, want %q", name, got, want)
		}
	}
	d.mustDocker("rm", "-f", "life-always", "life-unless", "life-unless-stopped")
}

// TestLifecycleDocker: docker pause and unpause through the docker CLI
// (ps, exec refused in Docker's words, the events), docker run --restart
// in the foreground (its exit code, then the restarts, RestartCount),
// docker stats' BLOCK I/O.
func TestLifecycleDocker(t *testing.T) {
	d := startDaemon(t)
	d.mustDocker("run", "-d", "--name", "life-dp", "--network", "none", "busybox", "sleep", "1000")
	since := strconv.FormatInt(time.Now().Unix()-1, 10)
	d.mustDocker("pause", "life-dp")
	if r := d.mustDocker("ps", "--format", "{{.Names}} {{.State}} {{.Status}}", "--filter", "name=life-dp"); !regexp.MustCompile(`^life-dp paused Up .* \(Paused\)\n$`).MatchString(r.stdout) {
		t.Errorf("docker ps of a paused container: %q", r.stdout)
	}
	if r := d.docker("exec", "life-dp", "true"); r.code == 0 || !strings.Contains(r.stderr, "is paused, unpause the container before exec") {
		t.Errorf("docker exec into a paused container: %s", r)
	}
	if r := d.docker("pause", "life-dp"); r.code == 0 || !strings.Contains(r.stderr, "is already paused") {
		t.Errorf("docker pause twice: %s", r)
	}
	d.mustDocker("unpause", "life-dp")
	if got := d.mustDocker("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "life-dp").stdout; got != "running false\n" {
		t.Errorf("after unpause: %q", got)
	}
	evs := d.dockerCmd("events", "--since", since, "--until", strconv.FormatInt(time.Now().Unix()+1, 10), "--filter", "container=life-dp", "--format", "{{.Action}}")
	if r := runCmd(t, evs); !strings.Contains(r.stdout, "pause\nunpause\n") {
		t.Errorf("docker events: want pause then unpause: %s", r)
	}
	if r := d.mustDocker("stats", "--no-stream", "--format", "{{.BlockIO}}", "life-dp"); !regexp.MustCompile(`^[0-9.]+[kMG]?B / [0-9.]+[kMG]?B\n$`).MatchString(r.stdout) {
		t.Errorf("docker stats BLOCK I/O: %q", r.stdout)
	}
	d.mustDocker("rm", "-f", "life-dp")
	if r := d.docker("pause", "life-dp"); r.code == 0 || !strings.Contains(r.stderr, "No such container") {
		t.Errorf("docker pause of a removed container: %s", r)
	}
	// In the foreground: the first run's exit code; its monitor restarts it.
	r := d.docker("run", "--name", "life-drf", "--network", "none", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo try; exit 3")
	if r.code != 3 || r.stdout != "try\n" {
		t.Errorf("docker run --restart on-failure:2, attached: want the first run's output and exit 3: %s", r)
	}
	poll(t, 20*time.Second, "life-drf's last run", func() bool {
		return d.mustDocker("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "life-drf").stdout == "exited 2\n"
	})
	if r := d.mustDocker("logs", "life-drf"); r.stdout != "try\ntry\ntry\n" {
		t.Errorf("docker logs: want 3 runs: %q", r.stdout)
	}
	d.mustDocker("rm", "life-drf")
}
