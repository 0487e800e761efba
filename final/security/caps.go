package security

import (
	"fmt"
	"sort"
	"strings"
)

// capNames are the kernel's capabilities, by number (linux/capability.h):
// CAP_CHOWN is 0, CAP_CHECKPOINT_RESTORE (Linux 5.9) is 40.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// region defaultcaps
// DefaultCaps are the 14 capabilities Docker leaves a container's root
// (moby's oci/caps/defaults.go); of the 41 the kernel has, these are the
// ones a process that installs packages, binds port 80 and changes users
// needs. Gone, among others: CAP_SYS_ADMIN (mount, unshare, setns, most of
// what "root" means), CAP_NET_ADMIN (routes, iptables), CAP_SYS_MODULE,
// CAP_SYS_RAWIO, CAP_SYS_PTRACE, CAP_SYS_TIME, CAP_SYS_BOOT,
// CAP_DAC_READ_SEARCH (open_by_handle_at: the "shocker" escape).
var DefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// endregion defaultcaps

// CapName is a capability's canonical name: "net_admin", "NET_ADMIN" and
// "CAP_NET_ADMIN" are all "CAP_NET_ADMIN", as Docker accepts them; "ALL"
// stays "ALL".
func CapName(s string) (string, error) {
	n := strings.ToUpper(strings.TrimSpace(s))
	if n == "ALL" {
		return n, nil
	}
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	if CapNumber(n) < 0 {
		return "", fmt.Errorf("unknown capability: %q", s)
	}
	return n, nil
}

// CapNumber is the kernel's number for a canonical name, -1 if unknown.
func CapNumber(name string) int {
	for i, n := range capNames {
		if n == name {
			return i
		}
	}
	return -1
}

// CapsOf are the capabilities of a mask (CapBnd in /proc/self/status:
// what minidocker itself may hand on; a sandbox may hold some back).
func CapsOf(mask uint64) []string {
	var out []string
	for i, n := range capNames {
		if mask&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// region resolvecaps
// Caps is the set a container keeps, decided as moby's TweakCapabilities
// does: --privileged, every one; --cap-add ALL, every one but those
// dropped; --cap-drop ALL, only those added; otherwise Docker's 14, minus
// the dropped, plus the added.
//
// all are the capabilities there are to give: the kernel's, less any that
// minidocker does not hold itself (a capability cannot be given that one
// has not). "Every one" means those; asking for another is an error.
func Caps(add, drop []string, privileged bool, all []string) ([]string, error) {
	if privileged {
		return append([]string{}, all...), nil
	}
	adds, err := capSet(add)
	if err != nil {
		return nil, err
	}
	drops, err := capSet(drop)
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	switch {
	case adds["ALL"]:
		for _, c := range all {
			keep[c] = !drops[c]
		}
	case drops["ALL"]:
		for c := range adds {
			keep[c] = true
		}
	default:
		for _, c := range DefaultCaps {
			keep[c] = !drops[c]
		}
		for c := range adds {
			keep[c] = true
		}
	}
	var out []string
	for c, on := range keep {
		switch {
		case on && contains(all, c):
			out = append(out, c)
		case on && adds[c]:
			return nil, fmt.Errorf("--cap-add %s: minidocker does not hold %s itself, so it cannot give it", c, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return CapNumber(out[i]) < CapNumber(out[j]) })
	return out, nil
}

// capSet is a list of names, canonical, as a set.
func capSet(names []string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, s := range names {
		n, err := CapName(s)
		if err != nil {
			return nil, err
		}
		set[n] = true
	}
	return set, nil
}

// endregion resolvecaps
