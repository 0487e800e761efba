//go:build linux

package nsenter

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/pid1"
	"golang.org/x/sys/unix"
)

// Env names the variable that tells the C constructor (nsenter_cgo.go)
// which process's namespaces to enter.
const Env = "_MINIDOCKER_NSENTER_PID"

// JoinEnv names the variable that tells the constructor (join_cgo.go) to
// join a user or mount namespace and become minidocker-runc's init:
// "USERFD MNTFD EXEFD UNSHARE PIDFD".
const JoinEnv = "_MINIDOCKER_NSENTER_JOIN"

// Spec is what the helper needs, sent as JSON over fd 3.
type Spec struct {
	Pid  int
	Args []string
	Env  []string
	Cwd  string
	Tty  bool
	// InitCwd is the container's own working directory.
	InitCwd string
	// Priv: the container's user and privileges (or exec -u's, exec
	// --privileged's), taken just before execve.
	Priv pid1.Privileges
}

// insideEnv marks the helper that nsenter(1) started inside the container.
const insideEnv = "_MINIDOCKER_NSENTER_INSIDE"

// The privileges are dropped for the thread that calls execve: the main
// goroutine stays on it.
func init() {
	if len(os.Args) == 2 && os.Args[1] == "exec-helper" {
		runtime.LockOSThread()
	}
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
	inside := os.Getenv(insideEnv) == "1"
	if !Constructor && !inside {
		return nsenterFallback(spec)
	}
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	home, err := pid1.Become(spec.Priv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "minidocker: exec: %v\n", err)
		return 126
	}
	if !hasKey(spec.Env, "HOME") {
		spec.Env = append(spec.Env, "HOME="+home) // as init does for the container's command
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
	if spec.Tty && !inside {
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
// are already in the cgroup, so it and the command are too. Inside, it
// runs this same program again, from the descriptor of our own binary
// (fd 4: /proc/self/fd/4 there is still this file), which takes the
// container's user and privileges and becomes the command; the spec
// comes back on fd 3.
func nsenterFallback(spec Spec) int {
	bin, err := exec.LookPath("nsenter")
	if err != nil {
		fmt.Fprintln(os.Stderr, "minidocker: exec needs cgo (build with CGO_ENABLED=1) or nsenter(1) (apt-get install util-linux)")
		return 125
	}
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		fmt.Fprintf(os.Stderr, "minidocker: exec: %v\n", err)
		return 125
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "minidocker: exec: %v\n", err)
		return 125
	}
	json.NewEncoder(w).Encode(spec)
	w.Close()
	// fd 3: the spec, fd 4: this binary, both inherited by nsenter (dup2
	// clears close-on-exec).
	if unix.Dup2(int(r.Fd()), 3) != nil || unix.Dup2(int(self.Fd()), 4) != nil {
		fmt.Fprintln(os.Stderr, "minidocker: exec: dup2 failed")
		return 125
	}
	// --wd without a value: the working directory of the container's init
	// (--wd=DIR would open DIR on the host); the helper inside goes to -w.
	args := []string{"nsenter", "--target", strconv.Itoa(spec.Pid)}
	if differentUserNS(spec.Pid) {
		args = append(args, "--user")
	}
	args = append(args, "--ipc", "--uts", "--net", "--pid", "--mount", "--wd", "--", "/proc/self/fd/4", "exec-helper")
	err = unix.Exec(bin, args, []string{insideEnv + "=1"})
	fmt.Fprintf(os.Stderr, "minidocker: exec %s: %v\n", strings.Join(args, " "), err)
	return 126
}

// differentUserNS: the container has a user namespace of its own.
func differentUserNS(pid int) bool {
	a, err1 := os.Stat(fmt.Sprintf("/proc/%d/ns/user", pid))
	b, err2 := os.Stat("/proc/self/ns/user")
	return err1 == nil && err2 == nil && !os.SameFile(a, b)
}

func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

// HelperCmd is exec's helper process (minidocker-nsenter, or `minidocker
// exec-helper`) for the container whose init is pid, made but not started:
// fd 3 carries the spec, fd 4 says "you are in the cgroup" when we close
// our end (after moving it there), and with a pty socket fd 5 is the
// socket the helper sends its terminal's master back over. minidocker
// exec and minidocker-runc exec both start theirs with it.
type HelperCmd struct {
	*exec.Cmd
	SpecW, SyncW *os.File // our ends: the spec's pipe, the sync pipe
	PtySock      int      // our end of the pty socket; -1 without one
	theirs       []*os.File
}

// NewHelperCmd makes the pipes (and the pty socket) and the command.
func NewHelperCmd(prog string, pid int, ptySocket bool) (*HelperCmd, error) {
	h := &HelperCmd{PtySock: -1}
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		specR.Close()
		specW.Close()
		return nil, err
	}
	h.SpecW, h.SyncW, h.theirs = specW, syncW, []*os.File{specR, syncR}
	if ptySocket {
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			h.Close()
			return nil, err
		}
		h.PtySock = pair[0]
		h.theirs = append(h.theirs, os.NewFile(uintptr(pair[1]), "pty-socket"))
	}
	h.Cmd = exec.Command(prog, "exec-helper")
	h.Args[0] = "minidocker"
	h.ExtraFiles = h.theirs // fd 3, fd 4 (and fd 5)
	h.Env = []string{Env + "=" + strconv.Itoa(pid)}
	return h, nil
}

// Start starts the helper, then closes its ends here.
func (h *HelperCmd) Start() error {
	err := h.Cmd.Start()
	for _, f := range h.theirs {
		f.Close()
	}
	h.theirs = nil
	return err
}

// Close closes our ends (and the helper's, if it never started).
func (h *HelperCmd) Close() {
	for _, f := range h.theirs {
		f.Close()
	}
	h.theirs = nil
	h.SpecW.Close()
	h.SyncW.Close()
	if h.PtySock >= 0 {
		unix.Close(h.PtySock)
		h.PtySock = -1
	}
}
