//go:build linux

package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/reference"
)

// Uploads at once, as dockerd's --max-concurrent-uploads default.
const concurrentUploads = 5

// region push
// Push sends an image: each layer blob the registry lacks (HEAD says
// whether it has it; a blob the registry has under another repository is
// mounted instead of sent again), the config blob, then the manifest under
// the tag. The manifest is the one the image was pulled with, if it has
// one, byte for byte (so the pushed image keeps its digest); an image made
// here gets a Docker schema 2 manifest made once and kept.
func Push(ctx context.Context, ref reference.Ref, im *image.Image, o Options, progress Progress) (*types.PushResult, error) {
	if ref.Digest != "" {
		return nil, fmt.Errorf("push %s: push a tag, not a digest", ref.Familiar())
	}
	repo, err := Open(ctx, ref, "pull,push", o)
	if err != nil {
		return nil, err
	}
	progress(types.JSONMessage{Status: "The push refers to repository [" + ref.Name() + "]"})
	mb, mt, err := manifestFor(im)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, err
	}
	cfg, err := im.Config()
	if err != nil {
		return nil, err
	}
	if err := pushLayers(ctx, repo, m.Layers, cfg.RootFS.DiffIDs, progress); err != nil {
		return nil, err
	}
	if err := repo.pushBlob(ctx, m.Config, nil, nil); err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	digest := image.Digest(mb)
	trace("curl -X PUT -H 'Content-Type: %s' --data-binary @manifest %s/v2/%s/manifests/%s", mt, repo.base, ref.Path, ref.Tag)
	resp, err := repo.do(ctx, http.MethodPut, "/v2/"+ref.Path+"/manifests/"+ref.Tag, bytes.NewReader(mb), int64(len(mb)),
		http.Header{"Content-Type": {mt}}, ref.Path)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return nil, pushError(apiError(resp, "manifest"))
	}
	resp.Body.Close()
	if h := resp.Header.Get("Docker-Content-Digest"); h != "" && h != digest {
		return nil, fmt.Errorf("the registry stored the manifest as %s, not %s", h, digest)
	}
	if err := image.AddRepoDigest(im, ref.FamiliarName()+"@"+digest, digest); err != nil {
		return nil, err
	}
	res := &types.PushResult{Tag: ref.Tag, Digest: digest, Size: len(mb)}
	progress(types.JSONMessage{Status: fmt.Sprintf("%s: digest: %s size: %d", ref.Tag, digest, len(mb))})
	progress(types.JSONMessage{Aux: types.Aux(res)})
	return res, nil
}

// endregion push

func pushError(err error) error {
	if strings.Contains(err.Error(), "denied") || strings.Contains(err.Error(), "UNAUTHORIZED") {
		return fmt.Errorf("denied: requested access to the resource is denied (%v)", err)
	}
	return err
}

// region makemanifest
// manifestFor is the image's manifest: the kept one if its blobs are all
// here, else a new one (the layers gzip-compressed once, as registries
// expect), kept for the next push.
func manifestFor(im *image.Image) ([]byte, string, error) {
	if im.Manifest != "" {
		if b, err := image.ReadBlob(im.Manifest, image.MaxManifest); err == nil {
			var m Manifest
			ok := json.Unmarshal(b, &m) == nil && image.HasBlob(m.Config.Digest)
			for _, l := range m.Layers {
				ok = ok && image.HasBlob(l.Digest)
			}
			if ok {
				mt := m.MediaType
				if mt == "" {
					mt = image.MediaTypeManifest
				}
				return b, mt, nil
			}
		}
	}
	cfg, err := im.Config()
	if err != nil {
		return nil, "", err
	}
	cb, err := image.ReadBlob("sha256:"+im.ID, image.MaxConfig)
	if err != nil {
		return nil, "", fmt.Errorf("image %s was made by an older minidocker and has no config blob: commit a container of it, and push that", im.ID[:12])
	}
	m := Manifest{SchemaVersion: 2, MediaType: image.MediaTypeDockerManifest,
		Config: Descriptor{MediaType: image.MediaTypeDockerConfig, Digest: "sha256:" + im.ID, Size: int64(len(cb))}}
	for _, d := range cfg.RootFS.DiffIDs {
		l, err := image.Compressed(d)
		if err != nil {
			return nil, "", fmt.Errorf("layer %s: %v", short(d), err)
		}
		mt := l.MediaType
		if mt == image.MediaTypeLayerGzip {
			mt = image.MediaTypeDockerLayer
		} else {
			m.MediaType, m.Config.MediaType = image.MediaTypeManifest, image.MediaTypeConfig // zstd has no Docker media type
		}
		m.Layers = append(m.Layers, Descriptor{MediaType: mt, Digest: l.Blob, Size: l.BlobSize})
	}
	if m.MediaType == image.MediaTypeManifest { // the OCI names throughout
		for i := range m.Layers {
			if m.Layers[i].MediaType == image.MediaTypeDockerLayer {
				m.Layers[i].MediaType = image.MediaTypeLayerGzip
			}
		}
	}
	b, _ := json.MarshalIndent(m, "", "   ")
	if _, err := image.PutBlob(b); err != nil {
		return nil, "", err
	}
	return b, m.MediaType, nil
}

// endregion makemanifest

func pushLayers(ctx context.Context, repo *Repo, layers []Descriptor, diffIDs []string, progress Progress) error {
	if len(layers) != len(diffIDs) {
		return fmt.Errorf("the manifest lists %d layers, the config %d", len(layers), len(diffIDs))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	say := func(m types.JSONMessage) { mu.Lock(); progress(m); mu.Unlock() }
	for i := len(layers) - 1; i >= 0; i-- { // docker push lists the top layer first
		say(types.JSONMessage{Status: "Preparing", ID: short(layers[i].Digest), Progress: &types.JSONProgress{}})
	}
	var firstErr error
	sem := make(chan struct{}, concurrentUploads)
	var wg sync.WaitGroup
	for i := range layers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var sources []string
			if l, err := image.GetLayer(diffIDs[i]); err == nil {
				sources = l.Sources
			}
			err := repo.pushBlob(ctx, layers[i], sources, say)
			if err == nil {
				err = image.AddSource(diffIDs[i], repo.Ref.Name())
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("layer %s: %v", short(layers[i].Digest), err)
				cancel()
			}
		}(i)
	}
	wg.Wait()
	return firstErr
}

// region upload
// pushBlob sends one blob unless the registry has it: HEAD
// /v2/NAME/blobs/DIGEST (200: "Layer already exists"); else, if a
// repository of the same registry has it, POST
// /v2/NAME/blobs/uploads/?mount=DIGEST&from=OTHER (201: "Mounted from");
// else POST /v2/NAME/blobs/uploads/ opens an upload (202 and a Location),
// and one PUT LOCATION?digest=DIGEST sends the whole blob (a monolithic
// upload; the registry checks the digest too).
func (r *Repo) pushBlob(ctx context.Context, d Descriptor, sources []string, say Progress) error {
	if say == nil {
		say = func(types.JSONMessage) {}
	}
	id, path := short(d.Digest), "/v2/"+r.Ref.Path+"/blobs/"
	resp, err := r.do(ctx, http.MethodHead, path+d.Digest, nil, 0, nil, r.Ref.Path)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		say(types.JSONMessage{Status: "Layer already exists", ID: id, Progress: &types.JSONProgress{}})
		return nil
	}
	location := ""
	for _, s := range sources {
		from, err := reference.Parse(s)
		if err != nil || from.Domain != r.Ref.Domain || from.Path == r.Ref.Path {
			continue
		}
		q := url.Values{"mount": {d.Digest}, "from": {from.Path}}
		resp, err := r.do(ctx, http.MethodPost, path+"uploads/?"+q.Encode(), nil, 0, nil, r.Ref.Path)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			say(types.JSONMessage{Status: "Mounted from " + from.Path, ID: id, Progress: &types.JSONProgress{}})
			return nil
		}
		if resp.StatusCode == http.StatusAccepted { // not mounted: an upload was opened instead
			location = resp.Header.Get("Location")
			break
		}
	}
	if location == "" {
		resp, err := r.do(ctx, http.MethodPost, path+"uploads/", nil, 0, nil, r.Ref.Path)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusAccepted {
			return pushError(apiError(resp, "starting an upload"))
		}
		resp.Body.Close()
		location = resp.Header.Get("Location")
	}
	u, err := resolve(r.base+path, location)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("digest", d.Digest)
	u.RawQuery = q.Encode()
	f, err := image.OpenBlob(d.Digest)
	if err != nil {
		return fmt.Errorf("blob %s is not in the store: %v", d.Digest, err)
	}
	defer f.Close()
	last := time.Time{}
	body := &image.Counting{R: f, Fn: func(n int64) {
		if now := time.Now(); now.Sub(last) > 100*time.Millisecond || n == d.Size {
			last = now
			say(types.JSONMessage{Status: "Pushing", ID: id, Progress: &types.JSONProgress{Current: n, Total: d.Size}, ProgressMessage: ProgressBar(n, d.Size)})
		}
	}}
	trace("curl -X PUT --data-binary @blobs/sha256/%s '%s'", d.Digest[7:], u)
	resp, err = r.do(ctx, http.MethodPut, u.String(), body, d.Size, http.Header{"Content-Type": {"application/octet-stream"}}, r.Ref.Path)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return pushError(apiError(resp, "upload of "+d.Digest))
	}
	resp.Body.Close()
	say(types.JSONMessage{Status: "Pushed", ID: id, Progress: &types.JSONProgress{}})
	return nil
}

// endregion upload

// resolve makes an upload Location (often relative) absolute.
func resolve(base, location string) (*url.URL, error) {
	if location == "" {
		return nil, fmt.Errorf("the registry opened an upload without a Location")
	}
	b, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	l, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("upload Location %q: %v", location, err)
	}
	u := b.ResolveReference(l)
	if u.Host != b.Host { // a registry may hand uploads to another host; it must still be http(s)
		if u.Scheme != "https" && u.Scheme != "http" {
			return nil, fmt.Errorf("upload Location %q is not http(s)", location)
		}
	}
	return u, nil
}
