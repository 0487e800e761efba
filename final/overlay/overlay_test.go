//go:build linux

package overlay

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/minidocker/build-your-own-docker/internal/needroot"
	"golang.org/x/sys/unix"
)

// kernelAtLeast tells whether uname's release is major.minor or later.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	f := strings.FieldsFunc(unix.ByteSliceToString(u.Release[:]), func(r rune) bool { return r < '0' || r > '9' })
	if len(f) < 2 {
		t.Fatalf("kernel release %q", u.Release)
	}
	ma, _ := strconv.Atoi(f[0])
	mi, _ := strconv.Atoi(f[1])
	return ma > major || (ma == major && mi >= minor)
}

// TestLowerdirPlus: the probe says what the kernel does (lowerdir+ is
// Linux 6.8+; a 6.1 kernel's legacy shim takes any key and must not fool
// it), and Mount stacks three layers either way, the top one winning.
func TestLowerdirPlus(t *testing.T) {
	needroot.Require(t)
	if got, want := LowerdirPlus(), kernelAtLeast(t, 6, 8); got != want {
		t.Errorf("LowerdirPlus() = %v on a kernel where it should be %v", got, want)
	}
	dir := t.TempDir()
	var lower []string
	for i, content := range []string{"top", "middle", "bottom"} {
		l := filepath.Join(dir, "l"+strconv.Itoa(i))
		os.MkdirAll(l, 0755)
		os.WriteFile(filepath.Join(l, "f"), []byte(content), 0644)
		os.WriteFile(filepath.Join(l, content), nil, 0644)
		lower = append(lower, l)
	}
	target, upper, work := filepath.Join(dir, "merged"), filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{target, upper, work} {
		os.MkdirAll(d, 0755)
	}
	if err := Mount(target, lower, upper, work, true, nil); err != nil {
		t.Fatalf("Mount: %v", err)
	}
	defer unix.Unmount(target, unix.MNT_DETACH)
	if b, _ := os.ReadFile(filepath.Join(target, "f")); string(b) != "top" {
		t.Errorf("merged f = %q, want the top layer's", b)
	}
	for _, name := range []string{"top", "middle", "bottom"} {
		if _, err := os.Stat(filepath.Join(target, name)); err != nil {
			t.Errorf("a file of layer %s is not in the merged view: %v", name, err)
		}
	}
}

// TestMaxLower: the page limit for minidocker's paths, and the kernel's
// own 500 when lowerdir+ lifts it.
func TestMaxLower(t *testing.T) {
	n := MaxLower(len("/var/lib/minidocker/layers/")+64, 2*len("/var/lib/minidocker/containers/")+2*64+len("/upper/work"))
	if LowerdirPlus() {
		if n != KernelMaxStack {
			t.Errorf("MaxLower = %d with lowerdir+, want %d", n, KernelMaxStack)
		}
	} else if n < 30 || n > 45 {
		t.Errorf("MaxLower = %d for 91-byte paths in a 4096-byte page, want about 40", n)
	}
}
