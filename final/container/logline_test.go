//go:build linux

package container

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"testing"
	"time"
)

// TestLogLineRoundTrip: every chunk a container may write (text, control
// bytes, quotes, invalid UTF-8, all 256 byte values) comes back from the
// log byte for byte, and a text line is what encoding/json reads too
// (Docker's json-file shape, for jq and friends).
func TestLogLineRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	rnd := make([]byte, 5000)
	rand.New(rand.NewSource(1)).Read(rnd)
	for _, chunk := range [][]byte{[]byte("hi\n"), []byte(`"quoted" \back\slash` + "\t\r\x00\x1f\x7f"), []byte("héllo ✓ 𝄞\n"), {0xff, 0xfe, 'a'}, all, rnd, {}} {
		line := appendLogLine(nil, chunk, "stderr", time.Date(2026, 12, 1, 0, 0, 0, 5, time.UTC))
		e, err := parseLogLine(bytes.TrimSuffix(line, []byte("\n")), nil)
		if err != nil || !bytes.Equal(e.Log, chunk) || e.Stream != "stderr" || e.Time != "2026-12-01T00:00:00.000000005Z" {
			t.Errorf("%q: got %q %q %q %v from %s", chunk, e.Log, e.Stream, e.Time, err, line)
		}
		var std map[string]any
		if err := json.Unmarshal(line, &std); err != nil {
			t.Errorf("%q: not JSON: %v: %s", chunk, err, line)
		}
	}
	// a line of the standard encoder (an older minidocker wrote those)
	b, _ := json.Marshal(map[string]string{"log": "old\n", "stream": "stdout", "time": "2026-01-01T00:00:00Z"})
	if e, err := parseLogLine(b, nil); err != nil || string(e.Log) != "old\n" || e.Stream != "stdout" {
		t.Errorf("a standard json-file line: %q %v", e.Log, err)
	}
}

// FuzzLogLine: whatever bytes a container writes, the log gives them back.
func FuzzLogLine(f *testing.F) {
	f.Add([]byte("hi\n"))
	f.Add([]byte{0xff, 0, '"', '\\'})
	f.Fuzz(func(t *testing.T, chunk []byte) {
		line := appendLogLine(nil, chunk, "stdout", time.Unix(0, 0).UTC())
		e, err := parseLogLine(bytes.TrimSuffix(line, []byte("\n")), nil)
		if err != nil || !bytes.Equal(e.Log, chunk) {
			t.Fatalf("%q came back as %q (%v)", chunk, e.Log, err)
		}
	})
}
