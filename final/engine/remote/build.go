package remote

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/build"
	"github.com/minidocker/build-your-own-docker/final/engine"
)

// region remotebuild
// ImageBuild is POST /build, as the docker CLI sends it with the classic
// builder: a context directory goes as a tarball (its .dockerignore
// applied here, so what it leaves out never leaves this machine), a
// Dockerfile from outside the context goes in it as .dockerfile.<random>;
// the answer's aux lines carry the image ID.
func (e *Engine) ImageBuild(ctx context.Context, opts engine.BuildOptions, progress func(types.JSONMessage)) (string, error) {
	dockerfile := opts.Dockerfile
	if opts.DockerfileText != nil {
		dockerfile = build.OutsideName()
	}
	q := url.Values{"version": {"1"}, "dockerfile": {dockerfile}, "t": opts.Tags}
	set := func(k string, on bool) {
		if on {
			q.Set(k, "1")
		}
	}
	set("nocache", opts.NoCache)
	set("q", opts.Quiet)
	set("pull", opts.Pull)
	if opts.Target != "" {
		q.Set("target", opts.Target)
	}
	if opts.NetworkMode != "" {
		q.Set("networkmode", opts.NetworkMode)
	}
	if len(opts.BuildArgs) > 0 {
		b, _ := json.Marshal(opts.BuildArgs)
		q.Set("buildargs", string(b))
	}
	if len(opts.Labels) > 0 {
		b, _ := json.Marshal(opts.Labels)
		q.Set("labels", string(b))
	}
	body := opts.Context
	if opts.ContextDir != "" {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(build.TarContext(pw, opts.ContextDir, dockerfile, opts.DockerfileText)) }()
		defer pr.Close()
		body = pr
	} else if opts.DockerfileText != nil {
		return "", engine.Errorf(engine.ErrInvalid, "a Dockerfile of its own needs a context directory")
	}
	var h http.Header
	if len(opts.Auth) > 0 {
		b, _ := json.Marshal(opts.Auth)
		h = http.Header{"X-Registry-Config": {base64.URLEncoding.EncodeToString(b)}}
	}
	id := ""
	err := e.stream(ctx, "POST", "/build", q, body, "application/x-tar", h, func(m types.JSONMessage) {
		if m.Aux != nil {
			var r struct{ ID string }
			if json.Unmarshal(*m.Aux, &r) == nil && r.ID != "" {
				id = r.ID
			}
			return
		}
		if opts.Quiet && strings.HasPrefix(m.Stream, "sha256:") {
			id = strings.TrimSpace(m.Stream)
		}
		progress(m)
	})
	return id, err
}

// endregion remotebuild

// ImagesPrune is POST /images/prune.
func (e *Engine) ImagesPrune(ctx context.Context, opts engine.PruneOptions) (*types.ImagesPruneReport, error) {
	q := url.Values{}
	if opts.All {
		filterQuery(q, map[string][]string{"dangling": {"false"}})
	}
	var rep types.ImagesPruneReport
	return &rep, e.call(ctx, "POST", "/images/prune", q, nil, &rep)
}
