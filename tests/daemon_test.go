//go:build linux

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDaemonDockerRun: the real docker CLI runs containers through
// `minidocker daemon`: output on the right streams, the container's exit
// status (and 127, 126, 137 as docker prints them), -d, ps, logs, exec's
// exit code, inspect's templates, stop, rm, create+start, attach, wait.
func TestDaemonDockerRun(t *testing.T) {
	d := startDaemon(t)
	if r := d.mustDocker("version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}"); r.stdout != "1.44 1.44\n" {
		t.Errorf("docker version: want API 1.44 on both sides, got %s", r)
	}
	if r := d.mustDocker("info", "--format", "{{.OSType}} {{.Driver}} {{.Swarm.LocalNodeState}}"); r.stdout != "linux overlay inactive\n" {
		t.Errorf("docker info: %s", r)
	}
	r := d.docker("run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo out; echo err >&2; exit 5")
	if r.code != 5 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("docker run: want out on stdout, err on stderr, exit 5: %s", r)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"no-such-command"}, 127, "executable file not found"},
		{[]string{"/etc/passwd"}, 126, "permission denied"},
		{[]string{"sh", "-c", "kill -9 $$"}, 137, ""},
	} {
		r := d.docker(append([]string{"run", "--rm", "--network", "none", "busybox"}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("docker run %v: want exit %d and %q, got %s", c.args, c.code, c.msg, r)
		}
	}
	id := strings.TrimSpace(d.mustDocker("run", "-d", "--name", "dd-web", "-e", "GREETING=hi", "-w", "/tmp", "--hostname", "web1",
		"busybox", "sh", "-c", "echo $GREETING from $(hostname) in $(pwd); exec sleep 1000").stdout)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("docker run -d: want the 64-hex id, got %q", id)
	}
	poll(t, 10e9, "dd-web's first line", func() bool { return strings.Contains(d.docker("logs", "dd-web").stdout, "hi from web1 in /tmp") })
	if r := d.mustDocker("ps", "--filter", "name=dd-web", "--format", "{{.Names}} {{.Status}} {{.Image}}"); !strings.HasPrefix(r.stdout, "dd-web Up ") {
		t.Errorf("docker ps: %s", r)
	}
	r = d.mustDocker("inspect", "--format", "{{.State.Pid}} {{.NetworkSettings.IPAddress}} {{.State.OOMKilled}} {{.Config.Hostname}}", "dd-web")
	var pid int
	var ip, oom, host string
	fmt.Sscan(r.stdout, &pid, &ip, &oom, &host)
	if pid <= 0 || comm(pid) != "minidocker-init" && comm(pid) != "minidocker" || !strings.HasPrefix(ip, "172.29.") || oom != "false" || host != "web1" {
		t.Errorf("docker inspect --format: want the host PID of init (%q), an address on minidocker0, false, web1: %s", comm(pid), r)
	}
	if r := d.docker("exec", "dd-web", "sh", "-c", "echo $GREETING; exit 3"); r.code != 3 || r.stdout != "hi\n" {
		t.Errorf("docker exec: want its output and exit 3: %s", r)
	}
	if r := d.mustDocker("top", "dd-web"); !strings.Contains(r.stdout, "sleep 1000") {
		t.Errorf("docker top: %s", r)
	}
	d.mustDocker("rename", "dd-web", "dd-web2")
	d.mustDocker("stop", "-t", "1", "dd-web2")
	if r := d.mustDocker("wait", "dd-web2"); r.stdout != "143\n" && r.stdout != "137\n" {
		t.Errorf("docker wait after stop: want 143 (SIGTERM) or 137, got %s", r)
	}
	d.mustDocker("rm", "dd-web2")
	// create, then start -a: the whole output, from the first byte.
	d.mustDocker("create", "--name", "dd-created", "--network", "none", "busybox", "sh", "-c", "echo first; exit 2")
	if r := d.mustDocker("ps", "-a", "--filter", "status=created", "--format", "{{.Names}}"); r.stdout != "dd-created\n" {
		t.Errorf("docker ps --filter status=created: %s", r)
	}
	if r := d.docker("start", "-a", "dd-created"); r.code != 2 || r.stdout != "first\n" {
		t.Errorf("docker start -a: want first and exit 2: %s", r)
	}
	d.mustDocker("start", "dd-created")
	if r := d.mustDocker("logs", "-f", "dd-created"); r.stdout != "first\nfirst\n" {
		t.Errorf("docker logs -f: want both runs' lines, and to return when it exits: %s", r)
	}
	if r := d.mustDocker("logs", "--tail", "1", "-t", "dd-created"); !regexp.MustCompile(`^20\d\d-\d\d-\d\dT[0-9:.]+Z first\n$`).MatchString(r.stdout) {
		t.Errorf("docker logs --tail 1 -t: %s", r)
	}
	d.mustDocker("rm", "dd-created")
	// stdin, and a terminal (script(1) gives the CLI one).
	if r := runCmd(t, withStdin(d.dockerCmd("run", "-i", "--rm", "--network", "none", "busybox", "sh", "-c", "read l; echo got $l; exit 4"), "line\n")); r.code != 4 || r.stdout != "got line\n" {
		t.Errorf("docker run -i: %s", r)
	}
	script := fmt.Sprintf("stty cols 91 rows 33; %s run -it --rm --network none busybox sh -c 'tty; stty size; exit 7'", tool(t, "docker"))
	sc := d.dockerCmd()
	sc.Path, sc.Args = tool(t, "script"), []string{"script", "-qec", script, "/dev/null"}
	if r := runCmd(t, sc); r.code != 7 || !strings.Contains(r.stdout, "/dev/pts/0") || !strings.Contains(r.stdout, "33 91") {
		t.Errorf("docker run -it: want a terminal of the container's own devpts, sized 33x91, exit 7: %s", r)
	}
	d.mustDocker("run", "-d", "-it", "--name", "dd-tty", "--network", "none", "busybox", "sh")
	script = fmt.Sprintf("stty cols 77 rows 22; %s exec -it dd-tty sh -c 'tty; stty size; exit 6'", tool(t, "docker"))
	sc = d.dockerCmd()
	sc.Path, sc.Args = tool(t, "script"), []string{"script", "-qec", script, "/dev/null"}
	if r := runCmd(t, sc); r.code != 6 || !strings.Contains(r.stdout, "/dev/pts/1") || !strings.Contains(r.stdout, "22 77") {
		t.Errorf("docker exec -it: want a second terminal of the container's devpts, sized 22x77, exit 6: %s", r)
	}
	d.mustDocker("rm", "-f", "dd-tty")
	// Errors: one line, Docker's status codes.
	if r := d.docker("inspect", "dd-nobody"); r.code != 1 || !strings.Contains(r.stderr, "No such object: dd-nobody") {
		t.Errorf("docker inspect of an unknown container: %s", r)
	}
	if r := d.docker("run", "--rm", "-m", "64m", "--memory-swap", "32m", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "swap") {
		t.Errorf("docker run with a bad limit: want 125 and a word on swap: %s", r)
	}
}

func withStdin(cmd *exec.Cmd, s string) *exec.Cmd {
	cmd.Stdin = strings.NewReader(s)
	return cmd
}

// TestDaemonLimitsAndFiles: the docker CLI's -m, --memory-swap, --cpus,
// --pids-limit and --cpuset-cpus reach the container's cgroup files; -v
// binds, named volumes (seeded from the image, kept after rm unless -v),
// -p publishes; export, import, commit, tag and rmi work on images.
func TestDaemonLimitsAndFiles(t *testing.T) {
	d := startDaemon(t)
	id := strings.TrimSpace(d.mustDocker("run", "-d", "--name", "dd-lim", "--network", "none", "-m", "64m", "--memory-swap", "96m",
		"--cpus", "0.5", "--pids-limit", "40", "--cpuset-cpus", "0", "busybox", "sleep", "1000").stdout)
	for _, c := range []struct{ controller, v1, v2, want string }{
		{"memory", "memory.limit_in_bytes", "memory.max", "67108864"},
		{"pids", "pids.max", "pids.max", "40"},
		{"cpuset", "cpuset.cpus", "cpuset.cpus", "0"},
	} {
		if got := readTrim(t, cgroupFile(id, c.controller, c.v1, c.v2)); got != c.want {
			t.Errorf("%s: want %s, got %s", c.v2, c.want, got)
		}
	}
	if q := readTrim(t, cgroupFile(id, "cpu,cpuacct", "cpu.cfs_quota_us", "cpu.max")); q != "50000" && q != "50000 100000" {
		t.Errorf("--cpus 0.5: want a quota of 50 ms per 100 ms, got %s", q)
	}
	d.mustDocker("rm", "-f", "dd-lim")
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "f"), []byte("from the host\n"), 0644)
	if r := d.mustDocker("run", "--rm", "--network", "none", "-v", host+":/h:ro", "busybox", "sh", "-c", "cat /h/f; touch /h/x 2>&1 | grep -c Read-only"); r.stdout != "from the host\n1\n" {
		t.Errorf("-v HOST:/h:ro: %s", r)
	}
	// A named volume: seeded with the image's /etc on first use, kept after rm.
	d.mustDocker("run", "--name", "dd-vol", "--network", "none", "-v", "dd-data:/etc", "busybox", "sh", "-c", "echo kept > /etc/mine")
	d.mustDocker("rm", "dd-vol")
	if r := d.mustDocker("run", "--rm", "--network", "none", "-v", "dd-data:/data", "busybox", "sh", "-c", "cat /data/mine; test -f /data/passwd && echo seeded"); r.stdout != "kept\nseeded\n" {
		t.Errorf("named volume: want the file kept and the image's /etc copied in: %s", r)
	}
	if r := d.mustDocker("volume", "inspect", "--format", "{{.Driver}} {{.Mountpoint}}", "dd-data"); !strings.HasPrefix(r.stdout, "local "+mdRoot()+"/volumes/dd-data/_data") {
		t.Errorf("docker volume inspect: %s", r)
	}
	d.mustDocker("volume", "rm", "dd-data")
	// an anonymous volume (-v /path) goes with rm -v, a named one stays
	d.mustDocker("create", "--name", "dd-anon", "--network", "none", "-v", "/scratch", "-v", "dd-named:/named", "busybox", "true")
	vols := d.mustDocker("volume", "ls", "-q").stdout
	d.mustDocker("rm", "-v", "dd-anon")
	if after := d.mustDocker("volume", "ls", "-q").stdout; strings.Count(vols, "\n") != strings.Count(after, "\n")+1 || !strings.Contains(after, "dd-named") {
		t.Errorf("rm -v: want the anonymous volume gone and dd-named kept: before %q, after %q", vols, after)
	}
	d.mustDocker("volume", "rm", "dd-named")
	// Images: export a container, import it, commit one, tag, rmi.
	d.mustDocker("run", "--name", "dd-exp", "--network", "none", "busybox", "sh", "-c", "echo exported > /marker")
	tarball := filepath.Join(t.TempDir(), "exp.tar")
	d.mustDocker("export", "-o", tarball, "dd-exp")
	d.mustDocker("import", tarball, "dd-imported")
	if r := d.mustDocker("run", "--rm", "--network", "none", "dd-imported", "cat", "/marker"); r.stdout != "exported\n" {
		t.Errorf("export then import: %s", r)
	}
	d.mustDocker("commit", "dd-exp", "dd-committed")
	d.mustDocker("tag", "dd-committed", "dd-tagged:v1")
	if r := d.mustDocker("images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(r.stdout, "dd-committed:latest") || !strings.Contains(r.stdout, "dd-tagged:v1") {
		t.Errorf("docker images after commit and tag: %s", r)
	}
	if r := d.mustDocker("run", "--rm", "--network", "none", "dd-tagged:v1", "cat", "/marker"); r.stdout != "exported\n" {
		t.Errorf("run of a tagged image: %s", r)
	}
	d.mustDocker("rm", "dd-exp")
	d.mustDocker("rmi", "dd-imported", "dd-tagged:v1", "dd-committed")
	if r := d.docker("image", "inspect", "dd-committed"); r.code == 0 {
		t.Errorf("rmi left the image: %s", r)
	}
}

// TestDaemonSharedState: the daemonless CLI and the daemon share one state
// directory: `docker ps` lists what `minidocker run -d` started, and
// `minidocker ps` lists what `docker run -d` started; either can stop it.
func TestDaemonSharedState(t *testing.T) {
	d := startDaemon(t)
	mustRun(t, d.bin, "run", "-d", "--name", "dd-cli", "--network", "none", "busybox", "sleep", "1000")
	d.mustDocker("run", "-d", "--name", "dd-api", "--network", "none", "busybox", "sleep", "1000")
	if r := d.mustDocker("ps", "--format", "{{.Names}}"); !strings.Contains(r.stdout, "dd-cli") || !strings.Contains(r.stdout, "dd-api") {
		t.Errorf("docker ps should list both: %s", r)
	}
	if r := mustRun(t, d.bin, "ps"); !strings.Contains(r.stdout, "dd-cli") || !strings.Contains(r.stdout, "dd-api") {
		t.Errorf("minidocker ps should list both: %s", r)
	}
	// the minidocker CLI as a client of the daemon, too
	if r := mustRun(t, d.bin, "-H", d.host, "ps", "--filter", "name=dd-cli"); !strings.Contains(r.stdout, "dd-cli") {
		t.Errorf("minidocker -H ps: %s", r)
	}
	d.mustDocker("rm", "-f", "dd-cli")
	mustRun(t, d.bin, "rm", "-f", "dd-api")
}

// TestDaemonObjects: networks, volumes, labels, filters and events through
// the docker CLI, and a JSON 404 for what the daemon does not serve.
func TestDaemonObjects(t *testing.T) {
	d := startDaemon(t)
	d.mustDocker("network", "create", "--label", "team=a", "dd-net")
	if r := d.mustDocker("network", "ls", "--filter", "label=team=a", "--format", "{{.Name}} {{.Driver}}"); r.stdout != "dd-net bridge\n" {
		t.Errorf("docker network ls --filter label: %s", r)
	}
	d.mustDocker("create", "--name", "dd-c1", "--network", "none", "-l", "app=x", "busybox", "sh", "-c", "cat /etc/hosts")
	d.mustDocker("network", "disconnect", "none", "dd-c1")
	d.mustDocker("network", "connect", "--alias", "svc", "dd-net", "dd-c1")
	if r := d.mustDocker("ps", "-a", "--filter", "label=app=x", "--format", "{{.Names}} {{.Labels}}"); r.stdout != "dd-c1 app=x\n" {
		t.Errorf("docker ps --filter label: %s", r)
	}
	if r := d.mustDocker("start", "-a", "dd-c1"); !strings.Contains(r.stdout, "svc") {
		t.Errorf("a container connected with --alias svc: /etc/hosts should name svc: %s", r)
	}
	if r := d.mustDocker("network", "inspect", "--format", "{{.Name}} {{(index .IPAM.Config 0).Subnet}}", "dd-net"); !strings.HasPrefix(r.stdout, "dd-net ") {
		t.Errorf("docker network inspect: %s", r)
	}
	d.mustDocker("rm", "dd-c1")
	d.mustDocker("network", "rm", "dd-net")
	d.mustDocker("volume", "create", "--label", "k=v", "dd-v")
	if r := d.mustDocker("volume", "ls", "--filter", "label=k=v", "-q"); r.stdout != "dd-v\n" {
		t.Errorf("docker volume ls --filter: %s", r)
	}
	d.mustDocker("volume", "rm", "dd-v")
	// events: a run makes create, start, die, destroy.
	since := fmt.Sprint(time.Now().Unix()) // replayed from the log: no race with the subscription
	evs := d.dockerCmd("events", "--since", since, "--format", "{{.Action}} {{.Actor.Attributes.name}}", "--filter", "container=dd-ev")
	var out strings.Builder
	evs.Stdout = &out
	if err := evs.Start(); err != nil {
		t.Fatal(err)
	}
	d.mustDocker("run", "--rm", "--name", "dd-ev", "--network", "none", "busybox", "true")
	poll(t, 10e9, "the events of dd-ev", func() bool { return strings.Contains(out.String(), "destroy dd-ev") })
	evs.Process.Kill()
	evs.Wait()
	if got := strings.Fields(strings.ReplaceAll(out.String(), " dd-ev", "")); strings.Join(got, " ") != "create start die destroy" {
		t.Errorf("docker events: want create start die destroy, got %q", out.String())
	}
	// a container that does not exist, and what minidocker does not
	// serve: one line, not a panic or an HTML page
	if r := d.docker("pause", "dd-none"); r.code == 0 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "No such container: dd-none") {
		t.Errorf("docker pause of no container: want Docker's one error line: %s", r)
	}
	if r := d.docker("plugin", "ls"); r.code == 0 || !strings.Contains(r.stderr, "not part of minidocker's API") {
		t.Errorf("docker plugin ls: want a JSON 404 the CLI prints: %s", r)
	}
}

// TestDaemonStats: docker stats --no-stream shows a busy container's CPU
// near 100% and its memory under the limit, computed by the CLI from the
// API's samples (cgroup v1 and v2 alike).
func TestDaemonStats(t *testing.T) {
	d := startDaemon(t)
	d.mustDocker("run", "-d", "--name", "dd-busy", "--network", "none", "-m", "64m", "busybox", "sh", "-c", "while :; do :; done")
	r := d.mustDocker("stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}}", "dd-busy")
	var name, cpu, used, slash, limit string
	fmt.Sscan(r.stdout, &name, &cpu, &used, &slash, &limit)
	var pct float64
	fmt.Sscanf(cpu, "%f%%", &pct)
	// One busy thread is 100%; an emulated guest's uneven clocks have shown
	// 114%. Above 150 the formula is wrong (e.g. times the 2 CPUs).
	if name != "dd-busy" || pct < 50 || pct > 150 || limit != "64MiB" {
		t.Errorf("docker stats: want dd-busy at ~100%% of a CPU, under a 64MiB limit: %s", r)
	}
	d.mustDocker("rm", "-f", "dd-busy")
}

// jsonLines decodes a JSON array printed by a command.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return out
}
