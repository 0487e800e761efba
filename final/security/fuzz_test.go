package security

import "testing"

// FuzzSeccompProfile: a profile comes from whoever runs a container
// (--security-opt seccomp=FILE, or an API client's JSON): parsing and
// compiling it must never panic, and whatever it compiles to must be a
// program the kernel would take.
func FuzzSeccompProfile(f *testing.F) {
	for _, s := range profileSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProfile(b)
		if err != nil {
			return
		}
		prog, err := Compile(p, DefaultCaps, "6.1")
		if err != nil {
			return
		}
		if n := len(prog.Instructions); n == 0 || n > maxInstructions {
			t.Fatalf("%d instructions", n)
		}
	})
}
