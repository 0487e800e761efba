//go:build linux

package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/nsenter"
	"github.com/minidocker/build-your-own-docker/final/pid1"
	"golang.org/x/sys/unix"
)

// ExecOpts are exec's flags.
type ExecOpts struct {
	Process       string // --process FILE: a spec Process, as containerd and conmon pass it
	Args          []string
	Env           []string
	Cwd           string
	Tty, Detach   bool
	PidFile       string
	ConsoleSocket string
}

// region exec
// Exec is `exec ID`: a process in a running container, by minidocker
// exec's own way in (package nsenter): minidocker-nsenter, whose C
// constructor joins the container's namespaces before its Go runtime
// starts, then forks; the child becomes the command, the parent stays
// outside as its relay and exits with its status. That relay is the PID
// exec reports (--pid-file): with --detach, exec returns and the caller's
// subreaper (containerd's shim, conmon) adopts and reaps it.
func Exec(g *Global, id string, o ExecOpts) (int, error) {
	r, dir, err := g.load(id)
	if err != nil {
		return 1, err
	}
	if st := r.status(dir); st != "running" {
		return 1, fmt.Errorf("cannot exec in a container that is %s", st)
	}
	p, err := execProcess(o)
	if err != nil {
		return 1, err
	}
	priv, err := privileges(p)
	if err != nil {
		return 1, err
	}
	if g := p.User.AdditionalGids; len(g) > 1 || len(g) == 1 && g[0] != p.User.GID {
		return 1, errNotYet("supplementary groups for an exec'd process other than its own group")
	}
	// The user's groups from the container's /etc/group, as minidocker
	// exec -u; the container's seccomp filter, as runc's exec.
	priv.User, priv.Seccomp = fmt.Sprintf("%d:%d", p.User.UID, p.User.GID), r.Seccomp
	if p.Terminal != (o.ConsoleSocket != "") {
		return 1, errors.New("exec: a terminal needs --console-socket, and --console-socket a terminal")
	}
	helper := pid1.Beside("minidocker-nsenter")
	if helper == "" {
		return 1, errors.New("exec needs minidocker-nsenter beside minidocker-runc (make minidocker builds both)")
	}
	h, err := nsenter.NewHelperCmd(helper, r.Pid, p.Terminal)
	if err != nil {
		return 1, err
	}
	defer h.Close()
	cmd := h.Cmd
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := h.Start(); err != nil {
		return 1, err
	}
	fail := func(err error) (int, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return 1, err
	}
	if err := cgroups.At(r.Cgroup, r.Cpuset).Apply(cmd.Process.Pid); err != nil {
		return fail(err)
	}
	if p.OOMScoreAdj != nil { // the helper's, so the command's (dockerd sends the container's)
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", cmd.Process.Pid), []byte(strconv.Itoa(*p.OOMScoreAdj)), 0); err != nil {
			return fail(fmt.Errorf("oomScoreAdj: %v", err))
		}
	}
	// region execrlimits
	// process.rlimits: containerd's shim sends the container's process
	// (RLIMIT_NOFILE 1024 among it) with every exec, and the helper has
	// ours (the shim's). prlimit(2) sets them on the helper from here,
	// while it is still blocked in its C constructor; the command it
	// forks inherits them. Its Go runtime starts only after that fork
	// and finds them set: the RLIMIT_NOFILE Go remembers, and restores
	// at execve, is the spec's.
	for _, rl := range p.Rlimits {
		lim := unix.Rlimit{Cur: rl.Soft, Max: rl.Hard}
		if err := unix.Prlimit(cmd.Process.Pid, rlimitNames[rl.Type], &lim, nil); err != nil {
			return fail(fmt.Errorf("rlimit %s: %v", rl.Type, err))
		}
	}
	// endregion execrlimits
	h.SyncW.Close()
	json.NewEncoder(h.SpecW).Encode(nsenter.Spec{Pid: r.Pid, Args: p.Args, Env: p.Env, Cwd: p.Cwd, Tty: p.Terminal, InitCwd: p.Cwd, Priv: priv})
	h.SpecW.Close()
	if p.Terminal {
		if err := relayConsole(h.PtySock, o.ConsoleSocket); err != nil {
			return fail(err)
		}
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, cmd.Process.Pid); err != nil {
			return fail(err)
		}
	}
	if o.Detach {
		return 0, nil
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}

// endregion exec

// execProcess is --process's Process, or one made of the flags.
func execProcess(o ExecOpts) (*Process, error) {
	p := &Process{Args: o.Args, Env: o.Env, Cwd: o.Cwd, Terminal: o.Tty}
	if o.Process != "" {
		f, err := os.Open(o.Process)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, MaxConfig+1))
		if err != nil {
			return nil, err
		}
		if len(b) > MaxConfig {
			return nil, fmt.Errorf("%s is larger than %d bytes", o.Process, MaxConfig)
		}
		p = &Process{}
		if err := json.Unmarshal(b, p); err != nil {
			return nil, fmt.Errorf("%s: %v", o.Process, err)
		}
	}
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	if len(p.Env) == 0 {
		p.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	if err := processPlan(p, nil); err != nil {
		return nil, err
	}
	return p, nil
}

// relayConsole takes the master minidocker-nsenter made in the
// container's devpts and hands it over the console socket (the pty's
// name as the data, the master as SCM_RIGHTS), then tells the helper
// to go on.
func relayConsole(sock int, consoleSocket string) error {
	buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
	var master *os.File
	for master == nil {
		n, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return errors.New("exec: the helper died before it sent the terminal")
		}
		if strings.TrimSpace(string(buf[:n])) != "pty" {
			continue
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) == 0 {
			return errors.New("exec: no terminal from the helper")
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) == 0 {
			return errors.New("exec: no terminal from the helper")
		}
		master = os.NewFile(uintptr(fds[0]), "pty")
	}
	defer master.Close()
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		return err
	}
	conn, err := net.Dial("unix", consoleSocket)
	if err != nil {
		return fmt.Errorf("--console-socket: %v", err)
	}
	defer conn.Close()
	f, err := conn.(*net.UnixConn).File()
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Sendmsg(int(f.Fd()), []byte(fmt.Sprintf("/dev/pts/%d", n)), unix.UnixRights(int(master.Fd())), nil, 0); err != nil {
		return fmt.Errorf("--console-socket: %v", err)
	}
	_, err = unix.Write(sock, []byte{1}) // the helper runs the command only now
	return err
}
