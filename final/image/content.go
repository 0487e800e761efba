//go:build linux

package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/reference"
	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// region content
// The content store: every blob (a manifest, an image config, a layer as a
// registry ships it) is a file named by the sha256 of its bytes,
// blobs/sha256/<64 hex>. A name that is the digest of the content can be
// checked by anyone who has the bytes, so a registry, a saved tarball or a
// disk cannot hand us something else under that name without us noticing:
// every write hashes while it writes, and only a blob whose digest is the
// one expected gets its name (rename(2), atomic). `ls blobs/sha256` and
// `sha256sum blobs/sha256/*` show it.
func blobsDir() string { return filepath.Join(state.Root, "blobs", "sha256") }
func blobTmp() string  { return filepath.Join(state.Root, "blobs", "tmp") }

// BlobPath is where a blob's bytes are; the digest is checked first (a
// digest comes from strangers too: it must not become "../../etc").
func BlobPath(digest string) (string, error) {
	if err := reference.CheckDigest(digest); err != nil {
		return "", err
	}
	return filepath.Join(blobsDir(), strings.TrimPrefix(digest, "sha256:")), nil
}

// HasBlob tells whether the store has the blob.
func HasBlob(digest string) bool {
	p, err := BlobPath(digest)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

// OpenBlob opens a blob for reading.
func OpenBlob(digest string) (*os.File, error) {
	p, err := BlobPath(digest)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// ReadBlob reads a small blob (a manifest, a config) whole, at most max bytes.
func ReadBlob(digest string, max int64) ([]byte, error) {
	f, err := OpenBlob(digest)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(b)) > max {
		err = fmt.Errorf("blob %s is larger than %d bytes", digest, max)
	}
	return b, err
}

// BlobWriter writes one blob: into blobs/tmp first, hashed as it goes,
// named by its digest at Commit.
type BlobWriter struct {
	f *os.File
	h hash.Hash
	n int64
}

// NewBlobWriter starts a blob. Abort (or a crash: blobs/tmp is swept by
// Sweep) leaves nothing under blobs/sha256.
func NewBlobWriter() (*BlobWriter, error) {
	if err := os.MkdirAll(blobTmp(), 0700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(blobsDir(), 0700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(blobTmp(), tmpName())
	if err != nil {
		return nil, err
	}
	return &BlobWriter{f: f, h: sha256.New()}, nil
}

func (w *BlobWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// Size is the number of bytes written so far.
func (w *BlobWriter) Size() int64 { return w.n }

// Digest is sha256:<hex> of what was written.
func (w *BlobWriter) Digest() string { return "sha256:" + hex.EncodeToString(w.h.Sum(nil)) }

// Commit names the blob by its digest, which must be want if want is set.
func (w *BlobWriter) Commit(want string) (string, error) {
	got := w.Digest()
	if want != "" && got != want {
		w.Abort()
		return "", fmt.Errorf("%w: the content hashes to %s, not %s", ErrDigest, got, want)
	}
	if err := w.f.Sync(); err != nil {
		w.Abort()
		return "", err
	}
	w.f.Close()
	p, _ := BlobPath(got)
	if err := os.Rename(w.f.Name(), p); err != nil {
		os.Remove(w.f.Name())
		return "", err
	}
	return got, nil
}

// Abort drops the blob.
func (w *BlobWriter) Abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// PutBlob stores a small blob held in memory and returns its digest.
func PutBlob(b []byte) (string, error) {
	w, err := NewBlobWriter()
	if err != nil {
		return "", err
	}
	w.Write(b)
	return w.Commit("")
}

func removeBlob(digest string) {
	if p, err := BlobPath(digest); err == nil {
		trace("rm %s", p)
		os.Remove(p)
	}
}

// endregion content

// tmpName starts the name of something half-made with the pid that makes
// it: Sweep can tell the work of a process that died from the work of one
// that still runs (a daemonless pull beside the daemon).
func tmpName() string { return fmt.Sprintf("%d-", os.Getpid()) }

// Sweep removes what an interrupted pull, load or commit left half-made:
// blobs that never got their name, layers that were never finished, each
// made by a process that no longer runs.
func Sweep() {
	for _, dir := range []string{blobTmp(), filepath.Join(state.Root, "layers")} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			name := strings.TrimPrefix(e.Name(), tmpLayerPrefix)
			if dir != blobTmp() && name == e.Name() {
				continue // a layer, not a half-made one
			}
			pid, _, ok := strings.Cut(name, "-")
			if n, err := strconv.Atoi(pid); ok && err == nil && n > 0 && unix.Kill(n, 0) == unix.ESRCH {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
}
