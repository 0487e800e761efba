//go:build linux

// Package volume keeps named volumes: a directory of minidocker's,
// /var/lib/minidocker/volumes/NAME/_data, that a container mounts (-v
// NAME:/path) and that outlives it. The first time a volume is mounted
// over a path where the image has files, they are copied into it, as
// Docker does, so `-v data:/etc` starts with the image's /etc. Chapter:
// docs/09-daemon.md.
package volume

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/minidocker/build-your-own-docker/final/archive"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/inroot"
	"github.com/minidocker/build-your-own-docker/final/network"
	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// Volume is one named volume's record (volumes/NAME/volume.json).
type Volume struct {
	Name      string
	CreatedAt time.Time
	Labels    map[string]string `json:",omitempty"`
	Anonymous bool              `json:",omitempty"` // made for -v /path: removed with rm -v
	Seeded    bool              `json:",omitempty"` // the image's files were copied in
}

// ErrNotFound is an unknown volume.
var ErrNotFound = errors.New("no such volume")

func dir(name string) string { return filepath.Join(state.Root, "volumes", name) }

// Data is the directory a container mounts.
func Data(name string) string { return filepath.Join(dir(name), "_data") }

func recordPath(name string) string { return filepath.Join(dir(name), "volume.json") }

// Get reads a volume.
func Get(name string) (*Volume, error) {
	if !network.ValidName(name) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	b, err := os.ReadFile(recordPath(name))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return nil, err
	}
	var v Volume
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("volume %s: broken record: %v", name, err)
	}
	return &v, nil
}

// Create makes a volume, or returns the one of that name (as `docker
// volume create` does). An empty name makes an anonymous one.
func Create(name string, labels map[string]string) (*Volume, error) {
	anonymous := name == ""
	if anonymous {
		name = state.NewID()
	}
	if !network.ValidName(name) {
		return nil, fmt.Errorf("invalid volume name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	unlock, err := state.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if v, err := Get(name); err == nil {
		return v, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir(name)), 0700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(Data(name), 0755); err != nil {
		return nil, err
	}
	v := &Volume{Name: name, CreatedAt: time.Now().UTC(), Labels: labels, Anonymous: anonymous}
	return v, save(v)
}

func save(v *Volume) error {
	b, _ := json.MarshalIndent(v, "", "  ")
	return state.WriteFileAtomic(recordPath(v.Name), b)
}

// List returns every volume, by name.
func List() ([]*Volume, error) {
	ents, err := os.ReadDir(filepath.Join(state.Root, "volumes"))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var out []*Volume
	for _, e := range ents {
		if v, err := Get(e.Name()); err == nil {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Remove deletes a volume and its data. The caller checks no container uses it.
func Remove(name string) error {
	if _, err := Get(name); err != nil {
		return err
	}
	return os.RemoveAll(dir(name))
}

// region seed
// Seed copies the image's files at dst into the volume the first time the
// volume is mounted there and is empty, as Docker does. dst is resolved
// inside the image's merged tree (package inroot): an image whose dst is a
// symlink to / cannot make us copy the host's files.
func Seed(name string, im *image.Image, dst string) error {
	v, err := Get(name)
	if err != nil || v.Seeded {
		return err
	}
	if ents, _ := os.ReadDir(Data(name)); len(ents) > 0 {
		return nil // not empty: the user's data wins
	}
	err = image.WithMerged(im.LowerDirs(), func(merged string) error {
		root, err := unix.Open(merged, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(root)
		fd, err := inroot.Open(root, dst, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return nil // nothing at dst in the image (or not a directory): nothing to copy
		}
		defer unix.Close(fd)
		_, err = archive.CopyTree(inroot.ProcPath(fd), Data(name))
		return err
	})
	if err != nil {
		return fmt.Errorf("volume %s: copying the image's %s: %v", name, dst, err)
	}
	v.Seeded = true
	return save(v)
}

// endregion seed
