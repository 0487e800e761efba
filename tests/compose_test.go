//go:build linux

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDaemonCompose: Debian's docker-compose 1.29 (the Python docker SDK)
// against the daemon: a web server and a client that fetches from it by
// its service name on the project's network; `up -d` works, the client
// gets the page, `down` removes the containers and the network.
func TestDaemonCompose(t *testing.T) {
	d := startDaemon(t)
	compose := tool(t, "docker-compose")
	dir := filepath.Join(t.TempDir(), "ddproj")
	os.MkdirAll(dir, 0755)
	os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(`version: "3"
services:
  web:
    image: busybox
    command: sh -c 'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www'
    labels:
      tier: front
  client:
    image: busybox
    command: sh -c 'for i in $$(seq 50); do wget -qO- http://web/ && exit 0; sleep 0.2; done; exit 1'
    depends_on: [web]
`), 0644)
	run := func(args ...string) result {
		t.Helper()
		cmd := exec.Command(compose, args...)
		cmd.Dir = dir
		cmd.Env = d.dockerCmd().Env
		return runCmd(t, cmd)
	}
	if r := run("up", "-d"); r.code != 0 {
		t.Fatalf("docker-compose up -d: %s", r)
	}
	r := d.mustDocker("ps", "--filter", "label=com.docker.compose.project=ddproj", "--format", "{{.Names}} {{.Label \"tier\"}}")
	if !strings.Contains(r.stdout, "ddproj_web_1 front") {
		t.Errorf("docker ps --filter label=com.docker.compose.project: %s", r)
	}
	d.mustDocker("wait", "ddproj_client_1")
	if r := d.mustDocker("logs", "ddproj_client_1"); r.stdout != "hello-from-web\n" {
		t.Errorf("the client should have fetched the page from web by its service name: %s", r)
	}
	if r := d.mustDocker("inspect", "--format", "{{.State.ExitCode}}", "ddproj_client_1"); r.stdout != "0\n" {
		t.Errorf("the client's exit code: %s", r)
	}
	if r := run("ps"); r.code != 0 || !strings.Contains(r.stdout, "ddproj_web_1") {
		t.Errorf("docker-compose ps: %s", r)
	}
	if r := run("down"); r.code != 0 {
		t.Fatalf("docker-compose down: %s", r)
	}
	if r := d.mustDocker("ps", "-aq", "--filter", "label=com.docker.compose.project=ddproj"); r.stdout != "" {
		t.Errorf("down left containers: %q", r.stdout)
	}
	if r := d.mustDocker("network", "ls", "-q", "--filter", "name=ddproj"); r.stdout != "" {
		t.Errorf("down left the network: %q", r.stdout)
	}
}
