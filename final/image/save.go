//go:build linux

package image

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/archive"
	"github.com/minidocker/build-your-own-docker/final/inroot"
	"github.com/minidocker/build-your-own-docker/final/reference"
	"golang.org/x/sys/unix"
)

// region saveformat
// A `docker save` tarball holds two descriptions of the same blobs, so that
// every reader finds its own: Docker's manifest.json (what `docker load`
// has read since 2016) and an OCI image layout (oci-layout, index.json,
// blobs/sha256/..., what Docker 25+ and skopeo read). Layers are plain
// tarballs named by their diffIDs.
//
//	manifest.json      [{"Config":"blobs/sha256/<id>","RepoTags":["bb:1"],"Layers":["blobs/sha256/<diffID>",...]}]
//	index.json         {"manifests":[{"digest":"sha256:<manifest>","annotations":{"io.containerd.image.name":"docker.io/library/bb:1"}}]}
//	oci-layout         {"imageLayoutVersion":"1.0.0"}
//	repositories       {"bb":{"1":"<top layer>"}}   (the oldest readers')
//	blobs/sha256/...   configs, layers, manifests
type saveEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// endregion saveformat

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type ociManifest struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     string          `json:"mediaType,omitempty"`
	Config        ociDescriptor   `json:"config"`
	Layers        []ociDescriptor `json:"layers"`
}

type ociIndex struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     string          `json:"mediaType,omitempty"`
	Manifests     []ociDescriptor `json:"manifests"`
}

// SaveItem is one image to save, with the names to save it under (none
// when asked for by ID, as docker save does).
type SaveItem struct {
	Image *Image
	Tags  []string // familiar, with the tag: bb:1
}

// region save
// Save writes images as a `docker save` tarball. A blob shared by two
// images is written once.
func Save(w io.Writer, items []SaveItem) error {
	tw := tar.NewWriter(w)
	written := map[string]bool{}
	now := time.Unix(0, 0).UTC() // reproducible: the same images give the same tarball
	put := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0644, Size: int64(len(b)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "blobs/", Mode: 0755, ModTime: now, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "blobs/sha256/", Mode: 0755, ModTime: now, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	blob := func(digest string, b []byte) error {
		if written[digest] {
			return nil
		}
		written[digest] = true
		return put("blobs/sha256/"+hexOf(digest), b)
	}
	var entries []saveEntry
	index := []ociDescriptor{}
	repos := map[string]map[string]string{}
	for _, it := range items {
		im := it.Image
		cb, err := ReadBlob("sha256:"+im.ID, MaxConfig)
		if err != nil {
			return fmt.Errorf("image %s was made by an older minidocker and has no config blob: commit a container of it, and save that", im.ID[:12])
		}
		cfg, err := parseConfig(cb)
		if err != nil {
			return err
		}
		if err := blob("sha256:"+im.ID, cb); err != nil {
			return err
		}
		e := saveEntry{Config: "blobs/sha256/" + im.ID, RepoTags: it.Tags, Layers: []string{}}
		m := ociManifest{SchemaVersion: 2, MediaType: MediaTypeManifest,
			Config: ociDescriptor{MediaType: MediaTypeConfig, Digest: "sha256:" + im.ID, Size: int64(len(cb))}, Layers: []ociDescriptor{}}
		for _, d := range cfg.RootFS.DiffIDs {
			l, err := GetLayer(d)
			if err != nil || l.TarSize == 0 {
				return fmt.Errorf("layer %s of image %s has no record (made by an older minidocker): commit a container of it, and save that", hexOf(d)[:12], im.ID[:12])
			}
			e.Layers = append(e.Layers, "blobs/sha256/"+hexOf(d))
			m.Layers = append(m.Layers, ociDescriptor{MediaType: MediaTypeLayer, Digest: d, Size: l.TarSize})
			if written[d] {
				continue
			}
			written[d] = true
			if err := writeLayerTar(tw, l, now); err != nil {
				return err
			}
		}
		mb, _ := json.Marshal(m)
		md := Digest(mb)
		if err := blob(md, mb); err != nil {
			return err
		}
		entries = append(entries, e)
		if len(it.Tags) == 0 {
			index = append(index, ociDescriptor{MediaType: MediaTypeManifest, Digest: md, Size: int64(len(mb))})
		}
		for _, t := range it.Tags {
			r, _ := reference.Parse(t)
			index = append(index, ociDescriptor{MediaType: MediaTypeManifest, Digest: md, Size: int64(len(mb)),
				Annotations: map[string]string{"io.containerd.image.name": r.String(), "org.opencontainers.image.ref.name": r.Tag}})
			if repos[r.FamiliarName()] == nil {
				repos[r.FamiliarName()] = map[string]string{}
			}
			repos[r.FamiliarName()][r.Tag] = im.Layers[len(im.Layers)-1]
		}
	}
	mj, _ := json.Marshal(entries)
	ij, _ := json.Marshal(ociIndex{SchemaVersion: 2, MediaType: MediaTypeIndex, Manifests: index})
	rj, _ := json.Marshal(repos)
	for _, f := range []struct {
		name string
		b    []byte
	}{{"index.json", ij}, {"manifest.json", mj}, {"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)}, {"repositories", rj}} {
		if err := put(f.name, f.b); err != nil {
			return err
		}
	}
	return tw.Close()
}

// endregion save

func writeLayerTar(tw *tar.Writer, l *Layer, mtime time.Time) error {
	r, err := LayerTar(l)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := tw.WriteHeader(&tar.Header{Name: "blobs/sha256/" + hexOf(l.DiffID), Mode: 0644, Size: l.TarSize, ModTime: mtime, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	n, err := io.Copy(tw, io.LimitReader(r, l.TarSize))
	if err == nil && n != l.TarSize {
		err = fmt.Errorf("layer %s: its tarball is %d bytes, its record says %d", l.DiffID, n, l.TarSize)
	}
	return err
}

// Loaded is what Load made of one image in the tarball.
type Loaded struct {
	Image *Image
	Names []string // familiar, without :latest
}

// region load
// Load reads a `docker save` tarball (ours, Docker's, skopeo's
// docker-archive, or an OCI layout tarball). The tarball is a stranger's:
// it is unpacked by the safe extractor into a scratch directory, every path
// its manifests name is opened inside that directory (openat2
// RESOLVE_IN_ROOT: "../../etc/shadow" or a symlink to it stays inside), the
// JSON is bounded, and each layer's diffID is checked against the config as
// it is unpacked. fn is told of each image as it is loaded.
func Load(r io.Reader, lim archive.Limits, fn func(Loaded)) error {
	if err := os.MkdirAll(blobTmp(), 0700); err != nil {
		return err
	}
	scratch, err := os.MkdirTemp(blobTmp(), tmpName()+"load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	trace("mkdir %s && tar -C %s -xf -", scratch, scratch)
	if _, err := archive.Extract(r, scratch, lim); err != nil {
		return fmt.Errorf("the tarball: %v", err)
	}
	root, err := unix.Open(scratch, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	open := func(name string) (*os.File, error) {
		fd, err := inroot.Open(root, name, unix.O_RDONLY)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", clipName(name), err)
		}
		f := os.NewFile(uintptr(fd), name)
		if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
			f.Close()
			return nil, fmt.Errorf("%s is not a regular file", clipName(name))
		}
		return f, nil
	}
	readJSON := func(name string, max int64, v any) error {
		f, err := open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, max+1))
		if err != nil {
			return err
		}
		if int64(len(b)) > max {
			return fmt.Errorf("%s is larger than %d bytes", name, max)
		}
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		return nil
	}
	var entries []saveEntry
	if err := readJSON("manifest.json", MaxManifest, &entries); err != nil {
		if !errors.Is(err, unix.ENOENT) {
			return err
		}
		if entries, err = fromLayout(readJSON); err != nil {
			return err
		}
	}
	if len(entries) == 0 {
		return errors.New("the tarball lists no images (no manifest.json entries, no index.json manifests)")
	}
	for _, e := range entries {
		im, names, err := loadOne(e, open)
		if err != nil {
			return err
		}
		fn(Loaded{Image: im, Names: names})
	}
	return nil
}

// endregion load

func loadOne(e saveEntry, open func(string) (*os.File, error)) (*Image, []string, error) {
	var names []string
	for _, t := range e.RepoTags {
		n, err := Normalize(t)
		if err != nil {
			return nil, nil, fmt.Errorf("manifest.json: %v", err)
		}
		names = append(names, n)
	}
	f, err := open(e.Config)
	if err != nil {
		return nil, nil, err
	}
	cb, err := io.ReadAll(io.LimitReader(f, MaxConfig+1))
	f.Close()
	if err != nil || len(cb) > MaxConfig {
		return nil, nil, fmt.Errorf("config %s: unreadable or larger than %d bytes", clipName(e.Config), MaxConfig)
	}
	cfg, err := parseConfig(cb)
	if err != nil {
		return nil, nil, err
	}
	if len(cfg.RootFS.DiffIDs) != len(e.Layers) {
		return nil, nil, fmt.Errorf("manifest.json lists %d layers, the config %d", len(e.Layers), len(cfg.RootFS.DiffIDs))
	}
	if err := CheckLayerCount(len(e.Layers)); err != nil {
		return nil, nil, err
	}
	var added []string
	for i, name := range e.Layers {
		d := cfg.RootFS.DiffIDs[i]
		if HasLayer(d) {
			continue
		}
		f, err := open(name)
		if err != nil {
			RemoveUnused(added)
			return nil, nil, err
		}
		_, err = Unpack(f, UnpackOptions{DiffID: d})
		f.Close()
		if err != nil {
			RemoveUnused(added)
			return nil, nil, fmt.Errorf("layer %s: %v", clipName(name), err)
		}
		added = append(added, d)
	}
	im, err := Add(cb, names, nil, "", "")
	if err != nil {
		RemoveUnused(added)
		return nil, nil, err
	}
	return im, names, nil
}

// fromLayout reads an OCI image layout's index.json as manifest.json
// entries: each manifest's config and layers, the name from its annotations.
func fromLayout(readJSON func(string, int64, any) error) ([]saveEntry, error) {
	var ix ociIndex
	if err := readJSON("index.json", MaxManifest, &ix); err != nil {
		return nil, fmt.Errorf("neither manifest.json nor index.json: not a `docker save` tarball (%v)", err)
	}
	var out []saveEntry
	for _, d := range ix.Manifests {
		if _, err := BlobPath(d.Digest); err != nil {
			return nil, fmt.Errorf("index.json: %v", err)
		}
		if d.MediaType != MediaTypeManifest && d.MediaType != MediaTypeDockerManifest {
			return nil, fmt.Errorf("index.json lists a %q: minidocker loads image manifests", d.MediaType)
		}
		var m ociManifest
		if err := readJSON("blobs/sha256/"+hexOf(d.Digest), MaxManifest, &m); err != nil {
			return nil, err
		}
		e := saveEntry{Config: "blobs/sha256/" + hexOf(m.Config.Digest)}
		for _, l := range m.Layers {
			if _, err := BlobPath(l.Digest); err != nil {
				return nil, fmt.Errorf("manifest %s: %v", d.Digest, err)
			}
			e.Layers = append(e.Layers, "blobs/sha256/"+hexOf(l.Digest))
		}
		if n := d.Annotations["io.containerd.image.name"]; n != "" {
			e.RepoTags = []string{n}
		} else if n := d.Annotations["org.opencontainers.image.ref.name"]; strings.ContainsAny(n, ":/") {
			e.RepoTags = []string{n} // skopeo's oci-archive:FILE:bb:1 (a bare tag names no repository)
		}
		out = append(out, e)
	}
	return out, nil
}

func clipName(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return fmt.Sprintf("%q", s)
}
