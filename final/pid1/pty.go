//go:build linux

package pid1

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// region openpty
// OpenPty makes a pseudo-terminal pair: what `docker run -t` gives the
// container. The master stays with us; the slave becomes the container's
// stdin, stdout and stderr, and its controlling terminal (init starts the
// command with setsid + TIOCSCTTY).
// C equivalent: posix_openpt, grantpt, unlockpt, ptsname.
func OpenPty() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil { // unlockpt
		m.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN) // ptsname
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	// A terminal's usual size until CopyWinsize gives it the real one.
	unix.IoctlSetWinsize(int(m.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80})
	return m, s, nil
}

// endregion openpty

// SendFd passes f over a unix socket (SCM_RIGHTS): the receiver gets its
// own descriptor for the same open file.
func SendFd(sock int, msg string, f *os.File) error {
	return unix.Sendmsg(sock, []byte(msg), unix.UnixRights(int(f.Fd())), nil, 0)
}
