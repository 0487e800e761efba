//go:build !linux

// Namespaces are a Linux kernel feature: on macOS or Windows this step compiles
// and says how to get a Linux machine instead.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "step06-bridge-net needs Linux: start the learner VM with `vagrant up && vagrant ssh`, then `cd ~/minidocker && sudo go run ./step06-bridge-net`")
	os.Exit(1)
}
