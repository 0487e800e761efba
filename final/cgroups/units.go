package cgroups

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits are Docker's resource flags, in Docker's units.
type Limits struct {
	Memory     int64  // -m 64m: bytes, 0 = unlimited
	MemorySwap int64  // --memory-swap: memory+swap bytes, -1 = unlimited, 0 = unset
	NanoCPUs   int64  // --cpus 0.5 = 500000000
	CPUShares  int64  // --cpu-shares 512 (relative weight, 1024 = default)
	PidsLimit  int64  // --pids-limit 32, 0 = unlimited
	CpusetCpus string // --cpuset-cpus 0-1
	CpusetMems string // --cpuset-mems 0 (with CpusetCpus)
	// CPUQuota and CPUPeriod are --cpu-quota and --cpu-period (µs; an OCI
	// config's cpu.quota and cpu.period), beside --cpus's NanoCPUs.
	CPUQuota, CPUPeriod int64
	IO                  IO // --blkio-weight, --device-read-bps ...
}

// IO is block I/O, per device: Docker's --blkio-weight (10-1000, relative,
// 0 = unset), --blkio-weight-device, --device-read-bps, --device-write-bps
// (bytes a second), --device-read-iops, --device-write-iops (operations a
// second).
type IO struct {
	Weight                                 uint16
	WeightDevice                           []Device // Rate is the weight
	ReadBps, WriteBps, ReadIOps, WriteIOps []Device
}

// Device is a block device's path and its limit (or weight).
type Device struct {
	Path string
	Rate uint64
}

func (l IO) empty() bool {
	return l.Weight == 0 && len(l.WeightDevice)+len(l.ReadBps)+len(l.WriteBps)+len(l.ReadIOps)+len(l.WriteIOps) == 0
}

// region parsedevice
// ParseDeviceRate reads Docker's --device-read-bps /dev/sda:10mb (bytes:
// a size with an optional unit k, m or g) and --device-read-iops
// /dev/sda:100 (a count), in Docker's words when it is wrong.
func ParseDeviceRate(val string, bytes bool) (Device, error) {
	path, rate, ok := strings.Cut(val, ":")
	if !ok || path == "" {
		return Device{}, fmt.Errorf("bad format: %s (use DEVICE:RATE, e.g. /dev/sda:10mb)", val)
	}
	if !strings.HasPrefix(path, "/dev/") {
		return Device{}, fmt.Errorf("bad format for device path: %s", val)
	}
	if bytes {
		n, err := ParseBytes(rate)
		if err != nil || n < 0 {
			return Device{}, fmt.Errorf("invalid rate for device: %s. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb", val)
		}
		return Device{path, uint64(n)}, nil
	}
	n, err := strconv.ParseUint(rate, 10, 64)
	if err != nil || n == 0 {
		return Device{}, fmt.Errorf("invalid rate for device: %s. The correct format is <device-path>:<number>. Number must be a positive integer", val)
	}
	return Device{path, n}, nil
}

// ParseWeightDevice reads --blkio-weight-device /dev/sda:300.
func ParseWeightDevice(val string) (Device, error) {
	path, weight, ok := strings.Cut(val, ":")
	if !ok || path == "" {
		return Device{}, fmt.Errorf("bad format: %s (use DEVICE:WEIGHT, e.g. /dev/sda:300)", val)
	}
	if !strings.HasPrefix(path, "/dev/") {
		return Device{}, fmt.Errorf("bad format for device path: %s", val)
	}
	n, err := strconv.ParseUint(weight, 10, 16)
	if err != nil || n < 10 || n > 1000 {
		return Device{}, fmt.Errorf("invalid weight for device: %s (a weight is 10 to 1000)", val)
	}
	return Device{path, n}, nil
}

// endregion parsedevice

// ParseBytes reads Docker's sizes: 64m, 1g, 512k, 1048576 (b, k, m, g; case
// does not matter; "-1" means unlimited).
func ParseBytes(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult, t = 1<<10, t[:n-1]
		case 'm':
			mult, t = 1<<20, t[:n-1]
		case 'g':
			mult, t = 1<<30, t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("invalid size %q: use a number with an optional unit b, k, m or g (e.g. 64m)", s)
	}
	return int64(f * float64(mult)), nil
}

// ParseCPUs reads --cpus 1.5 into nano-CPUs.
func ParseCPUs(s string) (int64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("invalid --cpus %q: use a positive number such as 0.5", s)
	}
	return int64(f * 1e9), nil
}

// Validate rejects combinations the kernel would refuse later, so the user
// gets a clear message before anything is created.
func (l Limits) Validate() error {
	if l.Memory > 0 && l.Memory < 6<<20 {
		return fmt.Errorf("minimum memory limit allowed is 6MB")
	}
	if l.MemorySwap > 0 && l.Memory == 0 {
		return fmt.Errorf("--memory-swap needs --memory (-m) as well")
	}
	if l.MemorySwap > 0 && l.MemorySwap < l.Memory {
		return fmt.Errorf("--memory-swap must be at least --memory (it is memory plus swap)")
	}
	if l.CPUShares < 0 || l.PidsLimit < -1 {
		return fmt.Errorf("--cpu-shares and --pids-limit must be positive")
	}
	if l.IO.Weight > 0 && (l.IO.Weight < 10 || l.IO.Weight > 1000) {
		return fmt.Errorf("Range of blkio weight is from 10 to 1000")
	}
	for _, d := range l.IO.WeightDevice {
		if d.Rate < 10 || d.Rate > 1000 {
			return fmt.Errorf("invalid weight for device: %s:%d (a weight is 10 to 1000)", d.Path, d.Rate)
		}
	}
	for _, part := range strings.Split(l.CpusetCpus, ",") {
		if l.CpusetCpus == "" {
			break
		}
		for _, n := range strings.SplitN(part, "-", 2) {
			if _, err := strconv.Atoi(n); err != nil {
				return fmt.Errorf("invalid --cpuset-cpus %q: use a list such as 0-1 or 0,2", l.CpusetCpus)
			}
		}
	}
	return nil
}

// Weight turns v1 cpu.shares (2..262144) into v2 cpu.weight (1..10000),
// the formula runc and the kernel documentation use.
func Weight(shares int64) int64 {
	if shares == 0 {
		return 0
	}
	return 1 + ((shares-2)*9999)/262142
}
