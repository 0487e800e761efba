package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/stream"
	"github.com/sirupsen/logrus"
)

// region run
// ContainerRun does what `docker run` does, in its order: create; attach
// (unless -d); wait, registered before the start so that a fast exit is
// not missed (condition "removed" with --rm: the daemon removes it); start;
// then the output until the container ends, and its exit status.
func (e *Engine) ContainerRun(ctx context.Context, name string, req *types.ContainerCreateRequest, s engine.Streams) (string, int, error) {
	created, err := e.ContainerCreate(ctx, name, req)
	if err != nil {
		return "", 125, err
	}
	for _, w := range created.Warnings {
		logrus.Warn(w)
	}
	id := created.ID
	if s.Detach {
		if err := e.ContainerStart(ctx, id); err != nil {
			return id, engine.ExitCodeOf(err), err
		}
		if s.Started != nil {
			s.Started(id)
		}
		return id, 0, nil
	}
	attached := make(chan error, 1)
	opts := engine.AttachOptions{Stdin: req.OpenStdin && s.Stdin != nil, Stdout: true, Stderr: true}
	q := attachQuery(opts)
	conn, br, err := e.hijack(ctx, "/containers/"+id+"/attach", q, nil)
	if err != nil {
		return id, 125, err
	}
	defer conn.Close()
	cond := "next-exit"
	if req.HostConfig != nil && req.HostConfig.AutoRemove {
		cond = "removed"
	}
	waitCh, err := e.ContainerWait(ctx, id, cond)
	if err != nil {
		return id, 125, err
	}
	if !opts.Stdin {
		s.Stdin = nil
	}
	go func() { attached <- pump(conn, br, s, req.Tty) }()
	if err := e.ContainerStart(ctx, id); err != nil {
		return id, engine.ExitCodeOf(err), err
	}
	if s.Started != nil {
		s.Started(id)
	}
	e.forward(ctx, "/containers/"+id, s)
	res := <-waitCh
	<-attached // the output, to the end
	if res.Error != nil {
		return id, 125, fmt.Errorf("%s", res.Error.Message)
	}
	return id, res.StatusCode, nil
}

// endregion run

// forward sends the client's signals (POST kill) and terminal sizes (POST
// resize) to the container or exec at path, until ctx ends.
func (e *Engine) forward(ctx context.Context, path string, s engine.Streams) {
	if s.Signal != nil {
		go func() {
			for sig := range s.Signal {
				e.call(ctx, "POST", path+"/kill", url.Values{"signal": {sig}}, nil, nil)
			}
		}()
	}
	if s.Resize != nil {
		go func() {
			for sz := range s.Resize {
				e.call(ctx, "POST", path+"/resize", url.Values{"h": {strconv.Itoa(int(sz[0]))}, "w": {strconv.Itoa(int(sz[1]))}}, nil, nil)
			}
		}()
	}
}

func attachQuery(o engine.AttachOptions) url.Values {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	return url.Values{"stream": {"1"}, "stdin": {b(o.Stdin)}, "stdout": {b(o.Stdout)}, "stderr": {b(o.Stderr)}, "logs": {b(o.Logs)}}
}

// ContainerCreate is POST /containers/create.
func (e *Engine) ContainerCreate(ctx context.Context, name string, req *types.ContainerCreateRequest) (*types.ContainerCreateResponse, error) {
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	var resp types.ContainerCreateResponse
	return &resp, e.call(ctx, "POST", "/containers/create", q, req, &resp)
}

// ContainerStart is POST /containers/{id}/start.
func (e *Engine) ContainerStart(ctx context.Context, ref string) error {
	return e.call(ctx, "POST", "/containers/"+url.PathEscape(ref)+"/start", nil, nil, nil)
}

// ContainerAttach is POST /containers/{id}/attach, hijacked.
func (e *Engine) ContainerAttach(ctx context.Context, ref string, opts engine.AttachOptions, s engine.Streams) error {
	c, err := e.ContainerInspect(ctx, ref)
	if err != nil {
		return err
	}
	conn, br, err := e.hijack(ctx, "/containers/"+url.PathEscape(ref)+"/attach", attachQuery(opts), nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	if !opts.Stdin {
		s.Stdin = nil
	}
	e.forward(ctx, "/containers/"+url.PathEscape(ref), engine.Streams{Resize: s.Resize})
	return pump(conn, br, s, c.Config.Tty)
}

// ContainerWait is POST /containers/{id}/wait: it returns once the
// daemon's headers arrived (the waiter is in place), the status later.
func (e *Engine) ContainerWait(ctx context.Context, ref, condition string) (<-chan types.ContainerWaitResponse, error) {
	q := url.Values{}
	if condition != "" {
		q.Set("condition", condition)
	}
	resp, err := e.request(ctx, "POST", "/containers/"+url.PathEscape(ref)+"/wait", q, nil, "")
	if err != nil {
		return nil, err
	}
	ch := make(chan types.ContainerWaitResponse, 1)
	go func() {
		defer resp.Body.Close()
		var r types.ContainerWaitResponse
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			r = types.ContainerWaitResponse{StatusCode: 125, Error: &types.WaitError{Message: "the daemon ended the wait: " + err.Error()}}
		}
		ch <- r
	}()
	return ch, nil
}

// ContainerResize is POST /containers/{id}/resize.
func (e *Engine) ContainerResize(ctx context.Context, ref string, height, width uint) error {
	return e.call(ctx, "POST", "/containers/"+url.PathEscape(ref)+"/resize", url.Values{"h": {fmt.Sprint(height)}, "w": {fmt.Sprint(width)}}, nil, nil)
}

// ContainerList is GET /containers/json.
func (e *Engine) ContainerList(ctx context.Context, opts engine.ListOptions) ([]types.Container, error) {
	q := url.Values{}
	if opts.All {
		q.Set("all", "1")
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	filterQuery(q, opts.Filters)
	var out []types.Container
	return out, e.call(ctx, "GET", "/containers/json", q, nil, &out)
}

// ContainerInspect is GET /containers/{id}/json.
func (e *Engine) ContainerInspect(ctx context.Context, ref string) (*types.ContainerJSON, error) {
	var c types.ContainerJSON
	return &c, e.call(ctx, "GET", "/containers/"+url.PathEscape(ref)+"/json", nil, nil, &c)
}

// ContainerLogs is GET /containers/{id}/logs: framed, or raw with a terminal.
func (e *Engine) ContainerLogs(ctx context.Context, ref string, opts engine.LogsOptions, stdout, stderr io.Writer) error {
	c, err := e.ContainerInspect(ctx, ref)
	if err != nil {
		return err
	}
	q := url.Values{"stdout": {"1"}, "stderr": {"1"}}
	if opts.Follow {
		q.Set("follow", "1")
	}
	if opts.Timestamps {
		q.Set("timestamps", "1")
	}
	if opts.Tail != "" {
		q.Set("tail", opts.Tail)
	}
	if opts.Since > 0 {
		q.Set("since", strconv.FormatInt(opts.Since, 10))
	}
	resp, err := e.request(ctx, "GET", "/containers/"+url.PathEscape(ref)+"/logs", q, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if c.Config.Tty {
		_, err = io.Copy(stdout, resp.Body)
		return ignoreClosed(err)
	}
	return ignoreClosed(stream.Demux(stdout, stderr, resp.Body))
}

// ContainerStop is POST /containers/{id}/stop.
func (e *Engine) ContainerStop(ctx context.Context, ref string, timeout *int) error {
	return e.call(ctx, "POST", "/containers/"+url.PathEscape(ref)+"/stop", timeoutQuery(timeout), nil, nil)
}

// timeoutQuery is stop's and restart's ?t= (absent: the container's own).
func timeoutQuery(timeout *int) url.Values {
	q := url.Values{}
	if timeout != nil {
		q.Set("t", strconv.Itoa(*timeout))
	}
	return q
}

// ContainerKill is POST /containers/{id}/kill.
func (e *Engine) ContainerKill(ctx context.Context, ref, signal string) error {
	q := url.Values{}
	if signal != "" {
		q.Set("signal", signal)
	}
	return e.call(ctx, "POST", "/containers/"+url.PathEscape(ref)+"/kill", q, nil, nil)
}

// ContainerRestart is POST /containers/{id}/restart.
func (e *Engine) ContainerRestart(ctx context.Context, ref string, timeout *int) error {
	return e.call(ctx, "POST", "/containers/"+url.PathEscape(ref)+"/restart", timeoutQuery(timeout), nil, nil)
}

// ContainerPause is POST /containers/{id}/pause.
func (e *Engine) ContainerPause(ctx context.Context, ref string) error {
	return e.call(ctx, "POST", "/containers/"+url.PathEscape(ref)+"/pause", nil, nil, nil)
}

// ContainerUnpause is POST /containers/{id}/unpause.
func (e *Engine) ContainerUnpause(ctx context.Context, ref string) error {
	return e.call(ctx, "POST", "/containers/"+url.PathEscape(ref)+"/unpause", nil, nil, nil)
}

// ContainerRemove is DELETE /containers/{id}.
func (e *Engine) ContainerRemove(ctx context.Context, ref string, opts engine.RemoveOptions) error {
	q := url.Values{}
	if opts.Force {
		q.Set("force", "1")
	}
	if opts.Volumes {
		q.Set("v", "1")
	}
	return e.call(ctx, "DELETE", "/containers/"+url.PathEscape(ref), q, nil, nil)
}

// ContainerRename is POST /containers/{id}/rename.
func (e *Engine) ContainerRename(ctx context.Context, ref, name string) error {
	return e.call(ctx, "POST", "/containers/"+url.PathEscape(ref)+"/rename", url.Values{"name": {name}}, nil, nil)
}

// ContainerTop is GET /containers/{id}/top.
func (e *Engine) ContainerTop(ctx context.Context, ref, psArgs string) (*types.TopResponse, error) {
	q := url.Values{}
	if psArgs != "" {
		q.Set("ps_args", psArgs)
	}
	var t types.TopResponse
	return &t, e.call(ctx, "GET", "/containers/"+url.PathEscape(ref)+"/top", q, nil, &t)
}

// ContainerStats is GET /containers/{id}/stats.
func (e *Engine) ContainerStats(ctx context.Context, ref string, streaming bool, fn func(*types.StatsJSON) error) error {
	q := url.Values{"stream": {"0"}}
	if streaming {
		q.Set("stream", "1")
	}
	resp, err := e.request(ctx, "GET", "/containers/"+url.PathEscape(ref)+"/stats", q, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var st types.StatsJSON
		if err := dec.Decode(&st); err != nil {
			if err == io.EOF || ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := fn(&st); err != nil || !streaming {
			return err
		}
	}
}

// ContainerExport is GET /containers/{id}/export.
func (e *Engine) ContainerExport(ctx context.Context, ref string, w io.Writer) error {
	resp, err := e.request(ctx, "GET", "/containers/"+url.PathEscape(ref)+"/export", nil, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

// ContainerCommit is POST /commit.
func (e *Engine) ContainerCommit(ctx context.Context, ref string, opts engine.CommitOptions) (string, error) {
	q := url.Values{"container": {ref}}
	if opts.Ref != "" {
		q.Set("repo", opts.Ref)
	}
	if opts.Comment != "" {
		q.Set("comment", opts.Comment)
	}
	if opts.Author != "" {
		q.Set("author", opts.Author)
	}
	q["changes"] = opts.Changes
	var r types.IDResponse
	return r.ID, e.call(ctx, "POST", "/commit", q, nil, &r)
}

// ExecRun is `docker exec`: create, start (hijacked), then the exit code
// from GET /exec/{id}/json.
func (e *Engine) ExecRun(ctx context.Context, ref string, cfg types.ExecConfig, s engine.Streams) (int, error) {
	id, err := e.ExecCreate(ctx, ref, cfg)
	if err != nil {
		return 125, err
	}
	if err := e.ExecStart(ctx, id, s); err != nil {
		return 125, err
	}
	in, err := e.ExecInspect(ctx, id)
	if err != nil {
		return 125, err
	}
	return in.ExitCode, nil
}

// ExecCreate is POST /containers/{id}/exec.
func (e *Engine) ExecCreate(ctx context.Context, ref string, cfg types.ExecConfig) (string, error) {
	var r types.IDResponse
	return r.ID, e.call(ctx, "POST", "/containers/"+url.PathEscape(ref)+"/exec", nil, cfg, &r)
}

// ExecStart is POST /exec/{id}/start, hijacked.
func (e *Engine) ExecStart(ctx context.Context, id string, s engine.Streams) error {
	conn, br, err := e.hijack(ctx, "/exec/"+id+"/start", nil, types.ExecStartConfig{Tty: s.Tty})
	if err != nil {
		return err
	}
	defer conn.Close()
	e.forward(ctx, "/exec/"+id, engine.Streams{Resize: s.Resize})
	return pump(conn, br, s, s.Tty)
}

// ExecResize is POST /exec/{id}/resize.
func (e *Engine) ExecResize(ctx context.Context, id string, height, width uint) error {
	return e.call(ctx, "POST", "/exec/"+id+"/resize", url.Values{"h": {fmt.Sprint(height)}, "w": {fmt.Sprint(width)}}, nil, nil)
}

// ExecInspect is GET /exec/{id}/json.
func (e *Engine) ExecInspect(ctx context.Context, id string) (*types.ExecInspect, error) {
	var in types.ExecInspect
	return &in, e.call(ctx, "GET", "/exec/"+id+"/json", nil, nil, &in)
}
