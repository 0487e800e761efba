//go:build linux

package pid1

import (
	"os"
	"path/filepath"
)

// Beside is the path of the executable program name in this binary's
// directory, or "" when there is none: how minidocker and minidocker-runc
// find minidocker-init and minidocker-nsenter, which `make minidocker`
// puts beside them.
func Beside(name string) string {
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(self), name)
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0111 == 0 {
		return ""
	}
	return p
}
