// Package stream is the Docker Engine API's multiplexed stream: how stdout
// and stderr share one connection. Each chunk is an 8-byte header, then
// the bytes:
//
//	[stream, 0, 0, 0, size (4 bytes, big-endian)] payload
//
// stream 0 is stdin, 1 stdout, 2 stderr, 3 a system error (the CLI prints
// it as an error). `docker attach`, `docker logs` and `docker exec` read
// this when the container has no terminal; with a terminal the bytes come
// raw. minidocker also uses it between a client and a container's monitor,
// with one more kind: Resize. Chapter: docs/09-daemon.md.
package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// The streams of a frame.
const (
	Stdin  byte = 0
	Stdout byte = 1
	Stderr byte = 2
	System byte = 3
	Resize byte = 4 // minidocker's monitor socket only: "HEIGHT WIDTH"
)

// MaxFrame bounds one frame's payload a reader accepts (a hostile peer
// cannot make us allocate gigabytes with one header).
const MaxFrame = 1 << 20

// Muxer writes frames to one connection from several goroutines.
type Muxer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewMuxer frames writes to w.
func NewMuxer(w io.Writer) *Muxer { return &Muxer{w: w} }

// region frame
// Write sends one frame of stream id.
func (m *Muxer) Write(id byte, p []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(p) > 0 || id == Stdin { // an empty stdin frame means "stdin ends"
		n := len(p)
		if n > MaxFrame {
			n = MaxFrame
		}
		// header and payload in one write: one system call per frame
		m.buf = append(m.buf[:0], id, 0, 0, 0, 0, 0, 0, 0)
		binary.BigEndian.PutUint32(m.buf[4:8], uint32(n))
		m.buf = append(m.buf, p[:n]...)
		if _, err := m.w.Write(m.buf); err != nil {
			return err
		}
		p = p[n:]
		if id == Stdin && n == 0 {
			break
		}
	}
	return nil
}

// endregion frame

// Stream is one stream of a Muxer, as an io.Writer.
func (m *Muxer) Stream(id byte) io.Writer { return writer{m, id} }

type writer struct {
	m  *Muxer
	id byte
}

func (w writer) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := w.m.Write(w.id, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ReadFrame reads one frame's header and payload.
func ReadFrame(r io.Reader) (id byte, payload []byte, err error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[4:])
	if n > MaxFrame {
		return 0, nil, fmt.Errorf("a frame of %d bytes is over the limit of %d", n, MaxFrame)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return h[0], payload, nil
}

// ErrSystem is a stream-3 frame: an error the daemon sent in the stream.
var ErrSystem = errors.New("error from the daemon")

// Demux copies frames from r to stdout and stderr until EOF (what the
// docker CLI's stdcopy.StdCopy does). A System frame ends it with its text.
func Demux(stdout, stderr io.Writer, r io.Reader) error {
	for {
		id, p, err := ReadFrame(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch id {
		case Stdout:
			_, err = stdout.Write(p)
		case Stderr:
			_, err = stderr.Write(p)
		case System:
			return fmt.Errorf("%w: %s", ErrSystem, p)
		}
		if err != nil {
			return err
		}
	}
}
