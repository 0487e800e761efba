package security

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/api/types"
)

// region defaults
// MaskedPaths are what of /proc and /sys a container does not see
// (Docker's and runc's defaults): the kernel's memory (/proc/kcore), its
// keyrings, its timers and scheduler (which leak what other tenants do),
// the firmware's tables.
var MaskedPaths = []string{
	"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
	"/sys/devices/virtual/powercap",
}

// ReadonlyPaths are what of /proc a container sees but cannot change:
// every sysctl, the magic SysRq key, interrupts' CPUs, buses, filesystems.
var ReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}

// endregion defaults

// Settings are a container's fences, decided from its HostConfig.
type Settings struct {
	Privileged bool
	Caps       []string // the capabilities kept (canonical names)
	Added      []string // of those, the ones --cap-add asked for
	// Seccomp is "builtin" (Docker's default profile), "unconfined" or
	// "custom" (a profile given as --security-opt seccomp=FILE).
	Seccomp         string
	Profile         *Profile
	NoNewPrivileges bool
	MaskedPaths     []string
	ReadonlyPaths   []string
}

// region decide
// Decide reads what HostConfig asks (Privileged, CapAdd, CapDrop,
// SecurityOpt) into the container's fences. minidocker's one difference
// from Docker: no_new_privs is on unless --security-opt
// no-new-privileges=false (Docker's daemon leaves it off unless told).
// all are the capabilities there are to give (see Caps).
func Decide(h types.HostConfig, all []string) (*Settings, error) {
	s := &Settings{Privileged: h.Privileged, Seccomp: "builtin", NoNewPrivileges: !h.Privileged,
		MaskedPaths: MaskedPaths, ReadonlyPaths: ReadonlyPaths}
	var err error
	if s.Caps, err = Caps(h.CapAdd, h.CapDrop, h.Privileged, all); err != nil {
		return nil, err
	}
	if !h.Privileged {
		if added, err := capSet(h.CapAdd); err == nil {
			for _, c := range s.Caps {
				if added[c] || added["ALL"] {
					s.Added = append(s.Added, c)
				}
			}
		}
	}
	for _, opt := range h.SecurityOpt {
		// Docker takes "key=value" and the older "key:value".
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, ok = strings.Cut(opt, ":")
		}
		switch {
		case k == "no-new-privileges":
			switch v {
			case "", "true":
				s.NoNewPrivileges = true
			case "false":
				s.NoNewPrivileges = false
			default:
				return nil, fmt.Errorf("invalid --security-opt %q: no-new-privileges takes true or false", opt)
			}
		case k == "seccomp" && ok && (v == "unconfined" || v == "builtin"):
			s.Seccomp = v
		case k == "seccomp" && ok && strings.HasPrefix(strings.TrimSpace(v), "{"):
			// The client read the file: the profile itself comes here.
			if s.Profile, err = ParseProfile([]byte(v)); err != nil {
				return nil, err
			}
			s.Seccomp = "custom"
		case k == "seccomp":
			return nil, fmt.Errorf("invalid --security-opt %q: seccomp takes unconfined, builtin or a profile's JSON (the client reads the file: --security-opt seccomp=profile.json)", opt)
		case k == "systempaths" && v == "unconfined":
			s.MaskedPaths, s.ReadonlyPaths = nil, nil
		case k == "apparmor" || k == "label":
			return nil, fmt.Errorf("--security-opt %s: minidocker has no AppArmor or SELinux support", k)
		default:
			return nil, fmt.Errorf("invalid --security-opt %q: minidocker knows no-new-privileges, seccomp=unconfined|builtin|FILE, systempaths=unconfined", opt)
		}
	}
	if h.Privileged {
		s.Seccomp, s.Profile, s.MaskedPaths, s.ReadonlyPaths = "unconfined", nil, nil, nil
	}
	if s.Seccomp == "builtin" {
		s.Profile = Builtin()
	}
	return s, nil
}

// endregion decide

// Filter is the seccomp program for these settings on this kernel, nil
// for an unconfined container.
func (s *Settings) Filter(kernel string) (*Program, error) {
	if s.Profile == nil {
		return nil, nil
	}
	return Compile(s.Profile, s.Caps, kernel)
}

// ReadProfileOpts is what a client does with --security-opt
// seccomp=FILE before it sends the request (the docker CLI does the
// same): the option then carries the file's JSON, compacted.
func ReadProfileOpts(opts []string, readFile func(string) ([]byte, error)) ([]string, error) {
	out := make([]string, 0, len(opts))
	for _, opt := range opts {
		k, v, _ := strings.Cut(opt, "=")
		if k != "seccomp" || v == "" || v == "unconfined" || v == "builtin" || strings.HasPrefix(v, "{") {
			out = append(out, opt)
			continue
		}
		b, err := readFile(v)
		if err != nil {
			return nil, fmt.Errorf("opening seccomp profile (%s) failed: %v", v, err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil {
			return nil, fmt.Errorf("seccomp profile %s: %v", v, err)
		}
		out = append(out, "seccomp="+compact.String())
	}
	return out, nil
}

// TmpfsList is HostConfig.Tmpfs as init takes it, "DST:OPTIONS", sorted
// (a parent before what is mounted inside it).
func TmpfsList(t map[string]string) ([]string, error) {
	var out []string
	for dst, opts := range t {
		if !strings.HasPrefix(dst, "/") || dst == "/" || strings.ContainsAny(dst, ":\t\n") {
			return nil, fmt.Errorf("invalid --tmpfs %q: the path must be absolute, not /, without ':'", dst)
		}
		for _, o := range strings.Split(opts, ",") {
			if strings.ContainsAny(o, " \t\n") {
				return nil, fmt.Errorf("invalid --tmpfs %s option %q", dst, o)
			}
		}
		out = append(out, dst+":"+opts)
	}
	sort.Strings(out)
	return out, nil
}
