//go:build linux

package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/pid1"
	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// NsenterEnv names the variable that tells the C constructor (nsenter.c
// in nsenter_cgo.go) which process's namespaces to enter.
const NsenterEnv = "_MINIDOCKER_NSENTER_PID"

// execSpec is what the exec helper needs, sent over fd 3.
type execSpec struct {
	Pid  int
	Args []string
	Env  []string
	Cwd  string
	Tty  bool
	// InitCwd is the container's own working directory.
	InitCwd string
}

// region exec
// Exec runs a command in a running container: `minidocker exec C CMD`.
// The helper is this program again, started with NsenterEnv set. Before the
// Go runtime starts (and with it, its threads), a C constructor waits until
// we have put the helper in the container's cgroup, setns(2)s into the
// container's ipc, uts, net, pid and mount namespaces and forks: the child,
// in all of them, runs ExecHelper, which execs the command.
//
// With tty, onPty gets the master side of the command's terminal: made by
// the helper inside the container's /dev/pts and passed back over a unix
// socket (fd 5), or, without cgo, made here.
func Exec(c *state.Container, args, env []string, cwd string, tty bool, stdio [3]*os.File, onPty func(*os.File)) (int, error) {
	if !state.Alive(c.State.Pid, c.State.PidStart) {
		return 125, fmt.Errorf("container %s is not running", c.ID[:12])
	}
	if cwd == "" {
		cwd = c.Config.WorkingDir
	}
	spec := execSpec{Pid: c.State.Pid, Args: args, Env: mergeEnv(c.Config.Env, env), Cwd: cwd, Tty: tty, InitCwd: c.Config.WorkingDir}
	specR, specW, err := os.Pipe()
	if err != nil {
		return 125, err
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return 125, err
	}
	cmd := exec.Command("/proc/self/exe", "exec-helper")
	cmd.Args[0] = "minidocker"
	cmd.ExtraFiles = []*os.File{specR, syncR} // fd 3: the spec; fd 4: "you are in the cgroup"
	ptySock := -1
	switch {
	case tty && HaveNsenter:
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return 125, err
		}
		ptySock = pair[0]
		defer unix.Close(ptySock)
		theirs := os.NewFile(uintptr(pair[1]), "pty-socket")
		defer theirs.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, theirs) // fd 5
	case tty: // nsenter(1) cannot pass a pty back: use one of the host's
		master, slave, err := pid1.OpenPty()
		if err != nil {
			return 125, err
		}
		defer slave.Close()
		stdio = [3]*os.File{slave, slave, slave}
		onPty(master)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio[0], stdio[1], stdio[2]
	cmd.Env = []string{NsenterEnv + "=" + strconv.Itoa(c.State.Pid)}
	if !HaveNsenter {
		cmd.Env = nil // the helper will exec nsenter(1) instead
	}
	trace("nsenter --target %d --ipc --uts --net --pid --mount minidocker exec-helper  # setns(2) in a C constructor", c.State.Pid)
	err = cmd.Start()
	specR.Close()
	syncR.Close()
	if err != nil {
		specW.Close()
		syncW.Close()
		return 125, err
	}
	cg := cgroups.Open(c.ID, c.HostConfig.CpusetCpus != "")
	if err := cg.Apply(cmd.Process.Pid); err != nil {
		specW.Close()
		syncW.Close()
		cmd.Process.Kill()
		cmd.Wait()
		return 125, err
	}
	syncW.Close()
	json.NewEncoder(specW).Encode(spec)
	specW.Close()
	if ptySock >= 0 {
		if master, err := readStatus(ptySock); err == nil && master != nil {
			onPty(master)
		}
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 125, err
	}
	return 0, nil
}

// endregion exec

// ExecHelper is `minidocker exec-helper`. With cgo, the constructor has
// already put it in the container's namespaces and cgroup: / is the
// container's, and it is a process of the container's PID namespace. It
// reads the spec and becomes the command (execve), like init does.
func ExecHelper() int {
	var spec execSpec
	f := os.NewFile(3, "spec")
	for fd := 3; fd <= 5; fd++ {
		unix.CloseOnExec(fd)
	}
	if err := json.NewDecoder(f).Decode(&spec); err != nil {
		fmt.Fprintf(os.Stderr, "minidocker: exec: reading the spec: %v\n", err)
		return 125
	}
	if !HaveNsenter {
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
		return err.(*ExitError).Code
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
func nsenterFallback(spec execSpec) int {
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
