//go:build linux

package container

import (
	"bufio"
	"bytes"
	"context"
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

// maxLogLine is where a line without a newline is cut, as Docker's
// json-file driver cuts at 16 KiB: 20 MiB of output with no newline is
// 1280 log lines, not one line held in memory.
const maxLogLine = 16 << 10

// LogWriter appends lines of both streams to the log file, through a
// buffer that is written out whenever the stream being copied has nothing
// more to read right now: a burst of short lines costs one write(2), not
// one per line, and no line waits once the container pauses.
type LogWriter struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	buf []byte
}

func OpenLog(id string) (*LogWriter, error) {
	f, err := os.OpenFile(LogPath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND|unix.O_CLOEXEC, 0640)
	if err != nil {
		return nil, err
	}
	return &LogWriter{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

func (w *LogWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.w.Flush()
	return w.f.Close()
}

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
			w.mu.Lock()
			w.buf = appendLogLine(w.buf[:0], line, stream, time.Now().UTC())
			w.w.Write(w.buf)
			if br.Buffered() == 0 { // the pipe may be empty: write the log out
				w.w.Flush()
			}
			w.mu.Unlock()
		}
		if err != nil && err != bufio.ErrBufferFull {
			w.mu.Lock()
			w.w.Flush()
			w.mu.Unlock()
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
	// Flush, if set, is called whenever all there is has been written (the
	// daemon buffers a stream and sends it then).
	Flush func()
	// Positioned, if set, is closed once the reading position is taken:
	// attach sends its stdin only then, so that the answer to it (written
	// after) cannot fall before the position and be missed.
	Positioned chan struct{}
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
	if opts.Positioned != nil {
		close(opts.Positioned)
	}
	br := bufio.NewReaderSize(f, 64*1024)
	pending := []byte{}
	// Consecutive lines of one stream go out as one write (one frame on
	// the API's multiplexed stream), up to 64 KiB: a million short lines
	// are not a million frames for the client to take apart.
	var batch, text []byte
	var batchOut io.Writer
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := batchOut.Write(batch)
		batch = batch[:0]
		return err
	}
	drain := func() error {
		for {
			line, err := br.ReadSlice('\n')
			pending = append(pending, line...)
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				if err := flush(); err != nil {
					return err
				}
				if opts.Flush != nil {
					opts.Flush()
				}
				return nil // EOF: a partial line waits in pending
			}
			if l, err := parseLogLine(bytes.TrimSuffix(pending, []byte("\n")), text); err == nil {
				text = l.Log
				out := stdout
				if l.Stream == "stderr" {
					out = stderr
				}
				var t time.Time
				if opts.Timestamps || !opts.Since.IsZero() {
					t, _ = time.Parse(time.RFC3339Nano, l.Time)
				}
				if t.Before(opts.Since) {
					pending = pending[:0]
					continue
				}
				if out != batchOut || len(batch) > 64<<10 {
					if err := flush(); err != nil {
						return err // the reader went away
					}
					batchOut = out
				}
				if opts.Timestamps {
					batch = append(append(batch, t.Format(time.RFC3339Nano)...), ' ')
				}
				batch = append(batch, l.Log...)
			}
			pending = pending[:0]
		}
	}
	var exited <-chan struct{}
	var pid int
	var recordIno uint64 // the record is replaced (rename) on every change
	for {
		if err := drain(); err != nil || !opts.Follow {
			return err
		}
		var st unix.Stat_t
		if unix.Stat(filepath.Join(state.Dir(id), "config.v2.json"), &st) == nil && st.Ino == recordIno && exited != nil {
			select { // only the log grew: wait again
			case <-ctx.Done():
				return nil
			case <-exited:
				exited = nil
			case _, ok := <-w.C:
				if !ok {
					return drain()
				}
			}
			continue
		}
		recordIno = st.Ino
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
