package reference

import (
	"strings"
	"testing"
)

// The names users type, and the full names and familiar forms Docker
// gives them.
func TestParse(t *testing.T) {
	for _, c := range []struct{ in, full, familiar string }{
		{"busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"},
		{"library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"index.docker.io/bob/app", "docker.io/bob/app:latest", "bob/app:latest"},
		{"bob/app:v2", "docker.io/bob/app:v2", "bob/app:v2"},
		{"127.0.0.1:5000/bb:1", "127.0.0.1:5000/bb:1", "127.0.0.1:5000/bb:1"},
		{"127.0.0.1:5000/bb", "127.0.0.1:5000/bb:latest", "127.0.0.1:5000/bb:latest"},
		{"localhost/a/b/c", "localhost/a/b/c:latest", "localhost/a/b/c:latest"},
		{"ghcr.io/o/r@sha256:" + strings.Repeat("a", 64), "ghcr.io/o/r@sha256:" + strings.Repeat("a", 64), "ghcr.io/o/r@sha256:" + strings.Repeat("a", 64)},
		{"[::1]:5000/x:y", "[::1]:5000/x:y", "[::1]:5000/x:y"},
		{"a__b.c-d---e", "docker.io/library/a__b.c-d---e:latest", "a__b.c-d---e:latest"},
	} {
		r, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if r.String() != c.full || r.Familiar() != c.familiar {
			t.Errorf("Parse(%q) = %s / %s, want %s / %s", c.in, r, r.Familiar(), c.full, c.familiar)
		}
	}
}

// Names a stranger may send: each is refused in one line.
func TestParseHostile(t *testing.T) {
	for _, in := range []string{
		"", "Busybox", "bb:", ":tag", "bb:-x", "bb:.x", "bb:" + strings.Repeat("t", 129),
		"../etc/passwd", "a/../b", "a//b", "/abs", "a/", "a..b", "a___b", "a b", "a\x00b", "a\nb",
		"bb@sha256:" + strings.Repeat("a", 63), "bb@md5:abc", "bb@sha256:" + strings.Repeat("A", 64),
		"bb@", "host:99999999/x", "host:/x", "-host.io/x", "[zz]:5/x", "[::1/x",
		strings.Repeat("a", 300), "ex.com/" + strings.Repeat("b/", 200) + "c",
	} {
		if r, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, r)
		} else if strings.Contains(err.Error(), "\n") || len(err.Error()) > 300 {
			t.Errorf("Parse(%q): the error is not one short line: %q", in, err)
		}
	}
}

func TestLoopback(t *testing.T) {
	for in, want := range map[string]bool{"127.0.0.1:5000/a": true, "localhost:5000/a": true, "[::1]:5000/a": true,
		"127.1.2.3/a": true, "registry.example.com/a": false, "busybox": false, "10.0.0.1:5000/a": false} {
		r, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if r.IsLoopback() != want {
			t.Errorf("%s: IsLoopback = %v", in, !want)
		}
	}
}

// FuzzParse: whatever is accepted prints back as a name that parses to
// itself, and holds no byte that could leave a URL path or a file name.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"busybox", "127.0.0.1:5000/bb:1", "a/b@sha256:" + strings.Repeat("0", 64), "../x", "[::1]:1/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(r.Path+r.Tag, "?#%\\ \x00") || strings.Contains(r.Path, "..") {
			t.Fatalf("%q parsed to %#v", s, r)
		}
		r2, err := Parse(r.String())
		if err != nil || r2 != r {
			t.Fatalf("%q -> %s -> %#v, %v", s, r, r2, err)
		}
		if r3, err := Parse(r.Familiar()); err != nil || r3 != r {
			t.Fatalf("%q -> familiar %s -> %#v, %v", s, r.Familiar(), r3, err)
		}
	})
}
