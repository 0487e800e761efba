//go:build linux

// Package api serves an engine (the local one: package engine/local) as the
// Docker Engine API, over HTTP on a unix socket: what dockerd does for the
// docker CLI, docker-compose and every Docker SDK. The routes are Go 1.22
// net/http patterns; the bodies are package api/types. The few things HTTP
// does not do by itself are here by hand: a version prefix on every path
// (/v1.44/containers/json), the hijacked connection of attach and exec
// (101 UPGRADED, then raw bytes both ways), the 8-byte frames that
// multiplex stdout and stderr (package stream), and streams that are
// flushed per message (logs -f, events, stats, wait). Chapter:
// docs/09-daemon.md.
package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
)

// maxJSON bounds a JSON request body: a create request is a few KiB; a
// client that sends more is refused with 400, not held in memory.
const maxJSON = 4 << 20

// Server is the API over one engine.
type Server struct {
	e       engine.Engine
	version string
	mux     *http.ServeMux
	Log     *log.Logger // request errors (nil: none)
}

// region routes
// New returns the API's handler for e; version is minidocker's own, for
// the Server header and /version.
func New(e engine.Engine, version string) *Server {
	s := &Server{e: e, version: version, mux: http.NewServeMux()}
	for pattern, h := range map[string]handler{
		"GET /_ping":   s.ping,
		"HEAD /_ping":  s.ping,
		"GET /version": s.versionH,
		"GET /info":    s.info,
		"GET /events":  s.events,

		"POST /containers/create":       s.create,
		"GET /containers/json":          s.list,
		"GET /containers/{id}/json":     s.inspect,
		"POST /containers/{id}/start":   s.start,
		"POST /containers/{id}/stop":    s.stop,
		"POST /containers/{id}/restart": s.restart,
		"POST /containers/{id}/kill":    s.kill,
		"POST /containers/{id}/wait":    s.wait,
		"POST /containers/{id}/attach":  s.attach,
		"POST /containers/{id}/resize":  resize(s.e.ContainerResize),
		"POST /containers/{id}/rename":  s.rename,
		"DELETE /containers/{id}":       s.remove,
		"GET /containers/{id}/logs":     s.logs,
		"GET /containers/{id}/top":      s.top,
		"GET /containers/{id}/stats":    s.stats,
		"GET /containers/{id}/export":   s.export,
		"POST /containers/{id}/exec":    s.execCreate,
		"POST /exec/{id}/start":         s.execStart,
		"POST /exec/{id}/resize":        resize(s.e.ExecResize),
		"GET /exec/{id}/json":           s.execInspect,
		"POST /commit":                  s.commit,
		"POST /containers/{id}/pause":   s.pause,
		"POST /containers/{id}/unpause": s.unpause,
		"POST /build":                   s.build,

		"GET /images/json":    s.images,
		"POST /images/create": s.imageCreate,
		"GET /images/get":     s.imagesGet,
		"POST /images/load":   s.imagesLoad,
		"POST /images/prune":  s.imagesPrune,
		"/images/":            s.imageByName, // names contain "/" and ":": routed by hand
		"POST /auth":          s.login,
		"GET /system/df":      s.systemDF,

		"GET /networks":                  s.networks,
		"GET /networks/{$}":              s.networks,
		"POST /networks/create":          s.networkCreate,
		"GET /networks/{id}":             s.networkInspect,
		"DELETE /networks/{id}":          s.networkRemove,
		"POST /networks/{id}/connect":    s.networkConnect,
		"POST /networks/{id}/disconnect": s.networkDisconnect,

		"GET /volumes":           s.volumes,
		"POST /volumes/create":   s.volumeCreate,
		"GET /volumes/{name}":    s.volumeInspect,
		"DELETE /volumes/{name}": s.volumeRemove,
	} {
		s.mux.Handle(pattern, h)
	}
	s.mux.Handle("/", handler(func(w http.ResponseWriter, r *http.Request) error {
		return engine.Errorf(engine.ErrNotFound, "page not found: %s %s is not part of minidocker's API", r.Method, r.URL.Path)
	}))
	return s
}

// endregion routes

// handler is a route that may fail: its error is written as Docker's
// {"message": ...} with the status of its kind.
type handler func(w http.ResponseWriter, r *http.Request) error

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		writeError(w, err)
	}
}

// versionPrefix is the /v1.44 every client puts before the path.
var versionPrefix = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/`)

// region serve
// ServeHTTP strips the version prefix, sets the headers every Docker
// response carries, and turns a handler's panic into a 500 (a bad request
// never takes the daemon down).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m := versionPrefix.FindString(r.URL.Path); m != "" {
		r.URL.Path = r.URL.Path[len(m)-1:]
		r.URL.RawPath = ""
	}
	h := w.Header()
	h.Set("Api-Version", types.APIVersion)
	h.Set("Server", "Docker/"+s.version+" (linux)")
	h.Set("Ostype", "linux")
	h.Set("Docker-Experimental", "false")
	defer func() {
		if p := recover(); p != nil && p != http.ErrAbortHandler {
			if s.Log != nil {
				s.Log.Printf("panic serving %s %s: %v", r.Method, r.URL.Path, p)
			}
			writeError(w, fmt.Errorf("internal error: %v", p))
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// endregion serve

// statusOf maps an engine error's kind to its HTTP status.
func statusOf(err error) int {
	for kind, code := range map[error]int{
		engine.ErrNotFound: http.StatusNotFound, engine.ErrConflict: http.StatusConflict,
		engine.ErrInvalid: http.StatusBadRequest, engine.ErrNotModified: http.StatusNotModified,
		engine.ErrNotSupported: http.StatusNotImplemented, engine.ErrForbidden: http.StatusForbidden,
		engine.ErrUnavailable: http.StatusServiceUnavailable,
	} {
		if errors.Is(err, kind) {
			return code
		}
	}
	return http.StatusInternalServerError
}

// writeError writes {"message": "..."} as application/json, exactly: the
// docker CLI prints any other content type raw.
func writeError(w http.ResponseWriter, err error) {
	code := statusOf(err)
	if code == http.StatusNotModified {
		w.WriteHeader(code) // 304 has no body
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(types.ErrorResponse{Message: strings.ReplaceAll(err.Error(), "\n", " ")})
}

// writeJSON writes v with a status.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	return json.NewEncoder(w).Encode(v)
}

// readJSON decodes a bounded body into v; an empty body leaves v as it is.
// Unknown fields are fine (clients send fields of newer API versions).
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSON))
	if err := dec.Decode(v); err != nil && err != io.EOF {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return engine.Errorf(engine.ErrInvalid, "request body too large: over %d bytes", maxJSON)
		}
		return engine.Errorf(engine.ErrInvalid, "invalid JSON in the request body: %v", err)
	}
	return nil
}

// boolValue reads a query boolean as moby does: "", 0, no, false, none are false.
func boolValue(r *http.Request, key string) bool {
	switch strings.ToLower(strings.TrimSpace(r.URL.Query().Get(key))) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
}

// intValue reads a query integer (def when absent); a bad one is a 400.
func intValue(r *http.Request, key string, def int) (int, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, engine.Errorf(engine.ErrInvalid, "invalid value for %s: %q", key, v)
	}
	return n, nil
}

// filters reads ?filters= in both of Docker's forms: {"label":{"a=b":true}}
// (the CLI) and {"label":["a=b"]} (docker-py).
func filters(r *http.Request) (map[string][]string, error) {
	raw := r.URL.Query().Get("filters")
	if raw == "" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, engine.Errorf(engine.ErrInvalid, "invalid filters: %v", err)
	}
	out := map[string][]string{}
	for k, v := range m {
		var set map[string]bool
		var list []string
		switch {
		case json.Unmarshal(v, &set) == nil:
			for x, on := range set {
				if on {
					out[k] = append(out[k], x)
				}
			}
		case json.Unmarshal(v, &list) == nil:
			out[k] = list
		default:
			return nil, engine.Errorf(engine.ErrInvalid, "invalid filter %q", k)
		}
	}
	return out, nil
}

// flushWriter flushes after every write: logs -f, events and stats reach
// the client as they happen.
type flushWriter struct {
	w io.Writer
	f http.Flusher
}

func (fw flushWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	if fw.f != nil {
		fw.f.Flush()
	}
	return n, err
}

func flushing(w http.ResponseWriter) io.Writer {
	f, _ := w.(http.Flusher)
	return flushWriter{w, f}
}

// region hijack
// hijack takes the connection from net/http for attach and exec: the
// answer is "101 UPGRADED" (the docker CLI requires exactly 101 when it
// asked for an upgrade), then the connection is a raw byte stream both
// ways. The returned reader may already hold stdin bytes that came with
// the request.
func hijack(w http.ResponseWriter, r *http.Request, contentType string) (net.Conn, *bufio.Reader, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("this connection cannot be hijacked")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	head := "HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\n\r\n"
	if strings.EqualFold(r.Header.Get("Upgrade"), "tcp") || strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade") {
		head = "HTTP/1.1 101 UPGRADED\r\nContent-Type: " + contentType + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
	}
	if _, err := io.WriteString(conn, head); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, rw.Reader, nil
}

// endregion hijack

// streamType is the Content-Type of an attach/exec/logs stream.
func streamType(tty bool) string {
	if tty {
		return "application/vnd.docker.raw-stream"
	}
	return "application/vnd.docker.multiplexed-stream"
}

func notYet(what string) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		return engine.Errorf(engine.ErrNotSupported, "%s is not supported by minidocker yet", what)
	}
}
