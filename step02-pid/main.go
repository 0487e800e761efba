//go:build linux

// step02-pid: + its own process IDs and its own IPC objects.
//
// The new idea: a PID namespace, in which the first process is PID 1 (echo $$
// prints 1), and an IPC namespace, with its own System V message queues,
// semaphores and shared memory (ipcmk -Q on the host is not seen by ipcs -q inside).
// Cliffhanger: `ps` inside still lists the host's processes, because ps reads
// /proc, and /proc is still the host's mount. step03 fixes that.
//
//	sudo go run ./step02-pid -- sh -c 'echo $$; ipcs -q'
//
// Shell equivalent: sudo unshare --uts --pid --ipc --fork sh
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// name prefixes every message, so a learner knows which step spoke.
const name = "step02-pid"

// config holds the flags. Parent and child parse the same command line, so the
// child (a fresh copy of this program) learns the flags without any extra channel.
type config struct {
	hostname string
	verbose  bool
	command  []string
}

func parseFlags(args []string) config {
	var c config
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	fs.StringVar(&c.hostname, "hostname", "container", "hostname inside the container")
	fs.BoolVar(&c.verbose, "v", false, "print each kernel-facing action as a shell command")
	fs.BoolVar(&c.verbose, "verbose", false, "same as -v")
	fs.Parse(args) // stops at the first non-flag or at "--"
	c.command = fs.Args()
	if len(c.command) == 0 {
		c.command = []string{"/bin/sh"}
	}
	return c
}

// trace prints, with -v, the shell command a learner would type for the same effect.
func (c config) trace(format string, a ...any) {
	if c.verbose {
		fmt.Fprintf(os.Stderr, "+ "+format+"\n", a...)
	}
}

// region main
// childMarker is argv[0] of the re-executed copy. A user cannot pass it by
// accident (it is not an argument), and `ps` shows it while the child sets up.
const childMarker = "container-init"

func main() {
	if os.Args[0] == childMarker {
		child(parseFlags(os.Args[1:]))
		return
	}
	c := parseFlags(os.Args[1:])
	preflight(c)
	os.Exit(parent(c))
}

// endregion main

// preflight: the checks that would otherwise surface as a cryptic EPERM later.
func preflight(c config) {
	if os.Geteuid() != 0 {
		fail(1, "must run as root: namespaces need CAP_SYS_ADMIN; try `sudo go run ./%s`", name)
	}
}

// region clone
// parent re-executes this very program (/proc/self/exe) as the child, asking
// the kernel to create it in new namespaces. Go cannot do what C's
// clone(fn, stack, CLONE_NEWUTS|SIGCHLD) does — run a function in the new
// process — because a Go program is many threads and clone() copies only one.
// So the child is a fresh copy of the program, started by clone+execve.
func parent(c config) int {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = childMarker
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWUTS | // own hostname
			unix.CLONE_NEWPID | // own PIDs: the child is PID 1
			unix.CLONE_NEWIPC, // own message queues, semaphores, shared memory

		Pdeathsig: unix.SIGKILL, // if we die, the kernel kills the container too
	}
	c.trace("unshare --uts --pid --ipc --fork /proc/self/exe  # clone(CLONE_NEWUTS|CLONE_NEWPID|CLONE_NEWIPC) + execve")
	// endregion clone
	if err := cmd.Start(); err != nil {
		fail(125, "cannot start the container: %v", err)
	}
	forwardSignals(cmd.Process)
	return exitStatus(cmd.Wait())
}

// region child
// child runs inside the new namespaces: set them up, then become the command.
func child(c config) {
	c.trace("hostname %s", c.hostname)
	must(unix.Sethostname([]byte(c.hostname)), "sethostname")
	execCommand(c)
}

// endregion child

// region exec
// execCommand replaces this process with the user's command (execve(2)): no Go
// code of ours stays behind in the container.
func execCommand(c config) {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "HOSTNAME=" + c.hostname, "TERM=" + os.Getenv("TERM"),
	}
	os.Setenv("PATH", env[0][len("PATH="):]) // LookPath searches the container's PATH
	path, err := exec.LookPath(c.command[0])
	if err != nil {
		fail(127, "%s: command not found", c.command[0])
	}
	c.trace("exec %s", strings.Join(c.command, " "))
	err = unix.Exec(path, c.command, env)
	fail(126, "cannot run %s: %v", c.command[0], err)
}

// endregion exec

// forwardSignals passes Ctrl-C, `kill` and friends on to the container.
func forwardSignals(p *os.Process) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	go func() {
		for s := range sigs {
			p.Signal(s)
		}
	}()
}

// exitStatus turns the child's end into a shell-style status: its exit code,
// or 128+N when signal N killed it.
func exitStatus(err error) int {
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		fail(125, "waiting for the container: %v", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// must stops the container setup at the first failed system call.
func must(err error, what string) {
	if err != nil {
		fail(125, "%s: %v", what, err)
	}
}

// fail prints one line that says what is wrong and exits with status code.
func fail(code int, format string, a ...any) {
	fmt.Fprintf(os.Stderr, name+": "+format+"\n", a...)
	os.Exit(code)
}
