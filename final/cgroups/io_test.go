//go:build linux

package cgroups

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestIOPlan: Docker's block I/O flags become the v1 and the v2 files, and
// a weight goes where the scheduler's knob is (or fails in one line).
func TestIOPlan(t *testing.T) {
	dev := func(p string) (string, error) {
		switch p {
		case "/dev/sda":
			return "8:0", nil
		case "/dev/vdb":
			return "254:16", nil
		}
		return "", fmt.Errorf("no device %s", p)
	}
	files := func(names ...string) func(string) bool {
		return func(f string) bool {
			for _, n := range names {
				if n == f {
					return true
				}
			}
			return false
		}
	}
	l := IO{Weight: 300, ReadBps: []Device{{"/dev/sda", 1 << 20}}, WriteBps: []Device{{"/dev/sda", 2 << 20}, {"/dev/vdb", 4096}},
		WriteIOps: []Device{{"/dev/vdb", 100}}}
	for _, c := range []struct {
		name string
		v2   bool
		has  func(string) bool
		want []ioWrite
	}{
		{"v2 with BFQ", true, files("io.max", "io.bfq.weight", "io.weight"), []ioWrite{{"", "io.bfq.weight", "300"},
			{"", "io.max", "8:0 rbps=1048576 wbps=2097152"}, {"", "io.max", "254:16 wbps=4096 wiops=100"}}},
		{"v2 with io.cost", true, files("io.max", "io.weight"), []ioWrite{{"", "io.weight", "2930"},
			{"", "io.max", "8:0 rbps=1048576 wbps=2097152"}, {"", "io.max", "254:16 wbps=4096 wiops=100"}}},
		{"v1 with BFQ", false, files("blkio.bfq.weight"), []ioWrite{{"blkio", "blkio.bfq.weight", "300"},
			{"blkio", "blkio.throttle.read_bps_device", "8:0 1048576"}, {"blkio", "blkio.throttle.write_bps_device", "8:0 2097152"},
			{"blkio", "blkio.throttle.write_bps_device", "254:16 4096"}, {"blkio", "blkio.throttle.write_iops_device", "254:16 100"}}},
	} {
		got, err := ioPlan(l, c.v2, dev, c.has)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %v, %v\nwant %v", c.name, got, err, c.want)
		}
	}
	if _, err := ioPlan(IO{Weight: 500}, false, dev, files()); err == nil || !strings.Contains(err.Error(), "BFQ") {
		t.Errorf("a weight without a weight file: want an error naming BFQ, got %v", err)
	}
	if _, err := ioPlan(IO{ReadIOps: []Device{{"/dev/nope", 1}}}, true, dev, files("io.max")); err == nil {
		t.Error("an unknown device must fail")
	}
	w, _ := ioPlan(IO{WeightDevice: []Device{{"/dev/sda", 200}}}, false, dev, files("blkio.bfq.weight"))
	if len(w) != 1 || w[0].file != "blkio.bfq.weight_device" || w[0].value != "8:0 200" {
		t.Errorf("v1 --blkio-weight-device: %v", w)
	}
}

func TestParseDeviceRate(t *testing.T) {
	for in, want := range map[string]Device{"/dev/sda:10mb": {"/dev/sda", 10 << 20}, "/dev/sda:2m": {"/dev/sda", 2 << 20}, "/dev/vdb:512k": {"/dev/vdb", 512 << 10}} {
		if got, err := ParseDeviceRate(in, true); err != nil || got != want {
			t.Errorf("ParseDeviceRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got, err := ParseDeviceRate("/dev/sda:100", false); err != nil || got.Rate != 100 {
		t.Errorf("iops: %v %v", got, err)
	}
	for _, bad := range []string{"/dev/sda", "sda:10mb", ":10mb", "/dev/sda:lots", "/dev/sda:-1"} {
		if _, err := ParseDeviceRate(bad, true); err == nil {
			t.Errorf("ParseDeviceRate(%q) should fail", bad)
		}
	}
	for _, bad := range []string{"/dev/sda:1.5", "/dev/sda:0", "/dev/sda:x"} {
		if _, err := ParseDeviceRate(bad, false); err == nil {
			t.Errorf("iops %q should fail", bad)
		}
	}
	if _, err := ParseWeightDevice("/dev/sda:5"); err == nil {
		t.Error("a weight of 5 should fail (10 to 1000)")
	}
	if (Limits{IO: IO{Weight: 5}}).Validate() == nil || (Limits{IO: IO{Weight: 1000}}).Validate() != nil {
		t.Error("--blkio-weight: 10 to 1000")
	}
}

func TestBlockDevice(t *testing.T) {
	for _, bad := range []string{"/etc/passwd", "/dev/null", "/dev/../etc/passwd", "/dev/no-such-disk", "sda"} {
		if _, err := BlockDevice(bad); err == nil {
			t.Errorf("BlockDevice(%q) should fail", bad)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("BlockDevice(%q): one line, got %q", bad, err)
		}
	}
}
