//go:build linux

package container

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/minidocker/build-your-own-docker/final/stream"
	"golang.org/x/sys/unix"
)

// region console
// A running container's stdin and terminal belong to its monitor. The
// monitor listens on a unix socket in the abstract namespace
// ("@minidocker/ID": no file to leave behind, it vanishes with the
// monitor), and anyone who attaches sends it frames (package stream):
// Stdin bytes, an empty Stdin frame for "my stdin ended", Resize "H W".
// The output goes the other way through the log, which every attacher
// follows (Logs): so an attach made before the container starts loses no
// byte of its output. Only root may connect: SO_PEERCRED is checked on
// each connection, as the socket has no file permissions.
func consoleAddr(id string) string { return "@minidocker/" + id }

type console struct {
	mu    sync.Mutex
	stdin io.WriteCloser // the container's stdin: a pipe, or the pty master; nil without -i
	pty   *os.File       // with -t: where a resize goes
	once  bool           // StdinOnce: the first attacher's end of stdin closes the container's
}

// serveConsole listens on the container's console socket until l is closed.
func serveConsole(id string, con *console) (net.Listener, error) {
	l, err := net.Listen("unix", consoleAddr(id))
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %v", consoleAddr(id), err)
	}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			if !peerIsRoot(conn) {
				conn.Close()
				continue
			}
			go con.serve(conn)
		}
	}()
	return l, nil
}

func (con *console) serve(conn net.Conn) {
	defer conn.Close()
	for {
		kind, p, err := stream.ReadFrame(conn)
		if err != nil {
			return
		}
		con.mu.Lock()
		switch {
		case kind == stream.Stdin && len(p) > 0 && con.stdin != nil:
			con.stdin.Write(p)
		case kind == stream.Stdin && len(p) == 0 && con.once && con.stdin != nil && con.pty == nil:
			con.stdin.Close() // `echo hi | docker run -i`: the container reads EOF
			con.stdin = nil
		case kind == stream.Resize && con.pty != nil:
			var h, w uint16
			fmt.Sscan(string(p), &h, &w)
			unix.IoctlSetWinsize(int(con.pty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: h, Col: w})
		}
		con.mu.Unlock()
	}
}

// endregion console

// peerIsRoot checks the connecting process's uid (SO_PEERCRED).
func peerIsRoot(conn net.Conn) bool {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	root := false
	raw.Control(func(fd uintptr) {
		cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		root = err == nil && cred.Uid == 0
	})
	return root
}

// AttachIO is what a client attaches: its stdin (nil: none), where the
// output goes, its terminal's size changes, and whether to replay the
// output so far.
type AttachIO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Resize         <-chan [2]uint
	Logs           bool
	Flush          func() // see LogOptions.Flush
}

// region attach
// Attach connects a client to a container until the container exits (an
// attach to a created container waits for its start, and gets all of its
// output). Output: the log, followed. Input and resizes: the monitor's
// console socket, once the container runs.
func Attach(ctx context.Context, c *state.Container, a AttachIO) error {
	since := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	positioned := make(chan struct{})
	if a.Stdin != nil || a.Resize != nil {
		go func() {
			select { // the output is followed from here on: now stdin may go
			case <-positioned:
			case <-ctx.Done():
				return
			}
			conn := dialConsole(ctx, c.ID)
			if conn == nil {
				return
			}
			defer conn.Close()
			go func() { <-ctx.Done(); conn.Close() }()
			mux := stream.NewMuxer(conn)
			if a.Resize != nil {
				go func() {
					for sz := range a.Resize {
						mux.Write(stream.Resize, []byte(fmt.Sprintf("%d %d", sz[0], sz[1])))
					}
				}()
			}
			if a.Stdin != nil {
				io.Copy(mux.Stream(stream.Stdin), a.Stdin)
				mux.Write(stream.Stdin, nil) // our stdin ended
			}
			<-ctx.Done()
		}()
	}
	opts := LogOptions{Follow: true, Tail: -1, FromEnd: !a.Logs, ExitAfter: since, Flush: a.Flush, Positioned: positioned}
	return Logs(ctx, c.ID, opts, a.Stdout, a.Stderr)
}

// endregion attach

// dialConsole waits until the container runs and connects to its monitor;
// nil if it ends first (or never had a monitor: a foreground `minidocker
// run` is its own container's parent and has no console socket).
func dialConsole(ctx context.Context, id string) net.Conn {
	for ctx.Err() == nil {
		c, err := state.Load(id)
		if err != nil {
			return nil
		}
		if c.State.Status == "running" {
			conn, err := net.Dial("unix", consoleAddr(id))
			if err == nil {
				return conn
			}
			if !state.Alive(c.State.MonitorPid, c.State.MonStart) {
				return nil
			}
		}
		if !waitChange(ctx, c) {
			return nil
		}
	}
	return nil
}

// Resize sets the size of a running container's terminal, through its monitor.
func Resize(c *state.Container, height, width uint) error {
	conn, err := net.Dial("unix", consoleAddr(c.ID))
	if err != nil {
		return fmt.Errorf("container %s has no terminal to resize (or it is not running)", c.ID[:12])
	}
	defer conn.Close()
	return stream.NewMuxer(conn).Write(stream.Resize, []byte(strconv.FormatUint(uint64(height), 10)+" "+strconv.FormatUint(uint64(width), 10)))
}

// SignalName reads a signal as Docker takes it: KILL, SIGKILL, kill, 9.
func SignalName(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return unix.Signal(n), nil
	}
	sig := unix.SignalNum("SIG" + strings.TrimPrefix(strings.ToUpper(s), "SIG"))
	if sig == 0 {
		return 0, fmt.Errorf("invalid signal %q", s)
	}
	return sig, nil
}
