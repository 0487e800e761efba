//go:build linux

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// `minidocker build` (chapter 12): Dockerfiles of tests/testdata/build,
// built for real, then run.

// TestBuildTwoStage: stage 1 compiles a static C program with a compiler
// image, stage 2 is FROM scratch with the program alone; it runs, and the
// image has one layer of its own.
func TestBuildTwoStage(t *testing.T) {
	md := buildTest(t)
	dir := buildContext(t, "two-stage")
	src, _ := os.ReadFile(filepath.Join(dir, "hello.c"))
	compilerImage(t, md, "minidocker-test-gcc", string(src))
	out := mustBuild(t, md, "--build-arg", "CC_IMAGE=minidocker-test-gcc", "-t", "hello-static", dir)
	for _, want := range []string{"Step 1/8 : ARG CC_IMAGE=gcc", "Step 2/8 : FROM ${CC_IMAGE} AS compile", "Step 6/8 : FROM scratch",
		"Step 7/8 : COPY --from=compile /hello /hello", "Successfully tagged hello-static:latest"} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q:\n%s", want, out)
		}
	}
	if r := mustRun(t, md, "run", "--rm", "--network", "none", "hello-static"); r.stdout != "hello from a static binary, compiled in stage 1\n" {
		t.Errorf("the program printed %q", r.stdout)
	}
	im := inspect(t, md, "hello-static")
	layers := jget(im, "RootFS.Layers").([]any)
	size := jget(im, "Size").(float64)
	gcc := jget(inspect(t, md, "minidocker-test-gcc"), "Size").(float64)
	if len(layers) != 1 || size > 2e6 || size*10 > gcc {
		t.Errorf("FROM scratch: %d layers, %.0f bytes (the compiler image: %.0f); want 1 layer and a small fraction of it", len(layers), size, gcc)
	}
	t.Logf("the program's image: %.0f bytes; the compiler's: %.0f", size, gcc)
	hist := mustRun(t, md, "history", "-q", "hello-static").stdout
	if n := len(strings.Fields(hist)); n != 2 { // COPY --from and CMD: the first stage is not in it
		t.Errorf("history of the scratch image: %d rows, want 2:\n%s", n, hist)
	}
}

// TestBuildConfig: ENV, ARG (with --build-arg and defaults), LABEL,
// WORKDIR (absolute and relative), SHELL, EXPOSE, STOPSIGNAL, USER (a RUN
// after it, and the image run as it), ENTRYPOINT and CMD, checked in the
// image's config and inside it.
func TestBuildConfig(t *testing.T) {
	md := buildTest(t)
	dir := buildContext(t, "config")
	out := mustBuild(t, md, "-t", "cfg-test", "--build-arg", "VERSION=2.0", "--build-arg", "WHO=tester", "--label", "extra=yes", dir)
	if !strings.Contains(out, "RUN as nobody (65534)") {
		t.Errorf("the RUN after USER nobody ran as someone else:\n%s", out)
	}
	c := inspect(t, md, "cfg-test")
	for path, want := range map[string]any{
		"Config.User": "nobody", "Config.WorkingDir": "/opt/app/sub", "Config.StopSignal": "SIGINT",
		"Config.Labels":       map[string]any{"org.example.version": "2.0", "description": "built by minidocker's tests", "extra": "yes"},
		"Config.ExposedPorts": map[string]any{"8080/tcp": map[string]any{}, "53/udp": map[string]any{}},
		"Config.Entrypoint":   []any{"/bin/sh", "-c"}, "Config.Cmd": []any{"cat build-info; echo VERSION=${VERSION:-unset}; pwd"},
	} {
		if got := jget(c, path); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	env := fmt.Sprint(jget(c, "Config.Env"))
	if !strings.Contains(env, "APP_HOME=/opt/app") || !strings.Contains(env, "GREETING=hello world") || strings.Contains(env, "VERSION") {
		t.Errorf("Config.Env = %s: want APP_HOME and GREETING, and no ARG", env)
	}
	r := mustRun(t, md, "run", "--rm", "--network", "none", "cfg-test") // as the image's USER, nobody
	want := "version=2.0 who=tester\n/opt/app/sub\nGREETING=hello world\nVERSION=unset\n/opt/app/sub\n"
	if r.stdout != want {
		t.Errorf("inside the image:\n%s\nwant:\n%s", r.stdout, want)
	}
	hist := mustRun(t, md, "history", "--no-trunc", "cfg-test").stdout
	if !strings.Contains(hist, "|2 VERSION=2.0 WHO=tester /bin/sh -ec echo \"GREETING=$GREETING\" >> build-info") {
		t.Errorf("the second RUN ran without its ARGs or its SHELL:\n%s", hist)
	}
	// One history row per instruction after FROM, plus --label's, plus busybox's own.
	if rows := strings.Count(mustRun(t, md, "history", "-q", "cfg-test").stdout, "\n"); rows != 17 {
		t.Errorf("history: %d rows, want 17:\n%s", rows, hist)
	}
	// The defaults, without --build-arg: another key for each RUN.
	out = mustBuild(t, md, "-t", "cfg-default", dir)
	if n := count(out, "Running in"); n != 3 {
		t.Errorf("other ARG values, yet %d RUNs ran (want 3):\n%s", n, out)
	}
	if r := mustRun(t, md, "run", "--rm", "--network", "none", "cfg-default"); !strings.HasPrefix(r.stdout, "version=1.0 who=\n") {
		t.Errorf("defaults: %q", r.stdout)
	}
}

// TestBuildRunFails: a RUN that fails ends the build with its exit
// status; it leaves no image, container, layer or mount (leakChecked).
// Steps before it stay as the cache, as with Docker.
func TestBuildRunFails(t *testing.T) {
	md := buildTest(t)
	dir := buildContext(t, "fail")
	store := storeEntries()
	r := run(t, md, "build", "-t", "never", dir)
	if r.code != 42 || !strings.Contains(r.stderr, "Dockerfile line 4: RUN: the command '/bin/sh -c echo partial > /partial && exit 42' returned a non-zero code: 42") {
		t.Fatalf("a failing RUN: %s", r)
	}
	if extra := added(store, storeEntries()); len(extra) > 0 {
		t.Errorf("the failed step left %v", extra)
	}
	if run(t, md, "inspect", "never").code == 0 {
		t.Error("the image of a failed build got its name")
	}
	// A step that worked before the one that fails: its image stays, the cache.
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM busybox\nRUN echo ok > /ok\nRUN exit 3\n"})
	before := imageIDs()
	if r := run(t, md, "build", dir); r.code != 3 {
		t.Fatalf("exit %d, want 3: %s", r.code, r)
	}
	if n := len(added(before, imageIDs())); n != 1 {
		t.Errorf("%d images after a build that failed at its second RUN, want 1 (the first RUN's)", n)
	}
	if r := run(t, md, "build", dir); r.code != 3 || count(r.stdout, "Using cache") != 1 {
		t.Errorf("again: the first RUN should come from the cache: %s", r)
	}
}

// TestBuildCache: a rebuild with nothing changed runs nothing and gives
// the same image; a changed file rebuilds from its COPY on, not before; a
// touched file (same content) changes nothing; --no-cache runs all again;
// rmi takes the cache with the image.
func TestBuildCache(t *testing.T) {
	md := buildTest(t)
	dir := buildContext(t, "cache")
	first := mustBuild(t, md, "-t", "cache-test", dir)
	if n := count(first, "Running in"); n != 2 {
		t.Fatalf("first build: %d RUNs, want 2:\n%s", n, first)
	}
	// history: one row per instruction, each ending with a step's image of this store.
	rows := strings.Fields(mustRun(t, md, "history", "-q", "cache-test").stdout)
	busybox := strings.TrimPrefix(jget(inspect(t, md, "busybox"), "Id").(string), "sha256:")[:12]
	if len(rows) != 6 || rows[0] != builtID(t, first) || rows[5] != busybox || strings.Contains(strings.Join(rows, " "), "missing") {
		t.Errorf("history -q: %v, want the 6 images from %s down to busybox %s", rows, builtID(t, first), busybox)
	}
	again := mustBuild(t, md, "-t", "cache-test", dir)
	if count(again, "Running in") != 0 || count(again, "Using cache") != 5 || builtID(t, again) != builtID(t, first) {
		t.Errorf("rebuild with nothing changed:\n%s", again)
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "a.txt"), later, later)
	if out := mustBuild(t, md, dir); count(out, "Running in") != 0 {
		t.Errorf("a.txt touched, not changed, yet RUN ran:\n%s", out)
	}
	os.WriteFile(filepath.Join(dir, "b.txt"), []byte("b: second\n"), 0644)
	changed := mustBuild(t, md, "-t", "cache-test", dir)
	steps := strings.Split(changed, "Step ")
	if len(steps) != 7 || count(steps[2], "Using cache") != 1 || count(steps[3], "Using cache") != 1 ||
		count(steps[4], "Using cache") != 0 || count(steps[5], "Running in") != 1 {
		t.Errorf("b.txt changed: want steps 2-3 from the cache, 4-6 built:\n%s", changed)
	}
	if r := mustRun(t, md, "run", "--rm", "--network", "none", "cache-test"); r.stdout != "a: first\nb: second\n" {
		t.Errorf("the rebuilt image: %q", r.stdout)
	}
	// rmi of the image removes its unnamed steps, and their cache entries,
	// down to the step it shares with the first build's images (RUN cat
	// /a.txt: it has two children).
	cacheBefore := len(listDir(filepath.Join(mdRoot(), "build-cache")))
	r := mustRun(t, md, "rmi", "cache-test")
	if n := count(r.stdout, "Deleted:"); n != 3 {
		t.Errorf("rmi removed %d images, want the image and its 2 steps down to the shared one:\n%s", n, r.stdout)
	}
	if after := len(listDir(filepath.Join(mdRoot(), "build-cache"))); after != cacheBefore-3 {
		t.Errorf("rmi: %d cache entries before, %d after; want 3 fewer", cacheBefore, after)
	}
	if out := mustBuild(t, md, dir); count(out, "Using cache") != 2 || count(out, "Running in") != 1 {
		t.Errorf("after rmi, the steps from COPY b.txt on should run again:\n%s", out)
	}
	if out := mustBuild(t, md, "--no-cache", dir); count(out, "Using cache") != 0 || count(out, "Running in") != 2 {
		t.Errorf("--no-cache:\n%s", out)
	}
}

// TestBuildDockerignore: what .dockerignore leaves out is not in the
// image (README.md is taken back by !README.md), and cannot be COPYed.
func TestBuildDockerignore(t *testing.T) {
	md := buildTest(t)
	dir := buildContext(t, "ignore")
	out := mustBuild(t, md, "--network", "none", dir)
	want := "./.dockerignore\n./Dockerfile\n./README.md\n./keep.txt\n./src/app.go\n"
	if !strings.Contains(out, want) {
		t.Errorf("the copied context:\n%s\nwant:\n%s", out, want)
	}
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM busybox\nCOPY secret.txt /\n"})
	if r := run(t, md, "build", dir); r.code == 0 || !strings.Contains(r.stderr, "Dockerfile line 2: COPY secret.txt: file not found in build context or excluded by .dockerignore") {
		t.Errorf("COPY of an ignored file: %s", r)
	}
}

// TestBuildLayerLimit: a Dockerfile that would stack more layers than a
// container's root can is refused at its FROM, before any step runs,
// with the number and what to do.
func TestBuildLayerLimit(t *testing.T) {
	md := buildTest(t)
	dir := t.TempDir()
	var df strings.Builder
	df.WriteString("FROM busybox\n")
	for i := 0; i < 600; i++ {
		fmt.Fprintf(&df, "RUN echo %d > /f%d\n", i, i)
	}
	writeFiles(t, dir, map[string]string{"Dockerfile": df.String()})
	r := run(t, md, "build", dir)
	if r.code == 0 || count(r.stdout, "Running in") != 0 || !strings.Contains(r.stderr, "Dockerfile line 1: this stage could stack 601 layers") ||
		!strings.Contains(r.stderr, "join RUNs with &&") || !strings.Contains(r.stderr, "multi-stage") {
		t.Fatalf("600 RUNs: %s", r)
	}
	t.Logf("%s", strings.TrimSpace(r.stderr))
}

// TestBuildHostile: Dockerfiles and contexts written to escape. Each is
// refused with its line, or contained (the image holds the result, the
// host does not); the canary outside never changes.
func TestBuildHostile(t *testing.T) {
	md := buildTest(t)
	canary, unchanged := canaryDir(t)
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("[not a pattern\n"), 0600)
	// A base image whose /evil points at the canary (absolute), and /rel
	// too (relative, climbing): COPY into them must stay in the image.
	base := t.TempDir()
	writeFiles(t, base, map[string]string{"Dockerfile": fmt.Sprintf("FROM busybox\nRUN mkdir -p %s && ln -s %s /evil && "+
		"ln -s ../../../../../../../..%s /rel && ln -s /nowhere/at/all /dangling\n", canary, canary, canary)})
	mustBuild(t, md, "--network", "none", "-t", "hostile-base", base)
	huge := strings.Repeat("x", 70<<10)
	bomb := "FROM busybox\nENV A=" + strings.Repeat("a", 4096) + "\n" + strings.Repeat("ENV A=$A$A\n", 8)
	evilTar := tarOf(t, [][2]string{{"../../../../../../.." + canary + "/" + "file", "pwned\n"}})
	linkTar := tarOf(t, [][2]string{{"a", "->" + canary}, {"a/planted", "pwned\n"}})
	for _, c := range []struct {
		name   string
		files  map[string]string
		refuse string // the error; "" = contained, and the build succeeds
		check  string // a RUN that must succeed in the built image (contained cases)
	}{
		{name: "COPY ../x", files: map[string]string{"Dockerfile": "FROM busybox\nCOPY ../x /x\n"}, refuse: "Dockerfile line 2: COPY ../x: forbidden path outside the build context"},
		{name: "COPY a/../../x", files: map[string]string{"Dockerfile": "FROM busybox\nCOPY a/../../x /x\n"}, refuse: "forbidden path outside the build context"},
		{name: "absolute source", files: map[string]string{"Dockerfile": "FROM busybox\nCOPY " + canary + "/file /x\n"}, refuse: "Dockerfile line 2: COPY " + canary + "/file: file not found in build context"},
		{name: "context symlink to the canary", files: map[string]string{"Dockerfile": "FROM busybox\nCOPY link /x\n", "link": "->" + canary + "/file"}, refuse: "file not found in build context"},
		{name: "context symlink climbing", files: map[string]string{"Dockerfile": "FROM busybox\nCOPY link/file /x\n", "link": "->../../../../../../.." + canary}, refuse: "file not found in build context"},
		{name: "symlink inside a copied directory", files: map[string]string{"Dockerfile": "FROM busybox\nCOPY dir /d\n", "dir/link": "->" + canary, "dir/f": "f"},
			check: "[ -L /d/link ] && [ \"$(readlink /d/link)\" = " + canary + " ] && [ ! -e /d/link/file ]"},
		{name: "destination symlink in the base image (absolute)", files: map[string]string{"Dockerfile": "FROM hostile-base\nCOPY f /evil/file\nCOPY f /evil/new\n", "f": "pwned\n"},
			check: "[ \"$(cat " + canary + "/file)\" = pwned ] && [ -f " + canary + "/new ]"},
		{name: "destination symlink in the base image (relative)", files: map[string]string{"Dockerfile": "FROM hostile-base\nCOPY f /rel/\n", "f": "pwned\n"},
			check: "[ -f " + canary + "/f ]"},
		{name: "destination symlink in the base image (dangling)", files: map[string]string{"Dockerfile": "FROM hostile-base\nCOPY f /dangling/f\n", "f": "x"},
			refuse: "Dockerfile line 2: COPY f: dangling is a symlink to a path that does not exist inside the root"},
		{name: "symlink planted by ADD's archive", files: map[string]string{"Dockerfile": "FROM busybox\nADD l.tar /t/\n", "l.tar": string(linkTar)},
			refuse: "Dockerfile line 2: ADD l.tar: unpacking the archive: entry \"a/planted\": a is a symlink to a path that does not exist inside the root"},
		{name: "ADD of an archive climbing out", files: map[string]string{"Dockerfile": "FROM busybox\nADD evil.tar /\n", "evil.tar": string(evilTar)}, refuse: "Dockerfile line 2: ADD evil.tar: unpacking the archive"},
		{name: "ADD of a URL", files: map[string]string{"Dockerfile": "FROM busybox\n\nADD https://example.com/x.tgz /\n"}, refuse: "Dockerfile line 3: ADD https://example.com/x.tgz: minidocker does not fetch URLs"},
		{name: "Dockerfile is a symlink", files: map[string]string{"Dockerfile": "->" + canary + "/file"}, refuse: "Cannot locate specified Dockerfile"},
		{name: ".dockerignore is a symlink", files: map[string]string{"Dockerfile": "FROM busybox\nCOPY Dockerfile /\n", ".dockerignore": "->" + secret}},
		{name: "huge line", files: map[string]string{"Dockerfile": "FROM busybox\nRUN echo " + huge + "\n"}, refuse: "Dockerfile line 2: the line is longer than 65536 bytes"},
		{name: "ENV doubling itself", files: map[string]string{"Dockerfile": bomb}, refuse: "ENV: expands to more than 65536 bytes"},
		{name: "unknown instruction", files: map[string]string{"Dockerfile": "FROM busybox\n# fine\nCOPYY a b\n"}, refuse: "Dockerfile line 3: unknown instruction: COPYY"},
		{name: "BuildKit mount", files: map[string]string{"Dockerfile": "FROM busybox\nRUN --mount=type=bind,source=/,target=/host cat /host/etc/shadow\n"}, refuse: "Dockerfile line 2: RUN --mount: a BuildKit feature"},
		{name: "COPY --from itself", files: map[string]string{"Dockerfile": "FROM busybox AS me\nCOPY --from=me /etc /x\n"}, refuse: "a stage cannot copy from itself"},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, c.files)
			if c.check != "" {
				os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(c.files["Dockerfile"]+"RUN "+c.check+"\n"), 0644)
			}
			containers := containerDirs(t)
			r := run(t, md, "build", "--network", "none", dir)
			unchanged(c.name)
			if extra := added(containers, containerDirs(t)); len(extra) > 0 {
				t.Errorf("left containers: %v", extra)
			}
			if c.refuse == "" {
				if r.code != 0 {
					t.Fatalf("want the build to succeed, contained: %s", r)
				}
				return
			}
			if r.code == 0 || !strings.Contains(r.stderr, c.refuse) {
				t.Fatalf("want a refusal %q: %s", c.refuse, r)
			}
			if strings.Contains(r.stderr, "[not a pattern") {
				t.Fatalf("the error shows a file outside the context: %s", r.stderr)
			}
		})
	}
	if ents, _ := os.ReadDir(canary); len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		t.Errorf("the canary directory holds %v", names)
	}
}

// TestBuildPush: a built image is pushed to a registry, pulled into
// another store and run there.
func TestBuildPush(t *testing.T) {
	md := buildTest(t)
	reg := startRegistry(t, false)
	dir := buildContext(t, "cache")
	ref := reg.host + "/built/cache:1"
	mustBuild(t, md, "-t", ref, dir)
	mustRun(t, md, "push", ref)
	s := newStore(t)
	s.must("pull", ref)
	if r := s.must("run", "--rm", "--network", "none", ref); r.stdout != "a: first\nb: first\n" {
		t.Errorf("the pulled image printed %q", r.stdout)
	}
	if r := s.must("history", "-q", ref); strings.Count(r.stdout, "\n") != 6 {
		t.Errorf("the pulled image's history: %s", r.stdout)
	}
}

// TestBuildCopy: COPY's globs, directories, --chown by name, --chmod and
// destinations relative to WORKDIR; ADD unpacks a local archive and
// copies a plain file; RUN's exec form.
func TestBuildCopy(t *testing.T) {
	md := buildTest(t)
	dir := buildContext(t, "copy")
	if r := run(t, "tar", "-C", filepath.Join(dir, "src"), "-czf", filepath.Join(dir, "files.tar.gz"), "one.txt", "sub"); r.code != 0 {
		t.Fatal(r)
	}
	out := mustBuild(t, md, "--network", "none", dir)
	want := "one.txt\ntwo.txt\n" + // the glob: not other.md
		"dir: one.txt other.md sub two.txt  dir/sub: deep.txt \n" + // a directory's contents, below WORKDIR
		"nobody:nogroup 750\ntool\n" + // --chown by name, --chmod
		"/unpacked/one.txt\n/unpacked/sub/deep.txt\n" + // ADD of a tar.gz: unpacked
		"tool.sh\n" // ADD of a plain file: copied
	if !strings.Contains(out, want) {
		t.Errorf("inside the image:\n%s\nwant:\n%s", out, want)
	}
}
