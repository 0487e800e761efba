package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/reference"
)

// ImageList is GET /images/json.
func (e *Engine) ImageList(ctx context.Context, opts engine.ListOptions) ([]types.ImageSummary, error) {
	q := url.Values{}
	filterQuery(q, opts.Filters)
	if opts.All {
		q.Set("all", "1")
	}
	var out []types.ImageSummary
	return out, e.call(ctx, "GET", "/images/json", q, nil, &out)
}

// ImageInspect is GET /images/{name}/json.
func (e *Engine) ImageInspect(ctx context.Context, ref string) (*types.ImageInspect, error) {
	var im types.ImageInspect
	return &im, e.call(ctx, "GET", "/images/"+ref+"/json", nil, nil, &im)
}

// ImageRemove is DELETE /images/{name}.
func (e *Engine) ImageRemove(ctx context.Context, ref string, force bool) ([]types.ImageDeleteResponseItem, error) {
	q := url.Values{}
	if force {
		q.Set("force", "1")
	}
	var out []types.ImageDeleteResponseItem
	return out, e.call(ctx, "DELETE", "/images/"+ref, q, nil, &out)
}

// ImageTag is POST /images/{name}/tag.
func (e *Engine) ImageTag(ctx context.Context, ref, repo, tag string) error {
	return e.call(ctx, "POST", "/images/"+ref+"/tag", url.Values{"repo": {repo}, "tag": {tag}}, nil, nil)
}

// ImageImport is POST /images/create?fromSrc=-, the tarball as the body;
// the answer's last {"status"} is the new image's id.
func (e *Engine) ImageImport(ctx context.Context, r io.Reader, source, ref string, changes []string) (string, error) {
	id := ""
	err := e.stream(ctx, "POST", "/images/create", url.Values{"fromSrc": {"-"}, "repo": {ref}, "changes": changes}, r, "application/x-tar", nil,
		func(m types.JSONMessage) {
			if strings.HasPrefix(m.Status, "sha256:") {
				id = m.Status
			}
		})
	return id, err
}

// region stream
// stream reads a JSON-lines answer (pull, push, load, import), telling fn
// each line; an errorDetail line is the error the operation ended with.
func (e *Engine) stream(ctx context.Context, method, path string, q url.Values, body io.Reader, ct string, h http.Header, fn func(types.JSONMessage)) error {
	resp, err := e.requestWith(ctx, method, path, q, body, ct, h)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var m types.JSONMessage
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading the daemon's answer: %v", err)
		}
		if m.Error != nil || m.ErrorMessage != "" {
			msg := m.ErrorMessage
			if m.Error != nil {
				msg = m.Error.Message
			}
			return &engine.Error{Kind: errors.New("failed"), Msg: msg}
		}
		fn(m)
	}
}

// endregion stream

func authHeader(a *types.AuthConfig) http.Header {
	if a == nil {
		return nil
	}
	return http.Header{"X-Registry-Auth": {types.EncodeAuth(a)}}
}

// ImagePull is POST /images/create?fromImage=NAME&tag=TAG.
func (e *Engine) ImagePull(ctx context.Context, ref string, opts engine.PullOptions, progress func(types.JSONMessage)) error {
	q := url.Values{"fromImage": {ref}}
	if opts.Platform != "" {
		q.Set("platform", opts.Platform)
	}
	return e.stream(ctx, "POST", "/images/create", q, nil, "", authHeader(opts.Auth), progress)
}

// ImagePush is POST /images/{name}/push?tag=TAG.
func (e *Engine) ImagePush(ctx context.Context, ref string, opts engine.PushOptions, progress func(types.JSONMessage)) error {
	r, err := reference.Parse(ref)
	if err != nil {
		return err
	}
	h := authHeader(opts.Auth)
	if h == nil { // the daemon wants the header, even empty (moby refuses a push without it)
		h = http.Header{"X-Registry-Auth": {types.EncodeAuth(&types.AuthConfig{})}}
	}
	return e.stream(ctx, "POST", "/images/"+r.FamiliarName()+"/push", url.Values{"tag": {r.Tag}}, nil, "", h, progress)
}

// ImageSave is GET /images/get?names=...
func (e *Engine) ImageSave(ctx context.Context, refs []string, w io.Writer) error {
	resp, err := e.request(ctx, "GET", "/images/get", url.Values{"names": refs}, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

// ImageLoad is POST /images/load.
func (e *Engine) ImageLoad(ctx context.Context, r io.Reader, progress func(types.JSONMessage)) error {
	return e.stream(ctx, "POST", "/images/load", nil, r, "application/x-tar", nil, progress)
}

// ImageHistory is GET /images/{name}/history.
func (e *Engine) ImageHistory(ctx context.Context, ref string) ([]types.ImageHistoryItem, error) {
	var h []types.ImageHistoryItem
	return h, e.call(ctx, "GET", "/images/"+ref+"/history", nil, nil, &h)
}

// RegistryLogin is POST /auth.
func (e *Engine) RegistryLogin(ctx context.Context, auth types.AuthConfig) (*types.AuthResponse, error) {
	var r types.AuthResponse
	return &r, e.call(ctx, "POST", "/auth", nil, auth, &r)
}

// DiskUsage is GET /system/df.
func (e *Engine) DiskUsage(ctx context.Context) (*types.DiskUsage, error) {
	var du types.DiskUsage
	return &du, e.call(ctx, "GET", "/system/df", nil, nil, &du)
}

// NetworkCreate is POST /networks/create.
func (e *Engine) NetworkCreate(ctx context.Context, req types.NetworkCreateRequest) (*types.NetworkCreateResponse, error) {
	var r types.NetworkCreateResponse
	return &r, e.call(ctx, "POST", "/networks/create", nil, req, &r)
}

// NetworkList is GET /networks.
func (e *Engine) NetworkList(ctx context.Context, opts engine.ListOptions) ([]types.NetworkResource, error) {
	q := url.Values{}
	filterQuery(q, opts.Filters)
	var out []types.NetworkResource
	return out, e.call(ctx, "GET", "/networks", q, nil, &out)
}

// NetworkInspect is GET /networks/{id}.
func (e *Engine) NetworkInspect(ctx context.Context, ref string) (*types.NetworkResource, error) {
	var n types.NetworkResource
	return &n, e.call(ctx, "GET", "/networks/"+url.PathEscape(ref), nil, nil, &n)
}

// NetworkRemove is DELETE /networks/{id}.
func (e *Engine) NetworkRemove(ctx context.Context, ref string) error {
	return e.call(ctx, "DELETE", "/networks/"+url.PathEscape(ref), nil, nil, nil)
}

// NetworkConnect is POST /networks/{id}/connect.
func (e *Engine) NetworkConnect(ctx context.Context, ref string, req types.NetworkConnectRequest) error {
	return e.call(ctx, "POST", "/networks/"+url.PathEscape(ref)+"/connect", nil, req, nil)
}

// NetworkDisconnect is POST /networks/{id}/disconnect.
func (e *Engine) NetworkDisconnect(ctx context.Context, ref string, req types.NetworkConnectRequest) error {
	return e.call(ctx, "POST", "/networks/"+url.PathEscape(ref)+"/disconnect", nil, req, nil)
}

// VolumeCreate is POST /volumes/create.
func (e *Engine) VolumeCreate(ctx context.Context, req types.VolumeCreateRequest) (*types.Volume, error) {
	var v types.Volume
	return &v, e.call(ctx, "POST", "/volumes/create", nil, req, &v)
}

// VolumeList is GET /volumes.
func (e *Engine) VolumeList(ctx context.Context, opts engine.ListOptions) (*types.VolumeListResponse, error) {
	q := url.Values{}
	filterQuery(q, opts.Filters)
	var out types.VolumeListResponse
	return &out, e.call(ctx, "GET", "/volumes", q, nil, &out)
}

// VolumeInspect is GET /volumes/{name}.
func (e *Engine) VolumeInspect(ctx context.Context, name string) (*types.Volume, error) {
	var v types.Volume
	return &v, e.call(ctx, "GET", "/volumes/"+url.PathEscape(name), nil, nil, &v)
}

// VolumeRemove is DELETE /volumes/{name}.
func (e *Engine) VolumeRemove(ctx context.Context, name string, force bool) error {
	q := url.Values{}
	if force {
		q.Set("force", "1")
	}
	return e.call(ctx, "DELETE", "/volumes/"+url.PathEscape(name), q, nil, nil)
}
