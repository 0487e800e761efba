//go:build linux

package api

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/stream"
)

func (s *Server) ping(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Builder-Version", "1")
	h.Set("Swarm", "inactive")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := io.WriteString(w, "OK")
	return err
}

func (s *Server) versionH(w http.ResponseWriter, r *http.Request) error {
	v, err := s.e.Version(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) error {
	in, err := s.e.Info(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}

// events streams the events log, one JSON object per flushed write.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	since, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	until, _ := strconv.ParseInt(r.URL.Query().Get("until"), 10, 64)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	out := flushing(w)
	enc := json.NewEncoder(out)
	out.Write(nil)
	return ignoreEnd(s.e.Events(r.Context(), engine.EventsOptions{Since: since, Until: until, Filters: f}, func(ev types.Event) error {
		return enc.Encode(ev)
	}))
}

// ignoreEnd: once the answer has started, an error can no longer be a status.
func ignoreEnd(err error) error { return nil }

func (s *Server) create(w http.ResponseWriter, r *http.Request) error {
	var req types.ContainerCreateRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	resp, err := s.e.ContainerCreate(r.Context(), r.URL.Query().Get("name"), &req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, resp)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	limit, err := intValue(r, "limit", -1)
	if err != nil {
		return err
	}
	cs, err := s.e.ContainerList(r.Context(), engine.ListOptions{All: boolValue(r, "all"), Limit: limit, Filters: f})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cs)
}

func (s *Server) inspect(w http.ResponseWriter, r *http.Request) error {
	c, err := s.e.ContainerInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) start(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, s.e.ContainerStart(r.Context(), r.PathValue("id")))
}

// timeout reads ?t= (stop's grace period); absent is nil: the container's
// own StopTimeout, or 10 s.
func timeout(r *http.Request) (*int, error) {
	if r.URL.Query().Get("t") == "" {
		return nil, nil
	}
	t, err := intValue(r, "t", 10)
	return &t, err
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request) error {
	t, err := timeout(r)
	if err != nil {
		return err
	}
	return noContent(w, s.e.ContainerStop(r.Context(), r.PathValue("id"), t))
}

func (s *Server) restart(w http.ResponseWriter, r *http.Request) error {
	t, err := timeout(r)
	if err != nil {
		return err
	}
	return noContent(w, s.e.ContainerRestart(r.Context(), r.PathValue("id"), t))
}

func (s *Server) kill(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, s.e.ContainerKill(r.Context(), r.PathValue("id"), r.URL.Query().Get("signal")))
}

func (s *Server) pause(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, s.e.ContainerPause(r.Context(), r.PathValue("id")))
}

func (s *Server) unpause(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, s.e.ContainerUnpause(r.Context(), r.PathValue("id")))
}

func (s *Server) rename(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, s.e.ContainerRename(r.Context(), r.PathValue("id"), r.URL.Query().Get("name")))
}

func (s *Server) remove(w http.ResponseWriter, r *http.Request) error {
	opts := engine.RemoveOptions{Force: boolValue(r, "force"), Volumes: boolValue(r, "v")}
	return noContent(w, s.e.ContainerRemove(r.Context(), r.PathValue("id"), opts))
}

// resize is POST /containers/{id}/resize and /exec/{id}/resize: ?h=ROWS&w=COLUMNS.
func resize(to func(ctx context.Context, id string, h, w uint) error) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		h, err := intValue(r, "h", 0)
		if err != nil {
			return err
		}
		wd, err := intValue(r, "w", 0)
		if err != nil {
			return err
		}
		if err := to(r.Context(), r.PathValue("id"), uint(h), uint(wd)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
}

// region wait
// wait registers the waiter, then sends the headers at once: the docker CLI
// blocks until it has them, and only then starts the container. The body,
// {"StatusCode": N}, comes when the condition holds.
func (s *Server) wait(w http.ResponseWriter, r *http.Request) error {
	ch, err := s.e.ContainerWait(r.Context(), r.PathValue("id"), r.URL.Query().Get("condition"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	select {
	case res := <-ch:
		return json.NewEncoder(w).Encode(res)
	case <-r.Context().Done(): // `run -d` drops its wait after the start
		return nil
	}
}

// endregion wait

// region attach
// attach hijacks the connection and connects it to the container: output
// framed (or raw with a terminal), the client's bytes to its stdin. The
// connection is closed when the container exits; a client that goes away
// ends the attach (its reads fail).
func (s *Server) attach(w http.ResponseWriter, r *http.Request) error {
	c, err := s.e.ContainerInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	tty := c.Config.Tty
	conn, in, err := hijack(w, r, streamType(tty))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := bufio.NewWriterSize(conn, 64<<10) // sent whenever the log has no more for now
	defer out.Flush()
	st := s.streams(out, tty)
	st.Flush = func() { out.Flush() }
	opts := engine.AttachOptions{Stdin: boolValue(r, "stdin"), Stdout: boolValue(r, "stdout"), Stderr: boolValue(r, "stderr"), Logs: boolValue(r, "logs")}
	if opts.Stdin {
		st.Stdin = stdinOf(in, cancel, !c.Config.OpenStdin)
	} else {
		go watchClose(in, cancel)
	}
	if !boolValue(r, "stream") { // logs=1 only: what it wrote, then the end
		s.e.ContainerLogs(ctx, c.ID, engine.LogsOptions{Tail: "all"}, st.Stdout, st.Stderr)
		return nil
	}
	s.e.ContainerAttach(ctx, c.ID, opts, st)
	return nil
}

// endregion attach

// streams are a hijacked connection as the engine's Streams: stdout and
// stderr as frames of one connection (raw with a terminal).
func (s *Server) streams(conn io.Writer, tty bool) engine.Streams {
	if tty {
		return engine.Streams{Stdout: conn, Stderr: conn, Tty: true}
	}
	mux := stream.NewMuxer(conn)
	return engine.Streams{Stdout: mux.Stream(stream.Stdout), Stderr: mux.Stream(stream.Stderr)}
}

// stdinOf is the client's side of the connection as the container's stdin.
// When the client half-closes it (its stdin ended: CloseWrite), the reader
// ends; output keeps flowing. When the connection breaks, cancel ends the
// attach. ignored: the container reads no stdin: drain and watch only.
func stdinOf(in io.Reader, cancel func(), ignored bool) io.Reader {
	if ignored {
		go watchClose(in, cancel)
		return nil
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, in)
		pw.Close()
		if err != nil {
			cancel() // a broken connection, not a half-close
		}
	}()
	return pr
}

// watchClose reads (and drops) what the client sends until the connection
// ends; a broken connection cancels.
func watchClose(in io.Reader, cancel func()) {
	if _, err := io.Copy(io.Discard, in); err != nil {
		cancel()
	}
}

func (s *Server) logs(w http.ResponseWriter, r *http.Request) error {
	c, err := s.e.ContainerInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	since, _ := strconv.ParseFloat(r.URL.Query().Get("since"), 64)
	opts := engine.LogsOptions{Follow: boolValue(r, "follow"), Tail: r.URL.Query().Get("tail"), Timestamps: boolValue(r, "timestamps"), Since: int64(since)}
	w.Header().Set("Content-Type", streamType(c.Config.Tty))
	w.WriteHeader(http.StatusOK)
	st := s.streams(w, c.Config.Tty) // net/http buffers; flushed when the log has no more for now
	if f, ok := w.(http.Flusher); ok {
		opts.Flush = f.Flush
	}
	if !boolValue(r, "stdout") {
		st.Stdout = io.Discard
	}
	if !boolValue(r, "stderr") {
		st.Stderr = io.Discard
	}
	return ignoreEnd(s.e.ContainerLogs(r.Context(), c.ID, opts, st.Stdout, st.Stderr))
}

func (s *Server) top(w http.ResponseWriter, r *http.Request) error {
	t, err := s.e.ContainerTop(r.Context(), r.PathValue("id"), r.URL.Query().Get("ps_args"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	stream := r.URL.Query().Get("stream") == "" || boolValue(r, "stream")
	if _, err := s.e.ContainerInspect(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(flushing(w))
	return ignoreEnd(s.e.ContainerStats(r.Context(), r.PathValue("id"), stream, func(st *types.StatsJSON) error { return enc.Encode(st) }))
}

func (s *Server) export(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.e.ContainerInspect(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	return ignoreEnd(s.e.ContainerExport(r.Context(), r.PathValue("id"), w))
}

func (s *Server) commit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ref := q.Get("repo")
	if t := q.Get("tag"); ref != "" && t != "" {
		ref += ":" + t
	}
	id, err := s.e.ContainerCommit(r.Context(), q.Get("container"), engine.CommitOptions{Ref: ref, Comment: q.Get("comment"), Author: q.Get("author"), Changes: q["changes"]})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, types.IDResponse{ID: id})
}

func (s *Server) execCreate(w http.ResponseWriter, r *http.Request) error {
	var cfg types.ExecConfig
	if err := readJSON(w, r, &cfg); err != nil {
		return err
	}
	id, err := s.e.ExecCreate(r.Context(), r.PathValue("id"), cfg)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, types.IDResponse{ID: id})
}

// execStart runs an exec on a hijacked connection (or detached: 200, no body).
func (s *Server) execStart(w http.ResponseWriter, r *http.Request) error {
	var cfg types.ExecStartConfig
	if err := readJSON(w, r, &cfg); err != nil {
		return err
	}
	id := r.PathValue("id")
	in, err := s.e.ExecInspect(r.Context(), id)
	if err != nil {
		return err
	}
	tty := in.ProcessConfig.Tty
	if cfg.Detach {
		go s.e.ExecStart(context.Background(), id, engine.Streams{Stdout: io.Discard, Stderr: io.Discard, Tty: tty})
		w.WriteHeader(http.StatusOK)
		return nil
	}
	conn, br, err := hijack(w, r, streamType(tty))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := s.streams(conn, tty)
	st.Tty = tty
	st.Stdin = stdinOf(br, cancel, !in.OpenStdin)
	if cs := cfg.ConsoleSize; tty && cs != nil && cs[0] > 0 { // the start's size, as a first resize
		sizes := make(chan [2]uint, 1)
		sizes <- *cs
		st.Resize = sizes
	}
	if err := s.e.ExecStart(ctx, id, st); err != nil {
		if tty {
			io.WriteString(conn, err.Error()+"\r\n")
		} else {
			stream.NewMuxer(conn).Write(stream.Stderr, []byte(err.Error()+"\n"))
		}
	}
	return nil
}

func (s *Server) execInspect(w http.ResponseWriter, r *http.Request) error {
	in, err := s.e.ExecInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}

var _ = time.Second
