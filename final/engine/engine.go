// Package engine is minidocker's one interface between what users ask for
// (the CLI's commands, the Docker Engine API's requests) and what does it.
// Two implementations, as podman has its "abi" and "tunnel" engines:
//
//	local  (package engine/local)  does the work in this process, with the
//	       mechanisms of chapters 01-08: the daemonless CLI, and the daemon
//	remote (package engine/remote) is an HTTP client of a daemon's Engine
//	       API on a unix socket (or TCP with mutual TLS): `minidocker -H ...`
//	       or DOCKER_HOST
//
// The daemon (package api) serves a local engine as the Engine API, so
// `docker` -> daemon -> local engine and `minidocker -H` -> remote ->
// daemon -> local engine run the same code. Requests and answers are the
// API's own wire types (package api/types). Chapter: docs/09-daemon.md.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minidocker/build-your-own-docker/final/api/types"
)

// region engine
// Engine is everything a minidocker client can ask.
type Engine interface {
	Version(ctx context.Context) (*types.Version, error)
	Info(ctx context.Context) (*types.Info, error)
	// Events calls fn for each event until ctx ends or fn returns an error.
	Events(ctx context.Context, opts EventsOptions, fn func(types.Event) error) error

	// ContainerRun is `run`: create, attach, start and wait, as one call, so
	// that the local engine can run the container as its own child (the
	// fast path of the daemonless CLI) and the remote one can do what the
	// docker CLI does (create, attach, wait, start, in that order).
	ContainerRun(ctx context.Context, name string, req *types.ContainerCreateRequest, s Streams) (id string, code int, err error)
	ContainerCreate(ctx context.Context, name string, req *types.ContainerCreateRequest) (*types.ContainerCreateResponse, error)
	ContainerStart(ctx context.Context, ref string) error
	// ContainerAttach connects io to the container until it exits (or the
	// client's stdin ends and the container does not read it).
	ContainerAttach(ctx context.Context, ref string, opts AttachOptions, s Streams) error
	// ContainerWait returns a channel that gets the exit status once the
	// condition (not-running, next-exit, removed) holds. The waiter is in
	// place when it returns: a start after it cannot be missed.
	ContainerWait(ctx context.Context, ref, condition string) (<-chan types.ContainerWaitResponse, error)
	ContainerResize(ctx context.Context, ref string, height, width uint) error
	ContainerList(ctx context.Context, opts ListOptions) ([]types.Container, error)
	ContainerInspect(ctx context.Context, ref string) (*types.ContainerJSON, error)
	ContainerLogs(ctx context.Context, ref string, opts LogsOptions, stdout, stderr io.Writer) error
	ContainerStop(ctx context.Context, ref string, timeout *int) error
	// ContainerRestart is stop (if it runs), then start.
	ContainerRestart(ctx context.Context, ref string, timeout *int) error
	ContainerKill(ctx context.Context, ref, signal string) error
	// ContainerPause freezes every process of the container (its cgroup's
	// freezer); ContainerUnpause thaws them.
	ContainerPause(ctx context.Context, ref string) error
	ContainerUnpause(ctx context.Context, ref string) error
	ContainerRemove(ctx context.Context, ref string, opts RemoveOptions) error
	ContainerRename(ctx context.Context, ref, name string) error
	ContainerTop(ctx context.Context, ref, psArgs string) (*types.TopResponse, error)
	// ContainerStats calls fn with one sample (stream false) or one a second.
	ContainerStats(ctx context.Context, ref string, stream bool, fn func(*types.StatsJSON) error) error
	ContainerExport(ctx context.Context, ref string, w io.Writer) error
	ContainerCommit(ctx context.Context, ref string, opts CommitOptions) (string, error)

	// ExecRun is `exec`: create, start and the exit code, as one call.
	ExecRun(ctx context.Context, ref string, cfg types.ExecConfig, s Streams) (int, error)
	ExecCreate(ctx context.Context, ref string, cfg types.ExecConfig) (string, error)
	ExecStart(ctx context.Context, execID string, s Streams) error
	ExecResize(ctx context.Context, execID string, height, width uint) error
	ExecInspect(ctx context.Context, execID string) (*types.ExecInspect, error)

	ImageList(ctx context.Context, opts ListOptions) ([]types.ImageSummary, error)
	ImageInspect(ctx context.Context, ref string) (*types.ImageInspect, error)
	ImageRemove(ctx context.Context, ref string, force bool) ([]types.ImageDeleteResponseItem, error)
	ImageTag(ctx context.Context, ref, repo, tag string) error
	// ImageImport makes an image of one layer from a tarball; changes are
	// Dockerfile lines for its config (CMD ["sh"]).
	ImageImport(ctx context.Context, r io.Reader, source, ref string, changes []string) (string, error)
	ImageHistory(ctx context.Context, ref string) ([]types.ImageHistoryItem, error)
	// ImagePull, ImagePush and ImageLoad tell progress each step, as the
	// Engine API streams it (and the CLI draws it).
	ImagePull(ctx context.Context, ref string, opts PullOptions, progress func(types.JSONMessage)) error
	ImagePush(ctx context.Context, ref string, opts PushOptions, progress func(types.JSONMessage)) error
	// ImageSave writes the images as a `docker save` tarball.
	ImageSave(ctx context.Context, refs []string, w io.Writer) error
	ImageLoad(ctx context.Context, r io.Reader, progress func(types.JSONMessage)) error
	// RegistryLogin checks credentials against a registry (`login`).
	RegistryLogin(ctx context.Context, auth types.AuthConfig) (*types.AuthResponse, error)
	DiskUsage(ctx context.Context) (*types.DiskUsage, error)
	// ImageBuild is `build`: a Dockerfile and a context become an image;
	// progress gets the build's output ({"stream"}), each stage's image
	// ({"aux": {"ID"}}) and a pull's progress, as POST /build streams them.
	ImageBuild(ctx context.Context, opts BuildOptions, progress func(types.JSONMessage)) (string, error)
	// ImagesPrune is `image prune`: images no container uses and no name
	// keeps (all unused ones with All), with the build steps under them.
	ImagesPrune(ctx context.Context, opts PruneOptions) (*types.ImagesPruneReport, error)

	NetworkCreate(ctx context.Context, req types.NetworkCreateRequest) (*types.NetworkCreateResponse, error)
	NetworkList(ctx context.Context, opts ListOptions) ([]types.NetworkResource, error)
	NetworkInspect(ctx context.Context, ref string) (*types.NetworkResource, error)
	NetworkRemove(ctx context.Context, ref string) error
	NetworkConnect(ctx context.Context, ref string, req types.NetworkConnectRequest) error
	NetworkDisconnect(ctx context.Context, ref string, req types.NetworkConnectRequest) error

	VolumeCreate(ctx context.Context, req types.VolumeCreateRequest) (*types.Volume, error)
	VolumeList(ctx context.Context, opts ListOptions) (*types.VolumeListResponse, error)
	VolumeInspect(ctx context.Context, name string) (*types.Volume, error)
	VolumeRemove(ctx context.Context, name string, force bool) error
}

// endregion engine

// region startattached
// StartAttached is `start -a`, and a foreground `run` of a container with a
// restart policy (its monitor, not this command, must hold it: it outlives
// us to be restarted): attach, wait for the next exit (the waiter is in
// place before the start, so a fast exit is not missed), start, forward
// the client's signals, and return the exit status of that first run.
// logs: the output from the log's start (a new container: nothing can be
// missed between the attach and the start).
func StartAttached(ctx context.Context, e Engine, ref string, s Streams, logs bool) (int, error) {
	attached := make(chan error, 1)
	go func() {
		attached <- e.ContainerAttach(ctx, ref, AttachOptions{Stdin: s.Stdin != nil, Stdout: true, Stderr: true, Logs: logs}, s)
	}()
	waited, err := e.ContainerWait(ctx, ref, "next-exit")
	if err != nil {
		return 125, err
	}
	if err := e.ContainerStart(ctx, ref); err != nil {
		return ExitCodeOf(err), err
	}
	if s.Signal != nil {
		go func() {
			for sig := range s.Signal {
				e.ContainerKill(ctx, ref, sig)
			}
		}()
	}
	res := <-waited
	<-attached
	if res.Error != nil {
		return 125, errors.New(res.Error.Message)
	}
	return res.StatusCode, nil
}

// endregion startattached

// Streams are a client's ends of a container's (or an exec's) stdio.
// Stdin nil means no stdin; with a terminal (Tty) everything comes on
// Stdout. Resize, if set, brings the client's terminal size (height, width)
// whenever it changes.
type Streams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Tty            bool
	Resize         <-chan [2]uint
	// Started, if set, is called once the container (or exec) runs, with its
	// id: `run -d` prints it, a foreground run starts its signal proxy.
	Started func(id string)
	// Signal, if set, brings the signals to forward (run's --sig-proxy).
	Signal <-chan string
	// Detach: `run -d`, ContainerRun returns as soon as the container runs.
	Detach bool
	// Flush, if set, is called when all the output there is so far has been
	// written (the daemon buffers a connection and sends it then).
	Flush func()
}

// AttachOptions says which streams `attach` connects.
type AttachOptions struct {
	Stdin, Stdout, Stderr bool
	Logs                  bool // the output so far first
}

// ListOptions is ps, images, network ls and volume ls: all, a limit, and
// filters (label=k=v, name=, id=, status=, ...: each key ANDed, each value
// of a key ORed, as Docker does).
type ListOptions struct {
	All     bool
	Limit   int
	Filters map[string][]string
}

// LogsOptions is `logs`.
type LogsOptions struct {
	Follow     bool
	Tail       string // "all" or a number of lines
	Timestamps bool
	Since      int64  // unix seconds, 0 = from the start
	Flush      func() // see Streams.Flush
}

// RemoveOptions is `rm`.
type RemoveOptions struct {
	Force, Volumes bool
}

// CommitOptions is `commit`.
type CommitOptions struct {
	Ref, Comment, Author string
	Changes              []string // Dockerfile lines for the new image's config
}

// PullOptions is `pull`: the platform to pick from a multi-platform
// image, and the user's credentials for the registry (nil: anonymous).
type PullOptions struct {
	Platform string
	Auth     *types.AuthConfig
}

// PushOptions is `push`.
type PushOptions struct {
	Auth *types.AuthConfig
}

// BuildOptions is `build`. The context is a directory (ContextDir: the
// daemonless CLI reads it where it is; the remote engine sends it as a
// tarball, .dockerignore applied) or a tarball (Context: the API's body,
// or `build -`).
type BuildOptions struct {
	ContextDir string
	Context    io.Reader
	// Dockerfile is its path in the context (default "Dockerfile");
	// DockerfileText, if set, is the Dockerfile itself (-f outside the
	// context, or from stdin).
	Dockerfile     string
	DockerfileText []byte
	Tags           []string
	BuildArgs      map[string]*string // --build-arg K=V; nil value: K named without one
	Labels         map[string]string
	NoCache        bool
	Target         string
	NetworkMode    string // RUN's network: bridge (default), none, host
	Quiet          bool   // no output but the image ID at the end, as `docker build -q`
	Pull           bool   // pull the base images even if the store has them
	// Auth are the credentials by registry for pulling base images
	// (X-Registry-Config: the CLI sends all it has).
	Auth map[string]types.AuthConfig
}

// PruneOptions is `image prune`: All removes every unused image, not
// only the unnamed ones.
type PruneOptions struct {
	All bool
}

// EventsOptions is `events`: since (unix seconds; 0 = only new events) and
// filters (type=, container=, label=, event=).
type EventsOptions struct {
	Since, Until int64
	Filters      map[string][]string
}

// Kinds of errors, as the Engine API knows them: each becomes an HTTP
// status in the daemon and back the same error in the remote engine.
var (
	ErrNotFound     = errors.New("not found")           // 404
	ErrConflict     = errors.New("conflict")            // 409
	ErrInvalid      = errors.New("invalid parameter")   // 400
	ErrNotModified  = errors.New("not modified")        // 304
	ErrNotSupported = errors.New("not supported")       // 501
	ErrForbidden    = errors.New("forbidden")           // 403
	ErrUnavailable  = errors.New("service unavailable") // 503
)

// Error is an error of a kind, with the message users see.
type Error struct {
	Kind error
	Msg  string
	Code int // for a run that failed before the command started: 125, 126, 127
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// Errorf makes an Error of kind.
func Errorf(kind error, format string, a ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, a...)}
}

// ExitCodeOf is the exit status a failed run or exec ends with: the code
// the error carries (126 cannot invoke, 127 not found), else 125, as
// Docker's CLI decides from the message (run.go toStatusError).
func ExitCodeOf(err error) int {
	var e *Error
	if errors.As(err, &e) && e.Code != 0 {
		return e.Code
	}
	return 125
}
