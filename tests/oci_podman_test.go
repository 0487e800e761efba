//go:build linux

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/build-your-own-docker/final/oci"
	"golang.org/x/sys/unix"
)

// podmanParent is the cgroup parent of the test's containers (podman's
// --cgroup-parent; its default is /libpod_parent): conmon goes into
// podmanParent/conmon, each container into podmanParent/libpod-ID, all
// named for the project, so the leak check sees any that is left.
const podmanParent = "minidocker-podman"

// podman is Debian's podman 4.3 with everything of its own in one
// temporary directory: storage (--root, --runroot), its temp dir (locks,
// exit files, events, the conmon sockets), a containers.conf,
// storage.conf and registries.conf of its own. Nothing in
// /var/lib/containers, /run/containers, /run/libpod, ~/.config or /etc
// (the cgroup v2 guest's / is read-only).
type podman struct {
	t     *testing.T
	dir   string
	rt    string   // minidocker-runc
	env   []string // podman's environment
	flags []string // its global flags
}

// podmanConf is the containers.conf. The k8s-file log (podman logs
// without journald), no network namespace setup (and no CNI plugins
// needed: Debian's podman only recommends them), file locks in tmp_dir
// (podman's default, shm, is one /dev/shm/libpod_lock for every podman on
// the machine), the image copy's big files in tmp. runtime_supports_json
// names minidocker-runc as it names runc and crun: conmon then passes
// --log-format=json --log FILE, and podman reports the runtime's error
// from that file. default_ulimits: podman as root asks for RLIMIT_NOFILE
// and RLIMIT_NPROC of 1048576, which raises the hard limits above the
// caller's, and that needs CAP_SYS_RESOURCE, which not every root has (a
// sandbox's may lack it: then runc fails the same way, setrlimit EPERM):
// limits no higher than the test's own.
const podmanConf = `[containers]
log_driver = "k8s-file"
netns = "none"
default_ulimits = ["nofile=1024:2048", "nproc=%[2]d:%[3]d"]

[network]
network_backend = "cni"
network_config_dir = "%[1]s/net"
cni_plugin_dirs = ["%[1]s/net"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
lock_type = "file"
tmp_dir = "%[1]s/tmp"
image_copy_tmp_dir = "%[1]s/tmp"
runtime_supports_json = ["minidocker-runc"]
`

// The storage driver is overlay: the image's layer and each container's
// upper dir in root/overlay, the container's root an overlay mount there
// (in the host's mount table while it runs).
const podmanStorageConf = `[storage]
driver = "overlay"
graphroot = "%[1]s/root"
runroot = "%[1]s/runroot"
`

func startPodman(t *testing.T, rt string) *podman {
	t.Helper()
	tool(t, "podman")
	tool(t, "conmon")
	tool(t, "unshare")
	dir, err := os.MkdirTemp("", "md-podman-")
	if err != nil {
		t.Fatal(err)
	}
	p := &podman{t: t, dir: dir, rt: rt}
	for _, d := range []string{"root", "runroot", "tmp", "net", "home"} {
		os.MkdirAll(filepath.Join(dir, d), 0700)
	}
	var nproc unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NPROC, &nproc)
	hard := nproc.Max
	if hard > 4096 {
		hard = 4096
	}
	files := map[string]string{
		"containers.conf": fmt.Sprintf(podmanConf, dir, hard/2, hard),
		"storage.conf":    fmt.Sprintf(podmanStorageConf, dir),
		"registries.conf": "unqualified-search-registries = []\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0600); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "XDG_") && !strings.HasPrefix(kv, "CONTAINERS_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "TMPDIR=") {
			p.env = append(p.env, kv)
		}
	}
	// TMPDIR: c/image's temporary files go there (conmon's console
	// sockets, conmon-term.XXXXXX, stay in /tmp: podman gives conmon an
	// environment of its own, and conmon removes them); HOME: nothing of
	// ours in root's.
	p.env = append(p.env, "CONTAINERS_CONF="+filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF="+filepath.Join(dir, "storage.conf"),
		"CONTAINERS_REGISTRIES_CONF="+filepath.Join(dir, "registries.conf"),
		"TMPDIR="+filepath.Join(dir, "tmp"), "HOME="+filepath.Join(dir, "home"))
	p.flags = []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "runroot"),
		"--tmpdir", filepath.Join(dir, "tmp"), "--cgroup-manager", "cgroupfs", "--events-backend", "file",
		"--storage-driver", "overlay", "--runtime", rt}
	before := snapshot(t)
	runtimeState := listDir(oci.DefaultRoot)
	t.Cleanup(func() {
		p.cleanup(runtimeState)
		os.RemoveAll(dir)
		checkNoLeaks(t, before)
	})
	return p
}

func (p *podman) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command("podman", append(append([]string{}, p.flags...), args...)...)
	cmd.Env = p.env
	return cmd
}

// podman runs `podman FLAGS ARGS...`.
func (p *podman) podman(args ...string) result {
	p.t.Helper()
	return runCmd(p.t, p.cmd(args...))
}

func (p *podman) must(args ...string) result {
	p.t.Helper()
	r := p.podman(args...)
	if r.code != 0 {
		p.t.Fatalf("podman %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// run is `podman run` with the test's network and cgroup parent.
func (p *podman) run(args ...string) []string {
	return append([]string{"run", "--network", "none", "--cgroup-parent", "/" + podmanParent}, args...)
}

// load is `podman load -i TARBALL` in a mount namespace of its own where
// /var/lib/containers (or, where it does not exist, /var/lib) and
// /var/tmp are empty tmpfs: c/image keeps root's blob info cache in
// /var/lib/containers/cache, and untars the archive (podman load tries
// it as an oci-archive first) in /var/tmp, paths that neither TMPDIR
// nor any podman 4.3 flag or setting moves. Only the copy uses them; the
// layers go to --root as always.
func (p *podman) load(tarball string) result {
	p.t.Helper()
	const hide = `for d in /var/lib/containers /var/lib; do
  if [ -d "$d" ]; then mount -t tmpfs -o mode=0700,size=64m md-podman-cache "$d" || exit 125; break; fi
done
mount -t tmpfs -o mode=1777,size=256m md-podman-tmp /var/tmp || exit 125
exec "$@"`
	args := append(append([]string{"--mount", "--propagation", "private", "sh", "-c", hide, "sh", "podman"}, p.flags...), "load", "-i", tarball)
	cmd := exec.Command("unshare", args...)
	cmd.Env = p.env
	return runCmd(p.t, cmd)
}

// inspect is one field of `podman inspect` (a Go template).
func (p *podman) inspect(name, field string) string {
	p.t.Helper()
	return strings.TrimSpace(p.must("inspect", "-f", "{{"+field+"}}", name).stdout)
}

// cleanup removes what a failed test left: containers (podman rm -af,
// then minidocker-runc's own record of each), conmon and container
// processes, mounts under the test's directory, the cgroups podman made
// (podmanParent and its conmon group) and its images; then the leak
// check runs on the host.
func (p *podman) cleanup(runtimeState []string) {
	t := p.t
	if r := p.podman("rm", "-af", "-t", "0"); r.code != 0 {
		t.Errorf("podman rm -af: %s", r)
	}
	// conmon outlives podman by design (it is the container's monitor),
	// and when a container ends it runs its exit command, `podman
	// container cleanup`, which may still be at work (and holding its
	// storage's mounts) when the podman that stopped it has returned:
	// wait for both, bounded; none may be left.
	var left []int
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if left = p.procs(); len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, pid := range left {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		t.Errorf("process %d outlived podman rm -af: %q", pid, b)
		unix.Kill(pid, unix.SIGKILL)
	}
	// The image last: with no layer in use, podman's storage then
	// unmounts its driver's home (root/overlay, a private bind mount).
	p.podman("rmi", "-af")
	for _, id := range added(runtimeState, listDir(oci.DefaultRoot)) {
		b, _ := os.ReadFile(filepath.Join(oci.DefaultRoot, id, "state.json"))
		if strings.Contains(string(b), p.dir+"/") {
			t.Errorf("container %s left in minidocker-runc's state", id)
			exec.Command(p.rt, "delete", "--force", id).Run()
		}
	}
	// Container processes: whatever is still in podmanParent's groups.
	for _, h := range []string{"", "pids"} {
		filepath.Walk(filepath.Join("/sys/fs/cgroup", h, podmanParent), func(path string, fi os.FileInfo, err error) error {
			if err == nil && fi.Name() == "cgroup.procs" {
				for _, s := range readLines(path) {
					pid, _ := strconv.Atoi(s)
					t.Errorf("process %d left in %s", pid, filepath.Dir(path))
					unix.Kill(pid, unix.SIGKILL)
				}
			}
			return nil
		})
	}
	// The container's root (overlay), its /dev/shm (tmpfs): podman's
	// mounts under root/ and runroot/, gone with rm unless it failed.
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		lines := strings.Split(string(b), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if f := strings.Fields(lines[i]); len(f) > 4 && strings.HasPrefix(f[4], p.dir+"/") {
				t.Errorf("mount %s left", f[4])
				unix.Unmount(f[4], unix.MNT_DETACH)
			}
		}
	}
	// podmanParent and podmanParent/conmon, in every hierarchy: podman
	// makes them and, as with libpod_parent, never removes them. Empty
	// by now; the containers' own groups went with minidocker-runc's
	// delete (the leak check holds it to that).
	for _, h := range []string{"", "pids", "memory", "cpu", "cpuacct", "blkio", "freezer", "devices", "cpuset", "systemd", "unified", "net_cls", "perf_event", "hugetlb", "misc", "rdma"} {
		base := filepath.Join("/sys/fs/cgroup", h, podmanParent)
		os.Remove(filepath.Join(base, "conmon"))
		os.Remove(base)
	}
}

// procs are the conmon and podman processes of this podman: their
// command lines name its directory (conmon's bundle and exit dir, the
// exit command's --root).
func (p *podman) procs() []int {
	return processesWhere(func(cmdline string, args []string) bool {
		name := filepath.Base(args[0])
		return (name == "conmon" || name == "podman") && strings.Contains(cmdline, p.dir+"/")
	})
}

// TestOCIPodman: podman 4.3 runs containers with minidocker-runc. Its
// conmon calls it as it calls runc (create --bundle --pid-file
// [--console-socket], exec --pid-file --process --detach [--tty
// --console-socket], with --log-format=json --log), podman itself start,
// kill [--all] with a number, pause, resume, delete --force, and state
// with no flags at all (so minidocker-runc's default --root is shared).
// podman run in the foreground (output, exit status), a missing program
// (127 and the error from minidocker-runc's log), another user (the
// bounding set alone), run -d, exec (attached, detached, with a tty), ps,
// top, pause, stop, kill, rm, run -it. From outside: the container's
// namespaces, its cgroup while it runs and after, minidocker-runc's state.
func TestOCIPodman(t *testing.T) {
	requireRoot(t)
	rt := program(t, "minidocker-runc")
	program(t, "minidocker-nsenter") // exec's way in, beside it
	// The busybox image as `docker save` writes it, made by minidocker in
	// a store of the test's own; podman load takes that tarball.
	s := &store{t: t, md: program(t, "minidocker"), root: t.TempDir()}
	tarball := filepath.Join(t.TempDir(), "busybox.tar")
	s.must("save", "-o", tarball, "busybox")
	p := startPodman(t, rt)
	const image = "docker.io/library/busybox:latest"
	if r := p.load(tarball); r.code != 0 || !strings.Contains(r.stdout, "Loaded image: "+image) {
		t.Fatalf("podman load: %s", r)
	}

	// In the foreground: the output, the exit status, the rlimits of
	// containers.conf (process.rlimits, set by the container's init).
	r := p.podman(p.run("--rm", "--hostname", "pm1", image, "sh", "-c", "echo hi from $(hostname); cat /proc/1/cmdline; echo; ulimit -n; ulimit -Hn; exit 3")...)
	if r.code != 3 || r.stdout != "hi from pm1\nsh\x00-c\x00echo hi from $(hostname); cat /proc/1/cmdline; echo; ulimit -n; ulimit -Hn; exit 3\x00\n1024\n2048\n" {
		t.Errorf("podman run --rm: want exit 3, the output and RLIMIT_NOFILE 1024/2048: %s", r)
	}
	// A missing program: create fails; conmon passes on the error that
	// minidocker-runc wrote to its --log (log.json), podman exits 127.
	r = p.podman(p.run("--rm", image, "/no/such/program")...)
	if r.code != 127 || !strings.Contains(r.stderr, ": /no/such/program: no such file or directory") {
		t.Errorf("podman run of a missing program: want exit 127 and the error: %s", r)
	}
	// Another user: podman gives it the bounding set alone (effective
	// and permitted empty).
	r = p.podman(p.run("--rm", "--user", "1000:1000", image, "sh", "-c", "id -u; grep -E '^Cap(Eff|Bnd)' /proc/self/status")...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "1000\nCapEff:\t0000000000000000\nCapBnd:\t") || strings.Contains(r.stdout, "CapBnd:\t0000000000000000") {
		t.Errorf("podman run --user 1000:1000: want uid 1000, no effective capabilities, a bounding set: %s", r)
	}

	// Detached: the container seen from outside.
	r = p.must(p.run("-d", "--name", "d1", "--annotation", "minidocker.test=podman", image,
		"sh", "-c", "trap 'exit 7' TERM; sleep 1000 & wait")...)
	id := strings.TrimSpace(r.stdout)
	pid, _ := strconv.Atoi(p.inspect("d1", ".State.Pid"))
	if pid == 0 || p.inspect("d1", ".State.Status") != "running" {
		t.Fatalf("podman inspect d1: pid %d, status %q", pid, p.inspect("d1", ".State.Status"))
	}
	spid := strconv.Itoa(pid)
	cg := ociCgroupDir(podmanParent + "/libpod-" + id) // podman's cgroupsPath for cgroupfs
	// start returns once the init has been let go: it execs sh, which
	// forks sleep, a moment later. Wait for both.
	poll(t, 20*time.Second, "sh and its sleep", func() bool {
		b, _ := os.ReadFile("/proc/" + spid + "/cmdline")
		return strings.HasPrefix(string(b), "sh\x00-c\x00trap") && len(readLines(filepath.Join(cg, "cgroup.procs"))) == 2
	})
	for _, ns := range []string{"pid", "mnt", "uts", "ipc", "net"} {
		if nsInode(t, spid, ns) == nsInode(t, "self", ns) {
			t.Errorf("the container shares the host's %s namespace", ns)
		}
	}
	if procs := readLines(filepath.Join(cg, "cgroup.procs")); procs[0] != spid && procs[1] != spid {
		t.Errorf("%s/cgroup.procs = %v, want sh (%d) and its sleep", cg, procs, pid)
	}
	// minidocker-runc's state as podman asks for it: no flags at all.
	var st oci.State
	r = mustRun(t, rt, "state", id)
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Status != "running" || st.Pid != pid ||
		st.Annotations["minidocker.test"] != "podman" || st.Annotations["io.container.manager"] != "libpod" {
		t.Errorf("minidocker-runc state %s: %v %s", id, err, r.stdout)
	}
	if r := p.must("ps", "--format", "{{.Names}} {{.Status}}"); !strings.HasPrefix(r.stdout, "d1 Up") {
		t.Errorf("podman ps: %s", r)
	}

	// exec: the container's world, the exit status (conmon runs exec
	// --detach and reports the command's status from its exit file).
	r = p.podman("exec", "d1", "sh", "-c", "cat /proc/1/cmdline; echo; exit 4")
	if r.code != 4 || !strings.HasPrefix(r.stdout, "sh\x00-c\x00trap") {
		t.Errorf("podman exec: want exit 4 and PID 1 sh: %s", r)
	}
	p.must("exec", "-d", "d1", "sleep", "999")
	// The relay forks the command once it is in the cgroup, and the
	// command execs sleep after that: wait for its command line.
	poll(t, 20*time.Second, "the exec's sleep 999", func() bool {
		for _, pid := range readLines(filepath.Join(cg, "cgroup.procs")) {
			if b, _ := os.ReadFile("/proc/" + pid + "/cmdline"); string(b) == "sleep\x00999\x00" {
				return true
			}
		}
		return false
	})
	if r := p.must("top", "d1", "args"); !strings.Contains(r.stdout, "sleep 999") {
		t.Errorf("podman top: want the exec's sleep 999: %s", r)
	}
	// exec -it: conmon's console socket, the pty made in the container's
	// devpts and handed over by minidocker-runc's relay.
	code, screen := ptyRun(t, p.cmd("exec", "-it", "d1", "sh", "-c", "tty; test -t 0 && echo stdin-is-a-tty; exit 5"))
	if code != 5 || !strings.Contains(screen, "/dev/pts/") || !strings.Contains(screen, "stdin-is-a-tty") {
		t.Errorf("podman exec -it: want exit 5, a /dev/pts/N and stdin-is-a-tty: %d %q", code, screen)
	}

	// pause and unpause: the freezer.
	p.must("pause", "d1")
	if s := p.inspect("d1", ".State.Status"); s != "paused" {
		t.Errorf("after podman pause: %q", s)
	}
	if err := json.Unmarshal([]byte(mustRun(t, rt, "state", id).stdout), &st); err != nil || st.Status != "paused" {
		t.Errorf("minidocker-runc state of a paused container: %v %+v", err, st)
	}
	p.must("unpause", "d1")

	// stop: kill ID 15 (the shell's trap exits 7), then delete --force.
	p.must("stop", "-t", "60", "d1")
	if s, c := p.inspect("d1", ".State.Status"), p.inspect("d1", ".State.ExitCode"); s != "exited" || c != "7" {
		t.Errorf("after podman stop: status %q, exit code %s; want exited, 7", s, c)
	}
	if _, err := os.Stat(cg); !os.IsNotExist(err) {
		t.Errorf("cgroup %s left after stop: %v", cg, err)
	}
	if _, err := os.Stat("/proc/" + spid); !os.IsNotExist(err) {
		t.Errorf("process %d still there after stop: %v", pid, err)
	}
	if r := run(t, rt, "state", id); r.code == 0 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("minidocker-runc state after stop: want \"does not exist\" (podman's word for gone): %s", r)
	}
	// start again (create and start anew), then kill: SIGKILL, 137.
	p.must("start", "d1")
	pid, _ = strconv.Atoi(p.inspect("d1", ".State.Pid"))
	p.must("kill", "d1")
	p.must("wait", "d1")
	if c := p.inspect("d1", ".State.ExitCode"); c != "137" {
		t.Errorf("after podman kill: exit code %s, want 137", c)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); !os.IsNotExist(err) {
		t.Errorf("process %d still there after kill: %v", pid, err)
	}
	p.must("rm", "d1")

	// The host's PID namespace: podman stops it with kill --all.
	p.must(p.run("-d", "--name", "h1", "--pid", "host", image, "sleep", "1000")...)
	pid, _ = strconv.Atoi(p.inspect("h1", ".State.Pid"))
	if nsInode(t, strconv.Itoa(pid), "pid") != nsInode(t, "self", "pid") {
		t.Errorf("--pid host: the container has a PID namespace of its own")
	}
	p.must("rm", "-f", "-t", "0", "h1")
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); !os.IsNotExist(err) {
		t.Errorf("process %d still there after rm -f: %v", pid, err)
	}

	// run -it: create with --console-socket; the container's pty master
	// goes to conmon.
	code, screen = ptyRun(t, p.cmd(p.run("--rm", "-it", image, "sh", "-c", "tty; test -t 0 && echo stdin-is-a-tty; exit 6")...))
	if code != 6 || !strings.Contains(screen, "/dev/pts/0") || !strings.Contains(screen, "stdin-is-a-tty") {
		t.Errorf("podman run -it: want exit 6, /dev/pts/0 and stdin-is-a-tty: %d %q", code, screen)
	}

	if r := p.must("ps", "-aq"); r.stdout != "" {
		t.Errorf("containers left: %q", r.stdout)
	}
	if ents, _ := filepath.Glob(filepath.Join(ociCgroupDir(podmanParent), "libpod-*")); len(ents) > 0 {
		t.Errorf("containers' cgroups left: %v", ents)
	}
}
