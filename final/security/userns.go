package security

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// RemapUser is the name whose ranges in /etc/subuid and /etc/subgid give
// the uids and gids of containers with --userns=private (Docker's
// equivalent is "dockremap"). `make setup` adds minidocker:100000:65536.
const RemapUser = "minidocker"

// IDRange is one line of /etc/subuid: Count ids from Start, which a
// container sees as 0 to Count-1.
type IDRange struct {
	Start, Count uint32
}

// Map is the range as /proc/PID/uid_map writes it: "0 START COUNT".
func (r IDRange) Map() string { return fmt.Sprintf("0 %d %d", r.Start, r.Count) }

// region subid
// RemapRanges are the uid and gid ranges of RemapUser: the first line of
// /etc/subuid and of /etc/subgid that names it. Root in the container is
// then uid Start on the host, an id no file of the host belongs to.
func RemapRanges() (uids, gids IDRange, err error) {
	if uids, err = subIDs("/etc/subuid", RemapUser); err == nil {
		gids, err = subIDs("/etc/subgid", RemapUser)
	}
	if err != nil {
		return uids, gids, fmt.Errorf("--userns=private needs ranges for %s: %v (sudo make setup adds them; or: echo %s:100000:65536 | sudo tee -a /etc/subuid /etc/subgid)", RemapUser, err, RemapUser)
	}
	return uids, gids, nil
}

// endregion subid

func subIDs(file, user string) (IDRange, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return IDRange{}, err
	}
	return ParseSubIDs(b, user, file)
}

// ParseSubIDs finds user's first range in the text of /etc/subuid (or
// subgid): "NAME:START:COUNT" lines.
func ParseSubIDs(b []byte, user, file string) (IDRange, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(f) != 3 || f[0] != user {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 || start == 0 || start+count > 1<<32-1 {
			return IDRange{}, fmt.Errorf("%s: a bad range for %s: %q", file, user, sc.Text())
		}
		return IDRange{Start: uint32(start), Count: uint32(count)}, nil
	}
	return IDRange{}, fmt.Errorf("%s has no line for %s", file, user)
}
