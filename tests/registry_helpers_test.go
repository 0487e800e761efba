//go:build linux

package tests

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Helpers for the registry tests (chapter 11): a store of the test's own,
// Debian's docker-registry on a loopback port, and images built with umoci
// and pushed with skopeo, so that what minidocker pulls was made by other
// tools than minidocker.

// store is a minidocker state root of one test: its images, layers and
// blobs are the test's alone, so what it counts is exact.
type store struct {
	t    *testing.T
	md   string
	root string
}

func newStore(t *testing.T) *store {
	t.Helper()
	md := minidockerTest(t)
	s := &store{t: t, md: md, root: t.TempDir()}
	s.must("images", "-q") // the busybox image, made on first use, is part of the baseline
	return s
}

func (s *store) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(s.md, args...)
	cmd.Env = append(os.Environ(), "MINIDOCKER_ROOT="+s.root, "DOCKER_CONFIG="+filepath.Join(s.root, "docker-config"))
	return cmd
}

func (s *store) run(args ...string) result {
	s.t.Helper()
	return runCmd(s.t, s.cmd(args...))
}

func (s *store) must(args ...string) result {
	s.t.Helper()
	r := s.run(args...)
	if r.code != 0 {
		s.t.Fatalf("minidocker %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// listing is every name in the image store: image records, layer
// directories and records, blobs, and anything half-made (blobs/tmp,
// layers/.tmp-*): "nothing left" compares two listings.
func (s *store) listing() string {
	var names []string
	for _, d := range []string{"images", "layers", "blobs/sha256", "blobs/tmp"} {
		for _, n := range listDir(filepath.Join(s.root, d)) {
			names = append(names, d+"/"+n)
		}
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// layerDirs counts the unpacked layers.
func (s *store) layerDirs() int {
	n := 0
	for _, e := range listDir(filepath.Join(s.root, "layers")) {
		if !strings.HasSuffix(e, ".json") {
			n++
		}
	}
	return n
}

// registry is Debian's docker-registry (distribution 2.8), on a free port
// of 127.0.0.1, with its storage in the test's directory; with a password
// file, it asks for Basic auth (user alice, password s3cret).
type registry struct {
	host string
}

const regUser, regPass = "alice", "s3cret"

func startRegistry(t *testing.T, basicAuth bool) *registry {
	t.Helper()
	bin := tool(t, "docker-registry")
	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%d\n  secret: test\n", dir, port)
	if basicAuth {
		h, err := bcrypt.GenerateFromPassword([]byte(regPass), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(regUser+":"+string(h)+"\n"), 0600)
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: test\n    path: %s/htpasswd\n", dir)
	}
	os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0600)
	var log bytes.Buffer
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() { // its errors, without the 404s of every HEAD of a blob it lacks
			var lines []string
			for _, l := range strings.Split(log.String(), "\n") {
				if !strings.Contains(l, "blob unknown") {
					lines = append(lines, l)
				}
			}
			t.Logf("docker-registry log:\n%s", strings.Join(lines, "\n"))
		}
	})
	r := &registry{host: fmt.Sprintf("127.0.0.1:%d", port)}
	poll(t, 10*time.Second, "docker-registry on "+r.host, func() bool {
		select {
		case <-exited:
			t.Fatalf("docker-registry exited: %s", log.String())
		default:
		}
		resp, err := http.Get("http://" + r.host + "/v2/")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	return r
}

// layout is an OCI image layout that umoci builds images in.
type layout struct {
	t   *testing.T
	dir string // the layout itself is dir/oci
}

func newLayout(t *testing.T) *layout {
	t.Helper()
	l := &layout{t: t, dir: t.TempDir()}
	l.umoci("init", "--layout", l.oci())
	return l
}

func (l *layout) oci() string { return filepath.Join(l.dir, "oci") }

func (l *layout) umoci(args ...string) {
	l.t.Helper()
	if r := run(l.t, tool(l.t, "umoci"), args...); r.code != 0 {
		l.t.Fatalf("umoci %s: %s", strings.Join(args, " "), r)
	}
}

// image makes tag of the layers (tarballs, bottom first), each with a
// history entry "ADD <name>".
func (l *layout) image(tag string, layers ...string) {
	l.t.Helper()
	l.umoci("new", "--image", l.oci()+":"+tag)
	for _, f := range layers {
		l.umoci("raw", "add-layer", "--image", l.oci()+":"+tag, "--history.created_by", "ADD "+filepath.Base(f), f)
	}
}

// config changes tag's config (umoci config flags).
func (l *layout) config(tag string, args ...string) {
	l.t.Helper()
	l.umoci(append([]string{"config", "--image", l.oci() + ":" + tag}, args...)...)
}

// index adds a multi-platform index named tag of the layout's images
// (arch -> their tags), as `docker buildx --platform` would push.
func (l *layout) index(tag string, images map[string]string) {
	l.t.Helper()
	read := func(p string, v any) {
		b, err := os.ReadFile(p)
		if err == nil {
			err = json.Unmarshal(b, v)
		}
		if err != nil {
			l.t.Fatal(err)
		}
	}
	type desc struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Platform    map[string]string `json:"platform,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	var ix struct {
		SchemaVersion int    `json:"schemaVersion"`
		Manifests     []desc `json:"manifests"`
	}
	read(filepath.Join(l.oci(), "index.json"), &ix)
	sub := struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Manifests     []desc `json:"manifests"`
	}{2, "application/vnd.oci.image.index.v1+json", nil}
	archs := []string{}
	for a := range images {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	for _, arch := range archs {
		for _, m := range ix.Manifests {
			if m.Annotations["org.opencontainers.image.ref.name"] == images[arch] {
				m.Annotations, m.Platform = nil, map[string]string{"os": "linux", "architecture": arch}
				sub.Manifests = append(sub.Manifests, m)
			}
		}
	}
	b, _ := json.Marshal(sub)
	sum := sha256.Sum256(b)
	os.WriteFile(filepath.Join(l.oci(), "blobs", "sha256", hex.EncodeToString(sum[:])), b, 0644)
	ix.Manifests = append(ix.Manifests, desc{MediaType: sub.MediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(b)),
		Annotations: map[string]string{"org.opencontainers.image.ref.name": tag}})
	b, _ = json.Marshal(ix)
	os.WriteFile(filepath.Join(l.oci(), "index.json"), b, 0644)
}

// push copies tag to host/ref with skopeo (extra: --all, --format v2s2).
func (l *layout) push(tag, dest string, extra ...string) {
	l.t.Helper()
	args := append([]string{"copy", "-q", "--dest-tls-verify=false"}, extra...)
	args = append(args, "oci:"+l.oci()+":"+tag, "docker://"+dest)
	if r := run(l.t, tool(l.t, "skopeo"), args...); r.code != 0 {
		l.t.Fatalf("skopeo %s: %s", strings.Join(args, " "), r)
	}
}

// skopeoInspect is `skopeo inspect` of an image in a registry.
func skopeoInspect(t *testing.T, ref string, raw bool) map[string]any {
	t.Helper()
	args := []string{"inspect", "--tls-verify=false", "docker://" + ref}
	if raw {
		args = append(args[:1], "--raw", args[1], args[2])
	}
	r := run(t, tool(t, "skopeo"), args...)
	if r.code != 0 {
		t.Fatalf("skopeo %s: %s", strings.Join(args, " "), r)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("skopeo inspect: %v: %s", err, r.stdout)
	}
	return m
}

// entry is one member of a layer tarball; a whiteout is an empty file
// named .wh.NAME, an opaque directory has .wh..wh..opq.
type entry struct {
	name, body string
	dir        bool
	link       string // a symlink's target
}

// layerTar writes a tarball of the entries into dir/name and returns its path.
func layerTar(t *testing.T, dir, name string, entries ...entry) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0644, Size: int64(len(e.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}
		switch {
		case e.dir:
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0755, 0
		case e.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0644); err != nil {
		t.Fatal(err)
	}
	return p
}

// busyboxTar is the busybox rootfs as a layer tarball.
func busyboxTar(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "busybox.tar")
	if r := run(t, "tar", "-C", rootfs(t), "-cf", p, "."); r.code != 0 {
		t.Fatalf("tar: %s", r)
	}
	return p
}

// testImage builds the image most registry tests pull, three layers:
//
//	busybox.tar   the busybox rootfs
//	add.tar       /etc/victim, /data/olddir/{a,b}
//	del.tar       .wh.victim (a deleted file) and an opaque /data/olddir
//	              with only "new" (a directory replaced)
//
// and a config with every field a container takes from its image.
func testImage(t *testing.T, l *layout, tag string) {
	t.Helper()
	l.image(tag, busyboxTar(t, l.dir),
		layerTar(t, l.dir, "add.tar", entry{name: "etc/", dir: true}, entry{name: "etc/victim", body: "doomed\n"},
			entry{name: "data/", dir: true}, entry{name: "data/olddir/", dir: true},
			entry{name: "data/olddir/a", body: "a\n"}, entry{name: "data/olddir/b", body: "b\n"}),
		layerTar(t, l.dir, "del.tar", entry{name: "etc/", dir: true}, entry{name: "etc/.wh.victim"},
			entry{name: "data/", dir: true}, entry{name: "data/olddir/", dir: true},
			entry{name: "data/olddir/.wh..wh..opq"}, entry{name: "data/olddir/new", body: "new\n"}))
	l.config(tag, "--config.entrypoint", "/bin/echo", "--config.cmd", "from-the-image", "--config.env", "FOO=bar",
		"--config.workingdir", "/data", "--config.label", "course=minidocker", "--config.exposedports", "8080/tcp",
		"--config.stopsignal", "SIGUSR1")
}
