//go:build linux

package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
)

func (s *Server) images(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	ims, err := s.e.ImageList(r.Context(), engine.ListOptions{All: boolValue(r, "all"), Filters: f})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ims)
}

// region progress
// progress answers with a stream of JSON lines (pull, push, load): the
// status 200 goes out with the first line, so an error before any line is
// a plain HTTP error (404 "pull access denied ..."), and one after it is a
// last line {"errorDetail": {"message": ...}, "error": ...}, which the CLI
// prints before exiting 1.
type progress struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	enc     *json.Encoder
	started bool
}

func newProgress(w http.ResponseWriter) *progress {
	return &progress{w: w, enc: json.NewEncoder(flushing(w))}
}

func (p *progress) send(m types.JSONMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started {
		p.w.Header().Set("Content-Type", "application/json")
		p.w.WriteHeader(http.StatusOK)
		p.started = true
	}
	p.enc.Encode(m)
}

// end finishes the stream with err, if any.
func (p *progress) end(err error) error {
	if err == nil && !p.started {
		p.w.Header().Set("Content-Type", "application/json")
		p.w.WriteHeader(http.StatusOK)
	}
	if err == nil || !p.started {
		return err
	}
	code := 0 // a failed RUN's exit status: `docker build` exits with it
	var ee *engine.Error
	if errors.As(err, &ee) {
		code = ee.Code
	}
	p.send(types.JSONMessage{Error: &types.JSONError{Code: code, Message: err.Error()}, ErrorMessage: err.Error()})
	return nil
}

// endregion progress

// auth reads X-Registry-Auth, the credentials the CLI found in its own
// config.json for the registry.
func auth(r *http.Request) (*types.AuthConfig, error) {
	a, err := types.DecodeAuth(r.Header.Get("X-Registry-Auth"))
	if err != nil {
		return nil, engine.Errorf(engine.ErrInvalid, "%v", err)
	}
	return a, nil
}

// imageCreate is `docker import` (fromSrc=-: the body is a tarball) and
// `docker pull` (fromImage). Its answer is a stream of JSON progress
// lines, as the CLI renders them.
func (s *Server) imageCreate(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if src := q.Get("fromSrc"); src != "" {
		if src != "-" {
			return engine.Errorf(engine.ErrNotSupported, "minidocker imports only from the request body (fromSrc=-), not from %s", src)
		}
		ref := q.Get("repo")
		if t := q.Get("tag"); t != "" {
			ref += ":" + t
		}
		id, err := s.e.ImageImport(r.Context(), r.Body, "the request body", ref, q["changes"])
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(map[string]string{"status": id})
	}
	ref := q.Get("fromImage")
	if t := q.Get("tag"); t != "" && !strings.Contains(ref, "@") {
		if strings.HasPrefix(t, "sha256:") {
			ref += "@" + t
		} else {
			ref += ":" + t
		}
	}
	a, err := auth(r)
	if err != nil {
		return err
	}
	p := newProgress(w)
	return p.end(s.e.ImagePull(r.Context(), ref, engine.PullOptions{Platform: q.Get("platform"), Auth: a}, p.send))
}

// region imagenames
// imageByName routes /images/NAME/json, /images/NAME/tag, /history, /push,
// /get and DELETE /images/NAME by hand: a name like 127.0.0.1:5000/web:v1
// has slashes and colons, which a {name} pattern segment cannot hold.
func (s *Server) imageByName(w http.ResponseWriter, r *http.Request) error {
	rest := strings.TrimPrefix(r.URL.Path, "/images/")
	name, action := rest, ""
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		switch rest[i+1:] {
		case "json", "tag", "history", "push", "get":
			name, action = rest[:i], rest[i+1:]
		}
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && action == "json":
		im, err := s.e.ImageInspect(r.Context(), name)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, im)
	case r.Method == http.MethodGet && action == "history":
		h, err := s.e.ImageHistory(r.Context(), name)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, h)
	case r.Method == http.MethodGet && action == "get":
		return s.save(w, r, []string{name})
	case r.Method == http.MethodPost && action == "tag":
		if err := s.e.ImageTag(r.Context(), name, q.Get("repo"), q.Get("tag")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	case r.Method == http.MethodPost && action == "push":
		if t := q.Get("tag"); t != "" {
			name += ":" + t
		}
		a, err := auth(r)
		if err != nil {
			return err
		}
		p := newProgress(w)
		return p.end(s.e.ImagePush(r.Context(), name, engine.PushOptions{Auth: a}, p.send))
	case r.Method == http.MethodDelete && action == "" && rest != "":
		items, err := s.e.ImageRemove(r.Context(), rest, boolValue(r, "force"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, items)
	}
	return engine.Errorf(engine.ErrNotFound, "page not found: %s %s is not part of minidocker's API", r.Method, r.URL.Path)
}

// endregion imagenames

// imagesGet is GET /images/get?names=a&names=b (`docker save a b`).
func (s *Server) imagesGet(w http.ResponseWriter, r *http.Request) error {
	names := r.URL.Query()["names"]
	if len(names) == 0 {
		return engine.Errorf(engine.ErrInvalid, "docker save needs at least one image (names=)")
	}
	return s.save(w, r, names)
}

// save checks every name first (a 404 is still possible), then streams.
func (s *Server) save(w http.ResponseWriter, r *http.Request, names []string) error {
	for _, n := range names {
		if _, err := s.e.ImageInspect(r.Context(), n); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	return s.e.ImageSave(r.Context(), names, w)
}

// imagesLoad is POST /images/load (`docker load`): the body is the tarball.
func (s *Server) imagesLoad(w http.ResponseWriter, r *http.Request) error {
	p := newProgress(w)
	return p.end(s.e.ImageLoad(r.Context(), r.Body, p.send))
}

// login is POST /auth (`docker login`): the daemon checks the
// credentials with the registry; the CLI stores them itself.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var a types.AuthConfig
	if err := readJSON(w, r, &a); err != nil {
		return err
	}
	resp, err := s.e.RegistryLogin(r.Context(), a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

func (s *Server) systemDF(w http.ResponseWriter, r *http.Request) error {
	du, err := s.e.DiskUsage(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, du)
}
