//go:build linux && cgo

package pid1

import "strconv"

// allThreads: with cgo, syscall.AllThreadsSyscall refuses (threads made by
// C are out of its reach). init drops privileges for its main thread, the
// one it forks the command from (runtime.LockOSThread keeps it there), and
// its other threads keep root's: it is not dumpable, so no process of the
// container can reach them, unless it has CAP_SYS_PTRACE.
const allThreads = false

// cgoInit refuses that one case: a command with CAP_SYS_PTRACE could
// ptrace init's main thread and, through the memory it shares, run code
// on the privileged ones.
func cgoInit(s Spec) error {
	if s.Privileged {
		return nil
	}
	for _, c := range s.Priv.Caps {
		if c == strconv.Itoa(19) { // CAP_SYS_PTRACE
			return errorf(125, "this minidocker was built with cgo, and its init keeps root's privileges on threads that CAP_SYS_PTRACE would let the container reach: build it without cgo (make minidocker, or CGO_ENABLED=0 go run ./final), or leave out --cap-add SYS_PTRACE")
		}
	}
	return nil
}
