//go:build linux

package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/archive"
	"github.com/minidocker/build-your-own-docker/final/reference"
	"github.com/minidocker/build-your-own-docker/final/rootless"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

func trace(format string, a ...any) {
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("+ "+format, a...)
	}
}

// Image is an ordered stack of layers, bottom first, its config, and the
// names it goes by (busybox, 127.0.0.1:5000/web:v2): `tag` adds one, `rmi
// NAME` takes one away. Its ID is the sha256 of its config blob.
type Image struct {
	ID          string
	Names       []string `json:",omitempty"`
	Name        string   `json:",omitempty"` // the one name of records written before Names
	RepoDigests []string `json:",omitempty"` // NAME@sha256:... of the manifest it was pulled or pushed as
	Layers      []string // layer ids (diffIDs' hex), bottom first
	Created     time.Time
	Size        int64
	Parent      string `json:",omitempty"`
	Comment     string `json:",omitempty"`
	// Manifest is the digest of the manifest kept in the content store: the
	// one pulled, or the one made at the first push. Push sends it as it is,
	// so a pushed image has the digest it was pulled with.
	Manifest string `json:",omitempty"`
	// BuildKey is the build-cache key of the step that made the image (its
	// parent's ID and the instruction): see cache.go.
	BuildKey string `json:",omitempty"`
}

func imagesDir() string { return filepath.Join(state.Root, "images") }

// ErrNotFound is an unknown image name or id.
var ErrNotFound = errors.New("no such image")

// BusyboxRootfs is the rootfs `make rootfs` builds; the busybox image is made
// from it on first use, so `run busybox` works offline right after setup.
var BusyboxRootfs = "/var/lib/minidocker/rootfs"

// List reads every image, newest first.
func List() ([]*Image, error) {
	ents, err := os.ReadDir(imagesDir())
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var out []*Image
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		if im, err := load(strings.TrimSuffix(e.Name(), ".json")); err == nil {
			out = append(out, im)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// load reads the record images/ID.json.
func load(id string) (*Image, error) {
	b, err := os.ReadFile(filepath.Join(imagesDir(), id+".json"))
	if err != nil {
		return nil, err
	}
	var im Image
	if err := json.Unmarshal(b, &im); err != nil {
		return nil, err
	}
	if im.Name != "" && len(im.Names) == 0 {
		im.Names = []string{im.Name}
	}
	im.Name = ""
	return &im, nil
}

// Config reads the image's config blob. Images made before the content
// store have none: they get the config those images always ran with.
func (im *Image) Config() (*Config, error) {
	b, err := ReadBlob("sha256:"+im.ID, MaxConfig)
	if os.IsNotExist(err) {
		c := NewConfig(im.Created)
		c.Config = ContainerConfig{Cmd: []string{"sh"}, Env: []string{DefaultPath}}
		for _, l := range im.Layers {
			c.RootFS.DiffIDs = append(c.RootFS.DiffIDs, "sha256:"+l)
		}
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	return parseConfig(b)
}

// HasName tells whether the image goes by name.
func (im *Image) HasName(name string) bool {
	for _, n := range im.Names {
		if n == name {
			return true
		}
	}
	return false
}

// region names
// Normalize is a name as the store keeps it: Docker's familiar form
// without ":latest" (docker.io/library/busybox:latest is busybox,
// 127.0.0.1:5000/bb:1 stays so).
func Normalize(name string) (string, error) {
	r, err := reference.Parse(name)
	if err != nil {
		return "", err
	}
	if r.Digest != "" {
		return "", fmt.Errorf("invalid reference format: %q: a digest names content, it cannot be given as a name", name)
	}
	return strings.TrimSuffix(r.Familiar(), ":latest"), nil
}

// Find resolves a name (busybox, docker.io/library/busybox:latest), a
// name by digest (busybox@sha256:...), an id or an id prefix.
func Find(ref string) (*Image, error) {
	if id := strings.TrimPrefix(ref, "sha256:"); len(id) == 64 {
		// A full id (the container's record has one): its file, without
		// reading every other image's.
		if im, err := load(id); err == nil && im.ID == id {
			return im, nil
		}
	}
	ims, err := List()
	if err != nil {
		return nil, err
	}
	var name, byDigest string
	if r, err := reference.Parse(ref); err == nil {
		if r.Digest != "" {
			byDigest = r.FamiliarName() + "@" + r.Digest
		} else {
			name = strings.TrimSuffix(r.Familiar(), ":latest")
		}
	}
	var byID []*Image
	for _, im := range ims {
		if name != "" && im.HasName(name) {
			return im, nil
		}
		for _, d := range im.RepoDigests {
			if d == byDigest {
				return im, nil
			}
		}
		if len(ref) >= 4 && strings.HasPrefix(im.ID, strings.TrimPrefix(ref, "sha256:")) {
			byID = append(byID, im)
		}
	}
	if len(byID) == 1 {
		return byID[0], nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
}

// endregion names

// Get is Find, plus the busybox image made on first use from the rootfs.
// A busybox image made before the content store (no config blob: it could
// not be pushed or saved) is made again, in the store's format.
func Get(ref string) (*Image, error) {
	im, err := Find(ref)
	if strings.TrimSuffix(ref, ":latest") == "busybox" && (errors.Is(err, ErrNotFound) || err == nil && im.legacy()) {
		if _, e := os.Stat(filepath.Join(BusyboxRootfs, "bin/busybox")); e == nil {
			return makeBusybox()
		}
	}
	return im, err
}

// legacy: made before the content store, the image has no config blob.
func (im *Image) legacy() bool { return !HasBlob("sha256:" + im.ID) }

// region save
// save records an image under the lock; its names move from an older
// image to this one, as `docker tag` does (the old one stays, unnamed if
// it has no other name).
func save(im *Image) error {
	unlock, err := state.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	return saveLocked(im)
}

func saveLocked(im *Image) error {
	if err := os.MkdirAll(imagesDir(), 0700); err != nil {
		return err
	}
	for _, name := range im.Names {
		if old, err := Find(name); err == nil && old.ID != im.ID {
			old.Names = without(old.Names, name)
			b, _ := json.MarshalIndent(old, "", "  ")
			if err := state.WriteFileAtomic(filepath.Join(imagesDir(), old.ID+".json"), b); err != nil {
				return err
			}
		}
	}
	b, _ := json.MarshalIndent(im, "", "  ")
	return state.WriteFileAtomic(filepath.Join(imagesDir(), im.ID+".json"), b)
}

func without(names []string, name string) []string {
	var out []string
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}

// Tag gives the image one more name (taken from any image that had it).
func Tag(im *Image, name string) (*Image, error) {
	return update(im.ID, func(cur *Image) error {
		if !cur.HasName(name) {
			cur.Names = append(cur.Names, name)
		}
		return nil
	})
}

// Untag takes a name away from the image; it reports whether names are left.
func Untag(im *Image, name string) (left bool, err error) {
	cur, err := update(im.ID, func(cur *Image) error {
		cur.Names = without(cur.Names, name)
		return nil
	})
	return err == nil && len(cur.Names) > 0, err
}

// update changes an image's record under the lock: read it again, let fn
// change it, write it.
func update(id string, fn func(cur *Image) error) (*Image, error) {
	unlock, err := state.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	cur, err := load(id)
	if err != nil {
		return nil, err
	}
	if err := fn(cur); err != nil {
		return nil, err
	}
	return cur, saveLocked(cur)
}

// endregion save

// region add
// Add records an image whose layers are in the store: the config blob is
// kept as it is (its digest is the ID), the record lists the layers. An
// image the store has already (the same config: `pull` twice) only gets
// the new names and digests.
func Add(config []byte, names, repoDigests []string, manifest, parent string) (*Image, error) {
	cfg, err := parseConfig(config)
	if err != nil {
		return nil, err
	}
	digest, err := PutBlob(config)
	if err != nil {
		return nil, err
	}
	unlock, err := state.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	im := &Image{ID: hexOf(digest), Parent: parent, Manifest: manifest, Created: time.Now().UTC()}
	if cfg.Created != nil {
		im.Created = cfg.Created.UTC()
	}
	for _, d := range cfg.RootFS.DiffIDs {
		l, err := GetLayer(d)
		if err != nil {
			if _, e := os.Stat(LayerDir(hexOf(d))); e != nil { // a concurrent rmi took it between the unpack and now
				return nil, fmt.Errorf("layer %s is not in the store (removed meanwhile?): try again", d)
			}
			l = &Layer{Size: DirSize(LayerDir(hexOf(d)))} // a layer made before layers had records
		}
		im.Layers = append(im.Layers, hexOf(d))
		im.Size += l.Size
	}
	if old, err := load(im.ID); err == nil {
		im.Names, im.RepoDigests, im.Created = old.Names, old.RepoDigests, old.Created
		if im.Manifest == "" {
			im.Manifest = old.Manifest
		}
		if im.Parent == "" {
			im.Parent = old.Parent
		}
		im.BuildKey = old.BuildKey
	}
	for _, n := range names {
		if !im.HasName(n) {
			im.Names = append(im.Names, n)
		}
	}
	for _, d := range repoDigests {
		im.RepoDigests = addDigest(im.RepoDigests, d)
	}
	return im, saveLocked(im)
}

// endregion add

// addDigest keeps one NAME@digest per repository name: the newest.
func addDigest(list []string, d string) []string {
	name, _, _ := strings.Cut(d, "@")
	out := []string{}
	for _, o := range list {
		if n, _, _ := strings.Cut(o, "@"); n != name {
			out = append(out, o)
		}
	}
	return append(out, d)
}

// AddRepoDigest records that the image is NAME@digest in a registry (push).
func AddRepoDigest(im *Image, d, manifest string) error {
	cur, err := update(im.ID, func(cur *Image) error {
		cur.RepoDigests = addDigest(cur.RepoDigests, d)
		if cur.Manifest == "" {
			cur.Manifest = manifest
		}
		return nil
	})
	if err == nil {
		*im = *cur
	}
	return err
}

// fromTar makes one layer from a tarball (plain or gzip) and an image of
// the base image's layers plus it, with cfg (whose history gets the step).
func fromTar(r io.Reader, base *Image, cfg *Config, step History, name string) (*Image, error) {
	l, err := Unpack(r, UnpackOptions{})
	if err != nil {
		return nil, err
	}
	parent := ""
	if base != nil {
		parent = base.ID
		bc, err := base.Config()
		if err != nil {
			RemoveUnused([]string{l.DiffID})
			return nil, err
		}
		cfg.RootFS.DiffIDs = append([]string{}, bc.RootFS.DiffIDs...)
		cfg.History = append([]History{}, bc.History...)
		for len(cfg.History) < len(cfg.RootFS.DiffIDs) { // images made before the content store
			cfg.History = append(cfg.History, History{})
		}
	}
	cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.DiffID)
	cfg.History = append(cfg.History, step)
	b, _ := json.Marshal(cfg)
	var names []string
	if name != "" {
		names = []string{name}
	}
	im, err := Add(b, names, nil, "", parent)
	if err != nil {
		RemoveUnused([]string{l.DiffID}) // no image, no layer: nothing half-made
	}
	return im, err
}

// Import unpacks a `docker export` tarball (plain or gzip) read from r
// into one new layer and names the image; source names r in messages.
// changes is the config (`import --change 'CMD ["sh"]'`; Docker's import
// has no command unless given one).
func Import(r io.Reader, source, name string, changes ContainerConfig) (*Image, error) {
	now := time.Now().UTC()
	cfg := NewConfig(now)
	cfg.Config = changes
	im, err := fromTar(r, nil, cfg, History{Created: &now, Comment: "imported from " + source}, name)
	if err != nil {
		return nil, fmt.Errorf("import %s: refused: %v", source, err)
	}
	return im, nil
}

// ImportDir makes an image of one layer from a directory tree.
// Its date is the tree's own (the mtime of src): the same tree makes the
// same config, so the same image ID, on every machine.
func ImportDir(src, name, comment string, cc ContainerConfig) (*Image, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		trace("tar -C %s -c . | (sha256sum; tar -x)", src)
		if rootless.On() { // the host's root owns the tree: root of the image, not nobody
			pw.CloseWithError(archive.TarRootOwned(pw, src))
			return
		}
		pw.CloseWithError(archive.Tar(pw, src))
	}()
	now := st.ModTime().UTC().Truncate(time.Second)
	cfg := NewConfig(now)
	cfg.Config = cc
	im, err := fromTar(pr, nil, cfg, History{Created: &now, Comment: comment}, name)
	pr.CloseWithError(err)
	return im, err
}

// region commit
// Commit makes a new image: the container's image layers plus one more
// with its upper layer (the files it changed, with its whiteouts: a
// deleted file stays deleted), written as a layer tarball, hashed and
// unpacked as a pulled layer would be. The init layer (/etc/hosts,
// /etc/hostname, /etc/resolv.conf) is left out: it belongs to that
// container only. cc is the container's config, which the new image runs.
func Commit(base *Image, upper, name string, cc ContainerConfig, step History) (*Image, error) {
	bc, err := base.Config()
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	cfg := NewConfig(now)
	cfg.Architecture, cfg.Variant, cfg.OS, cfg.Author = bc.Architecture, bc.Variant, bc.OS, step.Author
	cfg.Config = cc
	step.Created = &now
	return commitUpper(base, upper, name, cfg, step)
}

// CommitUpper is Commit with the new image's whole config given (build
// makes it, step by step); base may be nil (FROM scratch).
func CommitUpper(base *Image, upper string, cfg *Config, step History) (*Image, error) {
	return commitUpper(base, upper, "", cfg, step)
}

func commitUpper(base *Image, upper, name string, cfg *Config, step History) (*Image, error) {
	pr, pw := io.Pipe()
	go func() {
		trace("tar -C %s -c . (whiteouts as .wh. files) | (sha256sum; tar -x)", upper)
		pw.CloseWithError(archive.TarLayer(pw, upper))
	}()
	im, err := fromTar(pr, base, cfg, step, name)
	pr.CloseWithError(err)
	return im, err
}

// endregion commit

// Remove deletes an image, and the layers and blobs no other image uses.
// The caller checks that no container uses it.
func Remove(im *Image) error {
	unlock, err := state.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	used := map[string]bool{}
	ims, _ := List()
	for _, o := range ims {
		if o.ID != im.ID {
			for _, l := range o.Layers {
				used[l] = true
			}
			used[o.Manifest] = true
		}
	}
	if err := os.Remove(filepath.Join(imagesDir(), im.ID+".json")); err != nil {
		return err
	}
	forgetBuildKey(im)
	removeBlob("sha256:" + im.ID)
	if im.Manifest != "" && !used[im.Manifest] {
		removeBlob(im.Manifest)
	}
	for _, l := range im.Layers {
		if !used[l] {
			removeLayer(l)
		}
	}
	return nil
}

// region lowerdirs
// LowerDirs is overlayfs's lowerdir= list: the top layer first, separated
// by colons (the order is the reverse of the image's bottom-first list).
func (im *Image) LowerDirs() []string {
	var dirs []string
	for i := len(im.Layers) - 1; i >= 0; i-- {
		dirs = append(dirs, LayerDir(im.Layers[i]))
	}
	return dirs
}

// endregion lowerdirs

// BusyboxConfig is what Docker Hub's busybox image runs: sh.
var BusyboxConfig = ContainerConfig{Cmd: []string{"sh"}, Env: []string{DefaultPath}}

// makeBusybox imports the rootfs as the busybox image, once: concurrent
// first runs wait on a lock of their own (the engine lock is taken inside).
func makeBusybox() (*Image, error) {
	if err := os.MkdirAll(state.Root, 0711); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(state.Root, ".busybox.lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return nil, err
	}
	if im, err := Find("busybox"); err == nil && !im.legacy() {
		return im, nil
	}
	return ImportDir(BusyboxRootfs, "busybox", "from "+BusyboxRootfs, BusyboxConfig)
}
