package oci

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// hostileUpdates are what a caller could send to `update` of a running
// container (the --resources document and runc's flags); each must be
// refused before a cgroup file is written, with the word given in its
// message.
var hostileUpdates = []struct {
	name, doc string
	flags     map[string]string
	want      string
}{
	{name: "not json", doc: "{", want: "--resources"},
	{name: "trailing", doc: `{"pids":{"limit":5}} {"pids":{"limit":-1}}`, want: "trailing"},
	{name: "huge", doc: `{"cpu":{"cpus":"` + strings.Repeat("0,", MaxConfig/2) + `0"}}`, want: "larger than"},
	{name: "wrong type", doc: `{"memory":{"limit":"lots"}}`, want: "--resources"},
	{name: "shares past int64", doc: `{"cpu":{"shares":18446744073709551615}}`, want: "cpu.shares"},
	{name: "shares too high", doc: `{"cpu":{"shares":262145}}`, want: "cpu.shares"},
	{name: "period too short", doc: `{"cpu":{"period":10}}`, want: "cpu.period"},
	{name: "period too long", doc: `{"cpu":{"period":100000000}}`, want: "cpu.period"},
	{name: "quota negative", doc: `{"cpu":{"quota":-5}}`, want: "cpu.quota"},
	{name: "newline in cpus", doc: `{"cpu":{"cpus":"0\n1"}}`, want: "cpu.cpus"},
	{name: "path in mems", doc: `{"cpu":{"mems":"../../../etc"}}`, want: "cpu.mems"},
	{name: "memory below -1", doc: `{"memory":{"limit":-2}}`, want: "memory value"},
	{name: "pids below -1", doc: `{"pids":{"limit":-7}}`, want: "pids.limit"},
	{name: "lift a memory limit", doc: `{"memory":{"limit":-1}}`, want: "-1"},
	{name: "lift a pids limit", doc: `{"pids":{"limit":-1}}`, want: "-1"},
	{name: "swap without memory", doc: `{"memory":{"swap":1048576}}`, want: "memory.swap needs memory.limit"},
	{name: "device rules", doc: `{"devices":[{"allow":true,"access":"rwm"}]}`, want: "device rules"},
	{name: "device rule type", doc: `{"devices":[{"allow":true,"type":"x"}]}`, want: "type"},
	{name: "hugepages", doc: `{"hugepageLimits":[{"pageSize":"2MB","limit":1}]}`, want: "hugepageLimits"},
	{name: "realtime", doc: `{"cpu":{"realtimeRuntime":950000}}`, want: "realtime"},
	{name: "flag not a number", flags: map[string]string{"pids-limit": "many"}, want: "--pids-limit"},
	{name: "flag negative period", flags: map[string]string{"cpu-period": "-1"}, want: "--cpu-period"},
	{name: "flag shares too high", flags: map[string]string{"cpu-share": "999999999"}, want: "cpu.shares"},
	{name: "flag bad cpuset", flags: map[string]string{"cpuset-cpus": "0;reboot"}, want: "cpu.cpus"},
	{name: "flag memory junk", flags: map[string]string{"memory": "12zz"}, want: "--memory"},
	{name: "flag overrides a good document", doc: `{"pids":{"limit":10}}`, flags: map[string]string{"pids-limit": "-9"}, want: "pids.limit"},
	{name: "unknown flag", flags: map[string]string{"blkio-weight": "10"}, want: "unknown flag"},
}

// TestUpdateHostile: every hostile update is refused with one line that
// names the field, and none reaches the limits to be written.
func TestUpdateHostile(t *testing.T) {
	for _, c := range hostileUpdates {
		t.Run(c.name, func(t *testing.T) {
			var doc io.Reader // none: flags alone, as `runc update --pids-limit 5 ID`
			if c.doc != "" {
				doc = strings.NewReader(c.doc)
			}
			l, err := updateLimits(doc, c.flags)
			if err == nil {
				t.Fatalf("accepted: %+v", l)
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line with %q", err, c.want)
			}
		})
	}
}

// TestUpdateLimits: what update accepts becomes the limits containerd's
// shim and runc's flags ask for; a flag wins over the document.
func TestUpdateLimits(t *testing.T) {
	l, err := updateLimits(strings.NewReader(`{"memory":{"limit":67108864},"cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0"},"pids":{"limit":20}}`),
		map[string]string{"pids-limit": "30", "cpuset-mems": "0"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Memory != 64<<20 || l.CPUShares != 512 || l.CPUQuota != 50000 || l.CPUPeriod != 100000 || l.CpusetCpus != "0" || l.CpusetMems != "0" || l.PidsLimit != 30 {
		t.Errorf("limits: %+v", l)
	}
	if l, err := updateLimits(nil, map[string]string{"memory": "32m", "memory-swap": "-1"}); err != nil || l.Memory != 32<<20 || l.MemorySwap != -1 {
		t.Errorf("--memory 32m --memory-swap -1: %+v %v", l, err)
	}
}

// FuzzUpdate: whatever the document and flag values, updateLimits returns
// (no panic); what it accepts has only limits the kernel takes.
func FuzzUpdate(f *testing.F) {
	f.Add([]byte(`{"memory":{"limit":67108864},"cpu":{"shares":512,"cpus":"0-1"},"pids":{"limit":20}}`), "", "")
	for _, c := range hostileUpdates {
		if len(c.doc) < 4096 {
			f.Add([]byte(c.doc), c.flags["pids-limit"], c.flags["cpuset-cpus"])
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte, pids, cpus string) {
		var r io.Reader
		if len(doc) > 0 {
			r = bytes.NewReader(doc)
		}
		l, err := updateLimits(r, map[string]string{"pids-limit": pids, "cpuset-cpus": cpus})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("a refusal of more than one line: %q", err)
			}
			return
		}
		if got := l; got.Memory < 0 || got.CPUShares < 0 || got.CPUShares > 262144 || got.PidsLimit < 0 ||
			(got.CPUPeriod != 0 && (got.CPUPeriod < 1000 || got.CPUPeriod > 1000000)) ||
			(got.CPUQuota != 0 && got.CPUQuota != -1 && got.CPUQuota < 1000) ||
			strings.ContainsAny(got.CpusetCpus+got.CpusetMems, "\n/ ") {
			t.Fatalf("accepted limits no kernel takes: %+v", l)
		}
	})
}
