//go:build !linux

// minidocker-init is a container's PID 1: Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "minidocker-init: containers are a Linux kernel feature: run it inside the Linux VM (`vagrant up && vagrant ssh`)")
	os.Exit(1)
}
