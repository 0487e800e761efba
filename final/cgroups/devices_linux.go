//go:build linux

package cgroups

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// region devices
// AllowDevices is the device fence: after it, the container's processes
// can open (and mknod) only the devices a rule allows. A node made inside
// with `mknod /dev/sda b 8 0` is then a name that cannot be opened.
//
// cgroup v1 has a controller for it: "a" into devices.deny (nothing at
// all), then each rule into devices.allow.
//
//	echo a > /sys/fs/cgroup/devices/minidocker-ID/devices.deny
//	echo 'c 1:3 rwm' > /sys/fs/cgroup/devices/minidocker-ID/devices.allow
//
// cgroup v2 has no such files: the kernel asks an eBPF program attached to
// the group (BPF_PROG_TYPE_CGROUP_DEVICE) at every open and mknod of a
// device, and the program answers 1 (allow) or 0 (EPERM). It stays
// attached after we exit, and goes when the group is removed.
func (cg *Cgroup) AllowDevices(rules []DeviceRule) error {
	if cg.V2 {
		return cg.attachDeviceProgram(rules)
	}
	dir, ok := cg.Dirs["devices"]
	if !ok {
		return fmt.Errorf("no devices controller under %s: the device fence needs it (mount -t cgroup -o devices cgroup %s/devices)", Mount, Mount)
	}
	if err := write(filepath.Join(dir, "devices.deny"), "a"); err != nil {
		return err
	}
	for _, r := range rules {
		// A deny removes the same entry from the kernel's list; it does
		// not cut a hole in a wider allow (c *:* m stays), as with runc.
		file := "devices.allow"
		if r.Deny {
			file = "devices.deny"
		}
		if err := write(filepath.Join(dir, file), r.String()); err != nil {
			return err
		}
	}
	return nil
}

// endregion devices

// region deviceprogram
// deviceProgram compiles the rules to eBPF. Its input (struct
// bpf_cgroup_dev_ctx) is three 32-bit words: the device type in the low
// half of the first (1 block, 2 char) and the access asked for in its
// high half (1 mknod, 2 read, 4 write), then the major and the minor. Each
// rule is a few compares that jump to the next rule on a mismatch. The
// rules are tried from the last: the first that matches answers, 1 for an
// allow (it gives all the access asked for), 0 for a deny (it names some
// of it); after them all, 0.
func deviceProgram(rules []DeviceRule) asm.Instructions {
	insns := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.And.Imm(asm.R2, 0xffff), // R2: type
		asm.LoadMem(asm.R3, asm.R1, 0, asm.Word),
		asm.RSh.Imm(asm.R3, 16),                  // R3: access
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word), // R4: major
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word), // R5: minor
	}
	for i := range rules {
		r := rules[len(rules)-1-i]
		next := fmt.Sprintf("rule%d", i+1)
		var block asm.Instructions
		switch r.Type {
		case 'b':
			block = append(block, asm.JNE.Imm(asm.R2, unix.BPF_DEVCG_DEV_BLOCK, next))
		case 'c':
			block = append(block, asm.JNE.Imm(asm.R2, unix.BPF_DEVCG_DEV_CHAR, next))
		}
		var allowed int32
		for _, a := range r.Access {
			allowed |= map[rune]int32{'m': unix.BPF_DEVCG_ACC_MKNOD, 'r': unix.BPF_DEVCG_ACC_READ, 'w': unix.BPF_DEVCG_ACC_WRITE}[a]
		}
		switch {
		case r.Deny: // none of the access asked for is denied here: next rule
			block = append(block, asm.Mov.Reg32(asm.R6, asm.R3), asm.And.Imm32(asm.R6, allowed), asm.JEq.Imm(asm.R6, 0, next))
		case allowed != 7: // access asked for that the rule does not give: next rule
			block = append(block, asm.Mov.Reg32(asm.R6, asm.R3), asm.And.Imm32(asm.R6, ^allowed&7), asm.JNE.Imm(asm.R6, 0, next))
		}
		if r.Major >= 0 {
			block = append(block, asm.JNE.Imm(asm.R4, int32(r.Major), next))
		}
		if r.Minor >= 0 {
			block = append(block, asm.JNE.Imm(asm.R5, int32(r.Minor), next))
		}
		verdict := int32(1)
		if r.Deny {
			verdict = 0
		}
		block = append(block, asm.Mov.Imm(asm.R0, verdict), asm.Return())
		block[0] = block[0].WithSymbol(fmt.Sprintf("rule%d", i))
		insns = append(insns, block...)
	}
	last := asm.Mov.Imm(asm.R0, 0).WithSymbol(fmt.Sprintf("rule%d", len(rules)))
	return append(insns, last, asm.Return())
}

// attachDeviceProgram loads the program and attaches it to the group
// (bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE), with BPF_F_ALLOW_MULTI so that a
// program systemd attached above still applies too). Shell, with bpftool:
//
//	bpftool cgroup attach /sys/fs/cgroup/minidocker-ID device pinned PROG multi
func (cg *Cgroup) attachDeviceProgram(rules []DeviceRule) error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "minidocker_dev", Type: ebpf.CGroupDevice,
		Instructions: deviceProgram(rules), License: "Apache-2.0"})
	if err != nil {
		return fmt.Errorf("load the device program (eBPF): %v", err)
	}
	defer prog.Close()
	dir, err := unix.Open(cg.Dirs[""], unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	var names []string
	for _, r := range rules {
		verb := "allow "
		if r.Deny {
			verb = "deny "
		}
		names = append(names, "'"+verb+r.String()+"'")
	}
	trace("bpftool cgroup attach %s device multi  # the rules, the last that matches decides: %s", cg.Dirs[""], strings.Join(names, ", "))
	err = link.RawAttachProgram(link.RawAttachProgramOptions{Target: dir, Program: prog,
		Attach: ebpf.AttachCGroupDevice, Flags: unix.BPF_F_ALLOW_MULTI})
	if err != nil {
		return fmt.Errorf("attach the device program to %s: %v", cg.Dirs[""], err)
	}
	return nil
}

// DevicePrograms lists the ids of the device programs attached to the
// group (v2), for inspect and for the tests' leak check.
func (cg *Cgroup) DevicePrograms() []uint32 {
	if !cg.V2 {
		return nil
	}
	dir, err := unix.Open(cg.Dirs[""], unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(dir)
	res, err := link.QueryPrograms(link.QueryOptions{Target: dir, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		return nil
	}
	var ids []uint32
	for _, p := range res.Programs {
		ids = append(ids, uint32(p.ID))
	}
	return ids
}

// endregion deviceprogram
