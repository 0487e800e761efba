//go:build linux

package pid1

import (
	"strings"
	"testing"
)

// userSeeds are /etc/passwd, /etc/group and --user values an image's
// author controls: well formed, truncated, huge ids, members lists.
var userSeeds = []struct{ passwd, group, spec string }{
	{"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n", "root:x:0:\napp:x:1000:\nstaff:x:50:app,other\n", "app"},
	{"root:x:0:0:root:/root:/bin/sh\n", "root:x:0:\n", "4321:50"},
	{"app:x:99999999999:1:a:/:/bin/sh\n", "", "app"},
	{"app:x:1:1\n", "g:x:7:app\n", "app:g"},
	{"# comment\n\n::::::\n", ":::\n", ":"},
	{"app:x:1:2:a:/h:/bin/sh\n", "g:x:-1:app\n", "app:-1"},
}

// FuzzUser: whatever an image's passwd and group say, resolving --user
// never panics; an identity it returns has its primary group first in
// its groups, and ids below 2^31; a number given is the id taken (a name
// in the image's files never turns --user 1000 into another uid, or
// :50 into another gid).
func FuzzUser(f *testing.F) {
	for _, s := range userSeeds {
		f.Add(s.passwd, s.group, s.spec)
	}
	f.Fuzz(func(t *testing.T, passwd, group, spec string) {
		id, err := resolveUser(spec, parseEtc([]byte(passwd)), parseEtc([]byte(group)))
		if err != nil {
			return
		}
		if len(id.groups) == 0 || id.groups[0] != id.gid {
			t.Fatalf("groups %v, gid %d", id.groups, id.gid)
		}
		for _, n := range append([]uint32{id.uid, id.gid}, id.groups...) {
			if n >= 1<<31 {
				t.Fatalf("id %d", n)
			}
		}
		u, g, hasGroup := strings.Cut(spec, ":")
		if u == "" {
			u = "0"
		}
		if n, ok := parseID(u); ok && id.uid != n {
			t.Fatalf("--user %s became uid %d", u, id.uid)
		}
		if n, ok := parseID(g); hasGroup && ok && id.gid != n {
			t.Fatalf("--user %s became gid %d", spec, id.gid)
		}
	})
}

// TestUserSeeds: the seeds resolve as runc would.
func TestUserSeeds(t *testing.T) {
	id, err := resolveUser(userSeeds[0].spec, parseEtc([]byte(userSeeds[0].passwd)), parseEtc([]byte(userSeeds[0].group)))
	if err != nil || id.uid != 1000 || id.gid != 1000 || id.home != "/home/app" || len(id.groups) != 2 || id.groups[1] != 50 {
		t.Errorf("app: %+v %v", id, err)
	}
	id, err = resolveUser("4321:50", parseEtc([]byte(userSeeds[1].passwd)), nil)
	if err != nil || id.uid != 4321 || id.gid != 50 || id.home != "/" { // numbers need no entry
		t.Errorf("4321:50 without entries: %+v %v", id, err)
	}
	// Numbers are ids, never names: an image's user named "1000" with uid 0,
	// or group named "1000" with gid 0, does not make --user 1000:1000 root.
	hostile := parseEtc([]byte("1000:x:0:0:root:/root:/bin/sh\n0:x:1:1::/:/bin/sh\n"))
	hostileGroups := parseEtc([]byte("1000:x:0:\n0:x:5:\n"))
	for spec, want := range map[string][2]uint32{"1000": {1000, 0}, "1000:1000": {1000, 1000}, "0": {0, 0}, "0:0": {0, 0}} {
		id, err := resolveUser(spec, hostile, hostileGroups)
		if err != nil || id.uid != want[0] || id.gid != want[1] {
			t.Errorf("--user %s with hostile files: %+v %v, want uid %d gid %d", spec, id, err, want[0], want[1])
		}
	}
	if _, err := resolveUser("nosuch", parseEtc([]byte(userSeeds[1].passwd)), nil); err == nil {
		t.Errorf("an unknown name was taken")
	}
	if _, err := resolveUser("app", parseEtc([]byte(userSeeds[2].passwd)), nil); err == nil {
		t.Errorf("a uid past 2^31 was taken")
	}
}
