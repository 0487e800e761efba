package cgroups

import "fmt"

// DeviceRule lets a container use devices: Type 'c' (character), 'b'
// (block) or 'a' (all), a major and minor number (-1: any), and the
// access: r (read), w (write), m (mknod). Everything no rule allows is
// refused, whoever opens it: root in the container too.
type DeviceRule struct {
	Type         byte
	Major, Minor int64
	Access       string
	// Deny takes access back (an OCI config's "allow": false after the
	// first rule). Later rules win: dockerd allows mknod of every device,
	// then denies c 10:229.
	Deny bool
}

// String is the rule as the v1 devices controller writes it:
// "c 1:3 rwm", "b *:* m".
func (r DeviceRule) String() string {
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%c %s:%s %s", r.Type, num(r.Major), num(r.Minor), r.Access)
}
