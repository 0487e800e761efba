//go:build linux

package image

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/state"
)

// region cache
// The build cache is the images themselves, as in Docker's classic
// builder: every step of a build makes an image (a layer for RUN, COPY
// and ADD, only a config for the others), and its key is the sha256 of
// the parent image's ID and the step as the history shows it (for RUN its
// build arguments, for COPY and ADD the hash of the files copied). The
// index is one small file per key, build-cache/<key>, that holds the ID
// of the image the step made: a rebuild with nothing changed finds every
// step there and runs none. The images of the steps are unnamed and stay
// out of `images` (they have children); `rmi` of the last one removes
// them with it, `image prune` those left by other stages. The parent's ID
// covers everything before the step (its config and all its layers), so
// one changed step changes the key of every step after it: that is why
// the order of instructions matters.
func CacheKey(parentID, step string) string {
	sum := sha256.Sum256([]byte(parentID + "\n" + step))
	return hex.EncodeToString(sum[:])
}

// endregion cache

func cacheDir() string { return filepath.Join(state.Root, "build-cache") }

// CacheLookup returns the image a step with this key made, if it is
// still in the store; an entry whose image is gone is removed.
func CacheLookup(key string) (*Image, bool) {
	b, err := os.ReadFile(filepath.Join(cacheDir(), key))
	if err != nil {
		return nil, false
	}
	id := strings.TrimSpace(string(b))
	im, err := load(id)
	if err != nil || im.ID != id || im.legacy() {
		os.Remove(filepath.Join(cacheDir(), key))
		return nil, false
	}
	return im, true
}

// SetBuildKey records that im is what the step with this key makes: the
// image's record keeps the key (so that removing the image removes the
// index entry), the index points to the image. A later build without
// the cache (--no-cache) makes the entry point to its own image.
func SetBuildKey(im *Image, key string) error {
	if err := os.MkdirAll(cacheDir(), 0700); err != nil {
		return err
	}
	cur, err := update(im.ID, func(cur *Image) error {
		cur.BuildKey = key
		return state.WriteFileAtomic(filepath.Join(cacheDir(), key), []byte(cur.ID+"\n"))
	})
	if err == nil {
		*im = *cur
	}
	return err
}

// forgetBuildKey removes the index entry of an image being removed (under
// the lock), if the entry still points to it.
func forgetBuildKey(im *Image) {
	if im.BuildKey == "" {
		return
	}
	p := filepath.Join(cacheDir(), im.BuildKey)
	if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == im.ID {
		os.Remove(p)
	}
}

// Children lists the images whose parent is id: a step of a build that
// came after it (or a commit of a container of it).
func Children(id string) []*Image {
	ims, _ := List()
	var out []*Image
	for _, im := range ims {
		if im.Parent == id {
			out = append(out, im)
		}
	}
	return out
}
