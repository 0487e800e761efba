package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/minidocker/build-your-own-docker/final/reference"
)

// Media types of the two other kinds of blob: the image config, and the
// manifest that lists the config and the layers.
const (
	MediaTypeConfig         = "application/vnd.oci.image.config.v1+json"
	MediaTypeDockerConfig   = "application/vnd.docker.container.image.v1+json"
	MediaTypeManifest       = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeIndex          = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// Bounds on what a registry or a tarball may hand us as JSON: containerd
// allows 4 MiB for a manifest; a config with its history is far smaller.
const (
	MaxManifest = 4 << 20
	MaxConfig   = 8 << 20
)

// region config
// Config is an image's config blob (the OCI image spec's config.json,
// which is Docker's too): what a container made from the image runs, and
// the diffIDs of its layers. Its sha256 is the image's ID: two pulls of
// the same image give the same ID, and `pull` again is a no-op.
type Config struct {
	Created      *time.Time      `json:"created,omitempty"`
	Author       string          `json:"author,omitempty"`
	Architecture string          `json:"architecture"`
	Variant      string          `json:"variant,omitempty"`
	OS           string          `json:"os"`
	Config       ContainerConfig `json:"config"`
	RootFS       RootFS          `json:"rootfs"`
	History      []History       `json:"history,omitempty"`
}

// ContainerConfig is the part a container starts from: `docker run`'s
// flags override it field by field.
type ContainerConfig struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	Volumes      map[string]struct{} `json:"Volumes,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	Shell        []string            `json:"Shell,omitempty"`
	OnBuild      []string            `json:"OnBuild,omitempty"`
}

// RootFS lists the layers by diffID, bottom first.
type RootFS struct {
	Type    string   `json:"type"` // "layers"
	DiffIDs []string `json:"diff_ids"`
}

// History is one step that made the image (a Dockerfile instruction);
// EmptyLayer steps (ENV, CMD) changed only the config.
type History struct {
	Created    *time.Time `json:"created,omitempty"`
	CreatedBy  string     `json:"created_by,omitempty"`
	Author     string     `json:"author,omitempty"`
	Comment    string     `json:"comment,omitempty"`
	EmptyLayer bool       `json:"empty_layer,omitempty"`
}

// endregion config

// DefaultPath is the PATH a container gets when its image sets none
// (Docker's, from its oci package).
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// NewConfig starts the config of an image made on this machine.
func NewConfig(created time.Time) *Config {
	return &Config{Created: &created, Architecture: runtime.GOARCH, OS: "linux", RootFS: RootFS{Type: "layers", DiffIDs: []string{}}}
}

// parseConfig reads a config blob, checking what the store relies on.
func parseConfig(b []byte) (*Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("the image config is not JSON: %v", err)
	}
	if c.RootFS.Type != "layers" {
		return nil, fmt.Errorf("the image config's rootfs type is %q, not \"layers\"", c.RootFS.Type)
	}
	for _, d := range c.RootFS.DiffIDs {
		if err := reference.CheckDigest(d); err != nil {
			return nil, fmt.Errorf("the image config lists a layer %v", err)
		}
	}
	return &c, nil
}

// ParseConfig reads a config blob that came from a stranger.
func ParseConfig(b []byte) (*Config, error) { return parseConfig(b) }

// LayerHistory pairs each layer (bottom first) with the history entry that
// made it, the ones of the empty layers kept in between: `history` shows
// every step, newest first, with the size of the layers that have one.
func (c *Config) LayerHistory() (steps []History, layer []int) {
	n := 0
	for _, h := range c.History {
		steps = append(steps, h)
		if h.EmptyLayer || n >= len(c.RootFS.DiffIDs) {
			layer = append(layer, -1)
			continue
		}
		layer = append(layer, n)
		n++
	}
	for ; n < len(c.RootFS.DiffIDs); n++ { // layers with no history entry
		steps = append(steps, History{})
		layer = append(layer, n)
	}
	return steps, layer
}

// ErrDigest is a blob whose bytes do not hash to the digest it was sent as.
var ErrDigest = errors.New("digest mismatch")

// Digest is the sha256 digest of b, as a blob would be named.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
