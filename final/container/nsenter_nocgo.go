//go:build linux && !cgo

package container

// HaveNsenter: built with CGO_ENABLED=0, no C constructor; exec falls back
// to nsenter(1).
const HaveNsenter = false
