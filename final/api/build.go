//go:build linux

package api

import (
	"encoding/json"
	"net/http"
	"runtime"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
)

// maxBuildQuery bounds the JSON of buildargs and labels.
const maxBuildQuery = 1 << 20

// region build
// build is POST /build, `docker build` with the classic builder
// (DOCKER_BUILDKIT=0): the body is the context as a tarball, the query
// the options (t, dockerfile, buildargs, labels, nocache, target, q,
// networkmode, pull), X-Registry-Config the CLI's credentials. The answer
// is a stream of {"stream"} lines, an {"aux": {"ID"}} per stage, and at
// the end, if the build fails, {"errorDetail": {"code", "message"}}: the
// CLI exits with that code (a failed RUN's). What minidocker cannot do is
// refused, not ignored: BuildKit (version=2), a remote context, limits on
// the build's containers, --squash.
func (s *Server) build(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if v := q.Get("version"); v == "2" {
		return engine.Errorf(engine.ErrNotSupported, "BuildKit (builder version 2) is not supported by minidocker: build with DOCKER_BUILDKIT=0")
	}
	if q.Get("remote") != "" {
		return engine.Errorf(engine.ErrNotSupported, "minidocker builds from a context sent with the request, not from a URL (remote=%s)", q.Get("remote"))
	}
	for _, k := range []string{"memory", "memswap", "cpushares", "cpuperiod", "cpuquota", "cpusetcpus", "cpusetmems", "cgroupparent", "shmsize", "squash", "isolation", "extrahosts", "ulimits", "cachefrom"} {
		if v := q.Get(k); v != "" && v != "0" && v != "[]" && v != "{}" && v != "null" && v != "false" {
			return engine.Errorf(engine.ErrNotSupported, "minidocker does not support build's %s option yet", k)
		}
	}
	if p := q.Get("platform"); p != "" && p != "linux" && p != "linux/"+runtime.GOARCH {
		return engine.Errorf(engine.ErrNotSupported, "minidocker builds for this machine only (linux/%s), not %s", runtime.GOARCH, p)
	}
	opts := engine.BuildOptions{Context: r.Body, Dockerfile: q.Get("dockerfile"), Tags: q["t"], NoCache: boolValue(r, "nocache"),
		Target: q.Get("target"), NetworkMode: q.Get("networkmode"), Quiet: boolValue(r, "q"), Pull: boolValue(r, "pull")}
	if err := jsonQuery(q.Get("buildargs"), &opts.BuildArgs); err != nil {
		return engine.Errorf(engine.ErrInvalid, "buildargs: %v", err)
	}
	if err := jsonQuery(q.Get("labels"), &opts.Labels); err != nil {
		return engine.Errorf(engine.ErrInvalid, "labels: %v", err)
	}
	auths, err := types.DecodeAuthConfigs(r.Header.Get("X-Registry-Config"))
	if err != nil {
		return engine.Errorf(engine.ErrInvalid, "%v", err)
	}
	opts.Auth = auths
	p := newProgress(w)
	_, err = s.e.ImageBuild(r.Context(), opts, p.send)
	return p.end(err)
}

// endregion build

func jsonQuery(s string, v any) error {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return nil
	}
	if len(s) > maxBuildQuery {
		return engine.Errorf(engine.ErrInvalid, "longer than %d bytes", maxBuildQuery)
	}
	return json.Unmarshal([]byte(s), v)
}

// imagesPrune is POST /images/prune (`docker image prune [-a]`): the
// filter dangling=false is -a.
func (s *Server) imagesPrune(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	all := false
	for _, v := range f["dangling"] {
		all = all || v == "false" || v == "0"
	}
	rep, err := s.e.ImagesPrune(r.Context(), engine.PruneOptions{All: all})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
