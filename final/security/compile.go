package security

import (
	"encoding/binary"
	"fmt"
	"sort"

	"golang.org/x/net/bpf"
)

// Program is a compiled seccomp filter: classic BPF instructions, the
// program seccomp(2) attaches to a process. The kernel runs it on every
// system call the process makes, with the call's number, architecture and
// arguments (struct seccomp_data) as its input, and does what it returns.
type Program struct {
	Instructions []bpf.RawInstruction
	Syscalls     int // system calls with a rule of their own
}

// Bytes is the program as the kernel takes it: an array of struct
// sock_filter {u16 code; u8 jt; u8 jf; u32 k}, in the machine's byte order
// (little-endian: amd64 and arm64).
func (p *Program) Bytes() []byte {
	b := make([]byte, 0, 8*len(p.Instructions))
	for _, in := range p.Instructions {
		b = binary.LittleEndian.AppendUint16(b, in.Op)
		b = append(b, in.Jt, in.Jf)
		b = binary.LittleEndian.AppendUint32(b, in.K)
	}
	return b
}

// The input of the program, struct seccomp_data: the call's number at
// offset 0, the architecture at 4, the six arguments (64 bits each) from 16.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
	// x32ABI is the bit an x86_64 kernel sets in the numbers of the x32
	// ABI's system calls: the same AUDIT_ARCH_X86_64, other numbers.
	x32ABI = 0x40000000
	// maxInstructions is BPF_MAXINSNS, the kernel's limit.
	maxInstructions = 4096
)

// rule is one profile rule reduced to what the program checks.
type rule struct {
	ret  uint32
	args []Arg
}

// region compile
// Compile turns a profile into a program for this architecture and a
// container with these capabilities on this kernel (MAJOR.MINOR). Rules
// whose conditions the container does not meet are left out now, so that
// the program only compares numbers. Its shape:
//
//	ld  [4]                      ; arch
//	jeq #AUDIT_ARCH_X86_64, +1   ; a call of another ABI (i386's int 0x80) ...
//	ret #KILL_PROCESS            ; ... kills: its numbers mean other calls
//	ld  [0]                      ; nr
//	jge #0x40000000, +0, +1      ; the x32 ABI: also other numbers
//	ret #KILL_PROCESS
//	jeq #0 (read), +0, +1        ; one pair per allowed call ...
//	ret #ALLOW
//	...                          ; ... a block for calls with argument rules
//	ret #ERRNO(EPERM)            ; everything else: the default action
func Compile(p *Profile, caps []string, kernel string) (*Program, error) {
	if syscallNumbers == nil {
		return nil, fmt.Errorf("seccomp: minidocker has no system call table for %s: run with --security-opt seccomp=unconfined", nativeArch)
	}
	def, err := action(p.DefaultAction, p.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, c := range caps {
		have[c] = true
	}
	byNr := map[uint32][]rule{}
	for _, r := range p.Syscalls {
		if !applies(r, have, kernel) {
			continue
		}
		ret, err := action(r.Action, r.ErrnoRet)
		if err != nil {
			return nil, err
		}
		names := r.Names
		if r.Name != "" {
			names = append(append([]string{}, names...), r.Name)
		}
		for _, n := range names {
			if nr, ok := syscallNumbers[n]; ok { // another architecture's call: not here
				byNr[nr] = append(byNr[nr], rule{ret: ret, args: r.Args})
			}
		}
	}
	nrs := make([]uint32, 0, len(byNr))
	for nr := range byNr {
		nrs = append(nrs, nr)
	}
	sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })

	a := newAsm()
	a.emit(bpf.LoadAbsolute{Off: offArch, Size: 4})
	a.jump(bpf.JumpEqual, auditArch, "nr", "")
	a.emit(bpf.RetConstant{Val: retKillProcess})
	a.label("nr")
	a.emit(bpf.LoadAbsolute{Off: offNr, Size: 4})
	if nativeArch == "amd64" {
		a.jump(bpf.JumpGreaterOrEqual, x32ABI, "", "calls")
		a.emit(bpf.RetConstant{Val: retKillProcess})
	}
	a.label("calls")
	for _, nr := range nrs {
		rules := byNr[nr]
		if len(rules[0].args) == 0 { // the common case: a pair
			a.jump(bpf.JumpEqual, nr, "", a.next(1))
			a.emit(bpf.RetConstant{Val: rules[0].ret})
			continue
		}
		// A block: each rule's argument checks, the first that passes
		// returns its action; none: the default. A jeq reaches 255
		// instructions at most, so the block is skipped with a ja.
		block, after := a.fresh(), a.fresh()
		a.jump(bpf.JumpEqual, nr, block, "")
		a.ja(after)
		a.label(block)
		for _, r := range rules {
			fail := a.fresh()
			for _, arg := range r.args {
				a.compare(arg, fail)
			}
			a.emit(bpf.RetConstant{Val: r.ret})
			a.label(fail)
			if len(r.args) == 0 {
				break // what follows a rule without arguments is never reached
			}
		}
		a.emit(bpf.RetConstant{Val: def})
		a.label(after) // reached by the ja only: A still holds the number
	}
	a.emit(bpf.RetConstant{Val: def})
	raw, err := a.assemble()
	if err != nil {
		return nil, err
	}
	if len(raw) > maxInstructions {
		return nil, fmt.Errorf("seccomp profile: the filter has %d instructions, more than the kernel's %d", len(raw), maxInstructions)
	}
	return &Program{Instructions: raw, Syscalls: len(nrs)}, nil
}

// endregion compile

// applies tells whether a rule is for this container: every capability
// its includes name, none its excludes name, this architecture, this
// kernel or a later one. (moby's setupSeccomp decides the same way.)
func applies(r SyscallRule, have map[string]bool, kernel string) bool {
	if f := r.Includes; f != nil {
		for _, c := range f.Caps {
			if n, _ := CapName(c); !have[n] {
				return false
			}
		}
		if len(f.Arches) > 0 && !contains(f.Arches, nativeArch) {
			return false
		}
		if f.MinKernel != "" && !kernelAtLeast(kernel, f.MinKernel) {
			return false
		}
	}
	if f := r.Excludes; f != nil {
		for _, c := range f.Caps {
			if n, _ := CapName(c); have[n] {
				return false
			}
		}
		if contains(f.Arches, nativeArch) {
			return false
		}
		if f.MinKernel != "" && kernelAtLeast(kernel, f.MinKernel) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// kernelAtLeast compares MAJOR.MINOR versions; an unreadable running
// version counts as new.
func kernelAtLeast(running, min string) bool {
	rmaj, rmin, err := parseKernel(running)
	if err != nil {
		return true
	}
	mmaj, mmin, err := parseKernel(min)
	if err != nil {
		return false
	}
	return rmaj > mmaj || rmaj == mmaj && rmin >= mmin
}

// region compare
// compare checks one 64-bit argument against a value, falling through when
// it holds and jumping to fail when not. Classic BPF is 32 bits wide, so
// each comparison is two: the high words first (little-endian: at +4),
// then, if they are equal, the low words.
func (a *asm) compare(arg Arg, fail string) {
	lo := uint32(offArgs + 8*arg.Index)
	hi := lo + 4
	vlo, vhi := uint32(arg.Value), uint32(arg.Value>>32)
	pass := a.fresh()
	switch arg.Op {
	case "SCMP_CMP_EQ":
		a.emit(bpf.LoadAbsolute{Off: hi, Size: 4})
		a.jump(bpf.JumpEqual, vhi, "", fail)
		a.emit(bpf.LoadAbsolute{Off: lo, Size: 4})
		a.jump(bpf.JumpEqual, vlo, "", fail)
	case "SCMP_CMP_NE":
		a.emit(bpf.LoadAbsolute{Off: hi, Size: 4})
		a.jump(bpf.JumpEqual, vhi, "", pass)
		a.emit(bpf.LoadAbsolute{Off: lo, Size: 4})
		a.jump(bpf.JumpEqual, vlo, fail, "")
	case "SCMP_CMP_MASKED_EQ": // (arg & Value) == ValueTwo
		a.emit(bpf.LoadAbsolute{Off: hi, Size: 4})
		a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: vhi})
		a.jump(bpf.JumpEqual, uint32(arg.ValueTwo>>32), "", fail)
		a.emit(bpf.LoadAbsolute{Off: lo, Size: 4})
		a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: vlo})
		a.jump(bpf.JumpEqual, uint32(arg.ValueTwo), "", fail)
	case "SCMP_CMP_GT", "SCMP_CMP_GE": // high word greater: yes; smaller: no; equal: the low words decide
		a.emit(bpf.LoadAbsolute{Off: hi, Size: 4})
		a.jump(bpf.JumpGreaterThan, vhi, pass, "")
		a.jump(bpf.JumpEqual, vhi, "", fail)
		a.emit(bpf.LoadAbsolute{Off: lo, Size: 4})
		cond := map[string]bpf.JumpTest{"SCMP_CMP_GT": bpf.JumpGreaterThan, "SCMP_CMP_GE": bpf.JumpGreaterOrEqual}[arg.Op]
		a.jump(cond, vlo, "", fail)
	case "SCMP_CMP_LT", "SCMP_CMP_LE": // the negation of GE and GT
		a.emit(bpf.LoadAbsolute{Off: hi, Size: 4})
		a.jump(bpf.JumpGreaterThan, vhi, fail, "")
		a.jump(bpf.JumpEqual, vhi, "", pass)
		a.emit(bpf.LoadAbsolute{Off: lo, Size: 4})
		cond := map[string]bpf.JumpTest{"SCMP_CMP_LT": bpf.JumpGreaterOrEqual, "SCMP_CMP_LE": bpf.JumpGreaterThan}[arg.Op]
		a.jump(cond, vlo, fail, "")
	}
	a.label(pass)
}

// endregion compare

// asm is a small assembler with labels: classic BPF jumps are relative
// (a conditional one at most 255 instructions ahead), so targets are
// named while the program is written and turned into offsets at the end.
type asm struct {
	ins    []bpf.Instruction
	jumps  map[int][2]string // instruction -> its targets if true, if false ("" = the next one)
	labels map[string]int
	n      int
}

func newAsm() *asm { return &asm{jumps: map[int][2]string{}, labels: map[string]int{}} }

func (a *asm) emit(i bpf.Instruction) { a.ins = append(a.ins, i) }

func (a *asm) label(name string) { a.labels[name] = len(a.ins) }

func (a *asm) fresh() string { a.n++; return fmt.Sprintf("L%d", a.n) }

// next names the instruction skip+1 ahead of the one about to be emitted.
func (a *asm) next(skip int) string {
	name := a.fresh()
	a.labels[name] = len(a.ins) + 1 + skip
	return name
}

func (a *asm) jump(cond bpf.JumpTest, val uint32, ifTrue, ifFalse string) {
	a.jumps[len(a.ins)] = [2]string{ifTrue, ifFalse}
	a.emit(bpf.JumpIf{Cond: cond, Val: val})
}

func (a *asm) ja(target string) {
	a.jumps[len(a.ins)] = [2]string{target, ""}
	a.emit(bpf.Jump{})
}

func (a *asm) assemble() ([]bpf.RawInstruction, error) {
	skip := func(at int, label string) (int, error) {
		if label == "" {
			return 0, nil
		}
		to, ok := a.labels[label]
		if !ok || to <= at {
			return 0, fmt.Errorf("seccomp: bad jump to %s", label)
		}
		return to - at - 1, nil
	}
	for at, t := range a.jumps {
		st, err := skip(at, t[0])
		if err != nil {
			return nil, err
		}
		sf, err := skip(at, t[1])
		if err != nil {
			return nil, err
		}
		switch in := a.ins[at].(type) {
		case bpf.Jump:
			in.Skip = uint32(st)
			a.ins[at] = in
		case bpf.JumpIf:
			if st > 255 || sf > 255 {
				return nil, fmt.Errorf("seccomp: a conditional jump of more than 255 instructions")
			}
			in.SkipTrue, in.SkipFalse = uint8(st), uint8(sf)
			a.ins[at] = in
		}
	}
	return bpf.Assemble(a.ins)
}
