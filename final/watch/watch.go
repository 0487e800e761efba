//go:build linux

// Package watch tells a process when a directory changes, with one
// inotify(7) descriptor for the whole process: a daemon with fifty waiting
// clients has fifty watches, not fifty descriptors (a user may own only
// 128 inotify instances). `wait`, `attach` and `logs -f` watch a
// container's directory (its record is replaced by rename(2) on every
// change, its log is appended to, and the directory goes when it is
// removed); `events` watches the state root, where the events log is.
package watch

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Watch is one subscription: C gets a value (coalesced) after each change
// under the directory; it is closed when the directory is removed.
type Watch struct {
	C   <-chan struct{}
	c   chan struct{}
	wd  int
	dir string
}

var hub struct {
	sync.Mutex
	fd   int
	subs map[int][]*Watch // by watch descriptor
	err  error
	once sync.Once
}

// Dir watches dir for files created, written, renamed into it or removed,
// and for its own removal. The watch is in place when Dir returns: look
// at the state after that, and no change can be missed.
func Dir(dir string) (*Watch, error) {
	hub.once.Do(func() {
		hub.fd, hub.err = unix.InotifyInit1(unix.IN_CLOEXEC)
		hub.subs = map[int][]*Watch{}
		if hub.err == nil {
			go loop()
		}
	})
	if hub.err != nil {
		return nil, hub.err
	}
	hub.Lock()
	defer hub.Unlock()
	// Adding the same directory again returns the same descriptor.
	wd, err := unix.InotifyAddWatch(hub.fd, dir, unix.IN_CREATE|unix.IN_MODIFY|unix.IN_MOVED_TO|unix.IN_DELETE|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF)
	if err != nil {
		return nil, err
	}
	c := make(chan struct{}, 1)
	w := &Watch{C: c, c: c, wd: wd, dir: dir}
	hub.subs[wd] = append(hub.subs[wd], w)
	return w, nil
}

// Close ends the subscription (the kernel's watch goes with the last one).
func (w *Watch) Close() {
	hub.Lock()
	defer hub.Unlock()
	subs := hub.subs[w.wd]
	for i, s := range subs {
		if s == w {
			hub.subs[w.wd] = append(subs[:i:i], subs[i+1:]...)
			if len(hub.subs[w.wd]) == 0 {
				delete(hub.subs, w.wd)
				unix.InotifyRmWatch(hub.fd, uint32(w.wd))
			}
			return
		}
	}
}

// loop reads the inotify descriptor and wakes the subscribers.
func loop() {
	buf := make([]byte, 64*1024)
	for {
		n, err := unix.Read(hub.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		hub.Lock()
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			off += unix.SizeofInotifyEvent + int(ev.Len)
			gone := ev.Mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED) != 0
			for _, w := range hub.subs[int(ev.Wd)] {
				if gone {
					if w.c != nil {
						close(w.c)
						w.c = nil
					}
					continue
				}
				if w.c != nil {
					select {
					case w.c <- struct{}{}:
					default: // one pending wake-up is enough
					}
				}
			}
			if ev.Mask&unix.IN_IGNORED != 0 {
				delete(hub.subs, int(ev.Wd))
			}
		}
		hub.Unlock()
	}
}
