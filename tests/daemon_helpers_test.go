//go:build linux

package tests

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Helpers for the daemon tests (chapter 09): a `minidocker daemon` of the
// test's own, on its own socket, driven by the real docker CLI.

// tool is the path of a program the tests drive (docker, docker-compose):
// missing, the test skips, or fails under CI (which installs it).
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("MINIDOCKER_REQUIRE_ROOT") != "" {
			t.Fatalf("%s not found, and CI forbids skipping: `sudo make setup` installs it", name)
		}
		t.Skipf("needs %s: `sudo make setup` installs it", name)
	}
	return p
}

// daemon is a running `minidocker daemon` of one test.
type daemon struct {
	t    *testing.T
	bin  string
	host string // unix:///tmp/.../md.sock
	args []string
	home string // HOME for the docker CLI: no config of the machine's
	mu   sync.Mutex
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

// startDaemon starts a daemon on a socket in a temporary directory and
// stops it when the test ends; the containers the test left are removed
// (with the daemonless CLI) before the leak check runs.
func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	requireRoot(t)
	defaultBridge(t)
	md := minidockerTest(t)
	dir, err := os.MkdirTemp("", "md-daemon-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0755) // the permission test's users must reach the socket
	d := &daemon{t: t, bin: md, host: "unix://" + filepath.Join(dir, "md.sock"), home: filepath.Join(dir, "home"), args: args}
	os.MkdirAll(d.home, 0777)
	before := containerDirs(t)
	nets, vols := listDir(filepath.Join(mdRoot(), "network")), listDir(filepath.Join(mdRoot(), "volumes"))
	t.Cleanup(func() {
		d.stop()
		for _, id := range added(before, containerDirs(t)) {
			exec.Command(md, "rm", "-f", id).Run()
		}
		for _, n := range added(nets, listDir(filepath.Join(mdRoot(), "network"))) {
			exec.Command(md, "network", "rm", strings.TrimSuffix(n, ".json")).Run()
		}
		for _, v := range added(vols, listDir(filepath.Join(mdRoot(), "volumes"))) {
			exec.Command(md, "volume", "rm", "-f", v).Run()
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.log.String())
		}
		os.RemoveAll(dir)
	})
	d.start()
	return d
}

// bridgeOnce makes the default bridge once per test binary.
var bridgeOnce sync.Once

// defaultBridge makes minidocker0 (and its base rules) exist before a test
// takes its leak-check snapshot: like docker0 it stays once made, so a test
// whose containers use the default network is not charged with it.
func defaultBridge(t *testing.T) {
	t.Helper()
	bridgeOnce.Do(func() { run(t, program(t, "minidocker"), "run", "--rm", "busybox", "true") })
}

// listDir lists a directory's names ("" none if it is missing).
func listDir(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// start runs the daemon and waits (bounded) until its socket answers.
func (d *daemon) start() {
	d.t.Helper()
	d.mu.Lock()
	d.log = &bytes.Buffer{}
	d.cmd = exec.Command(d.bin, append([]string{"daemon", "-H", d.host}, d.args...)...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.mu.Unlock()
	sock := strings.TrimPrefix(d.host, "unix://")
	poll(d.t, 15*time.Second, "the daemon's socket "+sock, func() bool {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		// The daemon answers from its listen(2) on, and gives the socket
		// its group and mode 0660 just after: ready when both are done.
		fi, serr := os.Stat(sock)
		return err == nil && serr == nil && fi.Mode().Perm() == 0o660
	})
}

// stop ends the daemon with SIGTERM (its containers keep running).
func (d *daemon) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
	d.cmd = nil
}

// kill9 kills the daemon as a crash would.
func (d *daemon) kill9() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cmd.Process.Kill()
	d.cmd.Wait()
	d.cmd = nil
}

// dockerCmd is the docker CLI pointed at this daemon.
func (d *daemon) dockerCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(tool(d.t, "docker"), args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.host, "HOME="+d.home, "DOCKER_CONFIG="+filepath.Join(d.home, ".docker"), "DOCKER_BUILDKIT=0", "DOCKER_CLI_HINTS=false")
	return cmd
}

// docker runs the docker CLI against this daemon.
func (d *daemon) docker(args ...string) result {
	d.t.Helper()
	return runCmd(d.t, d.dockerCmd(args...))
}

// mustDocker is docker that fails the test unless it exits 0.
func (d *daemon) mustDocker(args ...string) result {
	d.t.Helper()
	r := d.docker(args...)
	if r.code != 0 {
		d.t.Fatalf("docker %s: %s", strings.Join(args, " "), r)
	}
	return r
}

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
