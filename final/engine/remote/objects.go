package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
)

// ImageList is GET /images/json.
func (e *Engine) ImageList(ctx context.Context, opts engine.ListOptions) ([]types.ImageSummary, error) {
	q := url.Values{}
	filterQuery(q, opts.Filters)
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
func (e *Engine) ImageImport(ctx context.Context, r io.Reader, source, ref string) (string, error) {
	resp, err := e.request(ctx, "POST", "/images/create", url.Values{"fromSrc": {"-"}, "repo": {ref}}, r, "application/x-tar")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	id := ""
	for {
		var m struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&m); err != nil {
			break
		}
		if m.Error != "" {
			return "", fmt.Errorf("%s", m.Error)
		}
		if strings.HasPrefix(m.Status, "sha256:") {
			id = m.Status
		}
	}
	return id, nil
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
