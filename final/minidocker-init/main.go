//go:build linux

// minidocker-init is the container's PID 1 as a program of its own, the way
// Docker ships docker-init beside dockerd. It is the same code as
// `minidocker init` (package pid1) in a binary a third of the size, which
// starts in about half the time; `make minidocker` puts it beside
// bin/minidocker, which uses it when it finds it there and re-executes
// itself as `minidocker init` when not (as with `go run ./final`).
package main

import "github.com/minidocker/build-your-own-docker/final/pid1"

func main() { pid1.Main() }
