// Package nsenter is `minidocker exec`'s way into a running container: a C
// constructor that setns(2)es into the container's namespaces before the Go
// runtime starts its threads (as runc's nsexec does), and the Go helper that
// then becomes the command. `make minidocker` builds it, with cgo, as its own
// small program, minidocker-nsenter, beside minidocker; so the minidocker
// CLI itself needs no cgo, and starts faster for it. Chapter:
// docs/07-final.md ("exec: setns before the Go runtime starts").
package nsenter
