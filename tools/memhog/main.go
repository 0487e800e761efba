// memhog allocates memory and touches every page of it, so the kernel really
// charges it (an untouched allocation costs nothing). Used by the step04
// tests and docs: under a memory cgroup limit smaller than the allocation,
// the kernel's OOM killer ends it with SIGKILL.
//
//	memhog 64     allocate and touch 64 MiB, print "allocated 64 MiB", exit 0
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	mib, err := strconv.Atoi(firstArg())
	if err != nil || mib <= 0 {
		fmt.Fprintln(os.Stderr, "usage: memhog MIB")
		os.Exit(2)
	}
	var keep [][]byte // kept reachable, so the garbage collector frees nothing
	for i := 0; i < mib; i++ {
		chunk := make([]byte, 1<<20)
		for p := 0; p < len(chunk); p += 4096 {
			chunk[p] = 1 // a write makes the kernel give the page real memory
		}
		keep = append(keep, chunk)
	}
	fmt.Printf("allocated %d MiB\n", len(keep))
}

func firstArg() string {
	if len(os.Args) < 2 {
		return ""
	}
	return os.Args[1]
}
