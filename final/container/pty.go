//go:build linux

package container

import (
	"io"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// region pty
// MakeRaw puts our terminal in raw mode (no echo, no line editing, Ctrl-C
// is a byte, not a signal): the container's terminal does all that. It
// returns the function that restores the terminal.
func MakeRaw(fd int) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return func() {}, err
	}
	raw := *old // cfmakeraw(3)
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return func() {}, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}

// Sizes sends our terminal's size (rows, columns), now and on every
// SIGWINCH, until stop: the engine sets the container's terminal to it
// (TIOCSWINSZ on the master, here or in the monitor through its console).
func Sizes(fd int) (sizes <-chan [2]uint, stop func()) {
	ch := make(chan [2]uint, 1)
	send := func() {
		if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil {
			select {
			case ch <- [2]uint{uint(ws.Row), uint(ws.Col)}:
			default: // one pending size is enough
			}
		}
	}
	send()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, unix.SIGWINCH)
	go func() {
		for range winch {
			send()
		}
	}()
	return ch, func() { signal.Stop(winch) }
}

// Feed is the engine's side of a terminal it holds (master): the client's
// bytes (in, if set) typed into it, and its sizes applied to it.
func Feed(master *os.File, in io.Reader, sizes <-chan [2]uint) {
	if in != nil {
		go io.Copy(master, in)
	}
	if sizes != nil {
		go func() {
			for sz := range sizes {
				unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(sz[0]), Col: uint16(sz[1])})
			}
		}()
	}
}

// endregion pty

// IsTerminal tells whether fd is a terminal.
func IsTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}
