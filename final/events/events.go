//go:build linux

// Package events is minidocker's log of what happened: one JSON line per
// event (create, start, die, destroy, rename, ... as `docker events` names
// them) appended to /var/lib/minidocker/events.jsonl by whichever process
// did it: the CLI, the daemon, or a container's monitor. Appends of one
// write(2) each to an O_APPEND file never interleave, so no lock is
// needed. Readers follow the file with inotify(7): `docker events`, and
// `wait`, which is "read events until this container's die" (a waiter
// notes where the file ends before it looks at the container, so a start
// and exit right after cannot be missed). Chapter: docs/09-daemon.md.
package events

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/minidocker/build-your-own-docker/final/watch"
	"golang.org/x/sys/unix"
)

// maxSize bounds the log: past it, the next append starts a new file and
// keeps the old one as events.jsonl.1 (followers move on by themselves).
const maxSize = 8 << 20

// Path is the events log.
func Path() string { return filepath.Join(state.Root, "events.jsonl") }

// Container records a container event. attrs are its Actor.Attributes
// (name, image, exitCode, and the container's labels).
func Container(action, id string, attrs map[string]string) {
	now := time.Now()
	ev := types.Event{Type: "container", Action: action, Actor: types.Actor{ID: id, Attributes: attrs},
		Scope: "local", Time: now.Unix(), TimeNano: now.UnixNano(), Status: action, ID: id, From: attrs["image"]}
	Append(ev)
}

// Append writes one event, best effort: an engine that cannot log an event
// still runs the container.
func Append(ev types.Event) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	if fi, err := os.Stat(Path()); err == nil && fi.Size() > maxSize {
		os.Rename(Path(), Path()+".1")
	}
	f, err := os.OpenFile(Path(), os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0600)
	if err != nil {
		return
	}
	f.Write(append(b, '\n')) // one write: never interleaved with another process's
	f.Close()
}

// Cursor is a place in the log: events after it are new.
type Cursor struct {
	ino    uint64
	offset int64
}

// Now is the end of the log: follow from here to see only what comes next.
func Now() Cursor {
	var st unix.Stat_t
	if unix.Stat(Path(), &st) != nil {
		return Cursor{}
	}
	return Cursor{ino: st.Ino, offset: st.Size}
}

// ErrStop ends Follow without an error when fn returns it.
var ErrStop = errors.New("stop")

// region follow
// Follow calls fn for each event after from, and for new ones as they are
// appended, until ctx ends or fn returns an error (ErrStop: a clean end).
// It sleeps until inotify says the state directory changed (package
// watch): no polling.
func Follow(ctx context.Context, from Cursor, fn func(types.Event) error) error {
	os.MkdirAll(state.Root, 0711)
	w, err := watch.Dir(state.Root)
	if err != nil {
		return err
	}
	defer w.Close()
	cur := from
	var f *os.File
	var br *bufio.Reader
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	pending := ""
	for {
		for br != nil { // every whole line there is now
			line, err := br.ReadString('\n')
			pending += line
			if err != nil {
				break // a partial line waits for the rest
			}
			cur.offset += int64(len(pending))
			var ev types.Event
			if json.Unmarshal([]byte(pending), &ev) == nil {
				if err := fn(ev); err != nil {
					if err == ErrStop {
						return nil
					}
					return err
				}
			}
			pending = ""
		}
		// A new file (the first open, or Append rotated the log): from its
		// start, after the old one was read to its end above.
		var st unix.Stat_t
		if unix.Stat(Path(), &st) == nil && (f == nil || st.Ino != cur.ino) {
			if f != nil {
				f.Close()
			}
			if f, err = os.Open(Path()); err != nil {
				return err
			}
			if st.Ino != cur.ino {
				cur = Cursor{ino: st.Ino}
			}
			f.Seek(cur.offset, io.SeekStart)
			br, pending = bufio.NewReader(f), ""
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-w.C:
			if !ok {
				return errors.New("the state directory was removed")
			}
		}
	}
}

// endregion follow
