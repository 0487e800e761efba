package oci

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func defaultJSON(t testing.TB, edit func(*Spec)) []byte {
	s := Default()
	if edit != nil {
		edit(s)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hostileConfigs are config.json files a stranger could hand us; each
// must be refused by the parser, with the word given in its message.
var hostileConfigs = []struct {
	name, want string
	edit       func(*Spec)
	raw        string
}{
	{name: "not json", raw: "{", want: "config.json"},
	{name: "trailing", raw: `{"ociVersion":"1.0.2"} {}`, want: "trailing"},
	{name: "huge", raw: `{"ociVersion":"` + strings.Repeat("a", MaxConfig) + `"}`, want: "larger"},
	{name: "version", edit: func(s *Spec) { s.Version = "2.0.0" }, want: "ociVersion"},
	{name: "no root", edit: func(s *Spec) { s.Root = nil }, want: "root.path"},
	{name: "no process", edit: func(s *Spec) { s.Process = nil }, want: "process"},
	{name: "empty args", edit: func(s *Spec) { s.Process.Args = nil }, want: "process.args"},
	{name: "relative cwd", edit: func(s *Spec) { s.Process.Cwd = "tmp" }, want: "cwd"},
	{name: "bad env", edit: func(s *Spec) { s.Process.Env = []string{"NOEQUALS"} }, want: "env"},
	{name: "unknown rlimit", edit: func(s *Spec) { s.Process.Rlimits = []Rlimit{{Type: "RLIMIT_BOGUS"}} }, want: "rlimit"},
	{name: "soft above hard", edit: func(s *Spec) { s.Process.Rlimits = []Rlimit{{Type: "RLIMIT_NOFILE", Soft: 2, Hard: 1}} }, want: "soft"},
	{name: "unknown cap", edit: func(s *Spec) { s.Process.Capabilities.Bounding = []string{"CAP_BOGUS"} }, want: "capability"},
	{name: "oom score", edit: func(s *Spec) { v := 5000; s.Process.OOMScoreAdj = &v }, want: "oomScoreAdj"},
	{name: "hostname", edit: func(s *Spec) { s.Hostname = "a/b" }, want: "hostname"},
	{name: "relative mount", edit: func(s *Spec) { s.Mounts = append(s.Mounts, Mount{Destination: "etc", Type: "tmpfs"}) }, want: "absolute"},
	{name: "mount on root", edit: func(s *Spec) { s.Mounts = append(s.Mounts, Mount{Destination: "/../", Type: "tmpfs"}) }, want: "container's /"},
	{name: "unknown fs", edit: func(s *Spec) { s.Mounts = append(s.Mounts, Mount{Destination: "/x", Type: "ext4", Source: "/dev/sda"}) }, want: "type"},
	{name: "comma option", edit: func(s *Spec) {
		s.Mounts = append(s.Mounts, Mount{Destination: "/x", Type: "tmpfs", Options: []string{"size=1,uid=0"}})
	}, want: "option"},
	{name: "bind without source", edit: func(s *Spec) { s.Mounts = append(s.Mounts, Mount{Destination: "/x", Type: "bind"}) }, want: "source"},
	{name: "relative hook", edit: func(s *Spec) { s.Hooks = &Hooks{Prestart: []Hook{{Path: "true"}}} }, want: "hook"},
	{name: "no linux", edit: func(s *Spec) { s.Linux = nil }, want: "linux"},
	{name: "windows", edit: func(s *Spec) { s.Windows = json.RawMessage(`{}`) }, want: "platform"},
	{name: "duplicate ns", edit: func(s *Spec) { s.Linux.Namespaces = append(s.Linux.Namespaces, Namespace{Type: "pid"}) }, want: "twice"},
	{name: "unknown ns", edit: func(s *Spec) { s.Linux.Namespaces = append(s.Linux.Namespaces, Namespace{Type: "time"}) }, want: "namespace"},
	{name: "relative ns path", edit: func(s *Spec) { s.Linux.Namespaces[0].Path = "proc/1/ns/pid" }, want: "absolute"},
	{name: "sysctl path", edit: func(s *Spec) { s.Linux.Sysctl = map[string]string{"../../sysrq-trigger": "b"} }, want: "sysctl"},
	{name: "device outside dev", edit: func(s *Spec) { s.Linux.Devices = []Device{{Type: "c", Path: "/etc/passwd", Major: 1, Minor: 3}} }, want: "/dev"},
	{name: "device dotdot", edit: func(s *Spec) { s.Linux.Devices = []Device{{Type: "c", Path: "/dev/../etc/x", Major: 1, Minor: 3}} }, want: "/dev"},
	{name: "device type", edit: func(s *Spec) { s.Linux.Devices = []Device{{Type: "x", Path: "/dev/x"}} }, want: "type"},
	{name: "propagation", edit: func(s *Spec) { s.Linux.RootfsPropagation = "everywhere" }, want: "propagation"},
	{name: "cgroups path escape", edit: func(s *Spec) { s.Linux.CgroupsPath = "/../../x" }, want: "cgroupsPath"},
	{name: "device rule access", edit: func(s *Spec) { s.Linux.Resources.Devices = []DeviceRule{{Access: "rwx"}} }, want: "access"},
	{name: "swappiness", edit: func(s *Spec) {
		v := uint64(500)
		s.Linux.Resources.Memory = &Memory{Swappiness: &v}
	}, want: "swappiness"},
}

func TestParseHostile(t *testing.T) {
	for _, c := range hostileConfigs {
		b := []byte(c.raw)
		if c.edit != nil {
			b = defaultJSON(t, c.edit)
		}
		_, err := Parse(bytes.NewReader(b))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error about %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: the error is more than one line: %q", c.name, err)
		}
	}
	if _, err := Parse(bytes.NewReader(defaultJSON(t, nil))); err != nil {
		t.Errorf("the default config: %v", err)
	}
}

func TestMountFlags(t *testing.T) {
	f, err := MountFlags(Mount{Destination: "/data", Type: "bind", Source: "/srv", Options: []string{"rbind", "ro", "nosuid", "rslave"}})
	if err != nil || f.Flags != msBind|msRec|msRdonly|msNosuid || f.Propagation != msSlave|msRec || !f.Bind {
		t.Errorf("bind: %+v %v", f, err)
	}
	f, err = MountFlags(Mount{Destination: "/dev", Type: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}})
	if err != nil || f.Flags != msNosuid|msStrictatime || f.Data != "mode=755,size=65536k" || f.Bind {
		t.Errorf("tmpfs: %+v %v", f, err)
	}
}

// FuzzConfig: whatever the bytes, Parse returns (no panic, no hang), and
// what it accepts validates again after a round trip.
func FuzzConfig(f *testing.F) {
	f.Add(defaultJSON(f, nil))
	for _, c := range hostileConfigs {
		if c.edit != nil {
			f.Add(defaultJSON(f, c.edit))
		} else if len(c.raw) < 4096 {
			f.Add([]byte(c.raw))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		again, _ := json.Marshal(s)
		if _, err := Parse(bytes.NewReader(again)); err != nil {
			t.Fatalf("accepted, then refused after a round trip: %v", err)
		}
	})
}
