//go:build linux

package tests

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildDockerCLI: the real docker CLI builds through minidocker's
// daemon with the classic builder (DOCKER_BUILDKIT=0, POST /build): the
// steps and RUN's output as it streams, the cache on a rebuild, -q and
// --iidfile (the aux message), --build-arg, -f outside the context,
// .dockerignore applied by the CLI, a failing RUN's exit status, and a
// context over the daemon's bound refused.
func TestBuildDockerCLI(t *testing.T) {
	t.Setenv("MINIDOCKER_MAX_BUILD_CONTEXT", "4m") // the daemon's bound on a context tarball
	d := startDaemon(t)
	removeNewImages(t, d.bin)
	dir := buildContext(t, "cache")
	r := d.mustDocker("build", "-t", "cli-built:1", dir)
	for _, want := range []string{"Sending build context to Docker daemon", "Step 1/6 : FROM busybox", "Step 3/6 : RUN cat /a.txt > /from-a",
		" ---> Running in ", "Successfully built ", "Successfully tagged cli-built:1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("docker build's output lacks %q:\n%s", want, r.stdout)
		}
	}
	if out := d.mustDocker("run", "--rm", "--network", "none", "cli-built:1").stdout; out != "a: first\nb: first\n" {
		t.Errorf("docker run of the built image: %q", out)
	}
	again := d.mustDocker("build", "-t", "cli-built:1", dir).stdout
	if count(again, "Using cache") != 5 || count(again, "Running in") != 0 {
		t.Errorf("rebuild through the CLI:\n%s", again)
	}
	id := strings.TrimSpace(d.mustDocker("image", "inspect", "--format", "{{.Id}}", "cli-built:1").stdout)
	if q := strings.TrimSpace(d.mustDocker("build", "-q", dir).stdout); q != id {
		t.Errorf("docker build -q printed %q, want %s", q, id)
	}
	iid := filepath.Join(t.TempDir(), "iid")
	d.mustDocker("build", "--iidfile", iid, dir)
	if b, _ := os.ReadFile(iid); string(b) != id {
		t.Errorf("--iidfile holds %q, want %s", b, id)
	}
	if rows := strings.Count(d.mustDocker("history", "-q", "cli-built:1").stdout, "\n"); rows != 6 {
		t.Errorf("docker history: %d rows, want 6", rows)
	}
	// -f outside the context (the CLI sends it as .dockerfile.<random>), and a build arg.
	outside := filepath.Join(t.TempDir(), "Other.Dockerfile")
	os.WriteFile(outside, []byte("FROM busybox\nARG X\nCOPY a.txt /\nRUN echo x=$X; cat /a.txt\n"), 0644)
	if out := d.mustDocker("build", "-f", outside, "--build-arg", "X=42", "--network", "none", dir).stdout; !strings.Contains(out, "x=42\na: first\n") {
		t.Errorf("-f outside the context with --build-arg:\n%s", out)
	}
	// .dockerignore: the CLI leaves the files out of what it sends.
	ig := d.mustDocker("build", "--network", "none", buildContext(t, "ignore")).stdout
	if !strings.Contains(ig, "./.dockerignore\n./Dockerfile\n./README.md\n./keep.txt\n./src/app.go\n") {
		t.Errorf("the context the CLI sent:\n%s", ig)
	}
	// A failing RUN: the CLI exits with its status.
	if r := d.docker("build", buildContext(t, "fail")); r.code != 42 || !strings.Contains(r.stderr, "returned a non-zero code: 42") {
		t.Errorf("a failing RUN through the CLI: %s", r)
	}
	// A context bigger than the daemon takes: refused, nothing kept.
	big := t.TempDir()
	writeFiles(t, big, map[string]string{"Dockerfile": "FROM busybox\n", "big": strings.Repeat("x", 5<<20)})
	if r := d.docker("build", big); r.code == 0 || !strings.Contains(r.stdout+r.stderr, "larger than 4194304 bytes") {
		t.Errorf("a 5 MiB context with a 4 MiB bound: %s", r)
	}
}

// TestBuildAPIHostile: POST /build with what no CLI sends: contexts that
// climb out or link out, BuildKit, a URL context, bad options. Each is
// refused with a status and a JSON message; the canary never changes.
func TestBuildAPIHostile(t *testing.T) {
	d := startDaemon(t)
	removeNewImages(t, d.bin)
	canary, unchanged := canaryDir(t)
	sock := strings.TrimPrefix(d.host, "unix://")
	post := func(query string, body []byte) (int, string) {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		req, _ := http.NewRequest("POST", "http://docker/v1.44/build?"+query, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-tar")
		req.Write(c)
		resp, err := http.ReadResponse(newReader(c), req)
		if err != nil {
			t.Fatalf("POST /build?%s: %v", query, err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	df := [2]string{"Dockerfile", "FROM busybox\nCOPY . /ctx\n"}
	for _, c := range []struct {
		name, query string
		tar         [][2]string
		code        int
		msg         string
	}{
		{"an entry climbing out", "", [][2]string{df, {"../../../../../.." + canary + "/file", "pwned\n"}}, 400, "the build context: refused"},
		{"a symlink, then a file through it", "", [][2]string{df, {"l", "->" + canary}, {"l/file", "pwned\n"}}, 400, "the build context: refused"},
		{"the Dockerfile a symlink out", "", [][2]string{{"Dockerfile", "->" + canary + "/file"}}, 400, "Cannot locate specified Dockerfile"},
		{"dockerfile= climbing out", "dockerfile=../../../../" + canary + "/file", [][2]string{df}, 400, "Cannot locate specified Dockerfile"},
		{"BuildKit", "version=2", [][2]string{df}, 501, "BuildKit"},
		{"a remote context", "remote=https://example.com/ctx.tar", nil, 501, "not from a URL"},
		{"bad buildargs", "buildargs=%7Bx", [][2]string{df}, 400, "buildargs"},
		{"a bad tag", "t=UPPER/Case", [][2]string{df}, 400, "invalid reference format"},
		{"build limits", "memory=1000000", [][2]string{df}, 501, "memory"},
		{"not a tarball", "", [][2]string{{"", ""}}, 400, "the build context"},
	} {
		body := tarOf(t, c.tar)
		if c.name == "not a tarball" {
			body = []byte(strings.Repeat("not a tar ", 100))
		}
		code, msg := post(c.query, body)
		unchanged(c.name)
		if code != c.code || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: got %d %s, want %d with %q", c.name, code, trimTo(msg, 300), c.code, c.msg)
		}
	}
}
