//go:build !linux

// Namespaces are a Linux kernel feature: on macOS or Windows this step compiles
// and says how to get a Linux machine instead.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "step01-uts needs Linux: start the learner VM with `vagrant up && vagrant ssh`, then `cd ~/minidocker && sudo go run ./step01-uts`")
	os.Exit(1)
}
