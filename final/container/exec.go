//go:build linux

package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/nsenter"
	"github.com/minidocker/build-your-own-docker/final/pid1"
	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// region exec
// Exec runs a command in a running container: `minidocker exec C CMD`.
// The helper is minidocker-nsenter (package nsenter), started with
// nsenter.Env set. Before the Go runtime starts (and with it, its threads),
// its C constructor waits until we have put it in the container's cgroup,
// setns(2)s into the container's ipc, uts, net, pid and mount namespaces and
// forks: the child, in all of them, runs nsenter.Helper, which execs the
// command.
//
// With tty, onPty gets the master side of the command's terminal: made by
// the helper inside the container's /dev/pts and passed back over a unix
// socket (fd 5), or, without the constructor, made here. The helper runs
// the command only once onPty has returned: the terminal has the client's
// size by then.
//
// sigs, if set, brings the names of signals to forward to the command
// (the CLI's Ctrl-C); the daemon forwards none of its own.
//
// The command gets the container's fences (its user unless user names
// another, its capabilities, no_new_privs and seccomp filter), or every
// privilege with privileged (exec --privileged), as in Docker.
func Exec(c *state.Container, args, env []string, cwd string, tty bool, stdio [3]*os.File, onPty func(*os.File), sigs <-chan string, user string, privileged bool) (int, error) {
	if !state.Alive(c.State.Pid, c.State.PidStart) {
		return 125, fmt.Errorf("container %s is not running", c.ID[:12])
	}
	if cwd == "" {
		cwd = c.Config.WorkingDir
	}
	priv, err := ExecPrivileges(c, user, privileged)
	if err != nil {
		return 125, err
	}
	spec := nsenter.Spec{Pid: c.State.Pid, Args: args, Env: execEnv(c, tty, env, user), Cwd: cwd, Tty: tty, InitCwd: c.Config.WorkingDir, Priv: priv}
	prog, constructor := execHelper()
	h, err := nsenter.NewHelperCmd(prog, c.State.Pid, tty && constructor)
	if err != nil {
		return 125, err
	}
	defer h.Close()
	cmd := h.Cmd
	if tty && !constructor { // nsenter(1) cannot pass a pty back: use one of the host's
		master, slave, err := pid1.OpenPty()
		if err != nil {
			return 125, err
		}
		defer slave.Close()
		stdio = [3]*os.File{slave, slave, slave}
		onPty(master)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio[0], stdio[1], stdio[2]
	if !constructor {
		cmd.Env = nil // the helper will exec nsenter(1) instead
	}
	trace("nsenter --target %d --ipc --uts --net --pid --mount minidocker exec-helper  # setns(2) in a C constructor", c.State.Pid)
	if err := h.Start(); err != nil {
		return 125, err
	}
	cg := cgroups.Open(c.ID, c.HostConfig.CpusetCpus != "")
	if err := cg.Apply(cmd.Process.Pid); err != nil {
		h.Close()
		cmd.Process.Kill()
		cmd.Wait()
		return 125, err
	}
	h.SyncW.Close()
	json.NewEncoder(h.SpecW).Encode(spec)
	h.SpecW.Close()
	if h.PtySock >= 0 {
		if master, err := readStatus(h.PtySock); err == nil && master != nil {
			onPty(master)
		}
		unix.Write(h.PtySock, []byte{1}) // the helper waits for this to run the command
	}
	if sigs != nil {
		go func() {
			for name := range sigs {
				if sig, err := SignalName(name); err == nil {
					cmd.Process.Signal(sig)
				}
			}
		}()
	}
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

// execHelper is the program exec starts, and whether it has the C
// constructor: minidocker-nsenter beside this binary (`make minidocker`
// builds it with cgo), else this binary itself as `minidocker exec-helper`
// (`go run ./final`), which has the constructor only if built with cgo and
// otherwise falls back to nsenter(1).
func execHelper() (string, bool) {
	if p := beside("minidocker-nsenter"); p != "" {
		return p, true
	}
	return "/proc/self/exe", nsenter.Constructor
}

// ExecHelperName says which way exec enters containers (minidocker version).
func ExecHelperName() string {
	switch p, constructor := execHelper(); {
	case p != "/proc/self/exe":
		return p + " (setns in a C constructor)"
	case constructor:
		return "minidocker exec-helper (setns in a C constructor, built with cgo)"
	default:
		return "nsenter(1) (built without cgo, no minidocker-nsenter beside it)"
	}
}
