//go:build linux

package container

import (
	"fmt"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/pid1"
	"github.com/sirupsen/logrus"
)

// Spec is what the parent sends the container's init (package pid1).
type Spec = pid1.Spec

// ExitError is a failure with the exit status minidocker should end with:
// 125 engine error, 126 cannot invoke, 127 not found.
type ExitError = pid1.ExitError

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
	return MergeEnv(env, user)
}

// MergeEnv lets later K=V entries replace earlier ones.
func MergeEnv(base, over []string) []string {
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
