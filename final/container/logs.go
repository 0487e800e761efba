//go:build linux

package container

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/minidocker/build-your-own-docker/final/watch"
	"golang.org/x/sys/unix"
)

// LogPath is the container's log: JSON lines as Docker's json-file driver
// writes them: {"log":"hi\n","stream":"stdout","time":"..."}.
func LogPath(id string) string { return filepath.Join(state.Dir(id), "container.log") }

type logLine struct {
	Log    string `json:"log"`
	Stream string `json:"stream"`
	Time   string `json:"time"`
}

// maxLogLine is where a line without a newline is cut, as Docker's
// json-file driver cuts at 16 KiB: 20 MiB of output with no newline is
// 1280 log lines, not one line held in memory.
const maxLogLine = 16 << 10

// LogWriter appends lines of both streams to the log file.
type LogWriter struct {
	mu sync.Mutex
	f  *os.File
}

func OpenLog(id string) (*LogWriter, error) {
	f, err := os.OpenFile(LogPath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND|unix.O_CLOEXEC, 0640)
	if err != nil {
		return nil, err
	}
	return &LogWriter{f: f}, nil
}

func (w *LogWriter) Close() error { return w.f.Close() }

// Copy reads r line by line (at most 16 KiB a line) into the log (stream
// "stdout"/"stderr") and, if tee is set, to tee as well (the foreground
// CLI's own stdout).
func (w *LogWriter) Copy(r io.Reader, stream string, tee io.Writer) {
	br := bufio.NewReaderSize(r, maxLogLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if tee != nil {
				tee.Write(line)
			}
			b, _ := json.Marshal(logLine{Log: string(line), Stream: stream, Time: time.Now().UTC().Format(time.RFC3339Nano)})
			w.mu.Lock()
			w.f.Write(append(b, '\n'))
			w.mu.Unlock()
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// LogOptions are `logs`'s: follow, the last lines only, timestamps, since.
type LogOptions struct {
	Follow     bool
	Tail       int // lines from the end; <0: all
	Timestamps bool
	Since      time.Time
	// FromEnd: only what is written from now on (attach without logs).
	FromEnd bool
	// ExitAfter: follow until the container exits after this time (attach:
	// a container that is created, not yet running, is waited for).
	ExitAfter time.Time
}

// region followlog
// Logs writes the container's log to stdout and stderr. With Follow it
// keeps reading as the log grows and returns once the container no longer
// runs (after reading what it wrote last), or when ctx ends: inotify on the
// container's directory wakes it (package watch), no polling. Watch first,
// then read: a line written between the two cannot be missed.
func Logs(ctx context.Context, id string, opts LogOptions, stdout, stderr io.Writer) error {
	var w *watch.Watch
	if opts.Follow {
		var err error
		if w, err = watch.Dir(state.Dir(id)); err != nil {
			return err
		}
		defer w.Close()
	}
	f, err := os.OpenFile(LogPath(id), os.O_CREATE|os.O_RDONLY|unix.O_CLOEXEC, 0640)
	if err != nil {
		return err
	}
	defer f.Close()
	if opts.FromEnd {
		f.Seek(0, io.SeekEnd)
	} else if opts.Tail >= 0 {
		seekTail(f, opts.Tail)
	}
	br := bufio.NewReaderSize(f, 64*1024)
	pending := []byte{}
	drain := func() error {
		for {
			line, err := br.ReadSlice('\n')
			pending = append(pending, line...)
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				return nil // EOF: a partial line waits in pending
			}
			var l logLine
			if json.Unmarshal(pending, &l) == nil {
				out := stdout
				if l.Stream == "stderr" {
					out = stderr
				}
				t, _ := time.Parse(time.RFC3339Nano, l.Time)
				if t.Before(opts.Since) {
					pending = pending[:0]
					continue
				}
				text := l.Log
				if opts.Timestamps {
					text = t.Format(time.RFC3339Nano) + " " + text
				}
				if _, err := io.WriteString(out, text); err != nil {
					return err // the reader went away
				}
			}
			pending = pending[:0]
		}
	}
	var exited <-chan struct{}
	var pid int
	for {
		if err := drain(); err != nil || !opts.Follow {
			return err
		}
		c, err := state.Load(id)
		if err != nil {
			return drain()
		}
		c = Refresh(c)
		ended := !c.Running()
		if !opts.ExitAfter.IsZero() {
			ended = ended && c.State.FinishedAt.After(opts.ExitAfter)
		}
		if ended {
			return drain() // lines written just before the end
		}
		if c.Running() && c.State.Pid != pid { // a pidfd on its init, once per start
			pid, exited = c.State.Pid, exitOf(ctx, c)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-exited:
			exited = nil
		case _, ok := <-w.C:
			if !ok { // removed (--rm): what is left in the open file is ours
				return drain()
			}
		}
	}
}

// exitOf is closed when the container's init exits (or ctx ends).
func exitOf(ctx context.Context, c *state.Container) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		waitPidfd(ctx, c.State.Pid, c.State.PidStart)
		close(ch)
	}()
	return ch
}

// endregion followlog

// seekTail moves f to the start of its last n lines.
func seekTail(f *os.File, n int) {
	end, _ := f.Seek(0, io.SeekEnd)
	if n == 0 {
		return
	}
	buf := make([]byte, 64*1024)
	lines := 0
	for off := end; off > 0; {
		size := int64(len(buf))
		if off < size {
			size = off
		}
		off -= size
		f.ReadAt(buf[:size], off)
		for i := size - 1; i >= 0; i-- {
			if buf[i] == '\n' && off+i+1 != end {
				if lines++; lines == n {
					f.Seek(off+i+1, io.SeekStart)
					return
				}
			}
		}
	}
	f.Seek(0, io.SeekStart)
}

// ParseTail reads `logs --tail`: "all" (or "") is -1.
func ParseTail(s string) (int, error) {
	if s == "" || s == "all" {
		return -1, nil
	}
	return strconv.Atoi(s)
}
