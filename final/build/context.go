// Package build turns a Dockerfile and a build context into an image, one
// step per instruction, as Docker's classic builder does: RUN runs in a
// real container whose upper layer becomes the step's layer, COPY and ADD
// write into a layer through paths resolved inside the context and inside
// the image, the other instructions change only the config. Every step's
// result is an image, found again by its cache key on the next build.
// This file is the client's part (it builds on every OS): the context's
// .dockerignore and the tarball `minidocker -H ... build` sends.
// Chapter: docs/12-build.md.
package build

import (
	"archive/tar"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minidocker/build-your-own-docker/final/dockerfile"
)

// ReadIgnore reads the .dockerignore at the top of a context directory
// (none: nothing is left out).
func ReadIgnore(contextDir string) (*Ignore, error) {
	f, err := os.Open(filepath.Join(contextDir, ".dockerignore"))
	if os.IsNotExist(err) {
		return &Ignore{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseIgnore(f)
}

// region tarcontext
// TarContext writes a context directory as the tarball the docker CLI
// sends with POST /build: the paths .dockerignore leaves out are not in
// it (the Dockerfile and .dockerignore always are: the builder reads
// them), owners are 0:0, symlinks are symlinks (never followed). If
// dockerfile is not nil it is the Dockerfile, from outside the context:
// it goes in as dockerfileName (OutsideName()).
func TarContext(w io.Writer, dir string, dockerfileName string, dockerfile []byte) error {
	ig, err := ReadIgnore(dir)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	keep := map[string]bool{".dockerignore": true, filepath.ToSlash(dockerfileName): true}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if ig.Excluded(rel) && !keep[rel] {
			if d.IsDir() && ig.SkipDir(rel) {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		if !fi.Mode().IsRegular() && !fi.IsDir() && link == "" {
			return nil // devices, fifos, sockets: nothing to build with
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name, h.Uid, h.Gid, h.Uname, h.Gname = rel, 0, 0, "", ""
		if fi.IsDir() {
			h.Name += "/"
		}
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.Copy(tw, io.LimitReader(f, h.Size))
		if err == nil && n != h.Size {
			err = fmt.Errorf("%s changed size while it was sent", rel)
		}
		return err
	})
	if err != nil {
		return err
	}
	if dockerfile != nil {
		h := &tar.Header{Name: dockerfileName, Mode: 0600, Size: int64(len(dockerfile)), ModTime: time.Now(), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(dockerfile); err != nil {
			return err
		}
	}
	return tw.Close()
}

// OutsideName is a name for a Dockerfile from outside the context in the
// context's tarball, as the docker CLI makes it: .dockerfile.<random>.
func OutsideName() string {
	var b [8]byte
	rand.Read(b[:])
	return ".dockerfile." + hex.EncodeToString(b[:])
}

// endregion tarcontext

// DockerfileIn tells where the Dockerfile is for a build of contextDir:
// its path relative to the context, or, for a Dockerfile outside it (-f
// ../Dockerfile), its content. name is -f's value ("" for the default
// CONTEXT/Dockerfile), relative to the current directory.
func DockerfileIn(contextDir, name string) (rel string, outside []byte, err error) {
	if name == "" {
		return "Dockerfile", nil, nil
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return "", nil, err
	}
	ctx, err := filepath.Abs(contextDir)
	if err != nil {
		return "", nil, err
	}
	r, err := filepath.Rel(ctx, abs)
	if err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(r), nil, nil
	}
	f, err := os.Open(abs)
	if err != nil {
		return "", nil, fmt.Errorf("unable to open the Dockerfile: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, dockerfile.MaxDockerfile+1)) // Parse refuses more
	return "", b, err
}
