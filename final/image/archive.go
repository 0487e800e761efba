//go:build linux

package image

import (
	"os"
	"path/filepath"
)

// The tarballs and trees an image is made of are read and written by
// package archive (untrusted input, resolved inside its root); this file
// keeps what only the image store needs.

// DirSize is what `du -sb` reports, roughly: bytes of regular files.
func DirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
