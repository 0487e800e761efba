//go:build linux

package nsenter

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/pid1"
	"golang.org/x/sys/unix"
)

// Env names the variable that tells the C constructor (nsenter_cgo.go)
// which process's namespaces to enter.
const Env = "_MINIDOCKER_NSENTER_PID"

// Spec is what the helper needs, sent as JSON over fd 3.
type Spec struct {
	Pid  int
	Args []string
	Env  []string
	Cwd  string
	Tty  bool
	// InitCwd is the container's own working directory.
	InitCwd string
}

// Helper is minidocker-nsenter (or `minidocker exec-helper`). With cgo, the
// constructor has already put it in the container's namespaces and cgroup:
// / is the container's, and it is a process of the container's PID
// namespace. It reads the spec and becomes the command (execve), like init
// does.
func Helper() int {
	var spec Spec
	f := os.NewFile(3, "spec")
	for fd := 3; fd <= 5; fd++ {
		unix.CloseOnExec(fd)
	}
	if err := json.NewDecoder(f).Decode(&spec); err != nil {
		fmt.Fprintf(os.Stderr, "minidocker: exec: reading the spec: %v\n", err)
		return 125
	}
	if !Constructor {
		return nsenterFallback(spec)
	}
	if spec.Cwd != "" {
		if err := unix.Chdir(spec.Cwd); err != nil {
			fmt.Fprintf(os.Stderr, "minidocker: exec: chdir %s: %v\n", spec.Cwd, err)
			return 125
		}
	}
	path, err := pid1.LookPath(spec.Args[0], spec.Env)
	if err != nil {
		fmt.Fprintf(os.Stderr, "minidocker: exec: %v\n", err)
		return err.(*pid1.ExitError).Code
	}
	if spec.Tty {
		// A terminal from the container's own /dev/pts; the master goes
		// back to the CLI; the slave becomes stdin/out/err and, in a
		// session of its own, the controlling terminal.
		master, slave, err := pid1.OpenPty()
		if err != nil {
			fmt.Fprintf(os.Stderr, "minidocker: exec: open pty: %v\n", err)
			return 125
		}
		if err := pid1.SendFd(5, "pty", master); err != nil {
			fmt.Fprintf(os.Stderr, "minidocker: exec: send pty: %v\n", err)
			return 125
		}
		unix.Sendmsg(5, []byte("ok"), nil, nil, 0)
		// Wait for the go-ahead: the CLI gives the master the client's
		// size first, or a command that asks at once (stty size) sees
		// the 24x80 OpenPty starts with. EOF: the CLI gave up; go on.
		var b [1]byte
		for {
			if _, err := unix.Read(5, b[:]); err != unix.EINTR {
				break
			}
		}
		for fd := 0; fd < 3; fd++ {
			unix.Dup2(int(slave.Fd()), fd)
		}
		unix.Setsid()
		unix.IoctlSetInt(0, unix.TIOCSCTTY, 0)
	}
	err = unix.Exec(path, spec.Args, spec.Env)
	fmt.Fprintf(os.Stderr, "minidocker: exec: cannot run %s: %v\n", spec.Args[0], err)
	return 126
}

// nsenterFallback is for a binary built with CGO_ENABLED=0 (no constructor):
// util-linux's nsenter(1) does the setns(2) calls and the fork for us. We
// are already in the cgroup, so it and the command are too.
func nsenterFallback(spec Spec) int {
	bin, err := exec.LookPath("nsenter")
	if err != nil {
		fmt.Fprintln(os.Stderr, "minidocker: exec needs cgo (build with CGO_ENABLED=1) or nsenter(1) (apt-get install util-linux)")
		return 125
	}
	// --wd without a value: the working directory of the container's init,
	// which is the container's -w (--wd=DIR would open DIR on the host).
	args := []string{"nsenter", "--target", strconv.Itoa(spec.Pid), "--ipc", "--uts", "--net", "--pid", "--mount", "--wd", "--"}
	if spec.Cwd != spec.InitCwd {
		args = append(args, "/bin/sh", "-c", `cd "$0" && exec "$@"`, spec.Cwd)
	}
	args = append(args, spec.Args...)
	err = unix.Exec(bin, args, spec.Env)
	fmt.Fprintf(os.Stderr, "minidocker: exec %s: %v\n", strings.Join(args, " "), err)
	return 126
}
