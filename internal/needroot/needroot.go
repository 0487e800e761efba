// Package needroot is the one rule for tests that need root: they skip
// with the reason when not root, and FAIL instead when CI or
// MINIDOCKER_REQUIRE_ROOT is set, so CI can never pass on skipped tests.
package needroot

import (
	"os"
	"testing"
)

// Require skips (or, under CI, fails) t unless it runs as root.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" || os.Getenv("MINIDOCKER_REQUIRE_ROOT") != "" {
		t.Fatal("this test needs root, and CI/MINIDOCKER_REQUIRE_ROOT forbids skipping it: run as root")
	}
	t.Skip("needs root: run `sudo make test`")
}
