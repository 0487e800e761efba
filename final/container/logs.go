//go:build linux

package container

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/minidocker/build-your-own-docker/final/state"
)

// LogPath is the container's log: JSON lines as Docker's json-file driver
// writes them: {"log":"hi\n","stream":"stdout","time":"..."}.
func LogPath(id string) string { return filepath.Join(state.Dir(id), "container.log") }

type logLine struct {
	Log    string `json:"log"`
	Stream string `json:"stream"`
	Time   string `json:"time"`
}

// LogWriter appends lines of both streams to the log file.
type LogWriter struct {
	mu sync.Mutex
	f  *os.File
}

func OpenLog(id string) (*LogWriter, error) {
	f, err := os.OpenFile(LogPath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0640)
	if err != nil {
		return nil, err
	}
	return &LogWriter{f: f}, nil
}

func (w *LogWriter) Close() error { return w.f.Close() }

// Copy reads r line by line into the log (stream "stdout"/"stderr") and,
// if tee is set, to tee as well (the foreground CLI's own stdout).
func (w *LogWriter) Copy(r io.Reader, stream string, tee io.Writer) {
	br := bufio.NewReaderSize(r, 32*1024)
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			if tee != nil {
				io.WriteString(tee, line)
			}
			b, _ := json.Marshal(logLine{Log: line, Stream: stream, Time: time.Now().UTC().Format(time.RFC3339Nano)})
			w.mu.Lock()
			w.f.Write(append(b, '\n'))
			w.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// Logs writes the log to stdout/stderr; with follow it keeps reading until
// the container is no longer running.
func Logs(c *state.Container, stdout, stderr io.Writer, follow bool) error {
	f, err := os.Open(LogPath(c.ID))
	if os.IsNotExist(err) {
		if !follow {
			return nil
		}
		f, err = os.OpenFile(LogPath(c.ID), os.O_CREATE|os.O_RDONLY, 0640)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	pending := ""
	drain := func() {
		for {
			line, err := br.ReadString('\n')
			pending += line
			if err != nil {
				return // EOF: a partial line waits in pending
			}
			var l logLine
			if json.Unmarshal([]byte(pending), &l) == nil {
				if l.Stream == "stderr" {
					io.WriteString(stderr, l.Log)
				} else {
					io.WriteString(stdout, l.Log)
				}
			}
			pending = ""
		}
	}
	for {
		drain()
		if !follow {
			return nil
		}
		if r, err := state.Load(c.ID); err != nil || !Refresh(r).Running() {
			drain() // lines written just before the end
			return nil
		}
		time.Sleep(100 * time.Millisecond) // tail -f polls the same way
	}
}
