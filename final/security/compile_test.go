package security

import (
	"encoding/json"
	"testing"

	"golang.org/x/net/bpf"
)

// run interprets a compiled program on one system call, as the kernel's
// seccomp does (only the instructions Compile emits).
func run(t *testing.T, p *Program, arch, nr uint32, args ...uint64) uint32 {
	t.Helper()
	var data [64]byte
	put := func(off int, v uint32) {
		data[off], data[off+1], data[off+2], data[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	put(offNr, nr)
	put(offArch, arch)
	for i, a := range args {
		put(offArgs+8*i, uint32(a))
		put(offArgs+8*i+4, uint32(a>>32))
	}
	var acc uint32
	for pc := 0; pc < len(p.Instructions); pc++ {
		switch in := p.Instructions[pc].Disassemble().(type) {
		case bpf.LoadAbsolute:
			o := int(in.Off)
			acc = uint32(data[o]) | uint32(data[o+1])<<8 | uint32(data[o+2])<<16 | uint32(data[o+3])<<24
		case bpf.ALUOpConstant:
			acc &= in.Val
		case bpf.Jump:
			pc += int(in.Skip)
		case bpf.JumpIf:
			// Disassemble names "jeq k, jt 0" JumpNotEqual, and so on.
			ok := map[bpf.JumpTest]bool{bpf.JumpEqual: acc == in.Val, bpf.JumpNotEqual: acc != in.Val,
				bpf.JumpGreaterThan: acc > in.Val, bpf.JumpLessOrEqual: acc <= in.Val,
				bpf.JumpGreaterOrEqual: acc >= in.Val, bpf.JumpLessThan: acc < in.Val}[in.Cond]
			if ok {
				pc += int(in.SkipTrue)
			} else {
				pc += int(in.SkipFalse)
			}
		case bpf.RetConstant:
			return in.Val
		default:
			t.Fatalf("instruction %d: unexpected %#v", pc, in)
		}
	}
	t.Fatal("ran off the end of the program")
	return 0
}

func TestBuiltinPolicy(t *testing.T) {
	if syscallNumbers == nil {
		t.Skip("no system call table for " + nativeArch)
	}
	p, err := Compile(Builtin(), DefaultCaps, "6.1")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("builtin: %d instructions, %d system calls", len(p.Instructions), p.Syscalls)
	nr := func(n string) uint32 { return syscallNumbers[n] }
	eperm := uint32(retErrno | errEPERM)
	for _, c := range []struct {
		name string
		args []uint64
		want uint32
	}{
		{"read", nil, retAllow},
		{"mount", nil, eperm},
		{"reboot", nil, eperm},
		{"keyctl", nil, eperm},
		{"clone", []uint64{0x11 | 0x100 | 0x4000}, retAllow}, // fork/vfork-like
		{"clone", []uint64{0x20000}, eperm},                  // CLONE_NEWNS
		{"clone", []uint64{0x10000000 | 0x11}, eperm},        // CLONE_NEWUSER
		{"clone", []uint64{1 << 32}, retAllow},               // high word: no flag there
		{"clone3", nil, retErrno | errENOSYS},                // glibc falls back to clone
		{"personality", []uint64{0}, retAllow},               // PER_LINUX
		{"personality", []uint64{0xffffffff}, retAllow},      // the query
		{"personality", []uint64{0x0400000}, eperm},          // READ_IMPLIES_EXEC
		{"personality", []uint64{0x100000000}, eperm},        // high bits set
		{"socket", []uint64{2}, retAllow},                    // AF_INET
		{"socket", []uint64{40}, eperm},                      // AF_VSOCK
		{"socket", []uint64{40 | 1<<32}, retAllow},           // NE on 64 bits
		{"open_by_handle_at", nil, eperm},                    // no CAP_DAC_READ_SEARCH
		{"ptrace", nil, retAllow},                            // kernel >= 4.8
		{"swapoff", nil, eperm},
	} {
		if nr(c.name) == 0 && c.name != "read" {
			continue // not on this architecture
		}
		if got := run(t, p, auditArch, nr(c.name), c.args...); got != c.want {
			t.Errorf("%s%v: %#x, want %#x", c.name, c.args, got, c.want)
		}
	}
	if got := run(t, p, 0x40000003, 1); got != retKillProcess { // AUDIT_ARCH_I386
		t.Errorf("a call of another architecture: %#x, want KILL_PROCESS", got)
	}
	if nativeArch == "amd64" {
		if got := run(t, p, auditArch, x32ABI|0); got != retKillProcess {
			t.Errorf("an x32 call: %#x, want KILL_PROCESS", got)
		}
	}
	// With CAP_SYS_ADMIN, mount and clone's namespaces are allowed.
	admin, _ := Compile(Builtin(), append(append([]string{}, DefaultCaps...), "CAP_SYS_ADMIN"), "6.1")
	if got := run(t, admin, auditArch, nr("clone"), 0x20000); got != retAllow {
		t.Errorf("clone(CLONE_NEWNS) with CAP_SYS_ADMIN: %#x", got)
	}
	if got := run(t, admin, auditArch, nr("mount")); got != retAllow {
		t.Errorf("mount with CAP_SYS_ADMIN: %#x", got)
	}
	// Before 4.8, no ptrace.
	old, _ := Compile(Builtin(), DefaultCaps, "4.4")
	if got := run(t, old, auditArch, nr("ptrace")); got != eperm {
		t.Errorf("ptrace on 4.4: %#x", got)
	}
}

func TestCompareOps(t *testing.T) {
	if syscallNumbers == nil {
		t.Skip("no system call table for " + nativeArch)
	}
	big := uint64(5)<<32 | 7
	for _, c := range []struct {
		op   string
		arg  uint64
		want bool
	}{
		{"SCMP_CMP_EQ", big, true}, {"SCMP_CMP_EQ", 7, false},
		{"SCMP_CMP_NE", big, false}, {"SCMP_CMP_NE", 7, true},
		{"SCMP_CMP_GT", big + 1, true}, {"SCMP_CMP_GT", big, false}, {"SCMP_CMP_GT", 1 << 40, true}, {"SCMP_CMP_GT", 8, false},
		{"SCMP_CMP_GE", big, true}, {"SCMP_CMP_GE", big - 1, false},
		{"SCMP_CMP_LT", big - 1, true}, {"SCMP_CMP_LT", big, false}, {"SCMP_CMP_LT", 1 << 40, false}, {"SCMP_CMP_LT", 9, true},
		{"SCMP_CMP_LE", big, true}, {"SCMP_CMP_LE", big + 1, false},
	} {
		p := &Profile{DefaultAction: "SCMP_ACT_ERRNO", Syscalls: []SyscallRule{
			{Names: []string{"write"}, Action: "SCMP_ACT_ALLOW", Args: []Arg{{Index: 2, Value: big, Op: c.op}}}}}
		prog, err := Compile(p, nil, "6.1")
		if err != nil {
			t.Fatal(err)
		}
		got := run(t, prog, auditArch, syscallNumbers["write"], 0, 0, c.arg) == retAllow
		if got != c.want {
			t.Errorf("%s %#x against %#x: %v, want %v", c.op, c.arg, big, got, c.want)
		}
	}
	masked := &Profile{DefaultAction: "SCMP_ACT_KILL", Syscalls: []SyscallRule{
		{Names: []string{"write"}, Action: "SCMP_ACT_ALLOW", Args: []Arg{{Index: 0, Value: 0xff00, ValueTwo: 0x1200, Op: "SCMP_CMP_MASKED_EQ"}}}}}
	prog, _ := Compile(masked, nil, "6.1")
	if run(t, prog, auditArch, syscallNumbers["write"], 0x12ab) != retAllow || run(t, prog, auditArch, syscallNumbers["write"], 0x13ab) != retKillThread {
		t.Error("SCMP_CMP_MASKED_EQ")
	}
}

func TestParseProfileRefuses(t *testing.T) {
	b, _ := json.Marshal(Builtin())
	if _, err := ParseProfile(b); err != nil {
		t.Fatalf("the builtin profile as JSON: %v", err)
	}
	for _, bad := range profileSeeds[1:] {
		if _, err := ParseProfile([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// profileSeeds: a good profile, then bad ones (also the fuzz corpus).
var profileSeeds = []string{
	`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}`,
	`{"defaultActon":"SCMP_ACT_ALLOW","syscalls":[]}`,
	`{"defaultAction":"SCMP_ACT_NOPE","syscalls":[]}`,
	`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}`,
	`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_SOMETIMES"}]}]}`,
	`{"defaultAction":"SCMP_ACT_ERRNO","listenerPath":"/run/agent.sock","syscalls":[]}`,
	`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"action":"SCMP_ACT_ALLOW"}]}`,
	`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]} {}`,
	`{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":70000,"syscalls":[]}`,
	`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_NOPE"]}}]}`,
	`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"four"}}]}`,
}

func TestCaps(t *testing.T) {
	for _, c := range []struct {
		add, drop []string
		priv      bool
		want      int
		has, not  string
	}{
		{nil, nil, false, 14, "CAP_CHOWN", "CAP_SYS_ADMIN"},
		{[]string{"sys_admin"}, nil, false, 15, "CAP_SYS_ADMIN", "CAP_NET_ADMIN"},
		{nil, []string{"ALL"}, false, 0, "", "CAP_CHOWN"},
		{[]string{"NET_BIND_SERVICE"}, []string{"all"}, false, 1, "CAP_NET_BIND_SERVICE", "CAP_CHOWN"},
		{[]string{"ALL"}, []string{"CAP_SYS_ADMIN"}, false, 40, "CAP_BPF", "CAP_SYS_ADMIN"},
		{nil, []string{"NET_RAW", "cap_mknod"}, false, 12, "CAP_KILL", "CAP_MKNOD"},
		{nil, []string{"ALL"}, true, 41, "CAP_SYS_ADMIN", ""},
	} {
		got, err := Caps(c.add, c.drop, c.priv, CapsOf(1<<41-1))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.want || (c.has != "" && !contains(got, c.has)) || (c.not != "" && contains(got, c.not)) {
			t.Errorf("add %v drop %v privileged %v: %v", c.add, c.drop, c.priv, got)
		}
	}
	if _, err := Caps([]string{"CAP_FLY"}, nil, false, CapsOf(1<<41-1)); err == nil {
		t.Error("an unknown capability was accepted")
	}
	// A sandbox that holds CAP_SYS_RESOURCE back: every one is 40, and
	// asking for it is an error.
	held := CapsOf((1<<41 - 1) &^ (1 << 24))
	if got, _ := Caps(nil, nil, true, held); len(got) != 40 {
		t.Errorf("privileged without CAP_SYS_RESOURCE to give: %d", len(got))
	}
	if _, err := Caps([]string{"SYS_RESOURCE"}, nil, false, held); err == nil {
		t.Error("a capability minidocker does not hold was given")
	}
}
