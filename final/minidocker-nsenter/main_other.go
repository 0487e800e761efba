//go:build !linux

// minidocker-nsenter is `minidocker exec`'s helper: Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "minidocker-nsenter: containers are a Linux kernel feature: run it inside the Linux VM (`vagrant up && vagrant ssh`)")
	os.Exit(1)
}
