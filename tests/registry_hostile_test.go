//go:build linux

package tests

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/minidocker/build-your-own-docker/final/overlay"
)

// A registry written by a stranger: a Go test server that serves images
// made here, and can lie about them (a blob that is not what its digest
// says, a truncated one, a 500 midway, a manifest that is not the one
// asked for). Every lie must end the pull in one line, with nothing left
// in the store; a good pull from the same server must work after.

// fakeRegistry serves /v2/ from memory.
type fakeRegistry struct {
	srv       *httptest.Server
	mu        sync.Mutex
	blobs     map[string][]byte           // digest -> bytes
	manifests map[string]fakeManifest     // "name:ref" -> manifest
	lie       map[string]http.HandlerFunc // digest or "name:ref" -> what to do instead
	header    http.Header                 // extra headers on /v2/ (a hostile challenge)
}

type fakeManifest struct {
	mediaType string
	body      []byte
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	f := &fakeRegistry{blobs: map[string][]byte{}, manifests: map[string]fakeManifest{}, lie: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRegistry) host() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := strings.TrimPrefix(r.URL.Path, "/v2/")
	if r.URL.Path == "/v2/" {
		for k, v := range f.header {
			w.Header()[k] = v
		}
		if f.header != nil {
			w.WriteHeader(http.StatusUnauthorized)
		}
		return
	}
	if i := strings.Index(p, "/blobs/"); i >= 0 {
		d := p[i+len("/blobs/"):]
		if h := f.lie[d]; h != nil {
			h(w, r)
			return
		}
		b, ok := f.blobs[d]
		if !ok {
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
		return
	}
	if i := strings.Index(p, "/manifests/"); i >= 0 {
		key := p[:i] + ":" + p[i+len("/manifests/"):]
		if h := f.lie[key]; h != nil {
			h(w, r)
			return
		}
		m, ok := f.manifests[key]
		if !ok {
			http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", m.mediaType)
		w.Write(m.body)
		return
	}
	http.NotFound(w, r)
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// tarGz is a gzip-compressed layer of files (name -> content) and its diffID.
func tarGz(t *testing.T, files map[string]string) (blob []byte, diffID string) {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	zw.Close()
	return gz.Bytes(), digestOf(raw.Bytes())
}

// image publishes name:tag made of the busybox layer and the given layers;
// it returns the manifest (to tamper with) and the layers' digests.
func (f *fakeRegistry) image(t *testing.T, name, tag string, base []byte, baseDiff string, layers ...map[string]string) (manifest map[string]any, digests []string) {
	t.Helper()
	blobs, diffs := [][]byte{base}, []string{baseDiff}
	for _, l := range layers {
		b, d := tarGz(t, l)
		blobs, diffs = append(blobs, b), append(diffs, d)
	}
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "config": map[string]any{"Cmd": []string{"sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffs}})
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blobs[digestOf(cfg)] = cfg
	var descs []map[string]any
	for _, b := range blobs {
		f.blobs[digestOf(b)] = b
		digests = append(digests, digestOf(b))
		descs = append(descs, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digestOf(b), "size": len(b)})
	}
	manifest = map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digestOf(cfg), "size": len(cfg)}, "layers": descs}
	f.publish(name, tag, manifest)
	return manifest, digests
}

func (f *fakeRegistry) publish(name, tag string, manifest map[string]any) string {
	b, _ := json.Marshal(manifest)
	mt, _ := manifest["mediaType"].(string)
	f.manifests[name+":"+tag] = fakeManifest{mediaType: mt, body: b}
	f.manifests[name+":"+digestOf(b)] = fakeManifest{mediaType: mt, body: b}
	return digestOf(b)
}

// truncate sends half of b, announced whole, then drops the connection.
func truncate(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:len(b)/2])
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}
		}
	}
}

// TestRegistryHostile: each lie of a registry is one line, leaves the
// store as it was, and does not stop a good pull after it.
func TestRegistryHostile(t *testing.T) {
	s := newStore(t)
	f := newFakeRegistry(t)
	base, baseDiff := tarGzOfRootfs(t)
	f.image(t, "good", "1", base, baseDiff, map[string]string{"hello": "hi\n"})
	_, digests := f.image(t, "lies", "1", base, baseDiff, map[string]string{"a": "a\n"}, map[string]string{"b": "b\n"})
	// Another blob of the same length (so that only its digest tells).
	var other []byte
	for c := 'b'; c <= 'z' && len(other) != len(f.blobs[digests[1]]); c++ {
		other, _ = tarGz(t, map[string]string{"a": string(c) + "\n"})
	}
	if len(other) != len(f.blobs[digests[1]]) {
		t.Fatal("no same-length blob")
	}
	cases := []struct {
		name string
		set  func() string // sets the lie up, returns the reference to pull
		want string
	}{
		{"a blob that is not its digest", func() string {
			f.lie[digests[1]] = func(w http.ResponseWriter, r *http.Request) { w.Write(other) }
			return "lies:1"
		}, "digest mismatch"},
		{"a blob cut in half", func() string { f.lie[digests[1]] = truncate(f.blobs[digests[1]]); return "lies:1" }, "layer"},
		{"a 500 for the second layer", func() string {
			f.lie[digests[2]] = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }
			return "lies:1"
		}, "500"},
		{"a layer whose tarball is not the config's diffID", func() string {
			m := cloneManifest(f, "lies:1")
			b, _ := tarGz(t, map[string]string{"a": "a but other\n"})
			f.blobs[digestOf(b)] = b
			m["layers"].([]any)[1] = map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digestOf(b), "size": len(b)}
			f.publish("lies", "2", m)
			return "lies:2"
		}, "the image config says"},
		{"a manifest that is not the digest asked for", func() string {
			d := digestOf([]byte("another manifest"))
			f.manifests["lies:"+d] = f.manifests["lies:1"]
			return "lies@" + d
		}, "digest mismatch"},
		{"a Docker-Content-Digest header that lies", func() string {
			f.lie["lies:1"] = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Docker-Content-Digest", digestOf([]byte("x")))
				w.Write(f.manifests["lies:1"].body)
			}
			return "lies:1"
		}, "digest mismatch"},
		{"a manifest of 5 MiB", func() string {
			f.lie["lies:1"] = func(w http.ResponseWriter, r *http.Request) { w.Write(bytes.Repeat([]byte(" "), 5<<20)) }
			return "lies:1"
		}, "4194304"},
		{"a manifest that is not JSON", func() string {
			f.lie["lies:1"] = func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }
			return "lies:1"
		}, "not JSON"},
		{"a schema 1 manifest", func() string {
			f.publish("lies", "3", map[string]any{"schemaVersion": 1, "name": "lies", "fsLayers": []any{}})
			return "lies:3"
		}, "schema 1"},
		{"a digest that would be a path", func() string {
			m := cloneManifest(f, "lies:1")
			m["layers"].([]any)[1].(map[string]any)["digest"] = "sha256:../../../../etc/passwd"
			f.publish("lies", "4", m)
			return "lies:4"
		}, "not sha256:<64 hex digits>"},
		{"a foreign layer", func() string {
			m := cloneManifest(f, "lies:1")
			m["layers"].([]any)[1].(map[string]any)["urls"] = []string{"http://evil.example/layer"}
			f.publish("lies", "5", m)
			return "lies:5"
		}, "foreign layer"},
		{"more layers than overlayfs can stack", func() string {
			m := cloneManifest(f, "lies:1")
			var layers, diffs []any
			for i := 0; i < 600; i++ {
				layers = append(layers, m["layers"].([]any)[0])
				diffs = append(diffs, baseDiff)
			}
			cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": diffs}})
			f.blobs[digestOf(cfg)] = cfg
			m["layers"], m["config"] = layers, map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digestOf(cfg), "size": len(cfg)}
			f.publish("lies", "6", m)
			return "lies:6"
		}, "the image has 600 layers, more than the"},
		{"an artifact, not an image", func() string {
			m := cloneManifest(f, "lies:1")
			m["config"].(map[string]any)["mediaType"] = "application/vnd.cncf.helm.config.v1+json"
			f.publish("lies", "7", m)
			return "lies:7"
		}, "not an image config"},
		{"a token server that is not http", func() string {
			f.header = http.Header{"Www-Authenticate": {`Bearer realm="file:///etc/shadow",service="x"`}}
			return "lies:1"
		}, "not an http(s) URL"},
		{"a name that is a path", func() string { return "../../x" }, "invalid reference format"},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			before := s.listing()
			f.mu.Lock()
			ref := c.set()
			f.mu.Unlock()
			defer func() {
				f.mu.Lock()
				f.lie, f.header = map[string]http.HandlerFunc{}, nil
				f.mu.Unlock()
			}()
			r := s.run("pull", f.host()+"/"+ref)
			if r.code == 0 {
				t.Fatalf("pull succeeded: %s", r)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Errorf("want one line mentioning %q: %q", c.want, r.stderr)
			}
			if after := s.listing(); after != before {
				t.Errorf("the refused pull changed the store:\n before %s\n after  %s", before, after)
			}
		})
	}
	// After all that, the same server's good image pulls and runs.
	if r := s.must("run", "--rm", "--network", "none", f.host()+"/good:1", "cat", "/hello"); !strings.HasSuffix(r.stdout, "hi\n") {
		t.Errorf("a good pull after the bad ones: %s", r)
	}
	if r := s.must("run", "--rm", "--network", "none", f.host()+"/lies:1", "cat", "/a", "/b"); !strings.HasSuffix(r.stdout, "a\nb\n") {
		t.Errorf("the image the lies were told about, told the truth: %s", r)
	}
}

func cloneManifest(f *fakeRegistry, key string) map[string]any {
	var m map[string]any
	json.Unmarshal(f.manifests[key].body, &m)
	return m
}

// tarGzOfRootfs is the busybox rootfs as a gzip layer, and its diffID.
func tarGzOfRootfs(t *testing.T) ([]byte, string) {
	t.Helper()
	r := run(t, "tar", "-C", rootfs(t), "-cf", "-", ".")
	if r.code != 0 {
		t.Fatalf("tar: %s", r.stderr)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(r.stdout))
	zw.Close()
	return gz.Bytes(), digestOf([]byte(r.stdout))
}

// TestRegistryManyLayers: an image of 60 layers runs where the kernel can
// stack them in one mount (Linux 6.8+: fsconfig "lowerdir+", up to 500);
// on an older kernel, mount(2)'s one page of options holds about 40 with
// minidocker's paths, and the pull says so, with both numbers.
func TestRegistryManyLayers(t *testing.T) {
	s := newStore(t)
	f := newFakeRegistry(t)
	base, baseDiff := tarGzOfRootfs(t)
	var layers []map[string]string
	for i := 0; i < 59; i++ {
		layers = append(layers, map[string]string{fmt.Sprintf("layers/%02d", i): fmt.Sprint(i)})
	}
	f.image(t, "many", "1", base, baseDiff, layers...)
	ref := f.host() + "/many:1"
	r := s.run("run", "--rm", "--network", "none", ref, "sh", "-c", "ls /layers | wc -l")
	if overlay.LowerdirPlus() {
		if r.code != 0 || !strings.HasSuffix(r.stdout, "59\n") {
			t.Errorf("a 60-layer image on a kernel with lowerdir+: %s", r)
		}
		return
	}
	if r.code == 0 || !strings.Contains(r.stderr, "the image has 60 layers, more than the") {
		t.Errorf("a 60-layer image on a kernel without lowerdir+: want the pull refused naming 60: %s", r)
	}
}
