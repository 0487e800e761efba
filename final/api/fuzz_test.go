//go:build linux

package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
)

// stub is an engine that refuses everything: the fuzz target exercises the
// server's own parsing (paths, queries, filters, JSON bodies), not the
// mechanisms behind it.
type stub struct{}

var errStub = engine.Errorf(engine.ErrNotFound, "stub: no such thing")

func (stub) Version(ctx context.Context) (*types.Version, error) { return nil, errStub }
func (stub) Info(ctx context.Context) (*types.Info, error)       { return nil, errStub }
func (stub) Events(ctx context.Context, opts engine.EventsOptions, fn func(types.Event) error) error {
	return errStub
}
func (stub) ContainerRun(ctx context.Context, name string, req *types.ContainerCreateRequest, s engine.Streams) (id string, code int, err error) {
	return "", 125, errStub
}
func (stub) ContainerCreate(ctx context.Context, name string, req *types.ContainerCreateRequest) (*types.ContainerCreateResponse, error) {
	return nil, errStub
}
func (stub) ContainerStart(ctx context.Context, ref string) error { return errStub }
func (stub) ContainerAttach(ctx context.Context, ref string, opts engine.AttachOptions, s engine.Streams) error {
	return errStub
}
func (stub) ContainerWait(ctx context.Context, ref, condition string) (<-chan types.ContainerWaitResponse, error) {
	return nil, errStub
}
func (stub) ContainerResize(ctx context.Context, ref string, height, width uint) error {
	return errStub
}
func (stub) ContainerList(ctx context.Context, opts engine.ListOptions) ([]types.Container, error) {
	return nil, errStub
}
func (stub) ContainerInspect(ctx context.Context, ref string) (*types.ContainerJSON, error) {
	return nil, errStub
}
func (stub) ContainerLogs(ctx context.Context, ref string, opts engine.LogsOptions, stdout, stderr io.Writer) error {
	return errStub
}
func (stub) ContainerStop(ctx context.Context, ref string, timeout *int) error { return errStub }
func (stub) ContainerKill(ctx context.Context, ref, signal string) error       { return errStub }
func (stub) ContainerRestart(ctx context.Context, ref string, t *int) error    { return errStub }
func (stub) ContainerPause(ctx context.Context, ref string) error              { return errStub }
func (stub) ContainerUnpause(ctx context.Context, ref string) error            { return errStub }
func (stub) ContainerRemove(ctx context.Context, ref string, opts engine.RemoveOptions) error {
	return errStub
}
func (stub) ContainerRename(ctx context.Context, ref, name string) error { return errStub }
func (stub) ContainerTop(ctx context.Context, ref, psArgs string) (*types.TopResponse, error) {
	return nil, errStub
}
func (stub) ContainerStats(ctx context.Context, ref string, stream bool, fn func(*types.StatsJSON) error) error {
	return errStub
}
func (stub) ContainerExport(ctx context.Context, ref string, w io.Writer) error { return errStub }
func (stub) ContainerCommit(ctx context.Context, ref string, opts engine.CommitOptions) (string, error) {
	return "", errStub
}
func (stub) ExecRun(ctx context.Context, ref string, cfg types.ExecConfig, s engine.Streams) (int, error) {
	return 125, errStub
}
func (stub) ExecCreate(ctx context.Context, ref string, cfg types.ExecConfig) (string, error) {
	return "", errStub
}
func (stub) ExecStart(ctx context.Context, execID string, s engine.Streams) error    { return errStub }
func (stub) ExecResize(ctx context.Context, execID string, height, width uint) error { return errStub }
func (stub) ExecInspect(ctx context.Context, execID string) (*types.ExecInspect, error) {
	return nil, errStub
}
func (stub) ImageList(ctx context.Context, opts engine.ListOptions) ([]types.ImageSummary, error) {
	return nil, errStub
}
func (stub) ImageInspect(ctx context.Context, ref string) (*types.ImageInspect, error) {
	return nil, errStub
}
func (stub) ImageRemove(ctx context.Context, ref string, force bool) ([]types.ImageDeleteResponseItem, error) {
	return nil, errStub
}
func (stub) ImageTag(ctx context.Context, ref, repo, tag string) error { return errStub }
func (stub) ImageImport(ctx context.Context, r io.Reader, source, ref string, changes []string) (string, error) {
	return "", errStub
}
func (stub) NetworkCreate(ctx context.Context, req types.NetworkCreateRequest) (*types.NetworkCreateResponse, error) {
	return nil, errStub
}
func (stub) NetworkList(ctx context.Context, opts engine.ListOptions) ([]types.NetworkResource, error) {
	return nil, errStub
}
func (stub) NetworkInspect(ctx context.Context, ref string) (*types.NetworkResource, error) {
	return nil, errStub
}
func (stub) NetworkRemove(ctx context.Context, ref string) error { return errStub }
func (stub) NetworkConnect(ctx context.Context, ref string, req types.NetworkConnectRequest) error {
	return errStub
}
func (stub) NetworkDisconnect(ctx context.Context, ref string, req types.NetworkConnectRequest) error {
	return errStub
}
func (stub) VolumeCreate(ctx context.Context, req types.VolumeCreateRequest) (*types.Volume, error) {
	return nil, errStub
}
func (stub) VolumeList(ctx context.Context, opts engine.ListOptions) (*types.VolumeListResponse, error) {
	return nil, errStub
}
func (stub) VolumeInspect(ctx context.Context, name string) (*types.Volume, error) {
	return nil, errStub
}
func (stub) VolumeRemove(ctx context.Context, name string, force bool) error { return errStub }
func (stub) ImageHistory(ctx context.Context, ref string) ([]types.ImageHistoryItem, error) {
	return nil, errStub
}
func (stub) ImagePull(ctx context.Context, ref string, opts engine.PullOptions, progress func(types.JSONMessage)) error {
	progress(types.JSONMessage{Status: "Pulling from " + ref})
	return errStub
}
func (stub) ImagePush(ctx context.Context, ref string, opts engine.PushOptions, progress func(types.JSONMessage)) error {
	return errStub
}
func (stub) ImageSave(ctx context.Context, refs []string, w io.Writer) error { return errStub }
func (stub) ImageLoad(ctx context.Context, r io.Reader, progress func(types.JSONMessage)) error {
	return errStub
}
func (stub) RegistryLogin(ctx context.Context, auth types.AuthConfig) (*types.AuthResponse, error) {
	return nil, errStub
}
func (stub) DiskUsage(ctx context.Context) (*types.DiskUsage, error) { return nil, errStub }
func (stub) ImageBuild(ctx context.Context, opts engine.BuildOptions, progress func(types.JSONMessage)) (string, error) {
	progress(types.JSONMessage{Stream: "Step 1/1 : FROM " + opts.Dockerfile + "\n"})
	return "", &engine.Error{Kind: errStub, Msg: "failed", Code: 3}
}
func (stub) ImagesPrune(ctx context.Context, opts engine.PruneOptions) (*types.ImagesPruneReport, error) {
	return nil, errStub
}

// FuzzAPI: whatever a client sends (method, path, query, body), the daemon
// answers with a status and, for an error, a JSON message, and does not
// crash: a panic in a handler would be a 500 "internal error" (a bug the
// fuzzer reports), never a dead daemon.
func FuzzAPI(f *testing.F) {
	for _, seed := range []struct{ method, target, body string }{
		{"POST", "/v1.44/containers/create?name=web", `{"Image":"busybox","Cmd":["sh"],"HostConfig":{"Memory":67108864,"PortBindings":{"80/tcp":[{"HostPort":"8080"}]}}}`},
		{"POST", "/containers/create", `{"Image":"busybox","Cmd":"sh"}`},
		{"GET", "/v1.44/containers/json?all=1&filters={\"label\":{\"a=b\":true}}", ""},
		{"GET", "/containers/json?filters={\"label\":[\"a=b\"]}&limit=-1", ""},
		{"POST", "/v1.44/containers/abc/wait?condition=next-exit", ""},
		{"GET", "/v1.44/images/127.0.0.1:5000/web:v1/json", ""},
		{"DELETE", "/images/busybox:latest?force=1", ""},
		{"POST", "/networks/create", `{"Name":"n","IPAM":{"Config":[{"Subnet":"10.1.0.0/24"}]}}`},
		{"POST", "/containers/x/exec", `{"Cmd":["true"],"Tty":true}`},
		{"POST", "/exec/x/start", `{"Detach":false}`},
		{"GET", "/containers/x/logs?stdout=1&tail=10&since=1.5", ""},
		{"POST", "/containers/x/resize?h=abc&w=-1", ""},
		{"POST", "/v1.44/containers/x/pause", ""},
		{"POST", "/containers/x/restart?t=abc", ""},
		{"HEAD", "/_ping", ""},
		{"POST", "/images/create?fromImage=127.0.0.1:5000/bb&tag=1&platform=linux/arm64", ""},
		{"POST", "/images/127.0.0.1:5000/bb/push?tag=1", ""},
		{"GET", "/images/get?names=busybox&names=bb:1", ""},
		{"GET", "/images/bb:1/history", ""},
		{"POST", "/auth", `{"username":"u","password":"p","serveraddress":"127.0.0.1:5000"}`},
		{"POST", "/v1.44/build?t=x:1&dockerfile=Dockerfile&buildargs={\"A\":\"1\",\"B\":null}&labels={\"k\":\"v\"}&nocache=1&q=1&version=1", "not a tarball"},
		{"POST", "/build?buildargs=[1]&version=2&memory=64", ""},
		{"POST", "/images/prune?filters={\"dangling\":[\"false\"]}", ""},
	} {
		f.Add(seed.method, seed.target, seed.body)
	}
	srv := New(stub{}, "test")
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n") || strings.ContainsAny(method, " \r\n/:") || method == "" {
			return
		}
		req, err := http.NewRequest(method, "http://docker"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Body)
		if rec.Code >= 400 && rec.Code != 405 {
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("%s %s: error %d with Content-Type %q: %q", method, target, rec.Code, ct, b)
			}
		}
		if bytes.Contains(b, []byte("internal error")) {
			t.Fatalf("%s %s %q: a handler panicked: %s", method, target, body, b)
		}
	})
}
