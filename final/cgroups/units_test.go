package cgroups

import "testing"

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"64m": 64 << 20, "64M": 64 << 20, "1g": 1 << 30, "512k": 512 << 10, "100": 100, "1.5m": 3 << 19, "-1": -1, "10mb": 10 << 20} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "m", "-5m", "0"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) should fail", bad)
		}
	}
}

func TestParseCPUsAndWeight(t *testing.T) {
	if n, err := ParseCPUs("0.5"); err != nil || n != 5e8 {
		t.Errorf("ParseCPUs(0.5) = %d, %v", n, err)
	}
	if _, err := ParseCPUs("fast"); err == nil {
		t.Error("ParseCPUs(fast) should fail")
	}
	// runc's conversion: 1024 shares (the default) is weight 39, 512 is 20.
	for shares, weight := range map[int64]int64{2: 1, 512: 20, 1024: 39, 262144: 10000} {
		if got := Weight(shares); got != weight {
			t.Errorf("Weight(%d) = %d, want %d", shares, got, weight)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, bad := range []Limits{{Memory: 1 << 20}, {MemorySwap: 1 << 30}, {Memory: 64 << 20, MemorySwap: 32 << 20}, {CpusetCpus: "a-b"}} {
		if bad.Validate() == nil {
			t.Errorf("%+v should be rejected", bad)
		}
	}
	for _, ok := range []Limits{{}, {Memory: 64 << 20, MemorySwap: -1}, {CpusetCpus: "0-1,3"}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
}
