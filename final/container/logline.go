//go:build linux

package container

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// region logline
// A log line is Docker's json-file line, {"log":"hi\n","stream":"stdout",
// "time":"..."}, with one difference: bytes that are not UTF-8 (a binary
// file on stdout) cannot be a JSON string without being changed (the
// standard encoder turns them into U+FFFD), so such a chunk is written as
// {"b64":"...",...}, base64, and comes back byte for byte. Attach and
// `logs` read the log, so what a container writes is exactly what its
// client gets. Encoded and decoded by hand: the log holds every line a
// container writes, and reflection costs microseconds per line.
func appendLogLine(b, chunk []byte, stream string, t time.Time) []byte {
	if utf8.Valid(chunk) {
		b = append(b, `{"log":`...)
		b = appendJSONString(b, chunk)
	} else {
		b = append(b, `{"b64":"`...)
		b = base64.StdEncoding.AppendEncode(b, chunk)
		b = append(b, '"')
	}
	b = append(b, `,"stream":"`...)
	b = append(b, stream...)
	b = append(b, `","time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, "\"}\n"...)
}

// endregion logline

const hexDigits = "0123456789abcdef"

// appendJSONString quotes valid UTF-8 as a JSON string.
func appendJSONString(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i, c := range s {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(append(b, s[start:]...), '"')
	return b
}

// logEntry is a decoded log line; Time is kept as text until it is needed.
type logEntry struct {
	Log    []byte
	Stream string
	Time   string
}

var errNotOurs = errors.New("not a line of our own shape")

// parseLogLine decodes one line of the log (without its newline): our own
// shape by hand, anything else (a line another writer made) through
// encoding/json.
func parseLogLine(line []byte, dst []byte) (logEntry, error) {
	if e, err := parseFast(line, dst); err == nil {
		return e, nil
	}
	var l struct {
		Log    *string `json:"log"`
		B64    []byte  `json:"b64"`
		Stream string  `json:"stream"`
		Time   string  `json:"time"`
	}
	if err := json.Unmarshal(line, &l); err != nil {
		return logEntry{}, err
	}
	e := logEntry{Log: l.B64, Stream: l.Stream, Time: l.Time}
	if l.Log != nil {
		e.Log = []byte(*l.Log)
	}
	return e, nil
}

func parseFast(line, dst []byte) (logEntry, error) {
	var e logEntry
	var err error
	switch {
	case bytes.HasPrefix(line, []byte(`{"log":"`)):
		if e.Log, line, err = unquote(line[len(`{"log":`):], dst[:0]); err != nil {
			return e, err
		}
	case bytes.HasPrefix(line, []byte(`{"b64":"`)):
		line = line[len(`{"b64":"`):]
		end := bytes.IndexByte(line, '"')
		if end < 0 {
			return e, errNotOurs
		}
		if e.Log, err = base64.StdEncoding.AppendDecode(dst[:0], line[:end]); err != nil {
			return e, err
		}
		line = line[end+1:]
	default:
		return e, errNotOurs
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{`,"stream":"`, &e.Stream}, {`,"time":"`, &e.Time}} {
		if !bytes.HasPrefix(line, []byte(f.key)) {
			return e, errNotOurs
		}
		line = line[len(f.key):]
		end := bytes.IndexByte(line, '"')
		if end < 0 {
			return e, errNotOurs
		}
		*f.dst, line = string(line[:end]), line[end+1:]
	}
	if string(line) != "}" {
		return e, errNotOurs
	}
	return e, nil
}

// unquote reads a JSON string at the start of s (its opening quote first),
// appending its bytes to dst; it returns what follows the closing quote.
func unquote(s, dst []byte) ([]byte, []byte, error) {
	if len(s) == 0 || s[0] != '"' {
		return nil, nil, errNotOurs
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return dst, s[i+1:], nil
		case c != '\\':
			dst = append(dst, c)
			continue
		}
		if i+1 >= len(s) {
			return nil, nil, errNotOurs
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			dst = append(dst, s[i])
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			if i+4 >= len(s) {
				return nil, nil, errNotOurs
			}
			r, err := strconv.ParseUint(string(s[i+1:i+5]), 16, 32)
			if err != nil {
				return nil, nil, errNotOurs
			}
			i += 4
			if r >= 0xd800 && r < 0xdc00 && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' { // a surrogate pair
				if lo, err := strconv.ParseUint(string(s[i+3:i+7]), 16, 32); err == nil && lo >= 0xdc00 && lo < 0xe000 {
					r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
					i += 6
				}
			}
			dst = utf8.AppendRune(dst, rune(r))
		default:
			return nil, nil, errNotOurs
		}
	}
	return nil, nil, errNotOurs
}
