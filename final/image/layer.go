//go:build linux

package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/minidocker/build-your-own-docker/final/archive"
	"github.com/minidocker/build-your-own-docker/final/overlay"
	"github.com/minidocker/build-your-own-docker/final/state"
)

// Media types of layer blobs: a tarball, plain or compressed. The
// tarball's own sha256 (of the uncompressed bytes) is the layer's "diffID",
// the name the image config lists it under; the blob's sha256 (of the
// compressed bytes) is the name the manifest and the registry use.
const (
	MediaTypeLayer       = "application/vnd.oci.image.layer.v1.tar"
	MediaTypeLayerGzip   = "application/vnd.oci.image.layer.v1.tar+gzip"
	MediaTypeLayerZstd   = "application/vnd.oci.image.layer.v1.tar+zstd"
	MediaTypeDockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// Layer is what the store knows of one layer, layers/<diffID hex>.json
// beside its files in layers/<diffID hex>/.
type Layer struct {
	DiffID    string   // sha256 of the uncompressed tarball
	Size      int64    // bytes of its files, unpacked
	Blob      string   // the digest of the blob kept for push and save
	MediaType string   // the blob's: plain, gzip or zstd tarball
	BlobSize  int64    // the blob's size in bytes
	TarSize   int64    // the uncompressed tarball's size (save writes it)
	Sources   []string `json:",omitempty"` // repositories known to have the blob (127.0.0.1:5000/bb): push mounts from them
}

const tmpLayerPrefix = ".tmp-"

func layersDir() string { return filepath.Join(state.Root, "layers") }

// LayerDir is where a layer's files are: layers/<id>, id the diffID's hex
// (or, for images made before diffIDs, a random one).
func LayerDir(id string) string { return filepath.Join(layersDir(), id) }

func layerMeta(id string) string { return filepath.Join(layersDir(), id+".json") }

// GetLayer reads a layer's record.
func GetLayer(diffID string) (*Layer, error) {
	b, err := os.ReadFile(layerMeta(hexOf(diffID)))
	if err != nil {
		return nil, err
	}
	var l Layer
	return &l, json.Unmarshal(b, &l)
}

// HasLayer tells whether a layer is unpacked and recorded.
func HasLayer(diffID string) bool {
	_, err := GetLayer(diffID)
	return err == nil
}

func hexOf(digest string) string { return strings.TrimPrefix(digest, "sha256:") }

// UnpackOptions describe a layer blob about to be read.
type UnpackOptions struct {
	MediaType string // how the blob is compressed; "" = look at its first bytes
	Digest    string // the blob's digest, if known (a manifest's): checked
	DiffID    string // the uncompressed tarball's digest, if known (a config's): checked
	Source    string // the repository it comes from, if any
	Limits    archive.Limits
	// Progress, if set, is told the number of blob bytes read so far.
	Progress func(n int64)
}

// region unpack
// Unpack reads a layer blob once and does three things with its bytes as
// they stream by: keeps the blob (content store, hashed: the manifest's
// digest), decompresses it and hashes the tarball (the config's diffID),
// and unpacks the tarball into a new directory with the safe extractor.
// Only when both digests are right does the directory get its name,
// layers/<diffID hex> (rename(2)); on any error, nothing is left: not the
// blob, not a half-unpacked directory. A layer the store already has (two
// images sharing a base) is kept once: the second copy is dropped.
func Unpack(r io.Reader, o UnpackOptions) (*Layer, error) {
	bw, err := NewBlobWriter()
	if err != nil {
		return nil, err
	}
	// The layer store is 0700: layers hold what images hold (setuid-root
	// programs among them), and no user of the host may reach them there.
	if err := os.MkdirAll(layersDir(), 0700); err != nil {
		bw.Abort()
		return nil, err
	}
	tmp, err := os.MkdirTemp(layersDir(), tmpLayerPrefix+tmpName())
	if err != nil {
		bw.Abort()
		return nil, err
	}
	fail := func(err error) (*Layer, error) {
		bw.Abort()
		os.RemoveAll(tmp)
		return nil, err
	}
	var blob io.Reader = io.TeeReader(r, bw)
	if o.Progress != nil {
		blob = &Counting{R: blob, Fn: o.Progress}
	}
	tarball, closeFn, mediaType, err := decompress(blob, o.MediaType)
	if err != nil {
		return fail(err)
	}
	defer closeFn()
	diff := &sizedHash{Hash: sha256.New()}
	trace("mkdir %s && tar -C %s -xf - (sha256 of the tarball: its diffID)", tmp, tmp)
	res, err := archive.Extract(io.TeeReader(tarball, diff), tmp, o.Limits)
	if err != nil {
		return fail(err)
	}
	// The tarball ends with padding, the blob may end after the tarball:
	// both are part of what the digests cover.
	if _, err := io.Copy(diff, tarball); err != nil {
		return fail(err)
	}
	if _, err := io.Copy(io.Discard, blob); err != nil {
		return fail(err)
	}
	// The blob's digest first (what the registry promised to send), then
	// the tarball's (what the image's config promised it holds).
	if o.Digest != "" && bw.Digest() != o.Digest {
		return fail(fmt.Errorf("%w: the blob hashes to %s, not %s", ErrDigest, bw.Digest(), o.Digest))
	}
	diffID := "sha256:" + hex.EncodeToString(diff.Sum(nil))
	if o.DiffID != "" && diffID != o.DiffID {
		return fail(fmt.Errorf("%w: the layer's tarball hashes to %s, the image config says %s", ErrDigest, diffID, o.DiffID))
	}
	for why, n := range res.Skipped {
		trace("left out of layer %s: %s (%d)", diffID[7:19], why, n)
	}
	blobSize := bw.Size()
	digest, err := bw.Commit(o.Digest)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	l := &Layer{DiffID: diffID, Size: res.Bytes, Blob: digest, MediaType: mediaType, BlobSize: blobSize, TarSize: diff.n}
	if o.Source != "" {
		l.Sources = []string{o.Source}
	}
	return l, finishLayer(l, tmp)
}

// endregion unpack

// sizedHash is a hash that counts what it was given.
type sizedHash struct {
	hash.Hash
	n int64
}

func (h *sizedHash) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	return h.Hash.Write(p)
}

// finishLayer gives an unpacked directory its name and writes its record,
// under the lock. If the layer is there already, ours is the copy to drop.
func finishLayer(l *Layer, tmp string) error {
	unlock, err := state.Lock()
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	defer unlock()
	id := hexOf(l.DiffID)
	if old, err := GetLayer(l.DiffID); err == nil {
		os.RemoveAll(tmp)
		if old.Blob != l.Blob {
			removeBlob(l.Blob) // the same files in another compression: one blob is enough
		}
		for _, s := range l.Sources {
			old.addSource(s)
		}
		*l = *old
		return writeLayer(old)
	}
	os.RemoveAll(LayerDir(id)) // a directory without its record: a crash between the two
	trace("mv %s %s", tmp, LayerDir(id))
	if err := os.Rename(tmp, LayerDir(id)); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return writeLayer(l)
}

func writeLayer(l *Layer) error {
	b, _ := json.MarshalIndent(l, "", "  ")
	return state.WriteFileAtomic(layerMeta(hexOf(l.DiffID)), b)
}

func (l *Layer) addSource(s string) bool {
	for _, o := range l.Sources {
		if o == s {
			return false
		}
	}
	l.Sources = append(l.Sources, s)
	return true
}

// AddSource records that a repository has the layer's blob (after a push).
func AddSource(diffID, source string) error {
	unlock, err := state.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	l, err := GetLayer(diffID)
	if err != nil || !l.addSource(source) {
		return err
	}
	return writeLayer(l)
}

// decompress turns a layer blob into its tarball, by media type or, with
// none given (a tarball from `import` or `load`), by its first bytes.
func decompress(r io.Reader, mediaType string) (io.Reader, func(), string, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if mediaType == "" {
		magic, _ := br.Peek(4)
		switch {
		case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
			mediaType = MediaTypeLayerGzip
		case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
			mediaType = MediaTypeLayerZstd
		default:
			mediaType = MediaTypeLayer
		}
	}
	switch mediaType {
	case MediaTypeLayer, "application/vnd.docker.image.rootfs.diff.tar":
		return br, func() {}, MediaTypeLayer, nil
	case MediaTypeLayerGzip, MediaTypeDockerLayer:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, "", fmt.Errorf("not gzip: %v", err)
		}
		return zr, func() { zr.Close() }, mediaType, nil
	case MediaTypeLayerZstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, nil, "", err
		}
		return zr, zr.Close, mediaType, nil
	}
	return nil, nil, "", fmt.Errorf("layer media type %q is not a tarball minidocker can unpack (plain, gzip or zstd)", mediaType)
}

// Counting is a reader that tells Fn the bytes read so far (progress).
type Counting struct {
	R  io.Reader
	N  int64
	Fn func(int64)
}

func (c *Counting) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	if n > 0 {
		c.Fn(c.N)
	}
	return n, err
}

// LayerTar opens a layer's uncompressed tarball, the bytes its diffID
// names (`docker save` writes them so): the kept blob, decompressed.
func LayerTar(l *Layer) (io.ReadCloser, error) {
	f, err := OpenBlob(l.Blob)
	if err != nil {
		return nil, fmt.Errorf("layer %s: its blob is missing (%v)", l.DiffID, err)
	}
	r, closeFn, _, err := decompress(f, l.MediaType)
	if err != nil {
		f.Close()
		return nil, err
	}
	return readCloser{r, func() error { closeFn(); return f.Close() }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// region compress
// Compressed makes sure the layer's kept blob is gzip-compressed, as
// registries expect (`docker push` sends tar+gzip): a layer made here
// (commit, import, load) is kept as a plain tarball until its first push,
// then once compressed, and the compressed blob replaces the plain one.
// The same blob (the same digest) is pushed every time after.
func Compressed(diffID string) (*Layer, error) {
	l, err := GetLayer(diffID)
	if err != nil {
		return nil, err
	}
	if l.MediaType != MediaTypeLayer {
		return l, nil
	}
	in, err := OpenBlob(l.Blob)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	bw, err := NewBlobWriter()
	if err != nil {
		return nil, err
	}
	zw, _ := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
	if _, err := io.Copy(zw, in); err != nil {
		bw.Abort()
		return nil, err
	}
	if err := zw.Close(); err != nil {
		bw.Abort()
		return nil, err
	}
	size := bw.Size()
	digest, err := bw.Commit("")
	if err != nil {
		return nil, err
	}
	unlock, err := state.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if cur, err := GetLayer(diffID); err == nil && cur.MediaType != MediaTypeLayer {
		removeBlob(digest) // a concurrent push did it first
		return cur, nil
	}
	old := l.Blob
	l.Blob, l.MediaType, l.BlobSize = digest, MediaTypeLayerGzip, size
	if err := writeLayer(l); err != nil {
		return nil, err
	}
	removeBlob(old)
	return l, nil
}

// endregion compress

// removeLayer deletes a layer's files, record and blob (under the lock).
func removeLayer(id string) {
	if l, err := GetLayer(id); err == nil {
		removeBlob(l.Blob)
	}
	trace("rm -rf %s", LayerDir(id))
	os.Remove(layerMeta(id))
	os.RemoveAll(LayerDir(id))
	removeShifted(id)
}

// CheckLayerCount refuses an image with more layers than a container's
// root can stack on this kernel (the init layer sits on top of them).
func CheckLayerCount(n int) error {
	fixed := 2 * len(filepath.Join(state.Root, "containers", strings.Repeat("0", 64), "upper"))
	max := overlay.MaxLower(len(LayerDir(strings.Repeat("0", 64))), fixed) - 1
	if n > max {
		how := "mount(2)'s one page of options holds no more with minidocker's paths; Linux 6.8+ stacks 500 (fsconfig lowerdir+)"
		if overlay.LowerdirPlus() {
			how = "overlayfs's own limit is 500 lower layers"
		}
		return fmt.Errorf("the image has %d layers, more than the %d a container's root can stack here (%s)", n, max, how)
	}
	return nil
}

// RemoveUnused removes the layers (diffIDs) no image uses: what a failed
// pull had added.
func RemoveUnused(diffIDs []string) {
	if len(diffIDs) == 0 {
		return
	}
	unlock, err := state.Lock()
	if err != nil {
		return
	}
	defer unlock()
	used := map[string]bool{}
	ims, _ := List()
	for _, im := range ims {
		for _, l := range im.Layers {
			used[l] = true
		}
	}
	for _, d := range diffIDs {
		if !used[hexOf(d)] {
			removeLayer(hexOf(d))
		}
	}
}
