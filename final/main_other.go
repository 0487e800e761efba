//go:build !linux

// minidocker needs Linux: namespaces, cgroups and overlayfs are Linux kernel
// features. On macOS or Windows, start the learner VM and run it there.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "minidocker: containers are a Linux kernel feature: run it inside the Linux VM (`vagrant up && vagrant ssh`, then `cd ~/minidocker && sudo go run ./final`)")
	os.Exit(1)
}
