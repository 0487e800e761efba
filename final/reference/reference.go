// Package reference parses image names as Docker does: [DOMAIN/]PATH[:TAG][@DIGEST].
//
//	busybox                          -> docker.io/library/busybox:latest
//	bob/app:v2                       -> docker.io/bob/app:v2
//	127.0.0.1:5000/bb:1              -> 127.0.0.1:5000/bb:1 (a registry on the loopback)
//	bb@sha256:4c8d...                -> docker.io/library/bb@sha256:4c8d... (one exact manifest)
//
// A name is written by strangers (a CLI argument, an API request, a
// Dockerfile's FROM, a saved tarball's manifest.json): it is checked
// against the grammar with a bounded length before any part of it
// becomes a URL path or a file name. Chapter: docs/11-registry.md.
package reference

import (
	"fmt"
	"strings"
)

// Docker Hub's names, and the place its API really lives.
const (
	DefaultDomain = "docker.io"
	HubAPI        = "registry-1.docker.io"
	officialRepo  = "library/"
	maxName       = 255 // the distribution spec's bound on DOMAIN/PATH
)

// Ref is a parsed name. Tag is "latest" when neither a tag nor a digest was given.
type Ref struct {
	Domain string // docker.io, 127.0.0.1:5000, ghcr.io
	Path   string // library/busybox, bob/app
	Tag    string
	Digest string // sha256:<64 hex>, or ""
}

// region parse
// Parse reads a name. The first part is a registry's address only if it
// looks like one (has a dot or a port, or is "localhost"): in
// "bob/app" bob is a Docker Hub user, in "ghcr.io/bob/app" ghcr.io is a
// registry. Upper case is refused in the path (the spec allows only lower
// case there, so "Busybox" is an error rather than another image).
func Parse(s string) (Ref, error) {
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("invalid reference format: %q: %s", clip(s), why)
	}
	if s == "" {
		return bad("empty")
	}
	if len(s) > maxName+1+128+1+7+128 {
		return bad("too long")
	}
	var r Ref
	name := s
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, r.Digest = name[:i], name[i+1:]
		if err := CheckDigest(r.Digest); err != nil {
			return bad(err.Error())
		}
	}
	// A tag is after the last colon, if no slash follows it (in
	// "127.0.0.1:5000/bb" the colon is the port's).
	if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.Contains(name[i+1:], "/") {
		name, r.Tag = name[:i], name[i+1:]
		if !validTag(r.Tag) {
			return bad("a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with . or -")
		}
	}
	r.Domain, r.Path = DefaultDomain, name
	if i := strings.IndexByte(name, '/'); i >= 0 && looksLikeDomain(name[:i]) {
		r.Domain, r.Path = name[:i], name[i+1:]
		if !validDomain(r.Domain) {
			return bad("the registry part is not a host name or an IP address with an optional :port")
		}
	}
	if r.Domain == "index.docker.io" {
		r.Domain = DefaultDomain
	}
	if r.Domain == DefaultDomain && !strings.Contains(r.Path, "/") {
		r.Path = officialRepo + r.Path // busybox is library/busybox, Docker's official images
	}
	if len(r.Domain)+1+len(r.Path) > maxName {
		return bad(fmt.Sprintf("a name is at most %d characters", maxName))
	}
	for _, c := range strings.Split(r.Path, "/") {
		if !validComponent(c) {
			return bad("each part of a name is lower-case letters and digits, separated by one '.', one or two '_', or '-'s")
		}
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r, nil
}

// endregion parse

// String is the full name: docker.io/library/busybox:latest.
func (r Ref) String() string { return r.Name() + r.suffix() }

// Name is DOMAIN/PATH, the repository: docker.io/library/busybox.
func (r Ref) Name() string { return r.Domain + "/" + r.Path }

// Familiar is the name as Docker shows it: busybox:latest, bob/app:v2,
// 127.0.0.1:5000/bb:1 (Docker Hub's domain and library/ left out).
func (r Ref) Familiar() string { return r.FamiliarName() + r.suffix() }

// FamiliarName is Familiar without the tag or digest: busybox.
func (r Ref) FamiliarName() string {
	if r.Domain != DefaultDomain {
		return r.Name()
	}
	if p := strings.TrimPrefix(r.Path, officialRepo); !strings.Contains(p, "/") {
		return p
	}
	return r.Path
}

func (r Ref) suffix() string {
	s := ""
	if r.Tag != "" {
		s = ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// APIHost is where the registry's HTTP API answers: Docker Hub's names
// say docker.io, its API is at registry-1.docker.io.
func (r Ref) APIHost() string {
	if r.Domain == DefaultDomain {
		return HubAPI
	}
	return r.Domain
}

// IsLoopback says the registry is on this machine (localhost,
// 127.0.0.0/8, [::1]): Docker talks plain HTTP to those when TLS fails,
// and to others only when named with --insecure-registry.
func (r Ref) IsLoopback() bool {
	host := r.Domain
	if strings.HasPrefix(host, "[") {
		host = host[1:strings.IndexByte(host, ']')]
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

// CheckDigest accepts sha256:<64 lower-case hex>, the only algorithm
// registries use for content (the spec's grammar allows others; a digest
// we cannot verify is refused, never trusted).
func CheckDigest(d string) error {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return fmt.Errorf("digest %q is not sha256:<64 hex digits>", clip(d))
	}
	return nil
}

func looksLikeDomain(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost" || strings.ToLower(s) != s
}

func validDomain(s string) bool {
	host, port := s, ""
	if strings.HasPrefix(s, "[") { // [::1]:5000
		i := strings.IndexByte(s, ']')
		if i < 0 {
			return false
		}
		host, port = s[1:i], strings.TrimPrefix(s[i+1:], ":")
		if strings.Trim(host, "0123456789abcdefABCDEF:.") != "" || host == "" {
			return false
		}
	} else {
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			host, port = s[:i], s[i+1:]
			if port == "" {
				return false
			}
		}
		for _, label := range strings.Split(host, ".") {
			if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
				strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
				return false
			}
		}
	}
	return len(port) <= 5 && strings.Trim(port, "0123456789") == ""
}

// validComponent is [a-z0-9]+ joined by ".", "_", "__" or "-"+.
func validComponent(c string) bool {
	if c == "" {
		return false
	}
	alnum := func(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }
	if !alnum(c[0]) || !alnum(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); {
		if alnum(c[i]) {
			i++
			continue
		}
		j := i
		for j < len(c) && !alnum(c[j]) {
			j++
		}
		sep := c[i:j]
		if sep != "." && sep != "_" && sep != "__" && strings.Trim(sep, "-") != "" {
			return false
		}
		i = j
	}
	return true
}

func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	return strings.Trim(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == ""
}

// clip keeps error messages one short line, whatever a stranger sent.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return strings.ToValidUTF8(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s), "?")
}
