//go:build !linux

// Namespaces and cgroups are Linux kernel features: on macOS or Windows this step compiles
// and says how to get a Linux machine instead.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "step04-cgroups needs Linux: start the learner VM with `vagrant up && vagrant ssh`, then `cd ~/minidocker && sudo go run ./step04-cgroups`")
	os.Exit(1)
}
