//go:build linux

// minidocker-nsenter is `minidocker exec`'s helper as a program of its own:
// its C constructor (package nsenter, built with cgo) enters the running
// container's namespaces before the Go runtime starts, then it becomes the
// command. `make minidocker` puts it beside bin/minidocker, which uses it when
// it finds it there and re-executes itself as `minidocker exec-helper` when
// not (as with `go run ./final`).
package main

import (
	"fmt"
	"os"

	"github.com/minidocker/build-your-own-docker/final/nsenter"
)

func main() {
	if !nsenter.Constructor {
		fmt.Fprintln(os.Stderr, "minidocker-nsenter: built without cgo, it has no C constructor to enter the container: rebuild it with cgo (make minidocker)")
		os.Exit(125)
	}
	if len(os.Args) != 2 || os.Args[1] != "exec-helper" { // its cmdline: minidocker exec-helper
		fmt.Fprintln(os.Stderr, "minidocker-nsenter: it runs only as `minidocker exec`'s helper")
		os.Exit(125)
	}
	os.Exit(nsenter.Helper())
}
