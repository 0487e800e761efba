//go:build linux

// Package tests runs the real programs as root and checks what the kernel
// shows, from inside the container (its output) and from outside (the host's
// hostname, /proc/PID/ns, mount table, cgroups, links).
//
// Environment:
//
//	MINIDOCKER_BIN_DIR       prebuilt programs (step01-uts, ..., minidocker, tools); else built here
//	MINIDOCKER_ROOTFS        the busybox rootfs (default /var/lib/minidocker/rootfs)
//	MINIDOCKER_REPO          the repository root (default: the parent of this folder)
//	CI, MINIDOCKER_REQUIRE_ROOT  a root-only test FAILS instead of skipping
package tests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/build-your-own-docker/internal/needroot"
)

var (
	repoRoot string
	binDir   string
	builds   sync.Map // program name -> *buildOnce
)

type buildOnce struct {
	once sync.Once
	path string
	err  error
}

func TestMain(m *testing.M) {
	if id := os.Getenv("MD_CONSOLE_PROBE"); id != "" { // TestDaemonPermissions' probe, as another user
		consoleProbe(id)
		os.Exit(0)
	}
	repoRoot = os.Getenv("MINIDOCKER_REPO")
	if repoRoot == "" {
		wd, _ := os.Getwd()
		repoRoot = filepath.Dir(wd)
	}
	tmp := ""
	binDir = os.Getenv("MINIDOCKER_BIN_DIR")
	if binDir == "" {
		tmp, _ = os.MkdirTemp("", "minidocker-bin-")
		os.Chmod(tmp, 0755) // the not-root test runs a program from here as nobody
		binDir = tmp
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

// requireRoot skips a test that needs root, or fails it when CI or
// MINIDOCKER_REQUIRE_ROOT is set: CI must never pass on skipped tests.
func requireRoot(t *testing.T) {
	t.Helper()
	needroot.Require(t)
}

// program returns the path of a built program: a step folder (step01-uts),
// "minidocker" (./final without cgo, as `make minidocker` builds it, with
// minidocker-init and minidocker-nsenter built beside it), "minidocker-cgo"
// (./final with cgo: exec's C constructor in the CLI itself, as with
// `go run ./final`), "minidocker-init", "minidocker-runc", "minidocker-nsenter" (with cgo) or a
// tool (tools/NAME, built static so it runs in the busybox rootfs). Each is
// built once per test binary.
func program(t *testing.T, name string) string {
	t.Helper()
	if name == "minidocker" || name == "minidocker-cgo" {
		program(t, "minidocker-init") // beside it, as `make minidocker` puts them
	}
	if name == "minidocker" || name == "minidocker-cgo" || name == "minidocker-runc" {
		program(t, "minidocker-nsenter") // exec's helper; minidocker-runc's way into a mount namespace
	}
	b, _ := builds.LoadOrStore(name, &buildOnce{})
	bo := b.(*buildOnce)
	bo.once.Do(func() {
		bo.path = filepath.Join(binDir, name)
		if _, err := os.Stat(bo.path); err == nil {
			return // prebuilt (MINIDOCKER_BIN_DIR)
		}
		pkg, cgo := "./"+name, "1"
		switch name {
		case "minidocker":
			pkg, cgo = "./final", "0"
		case "minidocker-cgo":
			pkg = "./final"
		case "minidocker-init", "minidocker-runc":
			pkg, cgo = "./final/"+name, "0"
		case "minidocker-nsenter":
			pkg = "./final/" + name
		default:
			if !strings.HasPrefix(name, "step") {
				pkg, cgo = "./tools/"+name, "0"
			}
		}
		cmd := exec.Command("go", "build", "-o", bo.path, pkg)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
		if out, err := cmd.CombinedOutput(); err != nil {
			bo.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if bo.err != nil {
		t.Fatal(bo.err)
	}
	return bo.path
}

// alone copies a built program into a directory of its own, where it finds
// no minidocker-init or minidocker-nsenter beside it (as after `go run`).
func alone(t *testing.T, bin string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), filepath.Base(bin))
	if out, err := exec.Command("cp", bin, p).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	return p
}

// rootfs is the busybox rootfs that `make rootfs` builds.
func rootfs(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MINIDOCKER_ROOTFS")
	if dir == "" {
		dir = "/var/lib/minidocker/rootfs"
	}
	if _, err := os.Stat(filepath.Join(dir, "bin/busybox")); err != nil {
		t.Fatalf("no rootfs at %s: run `sudo make rootfs` (or set MINIDOCKER_ROOTFS)", dir)
	}
	return dir
}

// rootfsWith copies the rootfs (cheap: one binary and symlinks) into a
// temporary directory and adds the named tools to its /bin, so a test can
// change its image without touching the shared one.
func rootfsWith(t *testing.T, tools ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	if out, err := exec.Command("cp", "-a", rootfs(t), dir).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v %s", err, out)
	}
	for _, tool := range tools {
		if out, err := exec.Command("cp", program(t, tool), filepath.Join(dir, "bin", tool)).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v %s", tool, err, out)
		}
	}
	return dir
}

// result is how a program ended.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs a program to completion (bounded: two minutes) with empty stdin.
func run(t *testing.T, bin string, args ...string) result {
	t.Helper()
	return runCmd(t, exec.Command(bin, args...))
}

// commandTimeout is how long one command may take before the test calls
// it hung: 2 minutes, 6 on an emulated machine (scripts/cgroup2-vm.sh sets
// MINIDOCKER_EMULATED: qemu without KVM, where 20 parallel runs take
// minutes).
var commandTimeout = func() time.Duration {
	if os.Getenv("MINIDOCKER_EMULATED") != "" {
		return 6 * time.Minute
	}
	return 2 * time.Minute
}()

func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(commandTimeout):
		cmd.Process.Kill()
		t.Fatalf("%v did not finish within %v", cmd.Args, commandTimeout)
	}
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	return r
}

// mustRun is run that fails the test unless the program exits 0.
func mustRun(t *testing.T, bin string, args ...string) result {
	t.Helper()
	r := run(t, bin, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: %s", filepath.Base(bin), strings.Join(args, " "), r)
	}
	return r
}

// live is a container that is still running, so the test can look at it from
// the host. Its command must print a line and then block reading stdin; the
// test releases it by closing stdin. No sleeps: the line is the signal.
type live struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr bytes.Buffer
	out    []string
}

func start(t *testing.T, bin string, args ...string) *live {
	t.Helper()
	l := &live{t: t, cmd: exec.Command(bin, args...)}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	t.Cleanup(cancel)
	go func() { <-ctx.Done(); l.cmd.Process.Kill() }()
	var err error
	if l.stdin, err = l.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := l.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	l.cmd.Stderr = &l.stderr
	l.lines = bufio.NewScanner(stdout)
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.stdin.Close(); l.cmd.Process.Kill(); l.cmd.Wait() })
	return l
}

// waitFor reads the container's output until a line starts with prefix and
// returns that line.
func (l *live) waitFor(prefix string) string {
	l.t.Helper()
	for l.lines.Scan() {
		line := l.lines.Text()
		l.out = append(l.out, line)
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	l.t.Fatalf("container ended before printing %q; output %q, stderr %q", prefix, l.out, l.stderr.String())
	return ""
}

// pid is the host PID of the container's first process: the child of the
// program we started.
func (l *live) pid() int {
	l.t.Helper()
	return childOf(l.t, l.cmd.Process.Pid)
}

// finish sends a line to the container's stdin (ending its `read`), closes it
// and waits for the container to exit.
func (l *live) finish() result {
	l.t.Helper()
	io.WriteString(l.stdin, "go\n")
	l.stdin.Close()
	for l.lines.Scan() {
		l.out = append(l.out, l.lines.Text())
	}
	err := l.cmd.Wait()
	r := result{stdout: strings.Join(l.out, "\n"), stderr: l.stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	}
	return r
}

// childOf returns the only child of pid, from /proc/PID/task/*/children.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var kids []string
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		kids = append(kids, strings.Fields(string(b))...)
	}
	if len(kids) != 1 {
		t.Fatalf("process %d has children %v, want exactly one", pid, kids)
	}
	var child int
	fmt.Sscan(kids[0], &child)
	return child
}

// nsInode is what `readlink /proc/PID/ns/NAME` prints, e.g. "uts:[4026531838]".
func nsInode(t *testing.T, pid, ns string) string {
	t.Helper()
	link, err := os.Readlink(filepath.Join("/proc", pid, "ns", ns))
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// hostState is what a run must leave as it found it.
type hostState struct {
	mounts  []string // mount points, from /proc/self/mountinfo
	links   []string // network interfaces
	cgroups []string // cgroup directories named for the project
	state   []string // files under /run/minidocker
	rules   []string // iptables rules tagged with the project's comment
}

func snapshot(t *testing.T) hostState {
	t.Helper()
	var s hostState
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(line); len(f) > 4 {
			s.mounts = append(s.mounts, f[4])
		}
	}
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		s.links = append(s.links, i.Name)
	}
	for _, pattern := range []string{"/sys/fs/cgroup/*minidocker*", "/sys/fs/cgroup/*/*minidocker*", "/sys/fs/cgroup/*minidocker*/*", "/sys/fs/cgroup/*/*minidocker*/*"} {
		m, _ := filepath.Glob(pattern)
		for _, d := range m {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				s.cgroups = append(s.cgroups, d)
			}
		}
	}
	filepath.Walk("/run/minidocker", func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			s.state = append(s.state, p)
		}
		return nil
	})
	if out, err := exec.Command("iptables-save").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "minidocker") {
				s.rules = append(s.rules, line)
			}
		}
	}
	for _, l := range [][]string{s.mounts, s.links, s.cgroups, s.state, s.rules} {
		sort.Strings(l)
	}
	return s
}

// checkNoLeaks fails the test if anything was added since before: mounts,
// links, cgroups, runtime state files, iptables rules. A container's
// monitor may still be deleting its veth just after its client got the
// exit status (the kernel takes tens of milliseconds), so the check looks
// again for a few seconds (a bounded poll) before it fails.
func checkNoLeaks(t *testing.T, before hostState) {
	t.Helper()
	var leaks []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		after := snapshot(t)
		leaks = nil
		for _, c := range []struct {
			what          string
			before, after []string
		}{{"mounts", before.mounts, after.mounts}, {"links", before.links, after.links},
			{"cgroups", before.cgroups, after.cgroups}, {"state files", before.state, after.state},
			{"iptables rules", before.rules, after.rules}} {
			if extra := added(c.before, c.after); len(extra) > 0 {
				leaks = append(leaks, fmt.Sprintf("leaked %s: %v", c.what, extra))
			}
		}
		if len(leaks) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, l := range leaks {
		t.Error(l)
	}
}

// added lists the entries of after that before did not have (as a multiset,
// so a second mount on the same point counts).
func added(before, after []string) []string {
	seen := map[string]int{}
	for _, b := range before {
		seen[b]++
	}
	var extra []string
	for _, a := range after {
		if seen[a] > 0 {
			seen[a]--
		} else {
			extra = append(extra, a)
		}
	}
	return extra
}

// asNobody makes cmd run as user nobody, for the not-root checks.
func asNobody(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return cmd
}

// hostMarker creates a file that exists only on the host, for tests that
// check the container cannot see the host's files.
func hostMarker(t *testing.T) string {
	t.Helper()
	f, err := os.CreateTemp("", "minidocker-host-only-")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Cleanup(func() { os.Remove(f.Name()) })
	return f.Name()
}

// oneLine asserts an error message is a single line that mentions want.
func oneLine(t *testing.T, r result, want string) {
	t.Helper()
	msg := strings.TrimSpace(r.stderr)
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, want) {
		t.Errorf("want one line mentioning %q, got %q", want, msg)
	}
}
