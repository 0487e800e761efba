//go:build linux

package api

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"
)

// DefaultSocket is where the daemon listens and clients look by default.
const DefaultSocket = "/run/minidocker.sock"

// TLS is --tlsverify with its three files: the daemon only accepts
// clients whose certificate the CA signed (mutual TLS).
type TLS struct {
	Verify            bool
	CACert, Cert, Key string
}

// region listen
// Listen opens the daemon's socket for host: unix:///path (the default,
// DefaultSocket) or tcp://HOST:PORT. A unix socket gets mode 0660 and the
// group group (if it exists): whoever can open it can ask the daemon for
// anything, and the daemon runs as root, so access to the socket is root
// on the host. TCP is refused without mutual TLS, as Docker advises:
// port 2375 open without it is how hosts get mined on.
func Listen(host, group string, t TLS) (net.Listener, error) {
	if host == "" {
		host = "unix://" + DefaultSocket
	}
	u, err := url.Parse(host)
	if err != nil || (u.Scheme != "unix" && u.Scheme != "tcp") {
		return nil, fmt.Errorf("invalid -H %q: use unix:///path/to.sock or tcp://HOST:PORT", host)
	}
	switch u.Scheme {
	case "unix":
		return listenUnix(u.Path, group)
	}
	if !t.Verify || t.CACert == "" || t.Cert == "" || t.Key == "" {
		return nil, fmt.Errorf("refusing to listen on %s without mutual TLS: anyone who reaches the port would be root on this host; add --tlsverify --tlscacert CA --tlscert CERT --tlskey KEY", host)
	}
	cfg, err := serverTLS(t)
	if err != nil {
		return nil, err
	}
	return tls.Listen("tcp", u.Host, cfg)
}

// endregion listen

func listenUnix(path, group string) (net.Listener, error) {
	if path == "" {
		return nil, errors.New("invalid -H: unix:// needs a path, e.g. unix:///run/minidocker.sock")
	}
	// A socket file left by a daemon that died: remove it, unless a live
	// daemon still answers there.
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("another daemon is listening on %s: stop it first", path)
	}
	os.Remove(path)
	old := umask(0o177) // no moment with a socket that everyone may open
	l, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, err
	}
	gid := 0
	if g, err := user.LookupGroup(group); err == nil {
		gid, _ = strconv.Atoi(g.Gid)
	}
	if err := os.Chown(path, 0, gid); err != nil {
		l.Close()
		return nil, err
	}
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func serverTLS(t TLS) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, fmt.Errorf("--tlscert/--tlskey: %v", err)
	}
	ca, err := os.ReadFile(t.CACert)
	if err != nil {
		return nil, fmt.Errorf("--tlscacert: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("--tlscacert %s: no PEM certificate in it", t.CACert)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}, nil
}

// SocketPath is the path of a unix:// host ("" for TCP).
func SocketPath(host string) string {
	if host == "" {
		return DefaultSocket
	}
	if strings.HasPrefix(host, "unix://") {
		return strings.TrimPrefix(host, "unix://")
	}
	return ""
}
