// Package registry speaks the Docker Registry HTTP API V2 (the OCI
// distribution spec) by hand: ping /v2/, answer the WWW-Authenticate
// challenge (a Bearer token from the registry's token server, as Docker
// Hub does, or Basic auth), fetch manifests and blobs, upload blobs and
// manifests. Everything a registry sends is a stranger's: sizes are
// bounded, digests checked while the bytes stream, and the image store is
// only written when everything checked out. Chapter: docs/11-registry.md.
package registry

import (
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
	"strings"
	"sync"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/reference"
	"github.com/sirupsen/logrus"
)

func trace(format string, a ...any) {
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("+ "+format, a...)
	}
}

// Options configure a client: which registries may be spoken to in plain
// HTTP, and the credentials for a registry host.
type Options struct {
	// Insecure lists registries (host[:port]) reached over plain HTTP (or
	// HTTPS without checking the certificate) if HTTPS fails, as dockerd's
	// --insecure-registry. Registries on the loopback always are, as in Docker.
	Insecure []string
	// Auth is the user's credentials for the registry being spoken to (nil: anonymous).
	Auth *types.AuthConfig
	// CertsDir holds a registry's CA (CertsDir/HOST:PORT/ca.crt), as
	// /etc/docker/certs.d does for Docker; empty: that directory.
	CertsDir string
}

// Repo is one repository of one registry (127.0.0.1:5000, bb) with the
// HTTP client and tokens to reach it.
type Repo struct {
	Ref     reference.Ref
	opts    Options
	base    string // https://HOST or http://HOST, found by ping
	hc      *http.Client
	mu      sync.Mutex
	token   map[string]string // scope -> bearer token
	basic   bool              // the registry asked for Basic auth
	realm   challenge
	actions string // "pull" or "pull,push"
}

// Timeouts: a registry that does not answer at all fails the pull within
// this; a slow blob keeps going as long as bytes arrive.
const (
	dialTimeout   = 10 * time.Second
	headerTimeout = 30 * time.Second
)

// region ping
// Open finds the registry of ref and how to speak to it: GET /v2/ over
// HTTPS (then plain HTTP if the registry is insecure: on the loopback or
// named with --insecure-registry). A 200 means no auth; a 401 carries the
// challenge (WWW-Authenticate) that says how to authenticate.
func Open(ctx context.Context, ref reference.Ref, actions string, opts Options) (*Repo, error) {
	r := &Repo{Ref: ref, opts: opts, token: map[string]string{}, actions: actions}
	host := ref.APIHost()
	insecure := ref.IsLoopback()
	for _, h := range opts.Insecure {
		if h == ref.Domain || h == host {
			insecure = true
		}
	}
	schemes := []string{"https"}
	if insecure {
		schemes = append(schemes, "http")
	}
	var firstErr error
	for _, scheme := range schemes {
		r.hc = newClient(host, insecure, opts.CertsDir)
		r.base = scheme + "://" + host
		trace("curl -si %s/v2/", r.base)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/v2/", nil)
		resp, err := r.hc.Do(req)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return r, nil
		case http.StatusUnauthorized:
			c, err := parseChallenge(resp.Header.Get("WWW-Authenticate"))
			if err != nil {
				return nil, fmt.Errorf("registry %s: %v", host, err)
			}
			r.realm, r.basic = c, c.scheme == "basic"
			return r, nil
		default:
			return nil, fmt.Errorf("registry %s: GET /v2/ answered %s: not a registry (the distribution API)?", host, resp.Status)
		}
	}
	hint := ""
	if !insecure && firstErr != nil && (strings.Contains(firstErr.Error(), "HTTP response to HTTPS client") || strings.Contains(firstErr.Error(), "x509")) {
		hint = fmt.Sprintf(" (a registry without TLS, or with a certificate this machine does not trust, must be named: --insecure-registry %s)", ref.Domain)
	}
	return nil, fmt.Errorf("registry %s is not reachable: %v%s", host, oneLine(firstErr), hint)
}

// endregion ping

func newClient(host string, insecure bool, certsDir string) *http.Client {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if certsDir == "" {
		certsDir = "/etc/docker/certs.d"
	}
	if pem, err := os.ReadFile(filepath.Join(certsDir, host, "ca.crt")); err == nil && !insecure {
		pool, _ := x509.SystemCertPool()
		if pool == nil {
			pool = x509.NewCertPool()
		}
		pool.AppendCertsFromPEM(pem)
		tc.RootCAs = pool
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: headerTimeout,
		MaxIdleConnsPerHost:   8,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr}
}

// region challenge
// challenge is a parsed WWW-Authenticate header:
//
//	Bearer realm="https://auth.docker.io/token",service="registry.docker.io"
//	Basic realm="Registry Realm"
type challenge struct {
	scheme string // "bearer" or "basic"
	params map[string]string
}

func parseChallenge(h string) (challenge, error) {
	if len(h) > 4096 {
		return challenge{}, errors.New("WWW-Authenticate header longer than 4 KiB")
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	c := challenge{scheme: strings.ToLower(scheme), params: map[string]string{}}
	for rest = strings.TrimSpace(rest); rest != ""; {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				return c, fmt.Errorf("bad WWW-Authenticate header %q", h)
			}
			c.params[k], rest = v[1:1+end], strings.TrimPrefix(strings.TrimSpace(v[2+end:]), ",")
		} else {
			val, more, _ := strings.Cut(v, ",")
			c.params[k], rest = strings.TrimSpace(val), more
		}
		rest = strings.TrimSpace(rest)
	}
	switch c.scheme {
	case "basic":
		return c, nil
	case "bearer":
		if u, err := url.Parse(c.params["realm"]); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return c, fmt.Errorf("the token server's address %q is not an http(s) URL", c.params["realm"])
		}
		return c, nil
	}
	return c, fmt.Errorf("the registry asks for %q auth; minidocker speaks Bearer and Basic", scheme)
}

// endregion challenge

// region token
// bearer gets a token for a scope ("repository:library/busybox:pull") from
// the realm the challenge named: GET realm?service=...&scope=..., with the
// user's password as Basic auth if there is one (anonymous otherwise:
// Docker Hub gives anonymous pull tokens). The token then goes on every
// request as "Authorization: Bearer TOKEN".
func (r *Repo) bearer(ctx context.Context, scope string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.token[scope]; ok {
		return t, nil
	}
	u, _ := url.Parse(r.realm.params["realm"])
	q := u.Query()
	if s := r.realm.params["service"]; s != "" {
		q.Set("service", s)
	}
	if scope != "" {
		q.Set("scope", scope)
	}
	user, pass := r.opts.Auth.Credentials()
	if user != "" {
		q.Set("account", user)
	}
	u.RawQuery = q.Encode()
	trace("curl -s '%s'   # a token for %s", u, scope)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("token server: %v", oneLine(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return "", fmt.Errorf("%w: the token server refused the credentials (%s)", ErrDenied, resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token server answered %s", resp.Status)
	}
	var t struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&t); err != nil {
		return "", fmt.Errorf("token server: %v", err)
	}
	if t.Token == "" {
		t.Token = t.AccessToken
	}
	if t.Token == "" {
		return "", errors.New("token server answered without a token")
	}
	r.token[scope] = t.Token
	return t.Token, nil
}

// endregion token

// ErrDenied is a registry (or its token server) refusing us.
var ErrDenied = errors.New("denied")

// ErrNotFound is a manifest or blob the registry does not have.
var ErrNotFound = errors.New("not found")

// do sends a request to the registry with the right credentials, scoped
// to repo (this repository, or another one for a cross-repository mount).
func (r *Repo) do(ctx context.Context, method, path string, body io.Reader, size int64, header http.Header, repo string) (*http.Response, error) {
	u := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		u = r.base + path
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
	}
	for k, v := range header {
		req.Header[k] = v
	}
	base, _ := url.Parse(r.base)
	switch {
	case req.URL.Host != base.Host:
		// an upload handed to another host gets no credentials of ours
	case r.basic:
		if user, pass := r.opts.Auth.Credentials(); user != "" {
			req.SetBasicAuth(user, pass)
		}
	case r.realm.scheme == "bearer":
		actions := r.actions
		if repo != r.Ref.Path {
			actions = "pull"
		}
		t, err := r.bearer(ctx, "repository:"+repo+":"+actions)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+t)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", method, req.URL.Path, oneLine(err))
	}
	return resp, nil
}

// apiError reads a registry's error answer: {"errors":[{"code","message"}]}.
func apiError(resp *http.Response, what string) error {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	var e struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	msg := resp.Status
	if json.Unmarshal(b, &e) == nil && len(e.Errors) > 0 {
		msg = e.Errors[0].Code + ": " + e.Errors[0].Message
	}
	kind := errors.New("registry error")
	switch resp.StatusCode {
	case http.StatusNotFound:
		kind = ErrNotFound
	case http.StatusUnauthorized, http.StatusForbidden:
		kind = ErrDenied
	}
	return fmt.Errorf("%w: %s: %s", kind, what, oneLine(errors.New(msg)))
}

// oneLine keeps a message on one line, whatever a server put in it.
func oneLine(err error) string {
	if err == nil {
		return ""
	}
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
