//go:build linux

package container

import (
	"encoding/base64"
	"os"
	"strconv"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/pid1"
	"github.com/minidocker/build-your-own-docker/final/rootless"
	"github.com/minidocker/build-your-own-docker/final/security"
	"github.com/minidocker/build-your-own-docker/final/state"
	"golang.org/x/sys/unix"
)

// region fences
// fenced is what a container may do, decided before it starts (package
// security) and carried to its init in the spec (package pid1): its
// privileges, the paths of /proc and /sys it must not see or change,
// --read-only, --tmpfs, its devices, and the device fence's rules for its
// cgroup (nil with --privileged: every device).
type fenced struct {
	priv          pid1.Privileges
	privileged    bool
	masked, ro    []string
	readonlyRoot  bool
	tmpfs         []string
	devices       []string
	rules         []cgroups.DeviceRule
	seccompLength int // instructions of the filter, for --debug
}

func decideFences(c *state.Container, execUser string, execPrivileged bool) (*fenced, error) {
	h := c.HostConfig
	h.Privileged = h.Privileged || execPrivileged
	set, err := security.Decide(h, HostCaps())
	if err != nil {
		return nil, errorf(125, "%v", err)
	}
	user := c.Config.User
	if execUser != "" {
		user = execUser
	}
	f := &fenced{privileged: set.Privileged, masked: set.MaskedPaths, ro: set.ReadonlyPaths, readonlyRoot: h.ReadonlyRootfs,
		priv: pid1.Privileges{User: user, Caps: capNumbers(set.Caps), AddedCaps: capNumbers(set.Added), NoNewPrivs: set.NoNewPrivileges}}
	prog, err := set.Filter(KernelRelease())
	if err != nil {
		return nil, errorf(125, "%v", err)
	}
	if prog != nil {
		f.priv.Seccomp = base64.StdEncoding.EncodeToString(prog.Bytes())
		f.seccompLength = len(prog.Instructions)
	}
	if f.tmpfs, err = security.TmpfsList(h.Tmpfs); err != nil {
		return nil, errorf(125, "%v", err)
	}
	devs, err := security.Devices(h.Devices)
	if err != nil {
		return nil, errorf(125, "%v", err)
	}
	if set.Privileged {
		devs = append(security.HostDevices(), devs...)
	} else {
		f.rules = security.DefaultDevices()
	}
	for _, d := range devs {
		f.devices = append(f.devices, d.Spec())
		f.rules = append(f.rules, d.Rule())
	}
	if set.Privileged || rootless.On() {
		// Rootless: no device cgroup can be had (loading its eBPF program
		// needs the host's CAP_SYS_ADMIN); the user namespace is the fence
		// (no mknod there; /dev's nodes are the host's, bound in, with
		// the host's permissions).
		f.rules = nil
	}
	return f, nil
}

// apply puts the fences in init's spec.
func (f *fenced) apply(spec *Spec) {
	spec.Priv, spec.Privileged, spec.MaskedPaths, spec.ReadonlyPaths = f.priv, f.privileged, f.masked, f.ro
	spec.ReadonlyRoot, spec.Tmpfs, spec.Devices = f.readonlyRoot, f.tmpfs, f.devices
	trace("# fences: %d capabilities, no_new_privs=%v, seccomp %d instructions, %d masked and %d read-only paths, %d device rules",
		len(f.priv.Caps), f.priv.NoNewPrivs, f.seccompLength, len(f.masked), len(f.ro), len(f.rules))
}

// endregion fences

// ExecPrivileges are what `exec` gives its command: the container's own
// fences (caps, no_new_privs, seccomp), its user unless exec -u names
// another, all of them with exec --privileged (as Docker does).
func ExecPrivileges(c *state.Container, user string, privileged bool) (pid1.Privileges, error) {
	f, err := decideFences(c, user, privileged)
	if err != nil {
		return pid1.Privileges{}, err
	}
	return f.priv, nil
}

func capNumbers(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, strconv.Itoa(security.CapNumber(n)))
	}
	return out
}

// HostCaps are the capabilities minidocker can give: those of its own
// bounding set (CapBnd in /proc/self/status), which holds every one the
// kernel has unless a sandbox took some away.
func HostCaps() []string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			if mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil {
				return security.CapsOf(mask)
			}
		}
	}
	return security.CapsOf(1<<(unix.CAP_LAST_CAP+1) - 1)
}

// KernelRelease is uname -r.
func KernelRelease() string {
	var uts unix.Utsname
	unix.Uname(&uts)
	return unix.ByteSliceToString(uts.Release[:])
}

// rootUser: the user (--user NAME|UID[:GROUP]) is root, or none is named.
func rootUser(user string) bool {
	u, _, _ := strings.Cut(user, ":")
	return u == "" || u == "root" || u == "0"
}

// userEnv drops the HOME=/root of DefaultEnv for a user who is not root,
// unless the container's own environment (-e, the image's ENV) set HOME:
// init, or exec's helper, then sets the user's own from /etc/passwd.
func userEnv(env, own []string, user string) []string {
	if rootUser(user) {
		return env
	}
	for _, kv := range own {
		if strings.HasPrefix(kv, "HOME=") {
			return env
		}
	}
	out := env[:0:0]
	for _, kv := range env {
		if kv != "HOME=/root" {
			out = append(out, kv)
		}
	}
	return out
}

// execEnv is an exec'd command's environment: the container's, then
// exec -e's, for the user it runs as.
func execEnv(c *state.Container, tty bool, env []string, user string) []string {
	if user == "" {
		user = c.Config.User
	}
	return userEnv(MergeEnv(DefaultEnv(c.Config.Hostname, tty, c.Config.Env), env), append(append([]string{}, c.Config.Env...), env...), user)
}
