//go:build linux

package tests

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// dockerd is Debian's docker.io 20.10, started for one test on its own
// socket, data root and exec root, without networking of its own, and
// stopped (with its containerd) when the test ends; args are more of
// dockerd's flags (--add-runtime).
type dockerd struct {
	t    *testing.T
	host string
	home string
}

func startDockerd(t *testing.T, args ...string) *dockerd {
	t.Helper()
	bin := tool(t, "dockerd")
	dir, err := os.MkdirTemp("", "md-dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	d := &dockerd{t: t, host: "unix://" + filepath.Join(dir, "docker.sock"), home: filepath.Join(dir, "home")}
	os.MkdirAll(d.home, 0700)
	var log bytes.Buffer
	cmd := exec.Command(bin, "-H", d.host, "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"), "--iptables=false", "--ip-masq=false", "--bridge=none", "--log-level=error")
	cmd.Args = append(cmd.Args, args...)
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its containerd in the same group, killed with it
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // a containerd that outlived it
		if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir) {
					syscall.Unmount(f[4], syscall.MNT_DETACH)
				}
			}
		}
		if t.Failed() {
			t.Logf("dockerd log:\n%s", log.String())
		}
		os.RemoveAll(dir)
	})
	poll(t, 60*time.Second, "dockerd's socket", func() bool { return d.docker("version").code == 0 })
	return d
}

func (d *dockerd) docker(args ...string) result {
	d.t.Helper()
	cmd := exec.Command(tool(d.t, "docker"), args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.host, "HOME="+d.home, "DOCKER_CONFIG="+filepath.Join(d.home, ".docker"), "DOCKER_CLI_HINTS=false")
	return runCmd(d.t, cmd)
}

func (d *dockerd) must(args ...string) result {
	d.t.Helper()
	r := d.docker(args...)
	if r.code != 0 {
		d.t.Fatalf("docker (dockerd) %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// TestRegistrySaveLoad: `save` writes what dockerd loads, and `load` reads
// what dockerd saves (the same image IDs on both sides: they are config
// digests); skopeo reads our tarball and writes one we read; an OCI layout
// tarball (umoci's) loads too.
func TestRegistrySaveLoad(t *testing.T) {
	s := newStore(t)
	reg := startRegistry(t, false)
	l := newLayout(t)
	testImage(t, l, "bb")
	l.push("bb", reg.host+"/bb:1")
	ref := reg.host + "/bb:1"
	s.must("pull", ref)
	s.must("run", "--name", "saver", "--network", "none", "busybox", "sh", "-c", "echo made-here > /here")
	defer s.run("rm", "-f", "saver")
	s.must("commit", "-c", `CMD ["cat", "/here"]`, "saver", "local/made:1")
	dir := t.TempDir()
	ours := filepath.Join(dir, "ours.tar")
	s.must("save", "-o", ours, ref, "local/made:1")

	d := startDockerd(t)
	if r := d.must("load", "-i", ours); !strings.Contains(r.stdout, "Loaded image: "+ref) || !strings.Contains(r.stdout, "Loaded image: local/made:1") {
		t.Errorf("dockerd's load of our tarball: %s", r)
	}
	if r := d.must("run", "--rm", "--network", "none", "--entrypoint", "cat", ref, "/data/olddir/new"); r.stdout != "new\n" {
		t.Errorf("dockerd runs our saved image: %s", r)
	}
	if r := d.must("run", "--rm", "--network", "none", "local/made:1"); r.stdout != "made-here\n" {
		t.Errorf("dockerd runs our committed image: %s", r)
	}
	ourID := strings.TrimSpace(s.must("inspect", "--type", "image", "-f", "{{.Id}}", ref).stdout)
	if theirID := strings.TrimSpace(d.must("image", "inspect", "-f", "{{.Id}}", ref).stdout); theirID != ourID || ourID == "" {
		t.Errorf("image ID here %q, in dockerd %q: both are the config's digest", ourID, theirID)
	}
	theirs := filepath.Join(dir, "theirs.tar")
	d.must("save", "-o", theirs, ref, "local/made:1")
	s2 := newStore(t)
	if r := s2.must("load", "-i", theirs); !strings.Contains(r.stdout, "Loaded image: "+ref) {
		t.Errorf("our load of dockerd's tarball: %s", r)
	}
	if r := s2.must("run", "--rm", "--network", "none", ref); r.stdout != "from-the-image\n" {
		t.Errorf("run of the image dockerd saved: %s", r)
	}
	if r := s2.must("run", "--rm", "--network", "none", "local/made:1"); r.stdout != "made-here\n" {
		t.Errorf("run of the committed image, there and back: %s", r)
	}

	// skopeo reads our save of one image, and writes a docker-archive we load.
	one := filepath.Join(dir, "one.tar")
	s.must("save", "-o", one, ref)
	sk := tool(t, "skopeo")
	if r := run(t, sk, "copy", "-q", "docker-archive:"+one, "oci:"+filepath.Join(dir, "from-ours")+":x"); r.code != 0 {
		t.Errorf("skopeo reads our tarball: %s", r)
	}
	skTar := filepath.Join(dir, "skopeo.tar")
	if r := run(t, sk, "copy", "-q", "oci:"+l.oci()+":bb", "docker-archive:"+skTar+":sk/bb:1"); r.code != 0 {
		t.Fatalf("skopeo writes a docker-archive: %s", r)
	}
	s3 := newStore(t)
	s3.must("load", "-i", skTar)
	if r := s3.must("run", "--rm", "--network", "none", "sk/bb:1"); r.stdout != "from-the-image\n" {
		t.Errorf("run of skopeo's docker-archive: %s", r)
	}
	// An OCI image layout as a tarball: its image has no repository name.
	layoutTar := filepath.Join(dir, "layout.tar")
	if r := run(t, "tar", "-C", l.oci(), "-cf", layoutTar, "."); r.code != 0 {
		t.Fatal(r)
	}
	r := s3.must("load", "-i", layoutTar)
	m := regexp.MustCompile(`Loaded image ID: (sha256:[0-9a-f]{64})`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("load of an OCI layout: %s", r)
	}
	if r := s3.must("run", "--rm", "--network", "none", m[1][7:19]); r.stdout != "from-the-image\n" {
		t.Errorf("run by ID of the loaded layout's image: %s", r)
	}
}

// TestRegistryLoadHostile: a saved tarball is a stranger's. Paths in its
// manifests resolve inside it, sizes are bounded, digests are checked;
// each refusal is one line, and nothing is left in the store or outside.
func TestRegistryLoadHostile(t *testing.T) {
	s := newStore(t)
	canary := hostMarker(t)
	os.WriteFile(canary, []byte("untouched"), 0644)
	layer, diff := tarGz(t, map[string]string{"x": "x\n"})
	cfg := func(diffs ...string) []byte {
		b, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": diffs}})
		return b
	}
	good := cfg(diff)
	type member struct {
		name, body, link string
		hard             bool
	}
	manifest := func(config string, tags []string, layers ...string) member {
		b, _ := json.Marshal([]map[string]any{{"Config": config, "RepoTags": tags, "Layers": layers}})
		return member{name: "manifest.json", body: string(b)}
	}
	cases := []struct {
		name    string
		members []member
		want    string
	}{
		{"config outside the tarball", []member{manifest("../../../../.."+canary, nil, "l.tar"), {name: "l.tar", body: string(layer)}}, "no such file"},
		{"config a symlink to the host's file", []member{{name: "c.json", link: canary}, manifest("c.json", nil, "l.tar"), {name: "l.tar", body: string(layer)}}, "no such file"},
		{"layer a symlink to the host's file", []member{{name: "c.json", body: string(good)}, {name: "l.tar", link: canary}, manifest("c.json", nil, "l.tar")}, "no such file"},
		{"layer a hard link to the host's file", []member{{name: "c.json", body: string(good)}, {name: "l.tar", link: canary, hard: true}, manifest("c.json", nil, "l.tar")}, "l.tar"},
		{"a member outside", []member{{name: "../../escape", body: "x"}, manifest("c.json", nil)}, `entry "../../escape"`},
		{"a manifest.json of 5 MiB", []member{{name: "manifest.json", body: strings.Repeat(" ", 5<<20)}}, "larger than"},
		{"a layer that is not its diffID", []member{{name: "c.json", body: string(cfg("sha256:" + strings.Repeat("0", 64)))}, manifest("c.json", nil, "l.tar"), {name: "l.tar", body: string(layer)}}, "the image config says"},
		{"a name that is a path", []member{{name: "c.json", body: string(good)}, manifest("c.json", []string{"../../x:1"}, "l.tar"), {name: "l.tar", body: string(layer)}}, "invalid reference format"},
		{"fewer layers than the config", []member{{name: "c.json", body: string(cfg(diff, diff))}, manifest("c.json", nil, "l.tar"), {name: "l.tar", body: string(layer)}}, "lists 1 layers, the config 2"},
		{"an index.json digest that is a path", []member{{name: "index.json", body: `{"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../x"}]}`}}, "not sha256:<64 hex digits>"},
		{"neither manifest.json nor index.json", []member{{name: "hello", body: "x"}}, "not a `docker save` tarball"},
	}
	dir := t.TempDir()
	for i, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, m := range c.members {
				h := &tar.Header{Name: m.name, Mode: 0644, Size: int64(len(m.body)), Typeflag: tar.TypeReg}
				if m.link != "" {
					h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, m.link, 0
					if m.hard {
						h.Typeflag = tar.TypeLink
					}
				}
				tw.WriteHeader(h)
				tw.Write([]byte(m.body))
			}
			tw.Close()
			p := filepath.Join(dir, fmt.Sprintf("case%d.tar", i))
			os.WriteFile(p, buf.Bytes(), 0644)
			before := s.listing()
			r := s.run("load", "-i", p)
			if r.code == 0 {
				t.Fatalf("load succeeded: %s", r)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Errorf("want one line mentioning %q: %q", c.want, r.stderr)
			}
			if after := s.listing(); after != before {
				t.Errorf("the refused load changed the store:\n before %s\n after  %s", before, after)
			}
			if b, _ := os.ReadFile(canary); string(b) != "untouched" {
				t.Fatalf("the host's file was changed: %q", b)
			}
		})
	}
}

// TestRegistryAuth: a registry behind a token server (Docker Hub's Bearer
// flow: 401 with a realm, a token for a scope from the realm with the
// user's password, the token on every request), in front of Debian's
// docker-registry; anonymous pulls are refused, a wrong password too, and
// with `login` pull and push work. `login` keeps the password in
// config.json, 0600.
func TestRegistryAuth(t *testing.T) {
	s := newStore(t)
	backend := startRegistry(t, false)
	var mu sync.Mutex
	var scopes []string
	tokens := map[string]bool{}
	front := httptest.NewUnstartedServer(nil)
	target, _ := url.Parse("http://" + backend.host)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/token" {
			user, pass, ok := r.BasicAuth()
			if !ok || user != regUser || pass != regPass {
				http.Error(w, `{"details":"incorrect username or password"}`, http.StatusUnauthorized)
				return
			}
			scopes = append(scopes, r.URL.Query().Get("scope"))
			tok := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d-%s", len(tokens), r.URL.Query().Get("scope"))))
			tokens[tok] = true
			json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 300})
			return
		}
		if h := r.Header.Get("Authorization"); !strings.HasPrefix(h, "Bearer ") || !tokens[strings.TrimPrefix(h, "Bearer ")] {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test-registry"`, r.Host))
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		mu.Unlock()
		proxy.ServeHTTP(w, r)
		mu.Lock()
	})
	front.Start()
	defer front.Close()
	host := strings.TrimPrefix(front.URL, "http://")
	ref := host + "/private/bb:1"
	s.must("tag", "busybox", ref)
	if r := s.run("push", ref); r.code == 0 || !strings.Contains(r.stderr, "denied") {
		t.Errorf("push without login: %s", r)
	}
	if r := s.run("login", "-u", regUser, "-p", "wrong", host); r.code == 0 {
		t.Errorf("login with a wrong password: %s", r)
	} else {
		oneLine(t, r, "denied")
	}
	s.must("login", "-u", regUser, "-p", regPass, host)
	cfg := filepath.Join(s.root, "docker-config", "config.json")
	if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0600 {
		t.Errorf("config.json: %v %v, want mode 0600", fi, err)
	}
	s.must("push", ref)
	s.must("rmi", ref)
	if r := s.must("run", "--rm", "--network", "none", ref, "echo", "pulled with a token"); !strings.HasSuffix(r.stdout, "pulled with a token\n") {
		t.Errorf("run of the pushed image: %s", r)
	}
	mu.Lock()
	got := strings.Join(scopes, " ")
	mu.Unlock()
	if !strings.Contains(got, "repository:private/bb:pull,push") || !strings.Contains(got, "repository:private/bb:pull") {
		t.Errorf("token scopes asked for: %s", got)
	}
	s.must("logout", host)
	s2 := newStore(t)
	if r := s2.run("pull", ref); r.code == 0 {
		t.Errorf("pull without credentials: %s", r)
	} else {
		oneLine(t, r, "docker login")
	}
	s.must("rmi", ref)
}

// TestDaemonRegistry: the docker CLI drives it all through minidocker's
// daemon: login to a registry with Basic auth, pull (and run's pull of a
// missing image), history, push, save and load.
func TestDaemonRegistry(t *testing.T) {
	reg := startRegistry(t, true)
	l := newLayout(t)
	testImage(t, l, "bb")
	if r := run(t, tool(t, "skopeo"), "copy", "-q", "--dest-tls-verify=false", "--dest-creds", regUser+":"+regPass,
		"oci:"+l.oci()+":bb", "docker://"+reg.host+"/bb:1"); r.code != 0 {
		t.Fatalf("skopeo push: %s", r)
	}
	d := startDaemon(t)
	ref := reg.host + "/bb:1"
	pushed := reg.host + "/from-docker:1"
	t.Cleanup(func() { exec.Command(d.bin, "rmi", ref, pushed).Run() })
	if r := d.docker("pull", ref); r.code == 0 || !strings.Contains(r.stderr, "docker login") {
		t.Errorf("docker pull before login: %s", r)
	}
	cmd := d.dockerCmd("login", "-u", regUser, "--password-stdin", reg.host)
	cmd.Stdin = strings.NewReader(regPass + "\n")
	if r := runCmd(t, cmd); r.code != 0 || !strings.Contains(r.stdout, "Login Succeeded") {
		t.Fatalf("docker login: %s", r)
	}
	r := d.mustDocker("pull", ref)
	if strings.Count(r.stdout, "Pull complete") != 3 || !strings.Contains(r.stdout, "Digest: sha256:") || !strings.HasSuffix(r.stdout, ref+"\n") {
		t.Errorf("docker pull: %s", r)
	}
	if r := d.mustDocker("run", "--rm", "--network", "none", ref); r.stdout != "from-the-image\n" {
		t.Errorf("docker run of the pulled image: %s", r)
	}
	if r := d.mustDocker("image", "inspect", "-f", "{{.Config.WorkingDir}} {{.Config.Env}}", ref); !strings.Contains(r.stdout, "/data [FOO=bar") {
		t.Errorf("docker image inspect: %s", r)
	}
	if r := d.mustDocker("history", ref); !strings.Contains(r.stdout, "ADD del.tar") {
		t.Errorf("docker history: %s", r)
	}
	d.mustDocker("rmi", ref)
	r = d.mustDocker("run", "--rm", "--network", "none", ref, "ok")
	if r.stdout != "ok\n" || !strings.Contains(r.stderr, "Unable to find image '"+ref+"' locally") {
		t.Errorf("docker run of a missing image pulls it: %s", r)
	}
	d.mustDocker("tag", "busybox", pushed)
	r = d.mustDocker("push", pushed)
	m := regexp.MustCompile(`1: digest: (sha256:[0-9a-f]{64})`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("docker push: %s", r)
	}
	sk := run(t, tool(t, "skopeo"), "inspect", "--tls-verify=false", "--creds", regUser+":"+regPass, "--format", "{{.Digest}}", "docker://"+pushed)
	if strings.TrimSpace(sk.stdout) != m[1] {
		t.Errorf("skopeo sees %s, docker push said %s", sk, m[1])
	}
	tarball := filepath.Join(t.TempDir(), "saved.tar")
	d.mustDocker("save", "-o", tarball, ref)
	d.mustDocker("rmi", ref)
	if r := d.mustDocker("load", "-i", tarball); !strings.Contains(r.stdout, "Loaded image: "+ref) {
		t.Errorf("docker load: %s", r)
	}
	if r := d.mustDocker("run", "--rm", "--network", "none", ref); r.stdout != "from-the-image\n" {
		t.Errorf("docker run of the loaded image: %s", r)
	}
}
