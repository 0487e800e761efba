//go:build !linux

// Namespaces are a Linux kernel feature: on macOS or Windows this step compiles
// and says how to get a Linux machine instead.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "step02-pid needs Linux: start the learner VM with `vagrant up && vagrant ssh`, then `cd ~/minidocker && sudo go run ./step02-pid`")
	os.Exit(1)
}
