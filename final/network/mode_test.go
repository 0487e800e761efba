package network

import (
	"regexp"
	"testing"
)

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

// ValidName is Docker's name rule, [a-zA-Z0-9][a-zA-Z0-9_.-]*, by hand.
func TestValidName(t *testing.T) {
	re := regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	for _, s := range []string{"", "a", "9", "web-1", "my_net.v2", "-a", "_a", ".a", "a b", "a/b", "a:b",
		"é", "aé", "A-Z_0.9", "a\n", "a-", "a..", "ä1", "x\x00"} {
		if got, want := ValidName(s), re.MatchString(s); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", s, got, want)
		}
	}
}
