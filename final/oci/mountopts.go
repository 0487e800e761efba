package oci

import (
	"fmt"
	"path"
	"strings"
)

// Linux's mount(2) flags (linux/mount.h). Spelled out here, not taken from
// x/sys/unix, so the parser builds (and is fuzzed) on any OS.
const (
	msRdonly      = 0x1
	msNosuid      = 0x2
	msNodev       = 0x4
	msNoexec      = 0x8
	msSynchronous = 0x10
	msRemount     = 0x20
	msMandlock    = 0x40
	msDirsync     = 0x80
	msNosymfollow = 0x100
	msNoatime     = 0x400
	msNodiratime  = 0x800
	msBind        = 0x1000
	msRec         = 0x4000
	msSilent      = 0x8000
	msUnbindable  = 0x20000
	msPrivate     = 0x40000
	msSlave       = 0x80000
	msShared      = 0x100000
	msRelatime    = 0x200000
	msStrictatime = 0x1000000
	msLazytime    = 0x2000000
)

// region mountflags
// mountOptions are mount(8)'s option words as mount(2) flags: set (or,
// with clear, unset) a bit. Words not here go to the filesystem as its
// data ("mode=755", "size=65536k", "newinstance"), as mount(8) does.
var mountOptions = map[string]struct {
	clear bool
	flag  uintptr
}{
	"defaults": {false, 0}, "ro": {false, msRdonly}, "rw": {true, msRdonly},
	"nosuid": {false, msNosuid}, "suid": {true, msNosuid}, "nodev": {false, msNodev}, "dev": {true, msNodev},
	"noexec": {false, msNoexec}, "exec": {true, msNoexec}, "sync": {false, msSynchronous}, "async": {true, msSynchronous},
	"dirsync": {false, msDirsync}, "mand": {false, msMandlock}, "nomand": {true, msMandlock},
	"noatime": {false, msNoatime}, "atime": {true, msNoatime}, "nodiratime": {false, msNodiratime}, "diratime": {true, msNodiratime},
	"relatime": {false, msRelatime}, "norelatime": {true, msRelatime}, "strictatime": {false, msStrictatime},
	"nostrictatime": {true, msStrictatime}, "lazytime": {false, msLazytime}, "nolazytime": {true, msLazytime},
	"nosymfollow": {false, msNosymfollow}, "silent": {false, msSilent}, "loud": {true, msSilent},
	"bind": {false, msBind}, "rbind": {false, msBind | msRec},
}

// propagations are the words that change a mount's propagation: a second
// mount(2) call after the mount itself.
var propagations = map[string]uintptr{
	"private": msPrivate, "rprivate": msPrivate | msRec, "slave": msSlave, "rslave": msSlave | msRec,
	"shared": msShared, "rshared": msShared | msRec, "unbindable": msUnbindable, "runbindable": msUnbindable | msRec,
}

// Flags is one config.json mount as mount(2) takes it.
type Flags struct {
	Flags       uintptr // MS_* for the mount itself
	Propagation uintptr // MS_* for the propagation call, 0 for none
	Data        string  // the filesystem's options
	Bind        bool
}

// fsTypes are the filesystems this runtime mounts (bind mounts aside).
var fsTypes = map[string]bool{"proc": true, "sysfs": true, "tmpfs": true, "devpts": true, "mqueue": true,
	"cgroup": true, "cgroup2": true, "bind": true, "none": true, "": true}

// MountFlags checks one mount and turns its options into flags.
func MountFlags(m Mount) (Flags, error) {
	var f Flags
	if !path.IsAbs(m.Destination) {
		return f, fmt.Errorf("config.json: mount destination %q must be an absolute path", m.Destination)
	}
	if path.Clean(m.Destination) == "/" {
		return f, fmt.Errorf("config.json: a mount on the container's / (root.path is the root)")
	}
	if !fsTypes[m.Type] {
		return f, fmt.Errorf("config.json: mount %s: type %q is not one this runtime mounts (bind, proc, sysfs, tmpfs, devpts, mqueue, cgroup)", m.Destination, m.Type)
	}
	if strings.ContainsRune(m.Source+m.Destination, 0) {
		return f, fmt.Errorf("config.json: mount %s: a NUL byte", m.Destination)
	}
	var data []string
	for _, o := range m.Options {
		if p, ok := propagations[o]; ok {
			f.Propagation = p
			continue
		}
		if mo, ok := mountOptions[o]; ok {
			if mo.clear {
				f.Flags &^= mo.flag
			} else {
				f.Flags |= mo.flag
			}
			continue
		}
		if o == "" || strings.ContainsAny(o, ",\x00") {
			return f, fmt.Errorf("config.json: mount %s: option %q", m.Destination, o)
		}
		data = append(data, o)
	}
	f.Data = strings.Join(data, ",")
	f.Bind = f.Flags&msBind != 0 || m.Type == "bind"
	if f.Bind {
		// Options that are no flag (a tmpfs's mode=, size=) stay in
		// Data: mount(2) with MS_BIND does not read it, as runc passes
		// it too.
		f.Flags |= msBind
		if !path.IsAbs(m.Source) && m.Source == "" {
			return f, fmt.Errorf("config.json: bind mount %s has no source", m.Destination)
		}
	} else if m.Type == "" || m.Type == "none" {
		return f, fmt.Errorf("config.json: mount %s has no type and is no bind mount", m.Destination)
	}
	return f, nil
}

// endregion mountflags
