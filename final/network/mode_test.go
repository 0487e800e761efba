package network

import "testing"

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": {Kind: "bridge", Name: "bridge"}, "bridge": {Kind: "bridge", Name: "bridge"}, "none": {Kind: "none"}, "host": {Kind: "host"}} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %+v, %v", in, got, err)
		}
	}
	if _, err := ParseMode("carrier-pigeon"); err == nil {
		t.Error("unknown mode accepted")
	}
	if m, _ := ParseMode("host"); m.OwnNamespace() {
		t.Error("host mode must share the host's network namespace")
	}
	if mac := MacFor(Default().Gateway).String(); mac != "02:42:ac:1d:00:01" {
		t.Errorf("MacFor = %s", mac)
	}
}
