//go:build linux

package tests

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/minidocker/build-your-own-docker/final/cgroups"
)

// Tests of the fences (docs/10-security.md): hostile workloads inside a
// default container, each of which must be refused, and must get through
// with --privileged (so the test shows the fence, not an environment where
// the thing cannot work anyway).

// fenceAttempts are the attempts of tools/fence-probe, each with the
// flags its container needs beside the defaults.
var fenceAttempts = []struct {
	name, why string
	flags     []string
}{
	{"sysrq", "open /proc/sysrq-trigger for writing (read-only path)", nil},
	{"kcore", "read /proc/kcore, the kernel's memory (masked)", nil},
	{"timer_list", "read /proc/timer_list, every timer of the host (masked)", nil},
	{"mount", "mount -t tmpfs (CAP_SYS_ADMIN, seccomp)", nil},
	{"init_module", "init_module (CAP_SYS_MODULE, seccomp)", nil},
	{"mknod_block", "mknod a block device and open it (device fence)", nil},
	{"mknod_char", "mknod /dev/kmsg's numbers and open it (device fence)", nil},
	{"reboot", "reboot(2) (CAP_SYS_BOOT, seccomp)", nil},
	{"settimeofday", "settimeofday (CAP_SYS_TIME, seccomp)", nil},
	{"unshare_user", "unshare -U, then mount (seccomp: clone's namespace flags)", nil},
	{"keyctl", "keyctl: the kernel's keyrings are not namespaced (seccomp)", nil},
	{"ptrace_init", "ptrace minidocker's init (not dumpable, CAP_SYS_PTRACE)", nil},
	{"proc_exe", "open /proc/1/exe, the host's binary (CVE-2019-5736)", nil},
	{"open_by_handle", "open_by_handle_at on a host bind mount (shocker; CAP_DAC_READ_SEARCH)", nil},
	{"sys_kernel", "open a file of /sys/kernel for writing (read-only /sys)", nil},
	{"proc_sys", "open a sysctl for writing (read-only /proc/sys)", nil},
	{"swapoff", "swapoff (CAP_SYS_ADMIN, seccomp): EPERM, not ENOENT", nil},
	{"cgroup_mount", "mount a v1 cgroup hierarchy, release_agent's (CVE-2022-0492)", nil},
	{"personality", "personality(ADDR_NO_RANDOMIZE) (seccomp's argument filter)", nil},
	{"bpf", "bpf(BPF_MAP_CREATE) (seccomp)", nil},
	{"sethostname", "sethostname (CAP_SYS_ADMIN)", nil},
	{"net_admin", "change lo's MTU (CAP_NET_ADMIN)", nil},
	{"bind_low_port", "listen on a host port below 1024 without CAP_NET_BIND_SERVICE", []string{"--network", "host", "--cap-drop", "NET_BIND_SERVICE"}},
	{"setuid", "a setuid-root binary run by uid 1000 (no_new_privs)", []string{"--user", "1000"}},
	{"chroot", "step03's chroot escape without CAP_SYS_CHROOT", []string{"--cap-drop", "SYS_CHROOT"}},
}

// fenceImage is busybox with fence-probe, a setuid-root copy of it and
// step03's chroot-escape, imported as an image (removed at the end).
func fenceImage(t *testing.T, md string) string {
	t.Helper()
	dir := rootfsWith(t, "fence-probe", "chroot-escape")
	suid := filepath.Join(dir, "bin", "fence-probe-suid")
	if out, err := exec.Command("cp", filepath.Join(dir, "bin", "fence-probe"), suid).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if err := os.Chmod(suid, os.ModeSetuid|0755); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "fences.tar")
	if out, err := exec.Command("tar", "-C", dir, "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	img := "mdt-fences"
	mustRun(t, md, "import", tarball, img)
	t.Cleanup(func() { exec.Command(md, "rmi", img).Run() })
	return img
}

// TestSecurityFences runs every attempt in a default container, where it
// must be fenced, and in a --privileged one, where it must get through.
// An attempt this kernel cannot make at all (no /proc/kcore here, no
// /proc/sysrq-trigger there) is absent from both and left out; at least
// 20 must be decided on every kernel.
func TestSecurityFences(t *testing.T) {
	md := minidockerTest(t)
	img := fenceImage(t, md)
	vol := t.TempDir()
	outcome := map[string]map[bool]string{} // attempt -> privileged? -> "fenced: ..." / "reached: ..." / "absent: ..."
	groups := map[string][]string{}
	var order []string
	for _, a := range fenceAttempts {
		key := strings.Join(a.flags, " ")
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], a.name)
		outcome[a.name] = map[bool]string{}
	}
	for _, key := range order {
		for _, privileged := range []bool{false, true} {
			args := []string{"run", "--rm", "-v", vol + ":/mnt/vol"}
			if !strings.Contains(key, "--network") {
				args = append(args, "--network", "none")
			}
			args = append(args, strings.Fields(key)...)
			if privileged {
				args = append(args, "--privileged")
			}
			r := mustRun(t, md, append(append(args, img, "fence-probe"), groups[key]...)...)
			for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				name, rest, _ := strings.Cut(line, " ")
				if m, ok := outcome[name]; ok {
					m[privileged] = rest
				}
			}
		}
	}
	decided := 0
	for _, a := range fenceAttempts {
		def, priv := outcome[a.name][false], outcome[a.name][true]
		switch {
		case strings.HasPrefix(def, "absent") && strings.HasPrefix(priv, "absent"):
			t.Logf("%-15s not on this kernel: %s", a.name, def)
			continue
		case !strings.HasPrefix(def, "fenced"):
			t.Errorf("%s: %s: a default container was not fenced: %q", a.name, a.why, def)
		case !strings.HasPrefix(priv, "reached"):
			t.Errorf("%s: %s: --privileged did not get through, so the test proves nothing: %q", a.name, a.why, priv)
		}
		decided++
	}
	if decided < 20 {
		t.Errorf("only %d attempts decided on this kernel, want at least 20", decided)
	}
	t.Logf("%d attempts fenced by default and let through with --privileged", decided)
}

// capEff is the CapEff line of /proc/PID/status, as the host sees it.
func procStatus(t *testing.T, pid int, key string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + key + `:\s*(\S+)`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no %s in /proc/%d/status", key, pid)
	}
	return m[1]
}

// dockerCaps is Docker's 14 default capabilities as CapEff shows them.
const dockerCaps = "00000000a80425fb"

// TestSecurityInitThreads looks at every thread of init, not only its
// main one: each holds the container's capabilities, no_new_privs and the
// filter. The bounding set, which only execve reads, is dropped on the
// main thread alone, the one that forks the command; with --cap-add
// SYS_PTRACE, which could reach init's other threads, on all of them.
func TestSecurityInitThreads(t *testing.T) {
	md := minidockerTest(t)
	const withPtrace = "00000000a80c25fb" // Docker's 14 and CAP_SYS_PTRACE (19)
	for _, c := range []struct {
		name, caps string
		flags      []string
	}{{"mdt-sec-threads", dockerCaps, nil}, {"mdt-sec-threads-ptrace", withPtrace, []string{"--cap-add", "SYS_PTRACE"}}} {
		_, initPid := runReady(t, md, c.name, append(append(c.flags, "--network", "none", "busybox"), "sh", "-c", "echo ready; sleep 1000")...)
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", initPid))
		if err != nil || len(tasks) < 2 {
			t.Fatalf("%s: init's threads: %v %v (a Go program has several)", c.name, tasks, err)
		}
		full := 0
		for _, task := range tasks {
			tid, _ := strconv.Atoi(task.Name())
			for key, want := range map[string]string{"CapEff": c.caps, "CapPrm": c.caps, "NoNewPrivs": "1", "Seccomp": "2"} {
				if got := procStatus(t, tid, key); got != want {
					t.Errorf("%s: init's thread %d: %s %s, want %s", c.name, tid, key, got, want)
				}
			}
			switch bnd := procStatus(t, tid, "CapBnd"); {
			case bnd == c.caps:
			case tid != initPid && c.flags == nil:
				full++ // not dropped: this thread never execs
			default:
				t.Errorf("%s: init's thread %d: CapBnd %s, want %s", c.name, tid, bnd, c.caps)
			}
		}
		t.Logf("%s: %d threads, %d with the bounding set left whole", c.name, len(tasks), full)
	}
}

// TestSecurityDefaults looks from the host at a default container: its
// command (and init) hold Docker's 14 capabilities, no_new_privs, a
// seccomp filter; its cgroup has the device fence (v1: devices.list; v2:
// an eBPF program attached), which goes with the cgroup on rm. exec's
// commands get the same fences, in every way exec goes in.
func TestSecurityDefaults(t *testing.T) {
	md := minidockerTest(t)
	id, initPid := runReady(t, md, "mdt-sec-defaults", "-i", "--network", "none", "busybox", "sh", "-c", "echo ready; read x")
	kids := children(initPid)
	if len(kids) != 1 {
		t.Fatalf("init %d has children %v", initPid, kids)
	}
	for _, pid := range []int{initPid, kids[0]} {
		if got := procStatus(t, pid, "CapEff"); got != dockerCaps {
			t.Errorf("pid %d (%s): CapEff %s, want Docker's %s", pid, comm(pid), got, dockerCaps)
		}
		if got := procStatus(t, pid, "CapBnd"); got != dockerCaps {
			t.Errorf("pid %d: CapBnd %s", pid, got)
		}
		if procStatus(t, pid, "NoNewPrivs") != "1" || procStatus(t, pid, "Seccomp") != "2" {
			t.Errorf("pid %d: want NoNewPrivs 1 and Seccomp 2 (filter)", pid)
		}
	}
	j := inspect(t, md, "mdt-sec-defaults")
	if jget(j, "Security.Seccomp") != "builtin" || len(jget(j, "Security.Capabilities").([]any)) != 14 || jget(j, "Security.NoNewPrivileges") != true {
		t.Errorf("inspect's Security: %v", jget(j, "Security"))
	}
	cg := cgroups.Open(id, false)
	var progs []uint32
	if cg.V2 {
		if progs = cg.DevicePrograms(); len(progs) != 1 {
			t.Errorf("device programs attached to %s: %v, want one", cg.Dirs[""], progs)
		}
	} else {
		list := readTrim(t, filepath.Join(cg.Dirs["devices"], "devices.list"))
		if strings.Contains(list, "a *:* rwm") || !strings.Contains(list, "c 1:3 rwm") || strings.Contains(list, "b 7:0 r") {
			t.Errorf("devices.list: %q", list)
		}
	}
	for _, v := range []struct {
		name string
		bin  string
	}{{"helper", md}, {"nsenter(1)", alone(t, md)}} {
		r := mustRun(t, v.bin, "exec", "mdt-sec-defaults", "sh", "-c", "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; id -u")
		for _, want := range []string{"CapEff:\t" + dockerCaps, "NoNewPrivs:\t1", "Seccomp:\t2", "\n0"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("exec by %s: want %q in %q", v.name, want, r.stdout)
			}
		}
		r = mustRun(t, v.bin, "exec", "-u", "nobody", "mdt-sec-defaults", "sh", "-c", "id -u; grep CapEff /proc/self/status")
		if !strings.Contains(r.stdout, "65534\nCapEff:\t0000000000000000") {
			t.Errorf("exec -u nobody by %s: %q", v.name, r.stdout)
		}
		r = mustRun(t, v.bin, "exec", "--privileged", "mdt-sec-defaults", "grep", "-E", "^(CapEff|Seccomp):", "/proc/self/status")
		if strings.Contains(r.stdout, dockerCaps) || !strings.Contains(r.stdout, "Seccomp:\t0") {
			t.Errorf("exec --privileged by %s: %q", v.name, r.stdout)
		}
	}
	mustRun(t, md, "rm", "-f", "mdt-sec-defaults")
	for _, p := range progs { // the program goes with the cgroup (the kernel frees it after the rmdir)
		poll(t, 10*time.Second, fmt.Sprintf("device program %d to be freed", p), func() bool {
			prog, err := ebpf.NewProgramFromID(ebpf.ProgramID(p))
			if err == nil {
				prog.Close()
			}
			return errors.Is(err, os.ErrNotExist)
		})
	}
}

// TestSecurityUser: --user by name and number, from the image's own
// /etc/passwd and /etc/group (supplementary groups too), a -w made for
// that user, HOME from passwd; an unknown name is one line and 125; a
// hostile /etc/passwd (a FIFO; a symlink to a host file) can neither hang
// init nor lead it outside the container's root.
func TestSecurityUser(t *testing.T) {
	md := minidockerTest(t)
	dir := rootfsWith(t)
	canary := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(canary, []byte("canary:x:4242:4242::/:/bin/sh\n"), 0644)
	etc := filepath.Join(dir, "etc")
	// The last two lines are hostile: a user named "4321" and a group named
	// "50", both root's; --user 4321:50 below must stay uid 4321, gid 50.
	appendFile(t, filepath.Join(etc, "passwd"), "app:x:1000:1000:app:/home/app:/bin/sh\n4321:x:0:0:root:/root:/bin/sh\n")
	appendFile(t, filepath.Join(etc, "group"), "app:x:1000:\nstaff:x:50:app,other\n50:x:0:\n")
	img := importDir(t, md, dir, "mdt-users")
	r := mustRun(t, md, "run", "--rm", "--network", "none", "--user", "app", "-w", "/home/app/work", img,
		"sh", "-c", `id; echo "HOME=$HOME"; pwd; stat -c '%u:%g' .; grep CapEff /proc/self/status`)
	for _, want := range []string{"uid=1000(app) gid=1000(app) groups=50(staff),1000(app)", "HOME=/home/app", "/home/app/work\n1000:1000", "CapEff:\t0000000000000000"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--user app: want %q in %q", want, r.stdout)
		}
	}
	// The image's USER, honoured as --user is (and --user wins), in run and exec.
	tarball := filepath.Join(t.TempDir(), "user.tar")
	if out, err := exec.Command("tar", "-C", dir, "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	mustRun(t, md, "import", "--change", "USER app", tarball, "mdt-users-app")
	t.Cleanup(func() { exec.Command(md, "rmi", "mdt-users-app").Run() })
	r = mustRun(t, md, "run", "--rm", "--network", "none", "mdt-users-app", "sh", "-c", `echo "$(id -u) HOME=$HOME"`)
	if strings.TrimSpace(r.stdout) != "1000 HOME=/home/app" {
		t.Errorf("the image's USER app: %q", r.stdout)
	}
	if r = mustRun(t, md, "run", "--rm", "--network", "none", "--user", "root", "mdt-users-app", "id", "-u"); strings.TrimSpace(r.stdout) != "0" {
		t.Errorf("--user root over the image's USER: %q", r.stdout)
	}
	runReady(t, md, "mdt-users-app", "--network", "none", "mdt-users-app", "sh", "-c", "echo ready; exec sleep 60")
	r = mustRun(t, md, "exec", "mdt-users-app", "sh", "-c", `echo "$(id -u) HOME=$HOME"`)
	if strings.TrimSpace(r.stdout) != "1000 HOME=/home/app" {
		t.Errorf("exec in a container of the image's USER app: %q", r.stdout)
	}
	if r = mustRun(t, md, "exec", "-u", "0", "mdt-users-app", "sh", "-c", `echo "$(id -u) HOME=$HOME"`); strings.TrimSpace(r.stdout) != "0 HOME=/root" {
		t.Errorf("exec -u 0: %q", r.stdout)
	}
	mustRun(t, md, "rm", "-f", "mdt-users-app")
	r = mustRun(t, md, "run", "--rm", "--network", "none", "--user", "4321:50", img, "id")
	if strings.TrimSpace(r.stdout) != "uid=4321 gid=50(staff) groups=50(staff)" { // numbers are ids, not the image's names: only the gid
		t.Errorf("--user 4321:50: %q", r.stdout)
	}
	// --cap-add for a user other than root: raised as ambient, kept across execve.
	r = mustRun(t, md, "run", "--rm", "--network", "none", "--user", "app", "--cap-add", "NET_ADMIN", img, "grep", "-E", "^Cap(Eff|Amb)", "/proc/self/status")
	if !strings.Contains(r.stdout, "CapEff:\t0000000000001000") || !strings.Contains(r.stdout, "CapAmb:\t0000000000001000") {
		t.Errorf("--user app --cap-add NET_ADMIN: %q", r.stdout)
	}
	r = run(t, md, "run", "--rm", "--network", "none", "--user", "nosuch", img, "true")
	if r.code != 125 {
		t.Errorf("unknown user: %s", r)
	}
	oneLine(t, r, "unable to find user nosuch")
	// Hostile: /etc/passwd a FIFO (a read would block init for ever), then
	// a symlink to a host file with a "canary" user.
	os.Remove(filepath.Join(etc, "passwd"))
	if err := exec.Command("mkfifo", filepath.Join(etc, "passwd")).Run(); err != nil {
		t.Fatal(err)
	}
	fifo := importDir(t, md, dir, "mdt-users-fifo")
	// (not `id`: busybox's reads /etc/passwd itself, and would block.)
	if r := run(t, md, "run", "--rm", "--network", "none", "--user", "1000", fifo, "grep", "^Uid:", "/proc/self/status"); r.code != 0 || !strings.Contains(r.stdout, "1000\t1000") {
		t.Errorf("a FIFO as /etc/passwd: %s", r)
	}
	os.Remove(filepath.Join(etc, "passwd"))
	os.Symlink(canary, filepath.Join(etc, "passwd"))
	link := importDir(t, md, dir, "mdt-users-link")
	if r := run(t, md, "run", "--rm", "--network", "none", "--user", "canary", link, "id"); r.code != 125 || !strings.Contains(r.stderr, "unable to find user canary") {
		t.Errorf("a symlink to a host file as /etc/passwd was followed out of the root: %s", r)
	}
}

func appendFile(t *testing.T, file, text string) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(text)
	f.Close()
}

// importDir makes an image of a directory (removed at the end).
func importDir(t *testing.T, md, dir, name string) string {
	t.Helper()
	tarball := filepath.Join(t.TempDir(), name+".tar")
	if out, err := exec.Command("tar", "-C", dir, "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	mustRun(t, md, "import", tarball, name)
	t.Cleanup(func() { exec.Command(md, "rmi", name).Run() })
	return name
}

// TestSecurityOptions: --read-only with --tmpfs, --device, seccomp
// profiles (a file in Docker's format, unconfined, a broken one), and
// no-new-privileges=false.
func TestSecurityOptions(t *testing.T) {
	md := minidockerTest(t)
	r := mustRun(t, md, "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/run:size=1m", "busybox", "sh", "-c",
		"touch /x 2>&1; touch /run/x && echo run-writable; touch /dev/shm/x && echo shm-writable; grep ' /run ' /proc/mounts")
	for _, want := range []string{"Read-only file system", "run-writable", "shm-writable", "tmpfs /run tmpfs rw,nosuid,nodev,noexec"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--read-only --tmpfs: want %q in %q", want, r.stdout)
		}
	}
	// --device: /dev/kmsg (reading it also needs CAP_SYSLOG) readable,
	// as asked (r), not writable; without --device, a node made with its
	// numbers cannot be opened.
	r = mustRun(t, md, "run", "--rm", "--network", "none", "--cap-add", "SYSLOG", "--device", "/dev/kmsg:/dev/kmsg:r", "busybox", "sh", "-c",
		"dd if=/dev/kmsg of=/dev/null count=0 2>/dev/null && echo readable; echo x 2>/dev/null > /dev/kmsg || echo not-writable")
	if !strings.Contains(r.stdout, "readable") || !strings.Contains(r.stdout, "not-writable") {
		t.Errorf("--device /dev/kmsg:/dev/kmsg:r: %q", r.stdout)
	}
	r = mustRun(t, md, "run", "--rm", "--network", "none", "--cap-add", "SYSLOG", "busybox", "sh", "-c",
		"mknod /tmp/kmsg c 1 11 && dd if=/tmp/kmsg of=/dev/null count=0 2>&1; true")
	if !strings.Contains(r.stdout, "Operation not permitted") {
		t.Errorf("a node with /dev/kmsg's numbers, without --device: %q", r.stdout)
	}
	if r := run(t, md, "run", "--rm", "--device", "/etc/hostname", "busybox", "true"); r.code != 125 {
		t.Errorf("--device of a regular file: %s", r)
	} else {
		oneLine(t, r, "not a device node")
	}
	// A profile of our own: everything allowed but mkdir, which gets EACCES.
	profile := filepath.Join(t.TempDir(), "profile.json")
	os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}`), 0644)
	r = mustRun(t, md, "run", "--rm", "--network", "none", "--security-opt", "seccomp="+profile, "busybox", "sh", "-c", "mkdir /x 2>&1; grep Seccomp: /proc/self/status")
	if !strings.Contains(r.stdout, "Permission denied") || !strings.Contains(r.stdout, "Seccomp:\t2") {
		t.Errorf("a custom profile: %q", r.stdout)
	}
	r = mustRun(t, md, "run", "--rm", "--network", "none", "--security-opt", "seccomp=unconfined", "busybox", "grep", "Seccomp:", "/proc/self/status")
	if !strings.Contains(r.stdout, "Seccomp:\t0") {
		t.Errorf("seccomp=unconfined: %q", r.stdout)
	}
	os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_SOMETIMES", "syscalls": []}`), 0644)
	if r := run(t, md, "run", "--rm", "--security-opt", "seccomp="+profile, "busybox", "true"); r.code != 125 {
		t.Errorf("a broken profile: %s", r)
	} else {
		oneLine(t, r, "unknown action")
	}
	r = mustRun(t, md, "run", "--rm", "--network", "none", "--security-opt", "no-new-privileges=false", "busybox", "grep", "NoNewPrivs", "/proc/self/status")
	if !strings.Contains(r.stdout, "NoNewPrivs:\t0") {
		t.Errorf("no-new-privileges=false: %q", r.stdout)
	}
	for _, bad := range [][]string{{"--cap-add", "FLY"}, {"--security-opt", "apparmor=x"}, {"--tmpfs", "relative"}, {"--user", "a:b:c"}} {
		if r := run(t, md, append(append([]string{"run", "--rm"}, bad...), "busybox", "true")...); r.code != 125 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: want one line and 125, %s", bad, r)
		}
	}
}

// TestSecurityDockerCLI: the same fences through the daemon, driven by the
// real docker CLI: --cap-drop ALL, --privileged, --user, --read-only, a
// seccomp profile the CLI reads, docker inspect and docker info.
func TestSecurityDockerCLI(t *testing.T) {
	tool(t, "docker")
	d := startDaemon(t)
	caps := func(args ...string) string {
		r := d.mustDocker(append(append([]string{"run", "--rm", "--network", "none"}, args...), "busybox", "grep", "CapEff", "/proc/self/status")...)
		return strings.TrimSpace(strings.TrimPrefix(r.stdout, "CapEff:"))
	}
	if got := caps(); got != dockerCaps {
		t.Errorf("docker run: CapEff %s", got)
	}
	if got := caps("--cap-drop", "ALL"); got != "0000000000000000" {
		t.Errorf("docker run --cap-drop ALL: CapEff %s", got)
	}
	if got := caps("--privileged"); got == dockerCaps || got == "0000000000000000" {
		t.Errorf("docker run --privileged: CapEff %s", got)
	}
	if r := d.mustDocker("run", "--rm", "--network", "none", "--user", "65534:65534", "busybox", "id"); strings.TrimSpace(r.stdout) != "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)" {
		t.Errorf("docker run --user: %q", r.stdout)
	}
	if r := d.docker("run", "--rm", "--network", "none", "--read-only", "busybox", "touch", "/x"); r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
		t.Errorf("docker run --read-only: %s", r)
	}
	profile := filepath.Join(t.TempDir(), "profile.json")
	os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}`), 0644)
	if r := d.docker("run", "--rm", "--network", "none", "--security-opt", "seccomp="+profile, "busybox", "mkdir", "/x"); r.code == 0 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("docker run --security-opt seccomp=FILE: %s", r)
	}
	d.mustDocker("create", "--name", "mdt-sec-cli", "--network", "none", "--cap-drop", "NET_RAW", "--cap-add", "SYS_TIME", "--read-only", "--user", "1000", "busybox", "true")
	r := d.mustDocker("inspect", "-f", "{{.HostConfig.CapDrop}} {{.HostConfig.CapAdd}} {{.HostConfig.ReadonlyRootfs}} {{.Config.User}} {{.HostConfig.Privileged}}", "mdt-sec-cli")
	if strings.TrimSpace(r.stdout) != "[CAP_NET_RAW] [CAP_SYS_TIME] true 1000 false" { // the docker CLI adds CAP_
		t.Errorf("docker inspect: %q", r.stdout)
	}
	r = d.mustDocker("inspect", "-f", "{{json .Security}}", "mdt-sec-cli")
	if !strings.Contains(r.stdout, `"CAP_SYS_TIME"`) || strings.Contains(r.stdout, `"CAP_NET_RAW"`) || !strings.Contains(r.stdout, `"Seccomp":"builtin"`) {
		t.Errorf("docker inspect's Security: %s", r.stdout)
	}
	d.mustDocker("rm", "mdt-sec-cli")
	r = d.mustDocker("info")
	if !regexp.MustCompile(`Security Options:\n\s+seccomp\n\s+Profile: builtin\n\s+no-new-privileges`).MatchString(r.stdout) {
		t.Errorf("docker info's Security Options: %s", r.stdout)
	}
}
