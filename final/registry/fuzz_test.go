//go:build linux

package registry

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/minidocker/build-your-own-docker/final/reference"
)

// FuzzManifest feeds a registry's answer, as a stranger could write it, to
// the checks pull runs before it fetches anything: a manifest it accepts
// names only blobs by valid digests with sizes that are not negative, and
// an index entry it picks is a manifest for the platform asked for.
//
//	go test -fuzz FuzzManifest ./final/registry
func FuzzManifest(f *testing.F) {
	d := "sha256:" + strings.Repeat("ab", 32)
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + d + `","size":10},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + d + `","size":20}]}`))
	f.Add([]byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d + `","size":1,"platform":{"os":"linux","architecture":"amd64"}},{"digest":"` + d + `","platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}`))
	f.Add([]byte(`{"schemaVersion":1,"fsLayers":[]}`))
	f.Add([]byte(`{"schemaVersion":2,"config":{"digest":"sha256:../../etc","size":-1},"layers":[{"digest":"md5:00","urls":["http://x"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Manifest
		if json.Unmarshal(b, &m) == nil && checkManifest(&m) == nil {
			for _, l := range append([]Descriptor{m.Config}, m.Layers...) {
				if reference.CheckDigest(l.Digest) != nil || l.Size < 0 || len(l.URLs) > 0 {
					t.Fatalf("accepted a descriptor that names no blob: %+v", l)
				}
			}
			if len(m.Layers) == 0 {
				t.Fatal("accepted a manifest without layers")
			}
		}
		for _, want := range []Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}} {
			if got, err := pick(b, want); err == nil {
				if !want.matches(got.Platform) || isIndex(got.MediaType) {
					t.Fatalf("picked %+v for %s", got, want)
				}
			}
		}
	})
}

// FuzzChallenge feeds WWW-Authenticate headers to the parser that decides
// where the user's password may go: a Bearer challenge it accepts names an
// http(s) token server, and nothing longer than 4 KiB is read.
//
//	go test -fuzz FuzzChallenge ./final/registry
func FuzzChallenge(f *testing.F) {
	f.Add(`Bearer realm="https://auth.docker.io/token",service="registry.docker.io"`)
	f.Add(`Basic realm="Registry Realm"`)
	f.Add(`Bearer realm=file:///etc/passwd`)
	f.Add(`Bearer realm="http://127.0.0.1:1/t",scope="repository:a:pull,push"`)
	f.Add(`Negotiate`)
	f.Fuzz(func(t *testing.T, h string) {
		c, err := parseChallenge(h)
		if err != nil {
			return
		}
		if len(h) > 4096 {
			t.Fatal("accepted a header longer than 4 KiB")
		}
		switch c.scheme {
		case "basic":
		case "bearer":
			u, err := url.Parse(c.params["realm"])
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				t.Fatalf("accepted the token server %q", c.params["realm"])
			}
		default:
			t.Fatalf("accepted the scheme %q", c.scheme)
		}
	})
}
