//go:build unix

// burn keeps one CPU busy for a wall-clock duration and then prints how much
// CPU time it got. Used by the step04 tests and docs: under --cpus 0.5 a
// two-second burn gets about one second of CPU; the rest of the time the
// kernel throttled it.
//
//	burn 2s       print "burned wall=2.00s cpu=1.00s"
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

func main() {
	d, err := time.ParseDuration(firstArg())
	if err != nil || d <= 0 {
		fmt.Fprintln(os.Stderr, "usage: burn DURATION (e.g. 2s)")
		os.Exit(2)
	}
	start := time.Now()
	n := 0
	for time.Since(start) < d {
		n++ // busy: never sleeps, never blocks
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("burned wall=%.2fs cpu=%.2fs\n", time.Since(start).Seconds(), cpu.Seconds())
}

func firstArg() string {
	if len(os.Args) < 2 {
		return ""
	}
	return os.Args[1]
}
