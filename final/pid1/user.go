//go:build linux

package pid1

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/inroot"
	"golang.org/x/sys/unix"
)

// region user
// lookupUser reads --user (NAME|UID[:GROUP|GID]) the way runc does, in
// the container's own /etc/passwd and /etc/group: a name must be there, a
// number need not (uid 1000 without an entry runs with gid 0 and HOME=/).
// A number is always an id, never a name: an image whose passwd has a
// user named "1000" with uid 0 must not turn --user 1000 into root.
// Supplementary groups are those whose member list names the user. The
// files are the image's: read inside its root (package inroot: a symlink
// /etc/passwd -> /proc/1/environ or ../../host stays inside), only if they
// are regular files, and at most 1 MiB (a FIFO or /dev/zero there would
// otherwise hang or fill init).
func lookupUser(spec string) (identity, error) {
	return resolveUser(spec, readEtc("/", "/etc/passwd"), readEtc("/", "/etc/group"))
}

// UserIn is lookupUser in the root filesystem at dir, from outside it
// (export --oci writes the numbers into a bundle's config.json): uid,
// gid and the supplementary groups.
func UserIn(dir, spec string) (uid, gid uint32, groups []uint32, err error) {
	id, err := resolveUser(spec, readEtc(dir, "/etc/passwd"), readEtc(dir, "/etc/group"))
	return id.uid, id.gid, id.groups, err
}

// resolveUser is lookupUser on the files' fields (parseEtc): the part a
// hostile image writes, fuzzed by FuzzUser.
func resolveUser(spec string, passwd, groups [][]string) (identity, error) {
	id := identity{home: "/"}
	user, group, hasGroup := strings.Cut(spec, ":")
	if user == "" {
		user = "0"
	}
	entry, found := []string(nil), false
	uid, numeric := parseID(user)
	for _, f := range passwd {
		if len(f) < 7 {
			continue
		}
		if u, ok := parseID(f[2]); (numeric && ok && u == uid) || (!numeric && f[0] == user) {
			entry, found = f, true
			break
		}
	}
	switch {
	case found:
		u, ok1 := parseID(entry[2])
		g, ok2 := parseID(entry[3])
		if !ok1 || !ok2 {
			return id, fmt.Errorf("the image's /etc/passwd has a bad entry for %s", user)
		}
		id.uid, id.gid, id.home = u, g, entry[5]
	case numeric:
		id.uid = uid
	default:
		return id, fmt.Errorf("unable to find user %s: no matching entries in passwd file", user)
	}
	if hasGroup {
		gid, known := parseID(group) // a number is a gid, as for the user
		for i := 0; i < len(groups) && !known; i++ {
			if f := groups[i]; len(f) >= 3 && f[0] == group {
				gid, known = parseID(f[2])
			}
		}
		if !known {
			return id, fmt.Errorf("unable to find group %s: no matching entries in group file", group)
		}
		id.gid = gid
	}
	// Supplementary groups: the primary one (as runc and Docker give it),
	// then, for a user the image knows, the groups that list it.
	id.groups = []uint32{id.gid}
	if found {
		for _, f := range groups {
			if len(f) < 4 {
				continue
			}
			for _, member := range strings.Split(f[3], ",") {
				if g, ok := parseID(f[2]); ok && member == entry[0] && g != id.gid {
					id.groups = append(id.groups, g)
				}
			}
		}
	}
	return id, nil
}

// endregion user

// parseID reads a uid or gid: a number below 2^31, as runc allows.
func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 31)
	return uint32(n), err == nil
}

// readEtc reads /etc/passwd or /etc/group of the container (we are inside
// its root) as colon-separated fields, one slice per line; a missing or
// unreadable file is empty.
func readEtc(dir, name string) [][]string {
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(root)
	fd, err := inroot.Open(root, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	return parseEtc(b)
}

// parseEtc splits passwd or group text into lines of colon-separated
// fields, leaving out blank lines and comments.
func parseEtc(b []byte) [][]string {
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, strings.Split(line, ":"))
		}
	}
	return out
}
