//go:build linux

package image

import (
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

func trace(format string, a ...any) {
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("+ "+format, a...)
	}
}

// Image is an ordered stack of layers, bottom first, and the names it
// goes by (busybox, web:v2): `tag` adds one, `rmi NAME` takes one away.
type Image struct {
	ID      string
	Names   []string `json:",omitempty"`
	Name    string   `json:",omitempty"` // the one name of records written before Names
	Layers  []string // layer ids, bottom first
	Created time.Time
	Size    int64
	Parent  string `json:",omitempty"`
	Comment string `json:",omitempty"`
}

func imagesDir() string         { return filepath.Join(state.Root, "images") }
func LayerDir(id string) string { return filepath.Join(state.Root, "layers", id) }

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

// HasName tells whether the image goes by name.
func (im *Image) HasName(name string) bool {
	for _, n := range im.Names {
		if n == name {
			return true
		}
	}
	return false
}

// Find resolves a name (busybox, busybox:latest), an id or an id prefix.
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
	name := strings.TrimSuffix(ref, ":latest")
	var byID []*Image
	for _, im := range ims {
		if im.HasName(name) {
			return im, nil
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

// Get is Find, plus the busybox image made on first use from the rootfs.
func Get(ref string) (*Image, error) {
	im, err := Find(ref)
	if errors.Is(err, ErrNotFound) && strings.TrimSuffix(ref, ":latest") == "busybox" {
		if _, e := os.Stat(filepath.Join(BusyboxRootfs, "bin/busybox")); e == nil {
			return makeBusybox()
		}
	}
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("unable to find image '%s' locally (minidocker has no registry: `minidocker import TAR %s`, or `minidocker images` to list)", ref, ref)
	}
	return im, err
}

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
	unlock, err := state.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	cur, err := load(im.ID)
	if err != nil {
		return nil, err
	}
	if !cur.HasName(name) {
		cur.Names = append(cur.Names, name)
	}
	return cur, saveLocked(cur)
}

// Untag takes a name away from the image; it reports whether names are left.
func Untag(im *Image, name string) (left bool, err error) {
	unlock, err := state.Lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	cur, err := load(im.ID)
	if err != nil {
		return false, err
	}
	cur.Names = without(cur.Names, name)
	return len(cur.Names) > 0, saveLocked(cur)
}

// endregion save

// newLayer makes an empty layer directory and returns its id and path.
// The layer store is 0700: layers hold what images hold (setuid-root
// programs among them), and no user of the host may reach them there.
func newLayer() (string, string, error) {
	id := state.NewID()
	dir := LayerDir(id)
	if err := os.MkdirAll(filepath.Dir(dir), 0700); err != nil {
		return "", "", err
	}
	if err := os.Chmod(filepath.Dir(dir), 0700); err != nil {
		return "", "", err
	}
	if err := os.Mkdir(dir, 0755); err != nil {
		return "", "", err
	}
	return id, dir, nil
}

// finish computes the image id (a digest of its layer list, as Docker's is a
// digest of its config) and saves it.
func finish(name, comment, parent string, layers []string, size int64) (*Image, error) {
	h := sha256.New()
	for _, l := range layers {
		io.WriteString(h, l+"\n")
	}
	io.WriteString(h, time.Now().String())
	var names []string
	if name = strings.TrimSuffix(name, ":latest"); name != "" {
		names = []string{name}
	}
	im := &Image{ID: hex.EncodeToString(h.Sum(nil)), Names: names, Layers: layers,
		Created: time.Now().UTC(), Size: size, Parent: parent, Comment: comment}
	return im, save(im)
}

// Import unpacks a `docker export` tarball (plain or gzip) read from r
// into one new layer and names the image; source names r in messages.
func Import(r io.Reader, source, name string) (*Image, error) {
	id, dir, err := newLayer()
	if err != nil {
		return nil, err
	}
	trace("mkdir %s && tar -C %s -xf %s", dir, dir, source)
	res, err := archive.Extract(r, dir, archive.Limits{})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("import %s: refused: %v", source, err)
	}
	for why, n := range res.Skipped {
		logrus.Warnf("import %s: left out: %s (%d)", source, why, n)
	}
	im, err := finish(name, "imported from "+source, "", []string{id}, res.Bytes)
	if err != nil {
		os.RemoveAll(dir)
	}
	return im, err
}

// ImportDir copies a directory tree into one new layer.
func ImportDir(src, name, comment string) (*Image, error) {
	id, dir, err := newLayer()
	if err != nil {
		return nil, err
	}
	trace("cp -a %s/. %s", src, dir)
	size, err := archive.CopyTree(src, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	im, err := finish(name, comment, "", []string{id}, size)
	if err != nil {
		os.RemoveAll(dir)
	}
	return im, err
}

// region commit
// Commit makes a new image: the container's image layers plus a copy of
// its upper layer (the files it changed, with its whiteouts: a deleted file
// stays deleted). The init layer (/etc/hosts, /etc/hostname,
// /etc/resolv.conf) is left out: it belongs to that container only.
func Commit(base *Image, upper, name, comment string) (*Image, error) {
	id, dir, err := newLayer()
	if err != nil {
		return nil, err
	}
	trace("cp -a %s/. %s", upper, dir)
	size, err := archive.CopyTree(upper, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	layers := append(append([]string{}, base.Layers...), id)
	im, err := finish(name, comment, base.ID, layers, base.Size+size)
	if err != nil {
		os.RemoveAll(dir)
	}
	return im, err
}

// endregion commit

// Remove deletes an image and the layers no other image uses. The caller
// checks that no container uses it.
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
		}
	}
	if err := os.Remove(filepath.Join(imagesDir(), im.ID+".json")); err != nil {
		return err
	}
	for _, l := range im.Layers {
		if !used[l] {
			trace("rm -rf %s", LayerDir(l))
			os.RemoveAll(LayerDir(l))
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
	if im, err := Find("busybox"); err == nil {
		return im, nil
	}
	return ImportDir(BusyboxRootfs, "busybox", "from "+BusyboxRootfs)
}
