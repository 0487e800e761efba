//go:build linux

package api

import (
	"net/http"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
)

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
