//go:build linux

package api

import (
	"encoding/json"
	"net/http"
	"strings"

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
		id, err := s.e.ImageImport(r.Context(), r.Body, "the request body", ref)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(map[string]string{"status": id})
	}
	ref := q.Get("fromImage")
	if t := q.Get("tag"); t != "" && !strings.Contains(ref, "@") {
		ref += ":" + t
	}
	if im, err := s.e.ImageInspect(r.Context(), strings.TrimPrefix(ref, "docker.io/library/")); err == nil {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.Encode(map[string]string{"status": "Pulling from " + ref})
		return enc.Encode(map[string]string{"status": "Status: Image is up to date for " + im.RepoTags[0]})
	}
	return engine.Errorf(engine.ErrNotFound, "pull access denied for %s: minidocker cannot pull from a registry yet: `docker import` a tarball as %s first", ref, ref)
}

// region imagenames
// imageByName routes /images/NAME/json, /images/NAME/tag and DELETE
// /images/NAME by hand: a name like 127.0.0.1:5000/web:v1 has slashes and
// colons, which a {name} pattern segment cannot hold.
func (s *Server) imageByName(w http.ResponseWriter, r *http.Request) error {
	rest := strings.TrimPrefix(r.URL.Path, "/images/")
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(rest, "/json"):
		im, err := s.e.ImageInspect(r.Context(), strings.TrimSuffix(rest, "/json"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, im)
	case r.Method == http.MethodPost && strings.HasSuffix(rest, "/tag"):
		q := r.URL.Query()
		if err := s.e.ImageTag(r.Context(), strings.TrimSuffix(rest, "/tag"), q.Get("repo"), q.Get("tag")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	case r.Method == http.MethodDelete && rest != "":
		items, err := s.e.ImageRemove(r.Context(), rest, boolValue(r, "force"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, items)
	}
	return engine.Errorf(engine.ErrNotFound, "page not found: %s %s is not part of minidocker's API", r.Method, r.URL.Path)
}

// endregion imagenames

func (s *Server) networks(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	ns, err := s.e.NetworkList(r.Context(), engine.ListOptions{Filters: f})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ns)
}

func (s *Server) networkCreate(w http.ResponseWriter, r *http.Request) error {
	var req types.NetworkCreateRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	resp, err := s.e.NetworkCreate(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, resp)
}

func (s *Server) networkInspect(w http.ResponseWriter, r *http.Request) error {
	n, err := s.e.NetworkInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, n)
}

func (s *Server) networkRemove(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, s.e.NetworkRemove(r.Context(), r.PathValue("id")))
}

func (s *Server) networkConnect(w http.ResponseWriter, r *http.Request) error {
	var req types.NetworkConnectRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.e.NetworkConnect(r.Context(), r.PathValue("id"), req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) networkDisconnect(w http.ResponseWriter, r *http.Request) error {
	var req types.NetworkConnectRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.e.NetworkDisconnect(r.Context(), r.PathValue("id"), req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) volumes(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	vs, err := s.e.VolumeList(r.Context(), engine.ListOptions{Filters: f})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, vs)
}

func (s *Server) volumeCreate(w http.ResponseWriter, r *http.Request) error {
	var req types.VolumeCreateRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	v, err := s.e.VolumeCreate(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, v)
}

func (s *Server) volumeInspect(w http.ResponseWriter, r *http.Request) error {
	v, err := s.e.VolumeInspect(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) volumeRemove(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, s.e.VolumeRemove(r.Context(), r.PathValue("name"), boolValue(r, "force")))
}
