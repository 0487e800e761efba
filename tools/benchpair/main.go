// benchpair times two commands, alternating them (A B A B ...) so that both
// see the same machine load, and prints the median of each and their ratio.
//
//	benchpair -n 15 -a 'minidocker run --rm --network none busybox true' -b 'runc run bench'
//
// A command that exits non-zero stops the benchmark (a failing command is
// fast, not good). -b may be empty: then only A is timed. -prep-a and
// -prep-b run, untimed, before each run of A and of B: to remove what the
// last run made (an image pulled), so each run starts from the same state.
//
// A simple command (words only) is executed directly; one with shell syntax
// (a redirection, a pipe, quotes, $) is run by sh -c. Going through the
// shell costs a fork and an exec of sh on top of the command (about 7 ms on
// a small VM): the same for both sides, it would pull their ratio toward 1.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

func main() {
	n := flag.Int("n", 15, "number of pairs")
	a := flag.String("a", "", "command A (run by sh -c)")
	b := flag.String("b", "", "command B (run by sh -c), optional")
	warm := flag.Int("warmup", 2, "untimed runs of each first")
	prepA := flag.String("prep-a", "", "untimed command before each run of A")
	prepB := flag.String("prep-b", "", "untimed command before each run of B")
	flag.Parse()
	preps := []string{*prepA, *prepB}
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
			if preps[j] != "" {
				once(preps[j])
			}
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
	var cmd *exec.Cmd
	if strings.ContainsAny(c, shellSyntax) {
		cmd = exec.Command("sh", "-c", c)
	} else {
		argv := strings.Fields(c)
		cmd = exec.Command(argv[0], argv[1:]...)
	}
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "benchpair: %s: %v\n", c, err)
		os.Exit(1)
	}
	return time.Since(start)
}

// shellSyntax are the characters that make a command need sh -c.
const shellSyntax = "<>|&;()$`'\"\\*?[]{}~=#"

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
