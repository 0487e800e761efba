//go:build linux

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRegistryPullRun: an image made by umoci and pushed by skopeo to
// Debian's docker-registry is pulled by minidocker: the manifest and the
// config give the digests, the three layers become lowerdirs in which the
// deleted file stays deleted and the replaced directory shows only its new
// content; the container runs what the image's config says.
func TestRegistryPullRun(t *testing.T) {
	s := newStore(t)
	reg := startRegistry(t, false)
	l := newLayout(t)
	testImage(t, l, "bb")
	l.push("bb", reg.host+"/bb:1")
	l.push("bb", reg.host+"/bb:v2s2", "--format", "v2s2")
	want := skopeoInspect(t, reg.host+"/bb:1", false)["Digest"].(string)
	ref := reg.host + "/bb:1"

	r := s.must("pull", ref)
	for _, line := range []string{"1: Pulling from bb", "Digest: " + want, "Status: Downloaded newer image for " + ref} {
		if !strings.Contains(r.stdout, line+"\n") {
			t.Errorf("pull: no line %q in %s", line, r)
		}
	}
	if n := strings.Count(r.stdout, ": Pull complete"); n != 3 || !strings.HasSuffix(r.stdout, "\n"+ref+"\n") {
		t.Errorf("pull: want 3 layers pulled and the full name last: %s", r)
	}
	// The config, honoured: ENTRYPOINT + CMD, WORKDIR, ENV; the layers:
	// the whiteout hides etc/victim, the opaque directory hides a and b.
	if r := s.must("run", "--rm", "--network", "none", ref); r.stdout != "from-the-image\n" {
		t.Errorf("run with the image's entrypoint and cmd: %s", r)
	}
	if r := s.must("run", "--rm", "--network", "none", ref, "args", "replace", "cmd"); r.stdout != "args replace cmd\n" {
		t.Errorf("run with arguments (they replace CMD, not ENTRYPOINT): %s", r)
	}
	r = s.must("run", "--rm", "--network", "none", "--entrypoint", "sh", ref, "-c",
		`echo "$PWD $FOO"; ls /data/olddir; test -e /etc/victim && echo victim-visible; cat /data/olddir/new`)
	if r.stdout != "/data bar\nnew\nnew\n" {
		t.Errorf("the layers stacked (whiteout, opaque dir) and WORKDIR/ENV: got %q", r.stdout)
	}
	var ins []map[string]any
	json.Unmarshal([]byte(s.must("inspect", "--type", "image", ref).stdout), &ins)
	if len(ins) != 1 {
		t.Fatalf("image inspect: %v", ins)
	}
	im := ins[0]
	if jget(im, "Config.Labels.course") != "minidocker" || jget(im, "Config.StopSignal") != "SIGUSR1" ||
		jget(im, "Config.ExposedPorts.8080/tcp") == nil || !strings.Contains(toJSON(im["RepoDigests"]), reg.host+"/bb@"+want) {
		t.Errorf("image inspect: %s", toJSON(im))
	}
	if r := s.must("images", "--digests"); !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(reg.host+"/bb") + `\s+1\s+` + want + `\s`).MatchString(r.stdout) {
		t.Errorf("images --digests: %s", r)
	}
	// Outside, the layers are on disk in overlayfs's own form: the
	// whiteout a 0/0 character device, the opaque directory an xattr.
	layers, _ := jget(im, "RootFS.Layers").([]any)
	if len(layers) != 3 {
		t.Fatalf("RootFS.Layers: %v", layers)
	}
	top := filepath.Join(s.root, "layers", strings.TrimPrefix(layers[2].(string), "sha256:"))
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(top, "etc/victim"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("the whiteout on disk: %v, mode %o, rdev %d", err, st.Mode, st.Rdev)
	}
	buf := make([]byte, 8)
	if n, err := unix.Lgetxattr(filepath.Join(top, "data/olddir"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("the opaque directory on disk: %v %q", err, buf[:n])
	}
	h := s.must("history", ref).stdout
	for _, step := range []string{"ADD busybox.tar", "ADD add.tar", "ADD del.tar", "umoci config"} {
		if !strings.Contains(h, step) {
			t.Errorf("history lacks %q:\n%s", step, h)
		}
	}
	// STOPSIGNAL: stop sends SIGUSR1, which the command traps.
	id := strings.TrimSpace(s.must("run", "-d", "--network", "none", "--entrypoint", "sh", ref, "-c",
		`trap "echo got USR1; exit 0" USR1; echo ready; while :; do sleep 0.1; done`).stdout)
	defer s.run("rm", "-f", id)
	poll(t, 10e9, "the container's first line", func() bool { return strings.Contains(s.run("logs", id).stdout, "ready") })
	s.must("stop", id)
	if r := s.must("logs", id); !strings.Contains(r.stdout, "got USR1") {
		t.Errorf("stop with the image's STOPSIGNAL: %s", r)
	}
	s.must("rm", id)
	// The same image pulled again: nothing to fetch. In Docker's schema 2
	// format (skopeo --format v2s2), the same layers: nothing to fetch either.
	if r := s.must("pull", ref); !strings.Contains(r.stdout, "Status: Image is up to date for "+ref) {
		t.Errorf("pull again: %s", r)
	}
	before := s.layerDirs()
	r = s.must("pull", reg.host+"/bb:v2s2")
	if strings.Count(r.stdout, "Already exists") != 3 || s.layerDirs() != before {
		t.Errorf("pull of the schema 2 copy: want its 3 layers found in the store: %s", r)
	}
	if r := s.must("run", "--rm", "--network", "none", reg.host+"/bb:v2s2"); r.stdout != "from-the-image\n" {
		t.Errorf("run of the schema 2 copy: %s", r)
	}
}

// parseSize reads what decSize prints: 1.98MB, 512B, 3.1kB.
func parseSize(t *testing.T, s string) float64 {
	t.Helper()
	m := regexp.MustCompile(`^([0-9.]+)([kMG]?)B$`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("not a size: %q", s)
	}
	var f float64
	fmt.Sscan(m[1], &f)
	return f * map[string]float64{"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[m[2]]
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestRegistryMultiPlatform: one name, an index of two images; the pull
// picks this machine's, --platform another's, and an absent platform is
// one line naming the ones there are.
func TestRegistryMultiPlatform(t *testing.T) {
	s := newStore(t)
	reg := startRegistry(t, false)
	l := newLayout(t)
	base := busyboxTar(t, l.dir)
	for _, arch := range []string{"amd64", "arm64"} {
		l.image(arch, base, layerTar(t, l.dir, arch+".tar", entry{name: "platform", body: arch + "\n"}))
		l.config(arch, "--architecture", arch, "--config.cmd", "sh")
	}
	l.index("multi", map[string]string{"amd64": "amd64", "arm64": "arm64"})
	l.push("multi", reg.host+"/multi:1", "--all")
	ref := reg.host + "/multi:1"
	if runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" {
		if r := s.must("run", "--rm", "--network", "none", ref, "cat", "/platform"); !strings.HasSuffix(r.stdout, runtime.GOARCH+"\n") {
			t.Errorf("the host's platform from the index: %s", r)
		}
	}
	other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[runtime.GOARCH]
	if other == "" {
		other = "arm64"
	}
	if r := s.must("run", "--rm", "--network", "none", "--pull", "always", "--platform", "linux/"+other, ref, "cat", "/platform"); !strings.HasSuffix(r.stdout, other+"\n") {
		t.Errorf("--platform linux/%s: %s", other, r)
	}
	before := s.listing()
	r := s.run("pull", "--platform", "linux/s390x", ref)
	if r.code == 0 {
		t.Fatalf("pull of a platform the index lacks: %s", r)
	}
	oneLine(t, r, "no matching manifest for linux/s390x in the manifest list entries (it has: linux/amd64, linux/arm64)")
	if after := s.listing(); after != before {
		t.Errorf("a refused pull changed the store: %q -> %q", before, after)
	}
}

// TestRegistrySharedLayers: two images on one base: its layers are
// unpacked once; rmi of one keeps the other whole and runnable; rmi of the
// other leaves the store as it was.
func TestRegistrySharedLayers(t *testing.T) {
	s := newStore(t)
	reg := startRegistry(t, false)
	l := newLayout(t)
	testImage(t, l, "one")
	testImage(t, l, "two")
	l.umoci("raw", "add-layer", "--image", l.oci()+":two", layerTar(t, l.dir, "more.tar", entry{name: "more", body: "more\n"}))
	l.push("one", reg.host+"/app:1")
	l.push("two", reg.host+"/app:2")
	empty := s.listing()
	base := s.layerDirs()
	s.must("pull", reg.host+"/app:1")
	if r := s.must("pull", reg.host+"/app:2"); strings.Count(r.stdout, "Already exists") != 3 || strings.Count(r.stdout, "Pull complete") != 1 {
		t.Errorf("pull of the second image: want its 3 base layers found, 1 pulled: %s", r)
	}
	if n := s.layerDirs() - base; n != 4 {
		t.Errorf("two images of 3+1 layers sharing 3: %d layer directories, want 4", n)
	}
	// Sizes as docker shows them: each image its whole size; system df
	// the layers on disk, each counted once.
	sizes := map[string]float64{}
	for _, line := range strings.Split(s.must("images").stdout, "\n")[1:] {
		if f := strings.Fields(line); len(f) > 2 {
			sizes[f[0]+":"+f[1]] = parseSize(t, f[len(f)-1])
		}
	}
	m := regexp.MustCompile(`(?m)^Images\s+3\s+0\s+(\S+)$`).FindStringSubmatch(s.must("system", "df").stdout)
	if m == nil {
		t.Fatalf("system df: no Images line for 3 images")
	}
	one, two, bb := sizes[reg.host+"/app:1"], sizes[reg.host+"/app:2"], sizes["busybox:latest"]
	if df := parseSize(t, m[1]); one == 0 || two < one || df >= one+two+bb || df < two+bb*0.9 {
		t.Errorf("system df %v: want about app:2 (%v) + busybox (%v), app:1 (%v) shared", df, two, bb, one)
	}
	s.must("rmi", reg.host+"/app:1")
	if r := s.must("run", "--rm", "--network", "none", "--entrypoint", "cat", reg.host+"/app:2", "/data/olddir/new", "/more"); r.stdout != "new\nmore\n" {
		t.Errorf("the second image after rmi of the first: %s", r)
	}
	s.must("rmi", reg.host+"/app:2")
	if after := s.listing(); after != empty {
		t.Errorf("after rmi of both, the store is not as before: %q -> %q", empty, after)
	}
}

// TestRegistryPush: an image made here (a commit) is pushed: skopeo sees
// the digest minidocker reported and the same layer digests; a second push
// sends nothing; an image pulled from the registry and pushed under
// another name keeps its digest (its layers are mounted, not sent).
func TestRegistryPush(t *testing.T) {
	s := newStore(t)
	reg := startRegistry(t, false)
	s.must("run", "--name", "pushme", "--network", "none", "busybox", "sh", "-c", "echo pushed > /pushed")
	defer s.run("rm", "-f", "pushme")
	ref := reg.host + "/pushed:1"
	s.must("commit", "-c", `CMD ["cat", "/pushed"]`, "pushme", ref)
	r := s.must("push", ref)
	m := regexp.MustCompile(`(?m)^1: digest: (sha256:[0-9a-f]{64}) size: \d+$`).FindStringSubmatch(r.stdout)
	if m == nil || strings.Count(r.stdout, ": Pushed") != 2 {
		t.Fatalf("push: want 2 layers pushed and the digest line: %s", r)
	}
	if got := skopeoInspect(t, ref, false)["Digest"]; got != m[1] {
		t.Errorf("skopeo says the pushed image is %v, minidocker said %s", got, m[1])
	}
	var ours, theirs struct {
		Layers []struct{ Digest string } `json:"layers"`
	}
	b, err := os.ReadFile(filepath.Join(s.root, "blobs", "sha256", strings.TrimPrefix(m[1], "sha256:")))
	if err != nil {
		t.Fatalf("the pushed manifest is not in the content store: %v", err)
	}
	json.Unmarshal(b, &ours)
	out := t.TempDir()
	if r := run(t, tool(t, "skopeo"), "copy", "-q", "--src-tls-verify=false", "docker://"+ref, "oci:"+out+":p"); r.code != 0 {
		t.Fatalf("skopeo copy back: %s", r)
	}
	raw := skopeoInspect(t, ref, true)
	json.Unmarshal([]byte(toJSON(raw)), &theirs)
	if len(ours.Layers) != 2 || toJSON(ours.Layers) != toJSON(theirs.Layers) {
		t.Errorf("layer digests: ours %v, the registry's %v", ours.Layers, theirs.Layers)
	}
	if r := s.must("push", ref); strings.Count(r.stdout, "Layer already exists") != 2 || !strings.Contains(r.stdout, m[1]) {
		t.Errorf("second push: want nothing sent, the same digest: %s", r)
	}
	// Back from the registry into an empty store: the same files, the same command.
	s2 := newStore(t)
	if r := s2.must("run", "--rm", "--network", "none", ref); r.stdout != "pushed\n" {
		t.Errorf("run of the pushed image pulled into another store: %s", r)
	}
	// A pulled image pushed under another name keeps its digest.
	l := newLayout(t)
	testImage(t, l, "bb")
	l.push("bb", reg.host+"/bb:1")
	want := skopeoInspect(t, reg.host+"/bb:1", false)["Digest"].(string)
	s.must("pull", reg.host+"/bb:1")
	s.must("tag", reg.host+"/bb:1", reg.host+"/copy:1")
	r = s.must("push", reg.host+"/copy:1")
	if strings.Count(r.stdout, "Mounted from bb") != 3 || !strings.Contains(r.stdout, "digest: "+want) {
		t.Errorf("push of a pulled image under another name: want its layers mounted, its digest kept (%s): %s", want, r)
	}
}
