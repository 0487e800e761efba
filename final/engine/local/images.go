//go:build linux

package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/archive"
	"github.com/minidocker/build-your-own-docker/final/dockerfile"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/reference"
	"github.com/minidocker/build-your-own-docker/final/registry"
	"github.com/minidocker/build-your-own-docker/final/state"
)

// repoTags is an image's names as Docker lists them: "busybox:latest".
func repoTags(im *image.Image) []string {
	tags := []string{}
	for _, n := range im.Names {
		tags = append(tags, withTag(n))
	}
	return tags
}

func repoDigests(im *image.Image) []string {
	if im.RepoDigests == nil {
		return []string{}
	}
	return im.RepoDigests
}

// ImageList is GET /images/json and `minidocker images`. Size is each
// image's whole size; SharedSize the part in layers other images use too
// (the store keeps those once: `system df` counts them once).
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
	users := map[string]int{} // layer -> images using it
	parents := map[string]bool{}
	for _, im := range ims {
		for _, l := range im.Layers {
			users[l]++
		}
		parents[im.Parent] = true
	}
	out := []types.ImageSummary{}
	for _, im := range ims {
		cfg, _ := im.Config()
		labels := map[string]string{}
		if cfg != nil && cfg.Config.Labels != nil {
			labels = cfg.Config.Labels
		}
		// A build's steps are images without names under the last one:
		// `images` leaves them out, `images -a` shows them (as Docker does).
		intermediate := len(im.Names) == 0 && parents[im.ID]
		if intermediate && !opts.All {
			continue
		}
		if !f.matchAny("reference", append(im.Names, repoTags(im)...)...) || !f.match("dangling", fmt.Sprint(len(im.Names) == 0 && !intermediate)) ||
			!f.labels(labels) {
			continue
		}
		shared := int64(0)
		for _, l := range im.Layers {
			if users[l] > 1 {
				if ly, err := image.GetLayer(l); err == nil {
					shared += ly.Size
				}
			}
		}
		out = append(out, types.ImageSummary{ID: "sha256:" + im.ID, ParentID: parentID(im), RepoTags: repoTags(im),
			RepoDigests: repoDigests(im), Created: im.Created.Unix(), Size: im.Size, SharedSize: shared, Containers: -1, Labels: labels})
	}
	return out, nil
}

func parentID(im *image.Image) string {
	if im.Parent == "" {
		return ""
	}
	return "sha256:" + im.Parent
}

// region imageinspect
// ImageInspect is GET /images/{name}/json: the record and the config blob
// (what a container of it runs), in Docker's shape.
func (e *Engine) ImageInspect(ctx context.Context, ref string) (*types.ImageInspect, error) {
	im, c, err := findImageConfig(ref)
	if err != nil {
		return nil, err
	}
	cfg := apiConfig(c.Config)
	layers := []string{}
	for _, l := range c.RootFS.DiffIDs {
		layers = append(layers, l)
	}
	created := im.Created
	if c.Created != nil {
		created = *c.Created
	}
	comment, author := im.Comment, c.Author
	if n := len(c.History); n > 0 && comment == "" {
		comment = c.History[n-1].Comment
	}
	arch := c.Architecture
	if c.Variant != "" {
		arch += "/" + c.Variant
	}
	return &types.ImageInspect{ID: "sha256:" + im.ID, RepoTags: repoTags(im), RepoDigests: repoDigests(im), Parent: parentID(im),
		Comment: comment, Author: author, Created: created.Format(time.RFC3339Nano), Config: cfg, ContainerConfig: cfg,
		Architecture: c.Architecture, Variant: c.Variant, Os: c.OS, Size: im.Size, VirtualSize: im.Size, DockerVersion: e.Release,
		GraphDriver: types.GraphDriver{Name: "overlay", Data: map[string]string{"LowerDir": strings.Join(im.LowerDirs(), ":")}},
		RootFS:      types.RootFS{Type: "layers", Layers: layers}}, nil
}

// endregion imageinspect

// apiConfig is an image's container config in the API's shape.
func apiConfig(c image.ContainerConfig) *types.Config {
	cfg := &types.Config{User: c.User, ExposedPorts: c.ExposedPorts, Env: c.Env, Cmd: c.Cmd, Entrypoint: c.Entrypoint,
		Volumes: c.Volumes, WorkingDir: c.WorkingDir, Labels: c.Labels, StopSignal: c.StopSignal}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	if cfg.Volumes == nil {
		cfg.Volumes = map[string]struct{}{}
	}
	if cfg.Env == nil {
		cfg.Env = []string{}
	}
	return cfg
}

// ImageHistory is GET /images/{name}/history and `minidocker history`:
// the config's history, newest first; a step that made a layer shows the
// layer's size, the top one the image's ID and names.
func (e *Engine) ImageHistory(ctx context.Context, ref string) ([]types.ImageHistoryItem, error) {
	im, c, err := findImageConfig(ref)
	if err != nil {
		return nil, err
	}
	steps, layer := c.LayerHistory()
	// The images under it (a build's steps, a commit's base) end rows of
	// the history too: those rows show their IDs and names, as Docker
	// shows them; the steps of no image here (built elsewhere) are <missing>.
	byRow := map[int]*image.Image{len(steps) - 1: im}
	for id := im.Parent; id != ""; {
		p, err := image.Find(id)
		if err != nil {
			break
		}
		pc, err := p.Config()
		if err != nil {
			break
		}
		if n := len(pc.History); n > 0 && n < len(steps) && pc.History[n-1].CreatedBy == steps[n-1].CreatedBy {
			byRow[n-1] = p
		}
		id = p.Parent
	}
	out := []types.ImageHistoryItem{}
	for i := len(steps) - 1; i >= 0; i-- {
		h := steps[i]
		it := types.ImageHistoryItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Tags: nil}
		if h.Created != nil {
			it.Created = h.Created.Unix()
		}
		if n := layer[i]; n >= 0 && n < len(im.Layers) {
			if l, err := image.GetLayer(im.Layers[n]); err == nil {
				it.Size = l.Size
			}
		}
		if p := byRow[i]; p != nil {
			it.ID, it.Tags = "sha256:"+p.ID, repoTags(p)
		}
		out = append(out, it)
	}
	return out, nil
}

// region imageremove
// ImageRemove is DELETE /images/{name} and `minidocker rmi`: by name it
// takes that name away, and the image goes when it has none left; by id
// the image goes. Refused while a container uses it. Layers and blobs go
// with the last image that uses them.
func (e *Engine) ImageRemove(ctx context.Context, ref string, force bool) ([]types.ImageDeleteResponseItem, error) {
	im, err := findImage(ref)
	if err != nil {
		return nil, err
	}
	name, _ := image.Normalize(ref)
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
	var out []types.ImageDeleteResponseItem
	for _, t := range append(repoTags(im), im.RepoDigests...) {
		out = append(out, types.ImageDeleteResponseItem{Untagged: t})
	}
	out = append(out, types.ImageDeleteResponseItem{Deleted: "sha256:" + im.ID})
	return append(out, removeParents(im, inUse(cs))...), nil
}

// endregion imageremove

// region removeparents
// removeParents removes the unnamed images under a removed one, as
// `docker rmi` does: the steps of the build that made it (its build
// cache), up to the first image that has a name, another child, or a
// container.
func removeParents(im *image.Image, used map[string]bool) []types.ImageDeleteResponseItem {
	var out []types.ImageDeleteResponseItem
	for id := im.Parent; id != ""; {
		p, err := image.Find(id)
		if err != nil || len(p.Names) > 0 || used[p.ID] || len(image.Children(p.ID)) > 0 {
			break
		}
		if image.Remove(p) != nil {
			break
		}
		out = append(out, types.ImageDeleteResponseItem{Deleted: "sha256:" + p.ID})
		id = p.Parent
	}
	return out
}

// endregion removeparents

// inUse is the set of images containers were made from.
func inUse(cs []*state.Container) map[string]bool {
	used := map[string]bool{}
	for _, c := range cs {
		used[c.ImageID] = true
	}
	return used
}

// region imagesprune
// ImagesPrune is POST /images/prune and `minidocker image prune`: the
// unnamed images that no other image builds on and no container uses
// (with All: every image no container uses), each with the unnamed steps
// under it, over and over until none is left. The build cache of images
// that are gone goes with them.
func (e *Engine) ImagesPrune(ctx context.Context, opts engine.PruneOptions) (*types.ImagesPruneReport, error) {
	rep := &types.ImagesPruneReport{ImagesDeleted: []types.ImageDeleteResponseItem{}}
	before := layerSizes()
	cs, _ := state.List()
	used := inUse(cs)
	for {
		ims, err := image.List()
		if err != nil {
			return nil, err
		}
		parents := map[string]bool{}
		for _, im := range ims {
			parents[im.Parent] = true
		}
		removed := 0
		for _, im := range ims {
			if used[im.ID] || parents[im.ID] || (len(im.Names) > 0 && !opts.All) {
				continue
			}
			if image.Remove(im) != nil {
				continue
			}
			removed++
			for _, n := range repoTags(im) {
				rep.ImagesDeleted = append(rep.ImagesDeleted, types.ImageDeleteResponseItem{Untagged: n})
			}
			rep.ImagesDeleted = append(rep.ImagesDeleted, types.ImageDeleteResponseItem{Deleted: "sha256:" + im.ID})
			if !opts.All {
				rep.ImagesDeleted = append(rep.ImagesDeleted, removeParents(im, used)...)
			}
		}
		if removed == 0 {
			break
		}
	}
	after := layerSizes()
	for l, size := range before {
		if _, ok := after[l]; !ok {
			rep.SpaceReclaimed += uint64(size)
		}
	}
	return rep, nil
}

// endregion imagesprune

// layerSizes is the store's layers and their sizes.
func layerSizes() map[string]int64 {
	out := map[string]int64{}
	ims, _ := image.List()
	for _, im := range ims {
		for _, l := range im.Layers {
			if ly, err := image.GetLayer(l); err == nil {
				out[l] = ly.Size
			}
		}
	}
	return out
}

// ImageTag is POST /images/{name}/tag and `minidocker tag`.
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

// imageName is repo[:tag] as the store keeps it (familiar, no ":latest").
func imageName(repo, tag string) (string, error) {
	if tag != "" {
		repo += ":" + tag
	}
	name, err := image.Normalize(repo)
	if err != nil {
		return "", invalid("%v", err)
	}
	return name, nil
}

// ImageImport is POST /images/create?fromSrc=- and `minidocker import`: a
// `docker export` tarball, unpacked by the safe extractor (package archive).
func (e *Engine) ImageImport(ctx context.Context, r io.Reader, source, ref string, changes []string) (string, error) {
	name := ""
	if ref != "" {
		var err error
		if name, err = imageName(ref, ""); err != nil {
			return "", err
		}
	}
	var cc image.ContainerConfig
	if err := dockerfile.ApplyChanges(&cc, changes); err != nil {
		return "", invalid("%v", err)
	}
	im, err := image.Import(r, source, name, cc)
	if err != nil {
		return "", invalid("%v", err)
	}
	return "sha256:" + im.ID, nil
}

// registryOptions are the engine's insecure registries and the user's
// credentials.
func (e *Engine) registryOptions(auth *types.AuthConfig) registry.Options {
	return registry.Options{Insecure: e.Insecure, Auth: auth}
}

// region imagepull
// ImagePull is POST /images/create?fromImage= and `minidocker pull`.
func (e *Engine) ImagePull(ctx context.Context, ref string, opts engine.PullOptions, progress func(types.JSONMessage)) error {
	r, err := reference.Parse(ref)
	if err != nil {
		return invalid("%v", err)
	}
	_, err = registry.Pull(ctx, r, registry.PullOptions{Options: e.registryOptions(opts.Auth), Platform: opts.Platform}, progress)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrDenied) {
			return engine.Errorf(engine.ErrNotFound, "%v", err)
		}
		return engine.Errorf(engine.ErrUnavailable, "%v", err)
	}
	return nil
}

// endregion imagepull

// ImagePush is POST /images/{name}/push and `minidocker push`.
func (e *Engine) ImagePush(ctx context.Context, ref string, opts engine.PushOptions, progress func(types.JSONMessage)) error {
	r, err := reference.Parse(ref)
	if err != nil {
		return invalid("%v", err)
	}
	im, err := image.Find(ref)
	if err != nil {
		return engine.Errorf(engine.ErrNotFound, "An image does not exist locally with the tag: %s", r.FamiliarName())
	}
	if _, err := registry.Push(ctx, r, im, e.registryOptions(opts.Auth), progress); err != nil {
		return engine.Errorf(engine.ErrUnavailable, "%v", err)
	}
	return nil
}

// ImageSave is GET /images/get and `minidocker save`.
func (e *Engine) ImageSave(ctx context.Context, refs []string, w io.Writer) error {
	var items []image.SaveItem
	for _, ref := range refs {
		im, err := findImage(ref)
		if err != nil {
			return err
		}
		it := image.SaveItem{Image: im}
		if n, err := image.Normalize(ref); err == nil && im.HasName(n) {
			it.Tags = []string{withTag(n)} // by name: that name; by ID: none, as docker save
		}
		items = append(items, it)
	}
	return image.Save(w, items)
}

// ImageLoad is POST /images/load and `minidocker load`.
func (e *Engine) ImageLoad(ctx context.Context, r io.Reader, progress func(types.JSONMessage)) error {
	err := image.Load(r, archive.Limits{}, func(l image.Loaded) {
		if len(l.Names) == 0 {
			progress(types.JSONMessage{Stream: "Loaded image ID: sha256:" + l.Image.ID + "\n"})
		}
		for _, n := range l.Names {
			progress(types.JSONMessage{Stream: "Loaded image: " + withTag(n) + "\n"})
		}
	})
	if err != nil {
		return invalid("load: refused: %v", err)
	}
	return nil
}

// RegistryLogin is POST /auth and `minidocker login`.
func (e *Engine) RegistryLogin(ctx context.Context, auth types.AuthConfig) (*types.AuthResponse, error) {
	if err := registry.Login(ctx, auth.ServerAddress, e.registryOptions(&auth)); err != nil {
		if errors.Is(err, registry.ErrDenied) {
			return nil, engine.Errorf(engine.ErrForbidden, "%v", err)
		}
		return nil, engine.Errorf(engine.ErrUnavailable, "%v", err)
	}
	return &types.AuthResponse{Status: "Login Succeeded"}, nil
}

// DiskUsage is GET /system/df: every layer counted once.
func (e *Engine) DiskUsage(ctx context.Context) (*types.DiskUsage, error) {
	ims, err := e.ImageList(ctx, engine.ListOptions{})
	if err != nil {
		return nil, err
	}
	cs, err := e.ContainerList(ctx, engine.ListOptions{All: true})
	if err != nil {
		return nil, err
	}
	vs, err := e.VolumeList(ctx, engine.ListOptions{})
	if err != nil {
		return nil, err
	}
	used := map[string]int64{}
	for i := range ims {
		im, _ := image.Find(ims[i].ID)
		if im == nil {
			continue
		}
		n := int64(0)
		for _, c := range cs {
			if c.ImageID == ims[i].ID {
				n++
			}
		}
		ims[i].Containers = n
		for _, l := range im.Layers {
			if ly, err := image.GetLayer(l); err == nil {
				used[l] = ly.Size
			}
		}
	}
	du := &types.DiskUsage{Images: ims, Containers: cs, Volumes: []types.Volume{}, BuildCache: []types.RawMessage{}}
	for _, v := range vs.Volumes {
		du.Volumes = append(du.Volumes, *v)
	}
	for _, s := range used {
		du.LayersSize += s
	}
	return du, nil
}
