//go:build linux

package pid1

import (
	"errors"
	"fmt"
	"os"
	"strconv"
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
	JoinNetNS string
	Debug     bool
	// Volatile (run --rm): the container layer is thrown away at exit.
	Volatile bool
	// Winsize is the terminal's first size, "ROWS COLS" (the client's
	// ConsoleSize): the command starts with it, before any resize arrives.
	Winsize string
	// The fences (docs/10-security.md): what the command may do.
	Priv Privileges
	// Privileged (--privileged): /sys writable, every host device.
	Privileged bool
	// MaskedPaths are hidden (/dev/null or an empty tmpfs over them),
	// ReadonlyPaths made read-only, after /proc and /sys are mounted.
	MaskedPaths   []string
	ReadonlyPaths []string
	ReadonlyRoot  bool     // --read-only
	Tmpfs         []string // --tmpfs DST:OPTIONS
	// Devices are the nodes made in /dev beside the harmless ones:
	// "TYPE MAJOR MINOR MODE PATH" (--device, --privileged).
	Devices []string
	// Userns: init runs in a user namespace of its own (--userns=private,
	// rootless), where it may not make device nodes: they are bind-mounted
	// from the host's /dev instead.
	Userns bool
	// IdmapLayers: the image's layers (Lower after the init layer) come as
	// idmapped mounts, their descriptors in a "layers" message on fd 4;
	// init attaches each on its Lower path (move_mount) before the overlay.
	IdmapLayers bool
}

// region wire
// The spec crosses the pipe as NUL-terminated strings, the way the kernel
// hands a program its argv and environ: nothing in a spec (paths, argv,
// environment, a hostname) can contain a NUL byte, so no quoting is needed,
// and init decodes it without encoding/json's reflection, a millisecond
// less on every start. A list is its length, then its items; a flag is "0"
// or "1". The first string names the fields in order: a minidocker-init
// left over from another build, whose Spec differs, refuses it instead of
// misreading it.
func (s *Spec) fields() []field {
	return []field{
		{"ID", &s.ID, nil, nil, nil}, {"Hostname", &s.Hostname, nil, nil, nil},
		{"Lower", nil, &s.Lower, nil, nil}, {"Upper", &s.Upper, nil, nil, nil},
		{"Work", &s.Work, nil, nil, nil}, {"Merged", &s.Merged, nil, nil, nil},
		{"Mounts", nil, nil, nil, &s.Mounts}, {"Env", nil, &s.Env, nil, nil},
		{"Cwd", &s.Cwd, nil, nil, nil}, {"Args", nil, &s.Args, nil, nil},
		{"Tty", nil, nil, &s.Tty, nil}, {"NetNS", nil, nil, &s.NetNS, nil},
		{"JoinNetNS", &s.JoinNetNS, nil, nil, nil}, {"Debug", nil, nil, &s.Debug, nil},
		{"Volatile", nil, nil, &s.Volatile, nil}, {"Winsize", &s.Winsize, nil, nil, nil},
		{"User", &s.Priv.User, nil, nil, nil}, {"Caps", nil, &s.Priv.Caps, nil, nil},
		{"AddedCaps", nil, &s.Priv.AddedCaps, nil, nil}, {"NoNewPrivs", nil, nil, &s.Priv.NoNewPrivs, nil},
		{"Seccomp", &s.Priv.Seccomp, nil, nil, nil}, {"Privileged", nil, nil, &s.Privileged, nil},
		{"MaskedPaths", nil, &s.MaskedPaths, nil, nil}, {"ReadonlyPaths", nil, &s.ReadonlyPaths, nil, nil},
		{"ReadonlyRoot", nil, nil, &s.ReadonlyRoot, nil}, {"Tmpfs", nil, &s.Tmpfs, nil, nil},
		{"Devices", nil, &s.Devices, nil, nil}, {"Userns", nil, nil, &s.Userns, nil},
		{"IdmapLayers", nil, nil, &s.IdmapLayers, nil},
	}
}

// field points at one of Spec's fields: exactly one pointer is set.
type field struct {
	name   string
	str    *string
	list   *[]string
	flag   *bool
	mounts *[]Mount
}

// Encode is the spec on the wire.
func (s *Spec) Encode() []byte {
	var b []byte
	put := func(v string) { b = append(append(b, v...), 0) }
	fs := s.fields()
	put(shape(fs))
	for _, f := range fs {
		switch {
		case f.str != nil:
			put(*f.str)
		case f.list != nil:
			put(strconv.Itoa(len(*f.list)))
			for _, v := range *f.list {
				put(v)
			}
		case f.flag != nil:
			put(map[bool]string{false: "0", true: "1"}[*f.flag])
		case f.mounts != nil:
			put(strconv.Itoa(len(*f.mounts)))
			for _, m := range *f.mounts {
				put(m.Source)
				put(m.Destination)
				put(map[bool]string{false: "ro", true: "rw"}[m.RW])
			}
		}
	}
	return b
}

// endregion wire

// Decode fills s from Encode's bytes.
func (s *Spec) Decode(b []byte) error {
	words := strings.Split(string(b), "\x00")
	short := false
	next := func() string {
		if len(words) < 2 { // the last "word" is what follows the final NUL
			short = true
			return ""
		}
		w := words[0]
		words = words[1:]
		return w
	}
	count := func() int {
		n, err := strconv.Atoi(next())
		if err != nil || n < 0 || n > len(words) {
			short = true // a bad count: what follows cannot be read
			return 0
		}
		return n
	}
	fs := s.fields()
	if next() != shape(fs) {
		return errors.New("the spec is from another build of minidocker")
	}
	for _, f := range fs {
		switch {
		case f.str != nil:
			*f.str = next()
		case f.list != nil:
			for n := count(); n > 0; n-- {
				*f.list = append(*f.list, next())
			}
		case f.flag != nil:
			*f.flag = next() == "1"
		case f.mounts != nil:
			for n := count(); n > 0; n-- {
				*f.mounts = append(*f.mounts, Mount{Source: next(), Destination: next(), RW: next() == "rw"})
			}
		}
	}
	if short || len(words) != 1 || words[0] != "" {
		return errors.New("bad spec: cut short, a bad count or trailing data")
	}
	return nil
}

// shape names the fields in wire order, with their kinds.
func shape(fs []field) string {
	var b strings.Builder
	b.WriteString("minidocker-spec")
	for _, f := range fs {
		b.WriteString(" " + f.name)
		switch {
		case f.list != nil:
			b.WriteString("[]")
		case f.flag != nil:
			b.WriteString("?")
		case f.mounts != nil:
			b.WriteString("[src,dst,rw]")
		}
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
