//go:build linux

package pid1

import "testing"

// TestSameGroups: setgroups(2) is left out only for the very same set of
// groups, whatever their order and repeats.
func TestSameGroups(t *testing.T) {
	for _, c := range []struct {
		have []int
		want []uint32
		same bool
	}{
		{nil, nil, true},
		{[]int{0}, []uint32{0}, true},
		{[]int{10, 0}, []uint32{0, 10}, true},
		{[]int{0, 0}, []uint32{0}, true},
		{[]int{0}, nil, false},
		{nil, []uint32{0}, false},
		{[]int{0, 10}, []uint32{0}, false},
		{[]int{0}, []uint32{0, 10}, false},
		{[]int{1}, []uint32{2}, false},
	} {
		if got := sameGroups(c.have, c.want); got != c.same {
			t.Errorf("sameGroups(%v, %v) = %v, want %v", c.have, c.want, got, c.same)
		}
	}
}
