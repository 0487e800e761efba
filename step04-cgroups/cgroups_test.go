//go:build linux

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Unit tests of the parts that need no kernel: flag parsing and the v1/v2
// file plans, applied to a temporary directory. The real limits are tested
// in tests/step04_test.go.

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"64m": 64 << 20, "64M": 64 << 20, "1g": 1 << 30, "512k": 512 << 10,
		"100": 100, "100b": 100, "64mb": 64 << 20, "1.5g": 3 << 29} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"12x", "-5m", "", "m", "1e3", "64 m", "64bb", "1t"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestParseLimits(t *testing.T) {
	l, err := parseLimits(config{memory: "64m", cpus: "0.5", cpuShares: "512", pidsLimit: "-1"})
	want := limits{memory: 64 << 20, cpuQuota: 50000, cpuShares: 512, pids: -1}
	if err != nil || l != want {
		t.Errorf("got %+v, %v; want %+v", l, err, want)
	}
	if l, err := parseLimits(config{memory: "64m", memorySwap: "-1"}); err != nil || l.memorySwap != -1 {
		t.Errorf("--memory-swap -1: %+v, %v", l, err)
	}
	for _, c := range []config{{memory: "12x"}, {memory: "1k"}, {memory: "64m", memorySwap: "32m"},
		{memorySwap: "64m"}, {cpus: "0"}, {cpus: "NaN"}, {cpus: "1000000"}, {cpuShares: "1"},
		{pidsLimit: "0"}, {pidsLimit: "-2"}, {cpusetCpus: "99999"}, {cpusetCpus: "1-0"}} {
		if _, err := parseLimits(c); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: want a one-line error, got %v", c, err)
		}
	}
}

func TestCPUList(t *testing.T) {
	if got, err := cpuList("0-2,5"); err != nil || !reflect.DeepEqual(got, []int{0, 1, 2, 5}) {
		t.Errorf("cpuList(0-2,5) = %v, %v", got, err)
	}
}

func TestPlan(t *testing.T) {
	l := limits{memory: 64 << 20, cpuQuota: 50000, cpuShares: 512, pids: 32, cpusetCpus: "0"}
	v2 := []setting{{"memory", "memory.max", "67108864"}, {"memory", "memory.swap.max", "67108864"},
		{"cpu", "cpu.max", "50000 100000"}, {"cpu", "cpu.weight", "20"}, {"pids", "pids.max", "32"},
		{"cpuset", "cpuset.cpus", "0"}, {"cpuset", "cpuset.mems", "0"}}
	if got := plan(l, true, true, "0"); !reflect.DeepEqual(got, v2) {
		t.Errorf("v2 plan:\n got %v\nwant %v", got, v2)
	}
	v1 := []setting{{"memory", "memory.limit_in_bytes", "67108864"}, {"memory", "memory.memsw.limit_in_bytes", "134217728"},
		{"cpu", "cpu.cfs_period_us", "100000"}, {"cpu", "cpu.cfs_quota_us", "50000"}, {"cpu", "cpu.shares", "512"},
		{"pids", "pids.max", "32"}, {"cpuset", "cpuset.cpus", "0"}, {"cpuset", "cpuset.mems", "0"}}
	if got := plan(l, false, true, "0"); !reflect.DeepEqual(got, v1) {
		t.Errorf("v1 plan:\n got %v\nwant %v", got, v1)
	}
	// --memory-swap equal to -m: no swap on v2 (swap.max 0), total = memory on v1.
	noSwap := limits{memory: 64 << 20, memorySwap: 64 << 20}
	if got := plan(noSwap, true, true, ""); got[1].value != "0" {
		t.Errorf("v2 swap: %v", got)
	}
	if got := plan(noSwap, false, true, ""); got[1].value != "67108864" {
		t.Errorf("v1 memsw: %v", got)
	}
	// No swap accounting: no swap file in the plan. -1: unlimited.
	if got := plan(noSwap, false, false, ""); len(got) != 1 {
		t.Errorf("v1 without swap accounting: %v", got)
	}
	if got := plan(limits{memory: 1 << 30, memorySwap: -1, pids: -1}, true, true, ""); got[1].value != "max" || got[2].value != "max" {
		t.Errorf("unlimited: %v", got)
	}
	// runc's shares -> weight conversion at its ends and at Docker's default.
	for shares, weight := range map[int64]string{2: "1", 1024: "39", 262144: "10000"} {
		if got := plan(limits{cpuShares: shares}, true, true, ""); got[0].value != weight {
			t.Errorf("shares %d: weight %s, want %s", shares, got[0].value, weight)
		}
	}
}

// TestApply writes a plan into a fake group (a temporary directory with the
// files a cgroup would have) and checks every file; a missing file is an
// error, not a silently created file.
func TestApply(t *testing.T) {
	dir := t.TempDir()
	cg := &cgroup{dirs: map[string]string{"memory": dir, "cpu": dir, "pids": dir}}
	files := []string{"memory.max", "memory.swap.max", "cpu.max", "pids.max"}
	for _, f := range files {
		os.WriteFile(filepath.Join(dir, f), []byte("max\n"), 0644)
	}
	if err := cg.apply(plan(limits{memory: 32 << 20, memorySwap: 32 << 20, cpuQuota: 150000, pids: 5}, true, true, "")); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{"memory.max": "33554432", "memory.swap.max": "0", "cpu.max": "150000 100000", "pids.max": "5"} {
		if got := readTrim(filepath.Join(dir, f)); got != want {
			t.Errorf("%s = %q, want %q", f, got, want)
		}
	}
	err := cg.apply([]setting{{"cpu", "cpu.weight", "20"}})
	if err == nil || !strings.Contains(err.Error(), "cpu.weight: no such file or directory") {
		t.Errorf("writing a missing file: %v", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "cpu.weight")); statErr == nil {
		t.Error("write created cpu.weight")
	}
}

// TestCheckControllers: a missing v1 controller is one line with the fix.
func TestCheckControllers(t *testing.T) {
	root := t.TempDir()
	defer func(old string) { cgroupRoot = old }(cgroupRoot)
	cgroupRoot = root
	for _, c := range []string{"memory", "cpu", "cpuacct"} {
		os.MkdirAll(filepath.Join(root, c), 0755)
		os.WriteFile(filepath.Join(root, c, "cgroup.procs"), nil, 0644)
	}
	err := checkControllers(limits{})
	if err == nil || !strings.Contains(err.Error(), "controller pids is not mounted: mkdir -p "+root+"/pids && mount -t cgroup -o pids") {
		t.Errorf("missing pids: %v", err)
	}
	os.MkdirAll(filepath.Join(root, "pids"), 0755)
	os.WriteFile(filepath.Join(root, "pids", "cgroup.procs"), nil, 0644)
	if err := checkControllers(limits{}); err != nil {
		t.Errorf("all there: %v", err)
	}
}
