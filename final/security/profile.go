package security

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// region profile
// Profile is a seccomp profile in Docker's JSON format
// (`docker run --security-opt seccomp=profile.json`, moby's
// profiles/seccomp): a default action for every system call, then rules
// that name system calls and say what happens to them, each rule kept or
// left out by what the container has (capabilities, architecture, kernel).
type Profile struct {
	DefaultAction   string        `json:"defaultAction"`
	DefaultErrnoRet *uint         `json:"defaultErrnoRet,omitempty"`
	Architectures   []string      `json:"architectures,omitempty"`
	ArchMap         []ArchMapping `json:"archMap,omitempty"`
	Syscalls        []SyscallRule `json:"syscalls"`
	Flags           []string      `json:"flags,omitempty"`
	ListenerPath    string        `json:"listenerPath,omitempty"`
}

// ArchMapping names an architecture and the ones it also runs (x86_64
// runs i386 and x32 programs).
type ArchMapping struct {
	Arch      string   `json:"architecture"`
	SubArches []string `json:"subArchitectures"`
}

// SyscallRule is one rule: these system calls get this action, if their
// arguments match Args (all of them) and the container matches Includes
// and not Excludes.
type SyscallRule struct {
	Names    []string `json:"names,omitempty"`
	Name     string   `json:"name,omitempty"` // the old one-name form
	Action   string   `json:"action"`
	ErrnoRet *uint    `json:"errnoRet,omitempty"`
	Args     []Arg    `json:"args,omitempty"`
	Comment  string   `json:"comment,omitempty"`
	Includes *Filter  `json:"includes,omitempty"`
	Excludes *Filter  `json:"excludes,omitempty"`
}

// Arg compares one argument of the call: "SCMP_CMP_EQ" with Value, or
// "SCMP_CMP_MASKED_EQ": (argument & Value) == ValueTwo.
type Arg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
	Op       string `json:"op"`
}

// Filter is a rule's condition on the container: every capability in
// Caps (includes) or any of them (excludes), the architecture (Go's
// names: amd64, arm64), a minimum kernel ("4.8").
type Filter struct {
	Caps      []string `json:"caps,omitempty"`
	Arches    []string `json:"arches,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// endregion profile

// Limits on a profile from outside: a real one (Docker's) has about 30
// rules and 400 names.
const (
	maxProfileBytes = 1 << 20
	maxRules        = 4096
	maxNames        = 8192
)

// ParseProfile reads a profile in Docker's JSON format and checks
// everything the compiler relies on: known actions and operators,
// argument indexes 0-5, no notify listener (minidocker has no agent to
// answer it). Unknown fields are refused, as a typo ("defaultActon") must
// not silently leave a container unfiltered.
func ParseProfile(b []byte) (*Profile, error) {
	if len(b) > maxProfileBytes {
		return nil, fmt.Errorf("seccomp profile: %d bytes, more than the %d allowed", len(b), maxProfileBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("seccomp profile: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("seccomp profile: data after the JSON object")
	}
	return &p, p.check()
}

func (p *Profile) check() error {
	if _, err := action(p.DefaultAction, p.DefaultErrnoRet); err != nil {
		return fmt.Errorf("seccomp profile: defaultAction: %v", err)
	}
	if p.ListenerPath != "" {
		return fmt.Errorf("seccomp profile: listenerPath (SCMP_ACT_NOTIFY) is not supported by minidocker")
	}
	for _, f := range p.Flags {
		if f != "SECCOMP_FILTER_FLAG_LOG" && f != "SECCOMP_FILTER_FLAG_SPEC_ALLOW" && f != "SECCOMP_FILTER_FLAG_TSYNC" {
			return fmt.Errorf("seccomp profile: unknown flag %q", f)
		}
	}
	if len(p.Syscalls) > maxRules {
		return fmt.Errorf("seccomp profile: %d rules, more than the %d allowed", len(p.Syscalls), maxRules)
	}
	names := 0
	for i, r := range p.Syscalls {
		names += len(r.Names) + 1
		if names > maxNames {
			return fmt.Errorf("seccomp profile: more than %d system call names", maxNames)
		}
		if len(r.Names) == 0 && r.Name == "" {
			return fmt.Errorf("seccomp profile: rule %d names no system call", i)
		}
		if _, err := action(r.Action, r.ErrnoRet); err != nil {
			return fmt.Errorf("seccomp profile: rule %d: %v", i, err)
		}
		if len(r.Args) > 6 {
			return fmt.Errorf("seccomp profile: rule %d: %d arguments (a system call has at most 6)", i, len(r.Args))
		}
		for _, a := range r.Args {
			if a.Index > 5 {
				return fmt.Errorf("seccomp profile: rule %d: argument index %d (0 to 5)", i, a.Index)
			}
			if !knownOp(a.Op) {
				return fmt.Errorf("seccomp profile: rule %d: unknown operator %q", i, a.Op)
			}
		}
		for _, f := range []*Filter{r.Includes, r.Excludes} {
			if f == nil {
				continue
			}
			for _, c := range f.Caps {
				if _, err := CapName(c); err != nil {
					return fmt.Errorf("seccomp profile: rule %d: %v", i, err)
				}
			}
			if f.MinKernel != "" {
				if _, _, err := parseKernel(f.MinKernel); err != nil {
					return fmt.Errorf("seccomp profile: rule %d: minKernel: %v", i, err)
				}
			}
		}
	}
	return nil
}

// The values a filter returns to the kernel (linux/seccomp.h): the action
// in the high 16 bits, its data (an errno) in the low 16.
const (
	retKillThread  = 0x00000000
	retKillProcess = 0x80000000
	retTrap        = 0x00030000
	retErrno       = 0x00050000
	retTrace       = 0x7ff00000
	retLog         = 0x7ffc0000
	retAllow       = 0x7fff0000
	errEPERM       = 1
	errENOSYS      = 38
)

// action is what a rule's action string returns to the kernel; an
// SCMP_ACT_ERRNO without errnoRet is EPERM, as runc makes it.
func action(name string, errno *uint) (uint32, error) {
	data := uint32(errEPERM)
	if errno != nil {
		if *errno > 0xffff {
			return 0, fmt.Errorf("errnoRet %d is not an errno", *errno)
		}
		data = uint32(*errno)
	}
	switch name {
	case "SCMP_ACT_ALLOW":
		return retAllow, nil
	case "SCMP_ACT_ERRNO":
		return retErrno | data, nil
	case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD":
		return retKillThread, nil
	case "SCMP_ACT_KILL_PROCESS":
		return retKillProcess, nil
	case "SCMP_ACT_TRAP":
		return retTrap, nil
	case "SCMP_ACT_TRACE":
		if errno == nil {
			data = errENOSYS
		}
		return retTrace | data, nil
	case "SCMP_ACT_LOG":
		return retLog, nil
	case "SCMP_ACT_NOTIFY":
		return 0, fmt.Errorf("SCMP_ACT_NOTIFY is not supported by minidocker")
	}
	return 0, fmt.Errorf("unknown action %q", name)
}

func knownOp(op string) bool {
	switch op {
	case "SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ":
		return true
	}
	return false
}

// parseKernel reads "4.8" (or "5.10.2") as major and minor.
func parseKernel(s string) (int, int, error) {
	f := strings.SplitN(s, ".", 3)
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("%q: want MAJOR.MINOR", s)
	}
	maj, err1 := strconv.Atoi(f[0])
	min, err2 := strconv.Atoi(strings.TrimRightFunc(f[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil || maj < 0 || min < 0 {
		return 0, 0, fmt.Errorf("%q: want MAJOR.MINOR", s)
	}
	return maj, min, nil
}
