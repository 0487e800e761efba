//go:build linux

package security

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"golang.org/x/sys/unix"
)

// Device is one device node a container gets beside the harmless ones.
type Device struct {
	Type         byte // 'c' or 'b'
	Major, Minor int64
	Mode         uint32 // permission bits
	Path, Host   string // in the container, on the host
	Access       string // what the device fence lets it do: rwm
}

// Spec is the device as init takes it: "TYPE MAJOR MINOR MODE PATH HOST".
func (d Device) Spec() string {
	return fmt.Sprintf("%c %d %d %o %s %s", d.Type, d.Major, d.Minor, d.Mode, d.Path, d.Host)
}

// Rule is the device fence's rule for it.
func (d Device) Rule() cgroups.DeviceRule {
	return cgroups.DeviceRule{Type: d.Type, Major: d.Major, Minor: d.Minor, Access: d.Access}
}

// region device
// Devices are what --device asks for (HostConfig.Devices: the host's node,
// where it goes in the container, its access), each checked on the host:
// it must be a device node (stat(2) tells its type and numbers).
func Devices(maps []types.DeviceMapping) ([]Device, error) {
	var out []Device
	for _, m := range maps {
		dst := m.PathInContainer
		if dst == "" {
			dst = m.PathOnHost
		}
		access := m.CgroupPermissions
		if access == "" {
			access = "rwm"
		}
		if strings.Trim(access, "rwm") != "" {
			return nil, fmt.Errorf("invalid --device %s: permissions %q: use r, w and m", m.PathOnHost, access)
		}
		d, err := hostDevice(m.PathOnHost)
		if err != nil {
			return nil, fmt.Errorf("invalid --device %s: %v", m.PathOnHost, err)
		}
		if !strings.HasPrefix(filepath.Clean(dst), "/dev/") || strings.ContainsAny(dst, " \t\n") {
			return nil, fmt.Errorf("invalid --device %s: the container's path %q must be under /dev/", m.PathOnHost, dst)
		}
		d.Path, d.Access = filepath.Clean(dst), access
		out = append(out, d)
	}
	return out, nil
}

// endregion device

func hostDevice(path string) (Device, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Device{}, err
	}
	d := Device{Major: int64(unix.Major(uint64(st.Rdev))), Minor: int64(unix.Minor(uint64(st.Rdev))),
		Mode: st.Mode & 0777, Path: path, Host: path, Access: "rwm"}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		d.Type = 'c'
	case unix.S_IFBLK:
		d.Type = 'b'
	default:
		return Device{}, fmt.Errorf("not a device node")
	}
	return d, nil
}

// HostDevices are every device node of the host's /dev, as --privileged
// gives them (Docker makes the same copies): not the pseudo-terminals,
// shared memory or message queues, which the container has its own of.
func HostDevices() []Device {
	var out []Device
	filepath.Walk("/dev", func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if fi.IsDir() && (p == "/dev/pts" || p == "/dev/shm" || p == "/dev/mqueue") {
			return filepath.SkipDir
		}
		if fi.Mode()&os.ModeDevice == 0 || strings.ContainsAny(p, " \t\n") {
			return nil
		}
		switch p {
		case "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx", "/dev/console":
			return nil // made anyway
		}
		if d, err := hostDevice(p); err == nil {
			out = append(out, d)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
