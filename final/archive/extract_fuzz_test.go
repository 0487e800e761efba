//go:build linux

package archive

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/minidocker/build-your-own-docker/final/archive/hostile"
	"github.com/minidocker/build-your-own-docker/internal/needroot"
)

// FuzzExtract: whatever the tarball, nothing outside the layer changes.
// The seeds are the hostile table; the fuzzer mutates them. After each
// input the canary (a fixed directory every seed aims at) must be
// byte-for-byte the same, and the input's own directory must hold nothing
// but its layer. Run by .ci/run for a short while:
//
//	go test -run '^$' -fuzz FuzzExtract -fuzztime 20s ./final/archive
func FuzzExtract(f *testing.F) {
	needroot.Require(f)
	canary := filepath.Join(os.TempDir(), "minidocker-fuzz-canary")
	makeCanary(f, canary) // every worker process does it: it writes only what is missing
	want := treeSum(f, canary)
	for _, c := range hostile.Cases(canary) {
		f.Add(c.Tar)
	}
	f.Fuzz(func(t *testing.T, tarball []byte) {
		base := t.TempDir()
		root := filepath.Join(base, "layer")
		if err := os.Mkdir(root, 0755); err != nil {
			t.Fatal(err)
		}
		Extract(bytes.NewReader(tarball), root, Limits{Bytes: 1 << 20, Entries: 1000})
		if treeSum(t, canary) != want {
			t.Fatalf("the canary %s outside the layer changed", canary)
		}
		if names := dirNames(t, base); len(names) != 1 || names[0] != "layer" {
			t.Fatalf("something was made beside the layer: %v", names)
		}
	})
}
