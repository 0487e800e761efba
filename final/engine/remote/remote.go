// Package remote is the engine that asks a daemon: an HTTP client of the
// Docker Engine API on a unix socket (or TCP with mutual TLS), used by
// `minidocker -H unix:///run/minidocker.sock ...` or with DOCKER_HOST set.
// Every method is one or a few requests, the same the docker CLI sends.
// It works with minidocker's daemon and with dockerd alike. Chapter:
// docs/09-daemon.md.
package remote

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/stream"
)

// Engine is a client of one daemon.
type Engine struct {
	host   string // as given: unix:///run/minidocker.sock, tcp://127.0.0.1:2376
	dial   func(ctx context.Context) (net.Conn, error)
	http   *http.Client
	base   string // http://docker or https://HOST:PORT, then /v1.44
	scheme string
}

var _ engine.Engine = (*Engine)(nil)

// TLS is the client side of --tlsverify: the CA that signed the daemon's
// certificate, and our own certificate and key.
type TLS struct {
	Verify            bool
	CACert, Cert, Key string
}

// TLSFromEnv is DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as the docker CLI
// reads them (ca.pem, cert.pem, key.pem in that directory).
func TLSFromEnv() TLS {
	if os.Getenv("DOCKER_TLS_VERIFY") == "" {
		return TLS{}
	}
	dir := os.Getenv("DOCKER_CERT_PATH")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".docker")
	}
	return TLS{Verify: true, CACert: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
}

// New returns a client of the daemon at host (unix:///path or tcp://HOST:PORT).
func New(host string, t TLS) (*Engine, error) {
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("invalid host %q: %v", host, err)
	}
	e := &Engine{host: host}
	var d net.Dialer
	switch u.Scheme {
	case "unix":
		path := u.Path
		e.dial = func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "unix", path) }
		e.scheme, e.base = "http", "http://docker/v"+types.APIVersion
	case "tcp":
		if !t.Verify {
			e.dial = func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", u.Host) }
			e.scheme, e.base = "http", "http://"+u.Host+"/v"+types.APIVersion
			break
		}
		cfg, err := clientTLS(t, u.Hostname())
		if err != nil {
			return nil, err
		}
		td := &tls.Dialer{Config: cfg}
		e.dial = func(ctx context.Context) (net.Conn, error) { return td.DialContext(ctx, "tcp", u.Host) }
		e.scheme, e.base = "https", "https://"+u.Host+"/v"+types.APIVersion
	default:
		return nil, fmt.Errorf("invalid host %q: use unix:///path/to.sock or tcp://HOST:PORT", host)
	}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) { return e.dial(ctx) }
	tr := &http.Transport{DialContext: dial, MaxIdleConnsPerHost: 4}
	if e.scheme == "https" {
		tr.DialTLSContext = dial // e.dial already speaks TLS
	}
	e.http = &http.Client{Transport: tr}
	return e, nil
}

func clientTLS(t TLS, server string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: server, MinVersion: tls.VersionTLS12}
	ca, err := os.ReadFile(t.CACert)
	if err != nil {
		return nil, fmt.Errorf("--tlscacert: %v", err)
	}
	cfg.RootCAs = x509.NewCertPool()
	if !cfg.RootCAs.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("--tlscacert %s: no PEM certificate in it", t.CACert)
	}
	if t.Cert != "" {
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("--tlscert/--tlskey: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// region request
// request sends one API request and returns the response, or the daemon's
// error as an engine error of the kind its status says (404 NotFound, 409
// Conflict, ...), with the daemon's message.
func (e *Engine) request(ctx context.Context, method, path string, q url.Values, body io.Reader, contentType string) (*http.Response, error) {
	return e.requestWith(ctx, method, path, q, body, contentType, nil)
}

// requestWith is request with more headers (X-Registry-Auth).
func (e *Engine) requestWith(ctx context.Context, method, path string, q url.Values, body io.Reader, contentType string, header http.Header) (*http.Response, error) {
	u := e.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return nil, e.unreachable(err)
	}
	if resp.StatusCode >= 400 || resp.StatusCode == http.StatusNotModified {
		defer resp.Body.Close()
		return nil, errorOf(resp)
	}
	return resp, nil
}

// endregion request

// unreachable says, in one line, that the daemon is not there.
func (e *Engine) unreachable(err error) error {
	var oe *net.OpError
	switch {
	case errors.As(err, &oe) && errors.Is(err, os.ErrPermission):
		return fmt.Errorf("permission denied while trying to connect to the minidocker daemon socket at %s: be root, or in its group (sudo usermod -aG minidocker $USER)", e.host)
	case errors.As(err, &oe):
		return fmt.Errorf("cannot connect to the minidocker daemon at %s: is it running? (sudo minidocker daemon)", e.host)
	}
	return err
}

// errorOf reads {"message": "..."} and the status into an engine error.
func errorOf(resp *http.Response) error {
	var er types.ErrorResponse
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(b, &er) != nil || er.Message == "" {
		er.Message = strings.TrimSpace(string(b))
		if er.Message == "" {
			er.Message = resp.Status
		}
	}
	kind := map[int]error{404: engine.ErrNotFound, 409: engine.ErrConflict, 400: engine.ErrInvalid, 304: engine.ErrNotModified,
		501: engine.ErrNotSupported, 403: engine.ErrForbidden, 503: engine.ErrUnavailable}[resp.StatusCode]
	if kind == nil {
		kind = errors.New(resp.Status)
	}
	msg := er.Message
	if resp.StatusCode == http.StatusNotModified {
		msg = "not modified"
	}
	return &engine.Error{Kind: kind, Msg: msg, Code: codeOf(msg)}
}

// codeOf is the exit status of a failed start, from its message, as the
// docker CLI decides it (run.go toStatusError): 127 not found, 126 cannot
// invoke, else 125.
func codeOf(msg string) int {
	switch {
	case strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "permission denied") || strings.Contains(msg, "is a directory"):
		return 126
	}
	return 125
}

// call sends JSON (in, if not nil) and decodes JSON (into out, if not nil).
func (e *Engine) call(ctx context.Context, method, path string, q url.Values, in, out any) error {
	var body io.Reader
	ct := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	resp, err := e.request(ctx, method, path, q, body, ct)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// filterQuery encodes filters as the CLI does: {"key":{"value":true}}.
func filterQuery(q url.Values, f map[string][]string) {
	if len(f) == 0 {
		return
	}
	m := map[string]map[string]bool{}
	for k, vs := range f {
		m[k] = map[string]bool{}
		for _, v := range vs {
			m[k][v] = true
		}
	}
	b, _ := json.Marshal(m)
	q.Set("filters", string(b))
}

// region hijack
// hijack sends a request that asks for the connection (Upgrade: tcp), and
// returns the raw connection once the daemon answered 101: what attach and
// exec start do. r may hold bytes that came after the response's head.
func (e *Engine) hijack(ctx context.Context, path string, q url.Values, body any) (net.Conn, *bufio.Reader, error) {
	conn, err := e.dial(ctx)
	if err != nil {
		return nil, nil, e.unreachable(err)
	}
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	u := e.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols && resp.StatusCode != http.StatusOK {
		defer conn.Close()
		return nil, nil, errorOf(resp)
	}
	return conn, br, nil
}

// endregion hijack

// pump copies a hijacked connection to the client's streams (framed, or
// raw with a terminal) and the client's stdin to the connection, closing
// our writing half when stdin ends (the daemon then closes the
// container's stdin). It returns when the daemon closes the connection.
func pump(conn net.Conn, r io.Reader, s engine.Streams, tty bool) error {
	if s.Stdin != nil {
		go func() {
			io.Copy(conn, s.Stdin)
			if cw, ok := conn.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
		}()
	}
	stdout, stderr := s.Stdout, s.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	if tty {
		_, err := io.Copy(stdout, r)
		return ignoreClosed(err)
	}
	return ignoreClosed(stream.Demux(stdout, stderr, r))
}

func ignoreClosed(err error) error {
	if err == nil || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

// Version is GET /version.
func (e *Engine) Version(ctx context.Context) (*types.Version, error) {
	var v types.Version
	return &v, e.call(ctx, "GET", "/version", nil, nil, &v)
}

// Info is GET /info.
func (e *Engine) Info(ctx context.Context) (*types.Info, error) {
	var in types.Info
	return &in, e.call(ctx, "GET", "/info", nil, nil, &in)
}

// Events is GET /events, decoded one object at a time.
func (e *Engine) Events(ctx context.Context, opts engine.EventsOptions, fn func(types.Event) error) error {
	q := url.Values{}
	if opts.Since > 0 {
		q.Set("since", strconv.FormatInt(opts.Since, 10))
	}
	if opts.Until > 0 {
		q.Set("until", strconv.FormatInt(opts.Until, 10))
	}
	filterQuery(q, opts.Filters)
	resp, err := e.request(ctx, "GET", "/events", q, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var ev types.Event
		if err := dec.Decode(&ev); err != nil {
			if ctx.Err() != nil || err == io.EOF {
				return nil
			}
			return err
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
}

var _ = time.Second
