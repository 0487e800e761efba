package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/reference"
)

// region manifest
// Descriptor points at a blob: what it is, its digest, its size. A
// manifest's descriptors are how a registry says "the config is this blob,
// the layers are these blobs", and the digests make the whole tree
// content-addressed: the manifest's own digest names the exact image.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *Platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	URLs        []string          `json:"urls,omitempty"`
}

// Platform is an index entry's os/architecture[/variant].
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

// Manifest is one image (OCI image manifest or Docker schema 2): a config
// and layers, bottom first. An Index (OCI index or Docker manifest list)
// lists manifests, one per platform.
type Manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType,omitempty"`
	Config        Descriptor   `json:"config"`
	Layers        []Descriptor `json:"layers"`
	Manifests     []Descriptor `json:"manifests,omitempty"` // an index's
}

// endregion manifest

// accept is what GET /v2/NAME/manifests/REF asks for: both formats of
// both kinds. A registry answers with the one it has (Content-Type).
var accept = strings.Join([]string{image.MediaTypeManifest, image.MediaTypeDockerManifest,
	image.MediaTypeIndex, image.MediaTypeDockerList}, ", ")

func isIndex(mt string) bool { return mt == image.MediaTypeIndex || mt == image.MediaTypeDockerList }

// region getmanifest
// Manifest fetches a manifest or an index by tag or digest; its bytes are
// hashed (the digest is what names it: a pull by digest gets exactly that,
// checked here, and a pull by tag learns the digest of what it got).
func (r *Repo) Manifest(ctx context.Context, ref string) (b []byte, mediaType, digest string, err error) {
	trace("curl -s -H 'Accept: %s' %s/v2/%s/manifests/%s", accept, r.base, r.Ref.Path, ref)
	resp, err := r.do(ctx, http.MethodGet, "/v2/"+r.Ref.Path+"/manifests/"+ref, nil, 0,
		http.Header{"Accept": {accept}}, r.Ref.Path)
	if err != nil {
		return nil, "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", "", apiError(resp, "manifest "+r.Ref.FamiliarName()+":"+strings.TrimPrefix(ref, "sha256:"))
	}
	defer resp.Body.Close()
	if resp.ContentLength > image.MaxManifest {
		return nil, "", "", fmt.Errorf("manifest of %d bytes: more than the %d minidocker accepts", resp.ContentLength, image.MaxManifest)
	}
	b, err = io.ReadAll(io.LimitReader(resp.Body, image.MaxManifest+1))
	if err != nil {
		return nil, "", "", fmt.Errorf("manifest: %v", oneLine(err))
	}
	if len(b) > image.MaxManifest {
		return nil, "", "", fmt.Errorf("manifest longer than the %d bytes minidocker accepts", image.MaxManifest)
	}
	digest = image.Digest(b)
	if strings.HasPrefix(ref, "sha256:") && digest != ref {
		return nil, "", "", fmt.Errorf("%w: the manifest asked for as %s hashes to %s", image.ErrDigest, ref, digest)
	}
	if h := resp.Header.Get("Docker-Content-Digest"); h != "" && h != digest {
		return nil, "", "", fmt.Errorf("%w: the registry says the manifest is %s, its bytes hash to %s", image.ErrDigest, h, digest)
	}
	mediaType, _, _ = strings.Cut(resp.Header.Get("Content-Type"), ";")
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, "", "", fmt.Errorf("manifest is not JSON: %v", err)
	}
	if m.MediaType != "" {
		mediaType = m.MediaType // the body's own word wins over a proxy's header
	}
	if mediaType == "application/vnd.docker.distribution.manifest.v1+json" || mediaType == "application/vnd.docker.distribution.manifest.v1+prettyjws" || m.SchemaVersion == 1 {
		return nil, "", "", fmt.Errorf("%s is a Docker schema 1 manifest (deprecated since 2017, refused by Docker 28 too): push it again with a newer client", r.Ref.Familiar())
	}
	if mediaType == "" || mediaType == "application/json" { // an OCI manifest may leave it out
		mediaType = image.MediaTypeManifest
		if len(m.Manifests) > 0 {
			mediaType = image.MediaTypeIndex
		}
	}
	return b, mediaType, digest, nil
}

// endregion getmanifest

// region platform
// HostPlatform is what this machine runs: linux and Go's GOARCH, which
// uses the OCI's architecture names (amd64, arm64, arm, ppc64le, s390x).
func HostPlatform() Platform {
	p := Platform{OS: "linux", Architecture: runtime.GOARCH}
	if p.Architecture == "arm64" {
		p.Variant = "v8"
	}
	return p
}

// ParsePlatform reads --platform os/arch[/variant].
func ParsePlatform(s string) (Platform, error) {
	if s == "" {
		return HostPlatform(), nil
	}
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return Platform{}, fmt.Errorf("invalid platform %q: use os/arch[/variant], e.g. linux/arm64", s)
	}
	p := Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	if p.Architecture == "aarch64" {
		p.Architecture = "arm64"
	}
	if p.Architecture == "x86_64" {
		p.Architecture = "amd64"
	}
	return p, nil
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// matches: same os and architecture, and the variant if both say one
// (arm64 images rarely say v8).
func (p Platform) matches(q *Platform) bool {
	if q == nil || q.OS != p.OS || q.Architecture != p.Architecture {
		return false
	}
	return p.Variant == "" || q.Variant == "" || p.Variant == q.Variant
}

// pick chooses the index's manifest for the platform, as Docker does: an
// Apple-silicon laptop and an amd64 server pulling the same name get
// different images.
func pick(index []byte, want Platform) (Descriptor, error) {
	var ix Manifest
	if err := json.Unmarshal(index, &ix); err != nil {
		return Descriptor{}, fmt.Errorf("index is not JSON: %v", err)
	}
	var have []string
	for _, d := range ix.Manifests {
		if d.Platform != nil {
			have = append(have, d.Platform.String())
		}
		if want.matches(d.Platform) && !isIndex(d.MediaType) {
			return d, nil
		}
	}
	return Descriptor{}, fmt.Errorf("no matching manifest for %s in the manifest list entries (it has: %s)", want, strings.Join(have, ", "))
}

// endregion platform

// checkDescriptor refuses a descriptor that could not name a blob.
func checkDescriptor(d Descriptor, what string) error {
	if err := reference.CheckDigest(d.Digest); err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	if d.Size < 0 {
		return fmt.Errorf("%s: negative size %d", what, d.Size)
	}
	if len(d.URLs) > 0 {
		return fmt.Errorf("%s: a foreign layer (fetched from %s, not the registry): minidocker does not fetch those", what, d.URLs[0])
	}
	return nil
}
