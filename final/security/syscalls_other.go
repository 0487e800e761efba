//go:build !amd64 && !arm64

package security

import "runtime"

// No system call table for this architecture: Compile refuses, and a
// container needs --security-opt seccomp=unconfined.
const (
	nativeArch = runtime.GOARCH
	auditArch  = 0
)

var syscallNumbers map[string]uint32
