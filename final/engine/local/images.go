//go:build linux

package local

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/network"
	"github.com/minidocker/build-your-own-docker/final/state"
)

// repoTags is an image's name as Docker lists it: "busybox:latest".
func repoTags(im *image.Image) []string {
	tags := []string{}
	for _, n := range im.Names {
		tags = append(tags, withTag(n))
	}
	return tags
}

// ImageList is GET /images/json and `minidocker images`.
func (e *Engine) ImageList(ctx context.Context, opts engine.ListOptions) ([]types.ImageSummary, error) {
	f, err := newFilter(opts.Filters, "reference", "label", "dangling")
	if err != nil {
		return nil, err
	}
	image.Get("busybox") // made from the rootfs on first use
	ims, err := image.List()
	if err != nil {
		return nil, err
	}
	out := []types.ImageSummary{}
	for _, im := range ims {
		if !f.matchAny("reference", append(im.Names, repoTags(im)...)...) || !f.match("dangling", fmt.Sprint(len(im.Names) == 0)) {
			continue
		}
		out = append(out, types.ImageSummary{ID: "sha256:" + im.ID, ParentID: parentID(im), RepoTags: repoTags(im),
			RepoDigests: []string{}, Created: im.Created.Unix(), Size: im.Size, SharedSize: -1, Containers: -1, Labels: map[string]string{}})
	}
	return out, nil
}

func parentID(im *image.Image) string {
	if im.Parent == "" {
		return ""
	}
	return "sha256:" + im.Parent
}

// ImageInspect is GET /images/{name}/json.
func (e *Engine) ImageInspect(ctx context.Context, ref string) (*types.ImageInspect, error) {
	im, err := findImage(ref)
	if err != nil {
		return nil, err
	}
	cfg := &types.Config{Cmd: types.StrSlice{"sh"}, Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Labels: map[string]string{}, Volumes: map[string]struct{}{}}
	layers := []string{}
	for _, l := range im.Layers {
		layers = append(layers, "sha256:"+l)
	}
	return &types.ImageInspect{ID: "sha256:" + im.ID, RepoTags: repoTags(im), RepoDigests: []string{}, Parent: parentID(im),
		Comment: im.Comment, Created: im.Created.Format(time.RFC3339Nano), Config: cfg, ContainerConfig: cfg,
		Architecture: runtime.GOARCH, Os: "linux", Size: im.Size, VirtualSize: im.Size, DockerVersion: e.Release,
		GraphDriver: types.GraphDriver{Name: "overlay", Data: map[string]string{"LowerDir": strings.Join(im.LowerDirs(), ":")}},
		RootFS:      types.RootFS{Type: "layers", Layers: layers}}, nil
}

// ImageRemove is DELETE /images/{name} and `minidocker rmi`: by name it
// takes that name away, and the image goes when it has none left; by id
// the image goes. Refused while a container uses it.
func (e *Engine) ImageRemove(ctx context.Context, ref string, force bool) ([]types.ImageDeleteResponseItem, error) {
	im, err := findImage(ref)
	if err != nil {
		return nil, err
	}
	var out []types.ImageDeleteResponseItem
	name := strings.TrimSuffix(strings.TrimPrefix(ref, "docker.io/library/"), ":latest")
	if im.HasName(name) && len(im.Names) > 1 {
		if _, err := image.Untag(im, name); err != nil {
			return nil, err
		}
		return []types.ImageDeleteResponseItem{{Untagged: withTag(name)}}, nil
	}
	if !im.HasName(name) && len(im.Names) > 1 && !force {
		return nil, engine.Errorf(engine.ErrConflict, "conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories", im.ID[:12])
	}
	cs, _ := state.List()
	for _, c := range cs {
		if c.ImageID == im.ID {
			return nil, engine.Errorf(engine.ErrConflict, "conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s", ref, c.ID[:12], im.ID[:12])
		}
	}
	if err := image.Remove(im); err != nil {
		return nil, err
	}
	for _, t := range repoTags(im) {
		out = append(out, types.ImageDeleteResponseItem{Untagged: t})
	}
	return append(out, types.ImageDeleteResponseItem{Deleted: "sha256:" + im.ID}), nil
}

// ImageTag is POST /images/{name}/tag and `minidocker tag`: minidocker's
// images have one name each, so a tag is a new image record over the same
// layers.
func (e *Engine) ImageTag(ctx context.Context, ref, repo, tag string) error {
	im, err := findImage(ref)
	if err != nil {
		return err
	}
	name, err := imageName(repo, tag)
	if err != nil {
		return err
	}
	_, err = image.Tag(im, name)
	return err
}

// imageName is repo[:tag] as minidocker stores it (no ":latest").
func imageName(repo, tag string) (string, error) {
	repo = strings.TrimPrefix(repo, "docker.io/library/")
	if tag != "" && tag != "latest" {
		repo += ":" + tag
	}
	name := strings.TrimSuffix(repo, ":latest")
	base, t, _ := strings.Cut(name, ":")
	if !network.ValidName(base) || (t != "" && !network.ValidName(t)) {
		return "", invalid("invalid reference format: %q (minidocker names images NAME[:TAG], NAME of [a-zA-Z0-9][a-zA-Z0-9_.-])", repo)
	}
	return name, nil
}

// ImageImport is POST /images/create?fromSrc=- and `minidocker import`: a
// `docker export` tarball, unpacked by the safe extractor (package archive).
func (e *Engine) ImageImport(ctx context.Context, r io.Reader, source, ref string) (string, error) {
	name, err := imageName(ref, "")
	if err != nil {
		return "", err
	}
	im, err := image.Import(r, source, name)
	if err != nil {
		return "", invalid("%v", err)
	}
	return "sha256:" + im.ID, nil
}
