// benchpair times two commands, alternating them (A B A B ...) so that both
// see the same machine load, and prints the median of each and their ratio.
//
//	benchpair -n 15 -a 'minidocker run --rm --network none busybox true' -b 'runc run bench'
//
// A command that exits non-zero stops the benchmark (a failing command is
// fast, not good). -b may be empty: then only A is timed.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"time"
)

func main() {
	n := flag.Int("n", 15, "number of pairs")
	a := flag.String("a", "", "command A (run by sh -c)")
	b := flag.String("b", "", "command B (run by sh -c), optional")
	warm := flag.Int("warmup", 2, "untimed runs of each first")
	flag.Parse()
	if *a == "" {
		fmt.Fprintln(os.Stderr, "usage: benchpair -n 15 -a CMD [-b CMD]")
		os.Exit(2)
	}
	cmds := []string{*a}
	if *b != "" {
		cmds = append(cmds, *b)
	}
	times := make([][]time.Duration, len(cmds))
	for i := -*warm; i < *n; i++ {
		order := []int{0, 1}[:len(cmds)]
		if i%2 == 1 && len(cmds) == 2 { // alternate who goes first
			order = []int{1, 0}
		}
		for _, j := range order {
			d := once(cmds[j])
			if i >= 0 {
				times[j] = append(times[j], d)
			}
		}
	}
	med := make([]time.Duration, len(cmds))
	for j, c := range cmds {
		sort.Slice(times[j], func(x, y int) bool { return times[j][x] < times[j][y] })
		med[j] = times[j][len(times[j])/2]
		fmt.Printf("%-6s median %7.2f ms  min %7.2f ms  max %7.2f ms  (%d runs)  %s\n", []string{"A", "B"}[j],
			ms(med[j]), ms(times[j][0]), ms(times[j][len(times[j])-1]), len(times[j]), c)
	}
	if len(cmds) == 2 {
		fmt.Printf("ratio  A/B = %.2f\n", float64(med[0])/float64(med[1]))
	}
}

func once(c string) time.Duration {
	cmd := exec.Command("sh", "-c", c)
	cmd.Stderr = os.Stderr
	start := time.Now()
	// sh -c with one simple command execs it: the shell adds one exec, for both sides alike.
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "benchpair: %s: %v\n", c, err)
		os.Exit(1)
	}
	return time.Since(start)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
