//go:build !linux

// Namespaces are a Linux kernel feature: on macOS or Windows this step compiles
// and says how to get a Linux machine instead.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "step05-overlay needs Linux: start the learner VM with `vagrant up && vagrant ssh`, then `cd ~/minidocker && sudo go run ./step05-overlay`")
	os.Exit(1)
}
