//go:build linux

// forkbomb forks until the kernel refuses (EAGAIN), at most MAX times, then
// prints how far it got and how many tasks the container held at that moment,
// kills its children and exits. Used by the step04 tests and docs: under
// --pids-limit N the kernel stops it when the container has N tasks.
//
//	forkbomb 1000        print "forked=K tasks=T error=..."
//	forkbomb 1000 hold   the same, then keep the children until stdin ends
//
// It calls clone(2) directly instead of os/exec: each child is a bare copy
// that only waits to be killed, and nothing runs between two forks that
// could need a new thread (which pids.max counts too, and would refuse).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"unsafe"
)

func main() {
	max, err := strconv.Atoi(firstArg())
	if err != nil || max <= 0 {
		fmt.Fprintln(os.Stderr, "usage: forkbomb MAX")
		os.Exit(2)
	}
	children := make([]int, 0, max)
	var failure error
	for len(children) < max {
		pid, err := fork()
		if err != nil {
			failure = err
			break
		}
		children = append(children, pid)
	}
	// Count the tasks (threads of every process) this PID namespace holds
	// now: that is what pids.max limits.
	tasks, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*")
	fmt.Printf("forked=%d tasks=%d error=%v\n", len(children), len(tasks), failure)
	if len(os.Args) > 2 && os.Args[2] == "hold" {
		// A raw read(2): Go's own read would let the runtime start a thread
		// for the blocked call, and the full pids.max would refuse it.
		syscall.RawSyscall(syscall.SYS_READ, 0, uintptr(unsafe.Pointer(&[1]byte{})), 1)
	}
	for _, pid := range children {
		syscall.Kill(pid, syscall.SIGKILL)
		syscall.Wait4(pid, nil, 0, nil)
	}
}

// fork is fork(2) as a bare clone(SIGCHLD). The child does nothing but wait
// (pause) until it is killed: no Go code runs in it, only raw system calls,
// as in the child half of syscall.ForkExec.
func fork() (int, error) {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	if pid == 0 {
		for {
			syscall.RawSyscall6(syscall.SYS_PPOLL, 0, 0, 0, 0, 0, 0) // sleeps until a signal kills it
		}
	}
	return int(pid), nil
}

func firstArg() string {
	if len(os.Args) < 2 {
		return ""
	}
	return os.Args[1]
}
