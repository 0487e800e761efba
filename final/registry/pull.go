//go:build linux

package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/reference"
)

// Downloads at once, as dockerd's --max-concurrent-downloads default.
const concurrentDownloads = 3

// Progress is told each step, in the shape the docker CLI draws.
type Progress func(types.JSONMessage)

// PullOptions are Options and the platform to pick from an index.
type PullOptions struct {
	Options
	Platform string // os/arch[/variant]; "" = this machine's
}

// region pull
// Pull fetches an image: the manifest (through an index, for this
// platform), the config, then the layers the store lacks, several at
// once, each unpacked as it streams in (image.Unpack checks both digests).
// Only when every layer is in does the image get its record and its name:
// a failed pull leaves no image, and removes the layers it had added.
func Pull(ctx context.Context, ref reference.Ref, o PullOptions, progress Progress) (*image.Image, error) {
	want, err := ParsePlatform(o.Platform)
	if err != nil {
		return nil, err
	}
	repo, err := Open(ctx, ref, "pull", o.Options)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %v", ref.Familiar(), err)
	}
	tagOrDigest := ref.Tag
	if ref.Digest != "" {
		tagOrDigest = ref.Digest
	}
	progress(types.JSONMessage{Status: "Pulling from " + strings.TrimPrefix(ref.Name(), ref.Domain+"/"), ID: strings.TrimPrefix(tagOrDigest, "sha256:")})
	b, mt, pulled, err := repo.Manifest(ctx, tagOrDigest)
	if err != nil {
		return nil, pullError(ref, err)
	}
	if isIndex(mt) {
		d, err := pick(b, want)
		if err != nil {
			return nil, err
		}
		trace("the index lists %s for %s", d.Digest, want)
		if b, mt, _, err = repo.Manifest(ctx, d.Digest); err != nil {
			return nil, err
		}
		if isIndex(mt) {
			return nil, fmt.Errorf("the index's entry for %s is another index: minidocker follows one level", want)
		}
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest is not JSON: %v", err)
	}
	if err := checkManifest(&m); err != nil {
		return nil, err
	}
	var names []string
	if ref.Digest == "" {
		names = []string{strings.TrimSuffix(ref.Familiar(), ":latest")}
	}
	repoDigest := ref.FamiliarName() + "@" + pulled
	done := func(im *image.Image, status string) (*image.Image, error) {
		progress(types.JSONMessage{Status: "Digest: " + pulled})
		progress(types.JSONMessage{Status: "Status: " + status + " for " + ref.Familiar()})
		return im, nil
	}
	// The config's digest is the image's ID: an image the store has (under
	// this name or another) needs no layer fetched, only the name.
	if im, err := image.Find(m.Config.Digest); err == nil && "sha256:"+im.ID == m.Config.Digest {
		status := "Downloaded newer image"
		if len(names) == 0 || im.HasName(names[0]) {
			status = "Image is up to date"
		} else {
			for _, l := range m.Layers {
				progress(types.JSONMessage{Status: "Already exists", ID: short(l.Digest), Progress: &types.JSONProgress{}})
			}
		}
		cfg, _ := image.ReadBlob(m.Config.Digest, image.MaxConfig)
		if im, err := image.Add(cfg, names, []string{repoDigest}, im.Manifest, ""); err == nil {
			return done(im, status)
		}
	}
	cfgBytes, err := repo.smallBlob(ctx, m.Config)
	if err != nil {
		return nil, fmt.Errorf("image config: %v", err)
	}
	cfg, err := image.ParseConfig(cfgBytes)
	if err != nil {
		return nil, err
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("the manifest lists %d layers, the config %d", len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	if o.Platform != "" && !isIndex(mt) && !want.matches(&Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}) {
		return nil, fmt.Errorf("image with reference %s was found but does not match the specified platform: wanted %s, actual: %s/%s", ref.Familiar(), want, cfg.OS, cfg.Architecture)
	}
	if err := image.CheckLayerCount(len(m.Layers)); err != nil {
		return nil, err
	}
	added, err := fetchLayers(ctx, repo, m.Layers, cfg.RootFS.DiffIDs, progress)
	if err != nil {
		image.RemoveUnused(added)
		return nil, err
	}
	manifest, err := image.PutBlob(b)
	if err == nil {
		var im *image.Image
		if im, err = image.Add(cfgBytes, names, []string{repoDigest}, manifest, ""); err == nil {
			return done(im, "Downloaded newer image")
		}
	}
	image.RemoveUnused(added)
	return nil, err
}

// endregion pull

// pullError says what Docker says when a name is not there.
func pullError(ref reference.Ref, err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrDenied) {
		return fmt.Errorf("pull access denied for %s, repository does not exist or may require 'docker login': %v", ref.FamiliarName(), err)
	}
	return err
}

func checkManifest(m *Manifest) error {
	if m.SchemaVersion != 2 {
		return fmt.Errorf("manifest schemaVersion %d: minidocker reads version 2", m.SchemaVersion)
	}
	if err := checkDescriptor(m.Config, "config"); err != nil {
		return err
	}
	switch m.Config.MediaType {
	case image.MediaTypeConfig, image.MediaTypeDockerConfig:
	default:
		return fmt.Errorf("the manifest's config is a %q, not an image config (an artifact, not an image?)", m.Config.MediaType)
	}
	if len(m.Layers) == 0 {
		return errors.New("the manifest lists no layers")
	}
	for i, l := range m.Layers {
		if err := checkDescriptor(l, fmt.Sprintf("layer %d", i+1)); err != nil {
			return err
		}
	}
	return nil
}

// region layers
// fetchLayers gets the layers the store does not have, concurrentDownloads
// at a time; the first failure stops the others. It returns the layers it
// added (for the caller to remove if the pull fails after all).
func fetchLayers(ctx context.Context, repo *Repo, layers []Descriptor, diffIDs []string, progress Progress) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	say := func(m types.JSONMessage) { mu.Lock(); progress(m); mu.Unlock() }
	var todo []int
	for i, l := range layers {
		if image.HasLayer(diffIDs[i]) {
			say(types.JSONMessage{Status: "Already exists", ID: short(l.Digest), Progress: &types.JSONProgress{}})
			continue
		}
		say(types.JSONMessage{Status: "Pulling fs layer", ID: short(l.Digest), Progress: &types.JSONProgress{}})
		todo = append(todo, i)
	}
	var added []string
	var firstErr error
	sem := make(chan struct{}, concurrentDownloads)
	var wg sync.WaitGroup
	for _, i := range todo {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			err := repo.fetchLayer(ctx, layers[i], diffIDs[i], say)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				added = append(added, diffIDs[i])
				return
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("layer %s: %v", short(layers[i].Digest), err)
				cancel()
			}
		}(i)
	}
	wg.Wait()
	return added, firstErr
}

// fetchLayer streams one blob from the registry into image.Unpack.
func (r *Repo) fetchLayer(ctx context.Context, d Descriptor, diffID string, say Progress) error {
	id := short(d.Digest)
	trace("curl -sL %s/v2/%s/blobs/%s | tee blob | gunzip | tar -x", r.base, r.Ref.Path, d.Digest)
	resp, err := r.do(ctx, http.MethodGet, "/v2/"+r.Ref.Path+"/blobs/"+d.Digest, nil, 0, nil, r.Ref.Path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return apiError(resp, "blob "+d.Digest)
	}
	last := time.Time{}
	body := &exactly{r: resp.Body, left: d.Size}
	_, err = image.Unpack(body, image.UnpackOptions{MediaType: d.MediaType, Digest: d.Digest, DiffID: diffID, Source: r.Ref.Name(),
		Progress: func(n int64) {
			if now := time.Now(); now.Sub(last) > 100*time.Millisecond || n == d.Size {
				last = now
				say(types.JSONMessage{Status: "Downloading", ID: id, Progress: &types.JSONProgress{Current: n, Total: d.Size}, ProgressMessage: ProgressBar(n, d.Size)})
			}
		}})
	if err == nil && body.left != 0 {
		err = fmt.Errorf("the blob ended %d bytes short of the %d the manifest says", body.left, d.Size)
	}
	if err != nil {
		return err
	}
	say(types.JSONMessage{Status: "Pull complete", ID: id, Progress: &types.JSONProgress{}})
	return nil
}

// endregion layers

// exactly reads at most left bytes (the manifest's size for the blob): a
// registry that sends more is cut off there, and the digest decides.
type exactly struct {
	r    io.Reader
	left int64
}

func (e *exactly) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// smallBlob fetches a config (bounded, digest checked).
func (r *Repo) smallBlob(ctx context.Context, d Descriptor) ([]byte, error) {
	if d.Size > image.MaxConfig {
		return nil, fmt.Errorf("%d bytes: more than the %d minidocker accepts", d.Size, image.MaxConfig)
	}
	resp, err := r.do(ctx, http.MethodGet, "/v2/"+r.Ref.Path+"/blobs/"+d.Digest, nil, 0, nil, r.Ref.Path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(resp, "blob "+d.Digest)
	}
	b, err := io.ReadAll(&exactly{r: resp.Body, left: d.Size})
	if err != nil {
		return nil, fmt.Errorf("blob %s: %v", d.Digest, oneLine(err))
	}
	if got := image.Digest(b); got != d.Digest {
		return nil, fmt.Errorf("%w: blob %s hashes to %s", image.ErrDigest, d.Digest, got)
	}
	return b, nil
}

// short is a digest as docker pull shows it: 12 hex digits.
func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return d
}

// ProgressBar draws what dockerd draws for the CLI: [=====>    ] 1.2MB/3.4MB.
func ProgressBar(cur, total int64) string {
	const width = 50
	if total <= 0 {
		return humanBytes(cur)
	}
	n := int(float64(width) * float64(cur) / float64(total))
	if n > width {
		n = width
	}
	bar := strings.Repeat("=", n)
	if n < width {
		bar += ">" + strings.Repeat(" ", width-n-1)
	} else {
		bar = strings.Repeat("=", width-1) + ">"
	}
	return fmt.Sprintf("[%s] %8s/%s", bar, humanBytes(cur), humanBytes(total))
}

// humanBytes is Docker's units.HumanSize: decimal, 3 significant digits.
func humanBytes(n int64) string {
	f := float64(n)
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}
