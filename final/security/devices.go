package security

import "github.com/minidocker/build-your-own-docker/final/cgroups"

// region devicerules
// DefaultDevices are the devices a container may use (Docker's default
// allow-list): making any device node (mknod is harmless: a node is only
// a name), but opening only null, zero, full, random, urandom, tty,
// console, ptmx and the pseudo-terminals (/dev/pts/*, major 136).
func DefaultDevices() []cgroups.DeviceRule {
	rules := []cgroups.DeviceRule{{Type: 'c', Major: -1, Minor: -1, Access: "m"}, {Type: 'b', Major: -1, Minor: -1, Access: "m"}}
	for _, d := range [][2]int64{{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}, {136, -1}} {
		rules = append(rules, cgroups.DeviceRule{Type: 'c', Major: d[0], Minor: d[1], Access: "rwm"})
	}
	return rules
}

// endregion devicerules
