//go:build linux && !cgo

package nsenter

// Constructor: built with CGO_ENABLED=0, no C constructor; the helper falls
// back to nsenter(1).
const Constructor = false
