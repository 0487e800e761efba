//go:build linux

package container

import (
	"fmt"
	"os"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/sirupsen/logrus"
)

// Spec is what the parent sends the container's init over a pipe (fd 3):
// everything init needs to build the container's world from inside.
type Spec struct {
	ID       string
	Hostname string
	Lower    []string // overlay lowerdirs, top first (the init layer, then the image's)
	Upper    string
	Work     string
	Merged   string
	Mounts   []state.Mount
	Env      []string
	Cwd      string
	Args     []string
	Tty      bool
	NetNS    bool // own network namespace: bring lo up
	// JoinNetNS is another container's /proc/PID/ns/net (--network
	// container:C): init setns(2)es into it before anything else.
	JoinNetNS string `json:",omitempty"`
	Debug     bool
}

// ExitError is a failure with the exit status minidocker should end with:
// 125 engine error, 126 cannot invoke, 127 not found.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return e.Msg }

func errorf(code int, format string, a ...any) error {
	return &ExitError{Code: code, Msg: fmt.Sprintf(format, a...)}
}

func trace(format string, a ...any) {
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("+ "+format, a...)
	}
}

// DefaultEnv is what every container starts with, as in Docker.
func DefaultEnv(hostname string, tty bool, user []string) []string {
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=" + hostname, "HOME=/root"}
	if tty {
		env = append(env, "TERM=xterm")
	}
	return mergeEnv(env, user)
}

// mergeEnv lets later K=V entries replace earlier ones.
func mergeEnv(base, over []string) []string {
	out := append([]string{}, base...)
	for _, kv := range over {
		k := strings.SplitN(kv, "=", 2)[0]
		replaced := false
		for i, o := range out {
			if strings.SplitN(o, "=", 2)[0] == k {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

// lookPath finds a command in the container's PATH (we are inside its root).
func lookPath(cmd string, env []string) (string, error) {
	if strings.Contains(cmd, "/") {
		if fi, err := os.Stat(cmd); err != nil {
			return "", errorf(127, "%s: no such file or directory", cmd)
		} else if fi.IsDir() || fi.Mode()&0111 == 0 {
			return "", errorf(126, "%s: permission denied", cmd)
		}
		return cmd, nil
	}
	path := ""
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			path = kv[5:]
		}
	}
	for _, dir := range strings.Split(path, ":") {
		p := dir + "/" + cmd
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0111 != 0 {
			return p, nil
		}
	}
	return "", errorf(127, "%s: executable file not found in $PATH", cmd)
}
