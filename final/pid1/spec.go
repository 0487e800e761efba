//go:build linux

package pid1

import (
	"fmt"
	"os"
	"reflect"
	"strings"
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
	Mounts   []Mount
	Env      []string
	Cwd      string
	Args     []string
	Tty      bool
	NetNS    bool // own network namespace: bring lo up
	// JoinNetNS is another container's /proc/PID/ns/net (--network
	// container:C): init setns(2)es into it before anything else.
	JoinNetNS string `json:",omitempty"`
	Debug     bool
	// Shape is SpecShape() of the sender: a minidocker-init left over from
	// another build would misread a Spec whose fields changed.
	Shape string
}

// SpecShape names Spec's fields and their types, as this build compiled them.
func SpecShape() string {
	t := reflect.TypeOf(Spec{})
	var b strings.Builder
	for i := 0; i < t.NumField(); i++ {
		fmt.Fprintf(&b, "%s:%s;", t.Field(i).Name, t.Field(i).Type)
	}
	return b.String()
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

// Mount is a bind mount into the container: -v SRC:DST[:ro].
type Mount struct {
	Source      string
	Destination string
	RW          bool
}

// LookPath finds a command in the container's PATH (we are inside its root).
func LookPath(cmd string, env []string) (string, error) {
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
