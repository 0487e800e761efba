//go:build linux

package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// region blockdevice
// BlockDevice is the "MAJOR:MINOR" the kernel wants in io.max and
// blkio.throttle.*: limits name a disk by its device number, not its path
// (`ls -l /dev/sda` shows "8, 0"; `cat /sys/block/sda/dev` shows 8:0).
// The path is the user's (an API client's too): it must be under /dev,
// symlinks (/dev/disk/by-id/...) are resolved and must stay there, and the
// result is only stat(2)ed, never opened. It must be a block device and a
// whole disk: the kernel throttles disks, and refuses a partition with
// ENODEV, so say which disk to name instead.
func BlockDevice(path string) (string, error) {
	if !strings.HasPrefix(filepath.Clean(path), "/dev/") {
		return "", fmt.Errorf("bad device path %q: use a block device under /dev, e.g. /dev/sda (lsblk lists them)", path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("no device %s: %v (lsblk lists the block devices)", path, unwrapPath(err))
	}
	if !strings.HasPrefix(real, "/dev/") {
		return "", fmt.Errorf("bad device path %q: it leads to %s, outside /dev", path, real)
	}
	var st unix.Stat_t
	if err := unix.Stat(real, &st); err != nil {
		return "", fmt.Errorf("no device %s: %v", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return "", fmt.Errorf("%s is not a block device (`ls -l` shows a b first for one; lsblk lists them)", path)
	}
	id := fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)))
	// /sys/dev/block/8:1 -> .../block/sda/sda1: a partition has a file "partition".
	if _, err := os.Stat(filepath.Join("/sys/dev/block", id, "partition")); err == nil {
		disk := "the disk it is on"
		if sys, err := filepath.EvalSymlinks(filepath.Join("/sys/dev/block", id)); err == nil {
			disk = "/dev/" + filepath.Base(filepath.Dir(sys))
		}
		return "", fmt.Errorf("%s is a partition: I/O limits apply to whole disks, use %s", path, disk)
	}
	return id, nil
}

// endregion blockdevice

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// region ioplan
// ioWrite is one write of an I/O limit: value into file, in the group of
// controller ctrl ("blkio" on v1, "" on v2).
type ioWrite struct{ ctrl, file, value string }

// ioPlan turns Docker's block I/O flags into cgroup file writes. dev finds
// a device's MAJOR:MINOR (BlockDevice); has tells whether the group has a
// file (the weight files depend on the I/O scheduler, see below).
//
//   - v2: one line of io.max per device with every limit of that device,
//     "8:0 rbps=1048576 wbps=max" (max: no limit); the weight goes to
//     io.bfq.weight (the BFQ scheduler, same 1-1000 scale as Docker's) or
//     else io.weight (the io.cost controller, 1-10000: runc's conversion).
//   - v1: one line per device and limit in blkio.throttle.read_bps_device,
//     write_bps_device, read_iops_device, write_iops_device; the weight in
//     blkio.bfq.weight (BFQ) or blkio.weight (CFQ, removed in Linux 5.0).
//
// A weight only works on a disk whose scheduler uses it (cat
// /sys/block/sda/queue/scheduler: [bfq]); throttling works on any disk.
func ioPlan(l IO, v2 bool, dev func(string) (string, error), has func(file string) bool) ([]ioWrite, error) {
	var w []ioWrite
	ctrl := map[bool]string{false: "blkio", true: ""}[v2]
	pick := func(files ...string) string { // the first file the kernel offers
		for _, f := range files {
			if has(f) {
				return f
			}
		}
		return ""
	}
	if l.Weight > 0 || len(l.WeightDevice) > 0 {
		bfq, plain := "blkio.bfq.weight", "blkio.weight"
		if v2 {
			bfq, plain = "io.bfq.weight", "io.weight"
		}
		file := pick(bfq, plain)
		if file == "" {
			return nil, fmt.Errorf("--blkio-weight: this kernel has no %s or %s (a weight needs the BFQ I/O scheduler: modprobe bfq)", bfq, plain)
		}
		conv := func(weight uint64) uint64 { return weight }
		if file == "io.weight" { // runc's mapping of 10..1000 onto 1..10000
			conv = func(weight uint64) uint64 { return 1 + (weight-10)*9999/990 }
		}
		if l.Weight > 0 {
			w = append(w, ioWrite{ctrl, file, strconv.FormatUint(conv(uint64(l.Weight)), 10)})
		}
		devFile := file // v2 takes "8:0 300" in the same file; v1 has *_device
		if !v2 {
			devFile += "_device"
		}
		for _, d := range l.WeightDevice {
			id, err := dev(d.Path)
			if err != nil {
				return nil, err
			}
			w = append(w, ioWrite{ctrl, devFile, fmt.Sprintf("%s %d", id, conv(d.Rate))})
		}
	}
	limits := []struct {
		devs    []Device
		v1, key string
	}{{l.ReadBps, "blkio.throttle.read_bps_device", "rbps"}, {l.WriteBps, "blkio.throttle.write_bps_device", "wbps"},
		{l.ReadIOps, "blkio.throttle.read_iops_device", "riops"}, {l.WriteIOps, "blkio.throttle.write_iops_device", "wiops"}}
	var order []string            // v2: devices in the order given
	keys := map[string][]string{} // v2: device -> "rbps=N" ...
	for _, lim := range limits {
		for _, d := range lim.devs {
			id, err := dev(d.Path)
			if err != nil {
				return nil, err
			}
			if !v2 {
				w = append(w, ioWrite{ctrl, lim.v1, fmt.Sprintf("%s %d", id, d.Rate)})
				continue
			}
			if keys[id] == nil {
				order = append(order, id)
			}
			keys[id] = append(keys[id], fmt.Sprintf("%s=%d", lim.key, d.Rate))
		}
	}
	for _, id := range order {
		w = append(w, ioWrite{ctrl, "io.max", id + " " + strings.Join(keys[id], " ")})
	}
	return w, nil
}

// endregion ioplan

// setIO writes the I/O limits into the new group.
func (cg *Cgroup) setIO(l IO) error {
	if l.empty() {
		return nil
	}
	dir := cg.Dirs[""]
	if !cg.V2 {
		dir = cg.Dirs["blkio"]
		if dir == "" {
			return fmt.Errorf("I/O limits need the blkio cgroup, and this machine mounts none (ls /sys/fs/cgroup)")
		}
	}
	has := func(f string) bool { _, err := os.Stat(filepath.Join(dir, f)); return err == nil }
	plan, err := ioPlan(l, cg.V2, BlockDevice, has)
	if err != nil {
		return err
	}
	for _, s := range plan {
		if err := write(filepath.Join(dir, s.file), s.value); err != nil {
			return err
		}
	}
	return nil
}

// region ioprobe
// CheckIO asks the kernel which of the block I/O knobs it has, before a
// container with them is made, and returns the limits it can apply and a
// warning for each it cannot (Docker's words, and the knob that is
// missing): as Docker does, a missing knob is discarded with a warning,
// not silently. Some files exist only below the root of the tree (io.max,
// io.bfq.weight, blkio.bfq.weight), so the question is a throwaway group:
// mkdir, look, rmdir. Every device must resolve (BlockDevice): a bad one is
// an error.
func CheckIO(l IO) (IO, []string, error) {
	if l.empty() {
		return l, nil, nil
	}
	devs := append(append(append(append(append([]Device{}, l.WeightDevice...), l.ReadBps...), l.WriteBps...), l.ReadIOps...), l.WriteIOps...)
	for _, d := range devs {
		if _, err := BlockDevice(d.Path); err != nil {
			return l, nil, err
		}
	}
	has, err := probe()
	if err != nil {
		return l, nil, err
	}
	var warnings []string
	drop := func(what string, files ...string) bool {
		for _, f := range files {
			if has[f] {
				return false
			}
		}
		warnings = append(warnings, fmt.Sprintf("Your kernel does not support %s (no %s in the container's cgroup). %s discarded.", what, strings.Join(files, " or "), what))
		return true
	}
	bfq, plain := "blkio.bfq.weight", "blkio.weight"
	if V2() {
		bfq, plain = "io.bfq.weight", "io.weight"
	}
	if l.Weight > 0 && drop("Block I/O weight", bfq, plain) {
		l.Weight = 0
	}
	if len(l.WeightDevice) > 0 && drop("Block I/O weight_device", bfq, plain) {
		l.WeightDevice = nil
	}
	for _, lim := range []struct {
		devs     *[]Device
		what, v1 string
	}{{&l.ReadBps, "BPS Block I/O read limit", "blkio.throttle.read_bps_device"}, {&l.WriteBps, "BPS Block I/O write limit", "blkio.throttle.write_bps_device"},
		{&l.ReadIOps, "IOPS Block I/O read limit", "blkio.throttle.read_iops_device"}, {&l.WriteIOps, "IOPS Block I/O write limit", "blkio.throttle.write_iops_device"}} {
		file := lim.v1
		if V2() {
			file = "io.max"
		}
		if len(*lim.devs) > 0 && drop(lim.what, file) {
			*lim.devs = nil
		}
	}
	return l, warnings, nil
}

// probe lists the files of a new, empty group in the I/O tree.
func probe() (map[string]bool, error) {
	tree := filepath.Join(Mount, "blkio")
	if V2() {
		if avail, _ := os.ReadFile(filepath.Join(Mount, "cgroup.controllers")); !containsAll(string(avail), "io") {
			return nil, fmt.Errorf("I/O limits need the io cgroup controller, and this kernel has none (cat %s/cgroup.controllers)", Mount)
		}
		if err := enableV2(false); err != nil {
			return nil, err
		}
		tree = Mount
	} else if _, err := os.Stat(filepath.Join(tree, "cgroup.procs")); err != nil {
		return nil, fmt.Errorf("I/O limits need the blkio cgroup, and this machine mounts none (ls %s)", Mount)
	}
	dir := filepath.Join(tree, fmt.Sprintf("minidocker-probe-%d", os.Getpid()))
	trace("mkdir %s && ls %s && rmdir %s  # which I/O knobs does this kernel have?", dir, dir, dir)
	if err := os.Mkdir(dir, 0755); err != nil {
		return nil, fmt.Errorf("probe the I/O knobs: %v", err)
	}
	defer unix.Rmdir(dir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	has := map[string]bool{}
	for _, e := range ents {
		has[e.Name()] = true
	}
	return has, nil
}

// endregion ioprobe
