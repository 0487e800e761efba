//go:build !linux

// chroot-escape is a Linux test tool (it calls chroot(2)); elsewhere it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "chroot-escape needs Linux")
	os.Exit(1)
}
