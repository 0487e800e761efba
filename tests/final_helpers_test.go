//go:build linux

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers for the minidocker (final/) tests.

// mdRoot is minidocker's state directory (MINIDOCKER_ROOT, as the engine reads it).
func mdRoot() string {
	if r := os.Getenv("MINIDOCKER_ROOT"); r != "" {
		return r
	}
	return "/var/lib/minidocker"
}

// containerDirs lists /var/lib/minidocker/containers.
func containerDirs(t *testing.T) []string {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(mdRoot(), "containers"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// leakChecked takes the host's state now and checks, when the test ends
// (after the containers' forced removal, registered later, so run first),
// that no mount, cgroup, link, rule or container directory was left.
func leakChecked(t *testing.T) {
	t.Helper()
	busyboxOnce.Do(func() { run(t, program(t, "minidocker"), "images", "-q") }) // made on first use: part of the baseline
	before, dirs := snapshot(t), containerDirs(t)
	store := storeEntries()
	t.Cleanup(func() {
		checkNoContainerLeaks(t, before, dirs)
		if extra := added(store, storeEntries()); len(extra) > 0 {
			t.Errorf("leaked images, layers or blobs: %v", extra)
		}
	})
}

var busyboxOnce sync.Once

// storeEntries lists the image store: image records, layers, the blobs no
// record names (a record may gain one, as push caches a layer's gzip), the
// build cache's index, and anything half-made.
func storeEntries() []string {
	var out []string
	named := map[string]bool{}
	for _, d := range []string{"images", "layers"} {
		for _, n := range listDir(filepath.Join(mdRoot(), d)) {
			out = append(out, d+"/"+n)
			b, _ := os.ReadFile(filepath.Join(mdRoot(), d, n))
			for _, h := range blobName.FindAllString(string(b), -1) {
				named[h] = true
			}
		}
	}
	for _, d := range []string{"build-cache", "build"} { // the build cache's index, builds' scratch directories
		for _, n := range listDir(filepath.Join(mdRoot(), d)) {
			out = append(out, d+"/"+n)
		}
	}
	for _, n := range listDir(filepath.Join(mdRoot(), "blobs/sha256")) {
		if !named[n] {
			out = append(out, "blobs/sha256/"+n)
		}
	}
	for _, n := range listDir(filepath.Join(mdRoot(), "blobs/tmp")) {
		out = append(out, "blobs/tmp/"+n)
	}
	return out
}

var blobName = regexp.MustCompile(`[0-9a-f]{64}`)

// minidockerTest starts a test of minidocker: root, the program, and
// leakChecked.
func minidockerTest(t *testing.T) string {
	t.Helper()
	requireRoot(t)
	md := program(t, "minidocker")
	leakChecked(t)
	return md
}

// checkNoContainerLeaks is checkNoLeaks plus the state directory listing.
func checkNoContainerLeaks(t *testing.T, before hostState, dirs []string) {
	t.Helper()
	checkNoLeaks(t, before)
	if extra := added(dirs, containerDirs(t)); len(extra) > 0 {
		t.Errorf("leaked container directories: %v", extra)
	}
}

// removeOnCleanup force-removes containers when the test ends, pass or fail.
func removeOnCleanup(t *testing.T, bin string, refs ...string) {
	t.Cleanup(func() {
		for _, r := range refs {
			exec.Command(bin, "rm", "-f", r).Run()
		}
	})
}

// runReady runs `minidocker run -d --name NAME ARGS...` (removed when the
// test ends), waits until the container's log has a line starting with
// "ready", and returns the id run printed and the host PID of its init.
func runReady(t *testing.T, bin, name string, args ...string) (id string, pid int) {
	t.Helper()
	removeOnCleanup(t, bin, name)
	id = strings.TrimSpace(mustRun(t, bin, append([]string{"run", "-d", "--name", name}, args...)...).stdout)
	waitLog(t, bin, name, "ready")
	return id, int(jget(inspect(t, bin, name), "State.Pid").(float64))
}

// inspect returns `minidocker inspect REF` as a map.
func inspect(t *testing.T, bin, ref string) map[string]any {
	t.Helper()
	r := mustRun(t, bin, "inspect", ref)
	var out []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 {
		t.Fatalf("inspect %s: %v\n%s", ref, err, r.stdout)
	}
	return out[0]
}

// readJSON decodes a JSON file (a record, say).
func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// jget reads a dotted path (State.Pid) from decoded JSON.
func jget(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// poll calls fn until it returns true, for up to timeout (a bounded poll,
// not a sleep: it returns as soon as the condition holds).
func poll(t *testing.T, timeout time.Duration, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLog waits until the container's log has a line starting with prefix.
func waitLog(t *testing.T, bin, ref, prefix string) {
	t.Helper()
	poll(t, 15*time.Second, fmt.Sprintf("%q in the logs of %s", prefix, ref), func() bool {
		r := run(t, bin, "logs", ref)
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(l, prefix) {
				return true
			}
		}
		return false
	})
}

// ppid reads the parent of pid from /proc/PID/stat.
func ppid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	n, _ := strconv.Atoi(f[1])
	return n
}

// procState is the state letter of pid (R, S, Z...), "" if gone.
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}

// children lists the PIDs whose parent is pid.
func children(pid int) []int {
	var kids []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, k := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(k)
			kids = append(kids, n)
		}
	}
	return kids
}

func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// cgroupFile is a file of the container's cgroup, v1 (per controller) or v2.
func cgroupFile(id, controller, v1name, v2name string) string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return filepath.Join("/sys/fs/cgroup", "minidocker-"+id[:12], v2name)
	}
	dir := filepath.Join("/sys/fs/cgroup", controller)
	if _, err := os.Stat(dir); err != nil { // cpu,cpuacct may be mounted as cpu
		dir = filepath.Join("/sys/fs/cgroup", strings.Split(controller, ",")[0])
	}
	return filepath.Join(dir, "minidocker-"+id[:12], v1name)
}

func readTrim(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	return strings.TrimSpace(string(b))
}
