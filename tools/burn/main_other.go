//go:build !unix

// burn reads its CPU time with getrusage(2); elsewhere it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "burn needs a Unix (it reads getrusage(2))")
	os.Exit(1)
}
