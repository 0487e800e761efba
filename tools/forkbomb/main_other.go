//go:build !linux

// forkbomb is a Linux test tool (it calls clone(2)); elsewhere it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "forkbomb needs Linux")
	os.Exit(1)
}
