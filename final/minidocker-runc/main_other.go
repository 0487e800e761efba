//go:build !linux

// minidocker-runc runs Linux containers: build and run it on Linux.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "minidocker-runc: an OCI runtime for Linux containers: run it inside the Linux VM")
	os.Exit(1)
}
