//go:build linux

package pid1

import (
	"reflect"
	"strings"
	"testing"
)

// The spec survives the pipe: every field, empty lists, and the characters
// that would need quoting in other formats (newlines, spaces, colons, '=').
func TestSpecRoundTrip(t *testing.T) {
	in := Spec{ID: "abc", Hostname: "h", Lower: []string{"/l/init", "/l/1"}, Upper: "/u", Work: "/w", Merged: "/m",
		Mounts: []Mount{{"/src a", "/dst:b", true}, {"/s", "/d", false}},
		Env:    []string{"A=1", "B=two words\nand a line", "EMPTY="}, Cwd: "/", Args: []string{"sh", "-c", "echo 'x y'", ""},
		Tty: true, JoinNetNS: "/proc/7/ns/net", Debug: true}
	var out Spec
	if err := out.Decode(in.Encode()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
	var zero Spec
	if err := zero.Decode((&Spec{}).Encode()); err != nil || !reflect.DeepEqual(zero, Spec{}) {
		t.Fatalf("empty spec: %+v, %v", zero, err)
	}
}

// A spec from another build (other fields), a cut one or one with extra
// bytes is refused, not misread.
func TestSpecRefusesOthers(t *testing.T) {
	good := (&Spec{ID: "abc", Args: []string{"true"}}).Encode()
	other := strings.Replace(string(good), " Debug?", " Debug? Extra", 1)
	for name, b := range map[string][]byte{
		"another build": []byte(other),
		"cut":           good[:len(good)-3],
		"trailing":      append(append([]byte{}, good...), "x\x00"...),
		"bad count":     []byte(strings.Replace(string(good), "\x001\x00true", "\x00x\x00true", 1)),
		"empty":         nil,
	} {
		var s Spec
		if err := s.Decode(b); err == nil {
			t.Errorf("%s: decoded without an error: %+v", name, s)
		}
	}
}
