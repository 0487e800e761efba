// Package oci is minidocker-runc: an OCI runtime (the runtime-spec's
// config.json and runc's command line) built from minidocker's own
// mechanisms: the container's init (package pid1), its cgroups (package
// cgroups) and the lookups inside a root that strangers wrote (package
// inroot). Chapter: docs/13-oci-runtime.md.
//
// This file reads config.json. It is written by whoever hands us a bundle,
// so it is parsed with a size bound and checked before anything is made:
// every field we know is either applied or refused with one line, never
// silently ignored (the spec: a runtime MUST error when it cannot apply a
// property). Fields we do not know are ignored, as the spec asks.
package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"sync"
)

// MaxConfig bounds config.json: Docker's default seccomp profile makes a
// config of some 30 KiB; a megabyte is room for any honest one.
const MaxConfig = 1 << 20

// Spec is the part of runtime-spec v1.0 config.json this runtime reads.
type Spec struct {
	Version     string            `json:"ociVersion"`
	Process     *Process          `json:"process,omitempty"`
	Root        *Root             `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Mounts      []Mount           `json:"mounts,omitempty"`
	Hooks       *Hooks            `json:"hooks,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *Linux            `json:"linux,omitempty"`
	// The other platforms' sections: present means a bundle for another OS.
	Solaris json.RawMessage `json:"solaris,omitempty"`
	Windows json.RawMessage `json:"windows,omitempty"`
	VM      json.RawMessage `json:"vm,omitempty"`
}

type Process struct {
	Terminal        bool          `json:"terminal,omitempty"`
	ConsoleSize     *Box          `json:"consoleSize,omitempty"`
	User            User          `json:"user"`
	Args            []string      `json:"args,omitempty"`
	Env             []string      `json:"env,omitempty"`
	Cwd             string        `json:"cwd"`
	Capabilities    *Capabilities `json:"capabilities,omitempty"`
	Rlimits         []Rlimit      `json:"rlimits,omitempty"`
	NoNewPrivileges bool          `json:"noNewPrivileges,omitempty"`
	ApparmorProfile string        `json:"apparmorProfile,omitempty"`
	OOMScoreAdj     *int          `json:"oomScoreAdj,omitempty"`
	SelinuxLabel    string        `json:"selinuxLabel,omitempty"`
}

type Box struct {
	Height uint `json:"height"`
	Width  uint `json:"width"`
}

type User struct {
	UID            uint32   `json:"uid"`
	GID            uint32   `json:"gid"`
	Umask          *uint32  `json:"umask,omitempty"`
	AdditionalGids []uint32 `json:"additionalGids,omitempty"`
	Username       string   `json:"username,omitempty"`
}

type Capabilities struct {
	Bounding    []string `json:"bounding,omitempty"`
	Effective   []string `json:"effective,omitempty"`
	Inheritable []string `json:"inheritable,omitempty"`
	Permitted   []string `json:"permitted,omitempty"`
	Ambient     []string `json:"ambient,omitempty"`
}

type Rlimit struct {
	Type string `json:"type"`
	Hard uint64 `json:"hard"`
	Soft uint64 `json:"soft"`
}

type Root struct {
	Path     string `json:"path"`
	Readonly bool   `json:"readonly,omitempty"`
}

type Mount struct {
	Destination string   `json:"destination"`
	Type        string   `json:"type,omitempty"`
	Source      string   `json:"source,omitempty"`
	Options     []string `json:"options,omitempty"`
}

type Hook struct {
	Path    string   `json:"path"`
	Args    []string `json:"args,omitempty"`
	Env     []string `json:"env,omitempty"`
	Timeout *int     `json:"timeout,omitempty"`
}

type Hooks struct {
	Prestart        []Hook `json:"prestart,omitempty"`
	CreateRuntime   []Hook `json:"createRuntime,omitempty"`
	CreateContainer []Hook `json:"createContainer,omitempty"`
	StartContainer  []Hook `json:"startContainer,omitempty"`
	Poststart       []Hook `json:"poststart,omitempty"`
	Poststop        []Hook `json:"poststop,omitempty"`
}

type Linux struct {
	UIDMappings       []IDMapping       `json:"uidMappings,omitempty"`
	GIDMappings       []IDMapping       `json:"gidMappings,omitempty"`
	Sysctl            map[string]string `json:"sysctl,omitempty"`
	Resources         *Resources        `json:"resources,omitempty"`
	CgroupsPath       string            `json:"cgroupsPath,omitempty"`
	Namespaces        []Namespace       `json:"namespaces,omitempty"`
	Devices           []Device          `json:"devices,omitempty"`
	Seccomp           json.RawMessage   `json:"seccomp,omitempty"`
	RootfsPropagation string            `json:"rootfsPropagation,omitempty"`
	MaskedPaths       []string          `json:"maskedPaths,omitempty"`
	ReadonlyPaths     []string          `json:"readonlyPaths,omitempty"`
	MountLabel        string            `json:"mountLabel,omitempty"`
	IntelRdt          json.RawMessage   `json:"intelRdt,omitempty"`
	Personality       json.RawMessage   `json:"personality,omitempty"`
}

type IDMapping struct {
	ContainerID uint32 `json:"containerID"`
	HostID      uint32 `json:"hostID"`
	Size        uint32 `json:"size"`
}

type Namespace struct {
	Type string `json:"type"`
	Path string `json:"path,omitempty"`
}

type Device struct {
	Type     string  `json:"type"`
	Path     string  `json:"path"`
	Major    int64   `json:"major"`
	Minor    int64   `json:"minor"`
	FileMode *uint32 `json:"fileMode,omitempty"`
	UID      *uint32 `json:"uid,omitempty"`
	GID      *uint32 `json:"gid,omitempty"`
}

type Resources struct {
	Devices        []DeviceRule    `json:"devices,omitempty"`
	Memory         *Memory         `json:"memory,omitempty"`
	CPU            *CPU            `json:"cpu,omitempty"`
	Pids           *Pids           `json:"pids,omitempty"`
	BlockIO        json.RawMessage `json:"blockIO,omitempty"`
	HugepageLimits json.RawMessage `json:"hugepageLimits,omitempty"`
	Network        json.RawMessage `json:"network,omitempty"`
	Rdma           json.RawMessage `json:"rdma,omitempty"`
	Unified        json.RawMessage `json:"unified,omitempty"`
}

type DeviceRule struct {
	Allow  bool   `json:"allow"`
	Type   string `json:"type,omitempty"`
	Major  *int64 `json:"major,omitempty"`
	Minor  *int64 `json:"minor,omitempty"`
	Access string `json:"access,omitempty"`
}

type Memory struct {
	Limit            *int64          `json:"limit,omitempty"`
	Reservation      *int64          `json:"reservation,omitempty"`
	Swap             *int64          `json:"swap,omitempty"`
	Kernel           *int64          `json:"kernel,omitempty"`
	KernelTCP        *int64          `json:"kernelTCP,omitempty"`
	Swappiness       *uint64         `json:"swappiness,omitempty"`
	DisableOOMKiller *bool           `json:"disableOOMKiller,omitempty"`
	UseHierarchy     json.RawMessage `json:"useHierarchy,omitempty"`
}

type CPU struct {
	Shares          *uint64 `json:"shares,omitempty"`
	Quota           *int64  `json:"quota,omitempty"`
	Period          *uint64 `json:"period,omitempty"`
	RealtimeRuntime *int64  `json:"realtimeRuntime,omitempty"`
	RealtimePeriod  *uint64 `json:"realtimePeriod,omitempty"`
	Cpus            string  `json:"cpus,omitempty"`
	Mems            string  `json:"mems,omitempty"`
}

type Pids struct {
	Limit int64 `json:"limit"`
}

// region parse
// Parse reads config.json (at most MaxConfig bytes) and checks it.
func Parse(r io.Reader) (*Spec, error) {
	var s Spec
	if err := decodeOne(r, "config.json", &s); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// decodeOne reads one JSON object of at most MaxConfig bytes into v: a
// stranger's file is bounded before it is parsed, and refused whole.
func decodeOne(r io.Reader, name string, v any) error {
	b, err := io.ReadAll(io.LimitReader(r, MaxConfig+1))
	if err != nil {
		return err
	}
	if len(b) > MaxConfig {
		return fmt.Errorf("%s is larger than %d bytes", name, MaxConfig)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	if d.More() {
		return fmt.Errorf("%s: trailing data after the object", name)
	}
	return nil
}

// endregion parse

// Namespace types, as config.json names them.
var nsTypes = map[string]bool{"pid": true, "network": true, "mount": true, "ipc": true, "uts": true, "user": true, "cgroup": true}

// Rlimits this runtime knows, by config.json's names.
var rlimitNames = map[string]int{"RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3,
	"RLIMIT_CORE": 4, "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8,
	"RLIMIT_AS": 9, "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
	"RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15}

// validVersion is compiled when a config is read (create, run), not at
// every command's start.
var validVersion = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^1\.[0-9]+\.[0-9]+(-[0-9A-Za-z.+-]+)?$`)
})

// region validate
// Validate checks what can be checked before anything is made: shapes,
// names, values. What the kernel must say (a path joined, a device made)
// is checked when it is done, and undone on failure.
func (s *Spec) Validate() error {
	if !validVersion().MatchString(s.Version) {
		return fmt.Errorf("config.json: ociVersion %q: this runtime reads runtime-spec 1.x", s.Version)
	}
	if !isNull(s.Solaris) || !isNull(s.Windows) || !isNull(s.VM) {
		return errors.New("config.json is for another platform (solaris, windows or vm): this runtime runs Linux containers")
	}
	if s.Root == nil || s.Root.Path == "" {
		return errors.New("config.json: root.path is required")
	}
	p := s.Process
	if p == nil {
		return errors.New("config.json: process is required (this runtime starts a process at start)")
	}
	if err := p.check(); err != nil {
		return err
	}
	if len(s.Hostname) > 64 || strings.ContainsAny(s.Hostname, "\x00/ ") {
		return fmt.Errorf("config.json: hostname %q is not a hostname", s.Hostname)
	}
	for _, m := range s.Mounts {
		if _, err := MountFlags(m); err != nil {
			return err
		}
	}
	if s.Hooks != nil {
		for _, hs := range [][]Hook{s.Hooks.Prestart, s.Hooks.CreateRuntime, s.Hooks.CreateContainer, s.Hooks.StartContainer, s.Hooks.Poststart, s.Hooks.Poststop} {
			for _, h := range hs {
				if !path.IsAbs(h.Path) {
					return fmt.Errorf("config.json: hook path %q must be absolute", h.Path)
				}
				if h.Timeout != nil && *h.Timeout <= 0 {
					return fmt.Errorf("config.json: hook %s: timeout must be positive", h.Path)
				}
			}
		}
	}
	if s.Linux == nil {
		return errors.New("config.json: linux is required (this runtime runs Linux containers)")
	}
	return s.Linux.validate()
}

func (l *Linux) validate() error {
	seen := map[string]bool{}
	for _, ns := range l.Namespaces {
		if !nsTypes[ns.Type] {
			return fmt.Errorf("config.json: unknown namespace type %q", ns.Type)
		}
		if seen[ns.Type] {
			return fmt.Errorf("config.json: namespace %s given twice", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path != "" && !path.IsAbs(ns.Path) {
			return fmt.Errorf("config.json: namespace %s: path %q must be absolute", ns.Type, ns.Path)
		}
	}
	for k, v := range l.Sysctl {
		if k == "" || strings.Contains(k, "..") || strings.ContainsAny(k, "/\x00") || strings.ContainsRune(v, 0) {
			return fmt.Errorf("config.json: sysctl %q is not a sysctl name", k)
		}
	}
	for _, d := range l.Devices {
		if !path.IsAbs(d.Path) || !strings.HasPrefix(path.Clean(d.Path), "/dev/") {
			return fmt.Errorf("config.json: device path %q must be under /dev", d.Path)
		}
		switch d.Type {
		case "c", "b", "u", "p":
		default:
			return fmt.Errorf("config.json: device %s: type %q is not c, b, u or p", d.Path, d.Type)
		}
		if d.Major < 0 || d.Minor < 0 || d.Major > 0xfff || d.Minor > 0xfffff {
			return fmt.Errorf("config.json: device %s: bad major:minor %d:%d", d.Path, d.Major, d.Minor)
		}
	}
	switch l.RootfsPropagation {
	case "", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable":
	default:
		return fmt.Errorf("config.json: rootfsPropagation %q is not a propagation", l.RootfsPropagation)
	}
	for _, p := range append(append([]string{}, l.MaskedPaths...), l.ReadonlyPaths...) {
		if !path.IsAbs(p) {
			return fmt.Errorf("config.json: masked or read-only path %q must be absolute", p)
		}
	}
	if l.Resources != nil {
		if err := l.Resources.Check(); err != nil {
			return fmt.Errorf("config.json: %v", err)
		}
	}
	if err := CheckCgroupsPath(l.CgroupsPath); err != nil {
		return err
	}
	return nil
}

// endregion validate

// cpuList is the kernel's list syntax for cpuset.cpus and cpuset.mems:
// numbers and ranges, comma-separated ("0-3,8").
var cpuList = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[0-9]{1,4}(-[0-9]{1,4})?(,[0-9]{1,4}(-[0-9]{1,4})?)*$`)
})

// region resources
// Check refuses limits no kernel takes, before a cgroup file sees them:
// for config.json at create, and for update's document and flags, which
// a caller may send to a running container at any time. The ranges are
// the kernel's: cpu.cfs_period_us takes 1 ms to 1 s, a quota is -1 (none)
// or at least 1 ms, cpu.shares at most 262144.
func (r *Resources) Check() error {
	if r.Pids != nil && r.Pids.Limit < -1 {
		return fmt.Errorf("pids.limit %d: a number of processes or -1", r.Pids.Limit)
	}
	if m := r.Memory; m != nil {
		for _, v := range []*int64{m.Limit, m.Reservation, m.Swap} {
			if v != nil && *v < -1 {
				return fmt.Errorf("memory value %d: a byte count or -1", *v)
			}
		}
		if m.Swappiness != nil && *m.Swappiness > 100 {
			return fmt.Errorf("memory.swappiness %d is above 100", *m.Swappiness)
		}
	}
	if c := r.CPU; c != nil {
		if c.Shares != nil && *c.Shares > 262144 {
			return fmt.Errorf("cpu.shares %d is above 262144", *c.Shares)
		}
		if c.Period != nil && *c.Period != 0 && (*c.Period < 1000 || *c.Period > 1000000) {
			return fmt.Errorf("cpu.period %d: between 1000 and 1000000 microseconds", *c.Period)
		}
		if c.Quota != nil && *c.Quota != 0 && *c.Quota != -1 && *c.Quota < 1000 {
			return fmt.Errorf("cpu.quota %d: -1 or at least 1000 microseconds", *c.Quota)
		}
		for name, v := range map[string]string{"cpus": c.Cpus, "mems": c.Mems} {
			if v != "" && (len(v) > 1024 || !cpuList().MatchString(v)) {
				return fmt.Errorf("cpu.%s %.40q: a list such as 0-3,8", name, v)
			}
		}
	}
	for _, d := range r.Devices {
		switch d.Type {
		case "", "a", "c", "b":
		default:
			return fmt.Errorf("device rule type %q is not a, c or b", d.Type)
		}
		if strings.Trim(d.Access, "rwm") != "" {
			return fmt.Errorf("device rule access %q is not made of r, w and m", d.Access)
		}
	}
	return nil
}

// ParseResources reads a linux.resources document (update's --resources:
// at most MaxConfig bytes, one JSON object) and checks it.
func ParseResources(rd io.Reader) (*Resources, error) {
	var r Resources
	if err := decodeOne(rd, "--resources", &r); err != nil {
		return nil, err
	}
	if err := r.Check(); err != nil {
		return nil, fmt.Errorf("--resources: %v", err)
	}
	return &r, nil
}

// endregion resources

// CheckCgroupsPath refuses a cgroupsPath that leaves the cgroup tree: an
// absolute or relative path ("/docker/ID", "pod/ctr") or systemd's
// "slice:prefix:name", none with "..".
func CheckCgroupsPath(p string) error {
	for _, part := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == ':' }) {
		if part == ".." || part == "." {
			return fmt.Errorf("config.json: cgroupsPath %q: no . or .. components", p)
		}
	}
	if strings.ContainsAny(p, "\x00\n") {
		return fmt.Errorf("config.json: cgroupsPath %q", p)
	}
	return nil
}

// isNull: a field absent or null.
func isNull(raw []byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// check is what a process (config.json's, or exec's --process) must be.
func (p *Process) check() error {
	if len(p.Args) == 0 || p.Args[0] == "" {
		return errors.New("config.json: process.args must name a program")
	}
	if !path.IsAbs(p.Cwd) {
		return fmt.Errorf("config.json: process.cwd %q must be an absolute path", p.Cwd)
	}
	for _, e := range p.Env {
		if !strings.Contains(e, "=") {
			return fmt.Errorf("config.json: process.env entry %q is not KEY=VALUE", e)
		}
	}
	seen := map[string]bool{}
	for _, r := range p.Rlimits {
		if _, ok := rlimitNames[r.Type]; !ok {
			return fmt.Errorf("config.json: unknown rlimit %q", r.Type)
		}
		if seen[r.Type] {
			return fmt.Errorf("config.json: rlimit %s given twice", r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return fmt.Errorf("config.json: rlimit %s: soft %d is above hard %d", r.Type, r.Soft, r.Hard)
		}
	}
	if p.OOMScoreAdj != nil && (*p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000) {
		return fmt.Errorf("config.json: process.oomScoreAdj %d is outside -1000..1000", *p.OOMScoreAdj)
	}
	if p.Capabilities != nil {
		for _, set := range [][]string{p.Capabilities.Bounding, p.Capabilities.Effective, p.Capabilities.Inheritable, p.Capabilities.Permitted, p.Capabilities.Ambient} {
			for _, c := range set {
				if _, ok := capNumber(c); !ok {
					return fmt.Errorf("config.json: unknown capability %q", c)
				}
			}
		}
	}
	return nil
}
