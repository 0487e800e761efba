package network

import "testing"

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": {Kind: "bridge", Name: "bridge"}, "bridge": {Kind: "bridge", Name: "bridge"},
		"none": {Kind: "none"}, "host": {Kind: "host"}, "container:web": {Kind: "container", Name: "web"},
		"backend": {Kind: "bridge", Name: "backend"}} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"carrier/pigeon", "container:", "-x"} {
		if _, err := ParseMode(bad); err == nil {
			t.Errorf("ParseMode(%q) accepted", bad)
		}
	}
	for in, own := range map[string]bool{"host": false, "container:web": false, "none": true, "bridge": true, "backend": true} {
		if m, _ := ParseMode(in); m.OwnNamespace() != own {
			t.Errorf("%s: OwnNamespace() = %v, want %v", in, !own, own)
		}
	}
	if mac := MacFor(Default().Gateway).String(); mac != "02:42:ac:1d:00:01" {
		t.Errorf("MacFor = %s", mac)
	}
}
