package oci

import "sort"

// Default is `minidocker-runc spec`'s config.json: runc's default (a
// shell on a terminal, root's three harmless capabilities, the masked
// and read-only paths, every device denied), so a bundle made for one
// runtime runs on the other.
func Default() *Spec {
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	deny := []DeviceRule{{Allow: false, Access: "rwm"}}
	return &Spec{
		Version: SpecVersionConst,
		Process: &Process{Terminal: true, Args: []string{"sh"}, Cwd: "/",
			Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"},
			Capabilities: &Capabilities{Bounding: caps, Effective: caps, Permitted: caps, Ambient: caps},
			Rlimits:      []Rlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}}, NoNewPrivileges: true},
		Root:     &Root{Path: "rootfs", Readonly: true},
		Hostname: "minidocker-runc",
		Mounts: []Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		},
		Linux: &Linux{
			Resources: &Resources{Devices: deny},
			Namespaces: []Namespace{{Type: "pid"}, {Type: "network"}, {Type: "ipc"}, {Type: "uts"}, {Type: "mount"},
				{Type: "cgroup"}},
			MaskedPaths: []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
}

// SpecVersionConst is the runtime-spec version this runtime implements.
const SpecVersionConst = "1.0.2"

// Features is `minidocker-runc features` (runtime-spec's features.md):
// what this build applies, so a caller can ask before it sends a config.
func Features() map[string]any {
	var opts []string
	for o := range mountOptions {
		opts = append(opts, o)
	}
	for o := range propagations {
		opts = append(opts, o)
	}
	sort.Strings(opts)
	return map[string]any{
		"ociVersionMin": "1.0.0",
		"ociVersionMax": SpecVersionConst,
		"hooks":         []string{"prestart", "createRuntime", "poststart", "poststop"},
		"mountOptions":  opts,
		"linux": map[string]any{
			"namespaces": []string{"cgroup", "ipc", "mount", "network", "pid", "uts"},
			"cgroup":     map[string]any{"v1": true, "v2": true, "systemd": false, "systemdUser": false},
			"seccomp":    map[string]any{"enabled": false},
			"apparmor":   map[string]any{"enabled": false},
			"selinux":    map[string]any{"enabled": false},
		},
		"annotations": map[string]string{"org.minidocker.runtime.version": "minidocker-runc"},
	}
}
