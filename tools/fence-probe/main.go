//go:build linux

// fence-probe tries, from inside a container, the things the fences of
// docs/10-security.md are there to stop, and says for each whether the
// kernel let it through. Every attempt is harmless when it succeeds: a
// file opened for writing is closed unwritten, a mount is in the
// container's own mount namespace, the clock is "set" with no new time,
// reboot asks for a command the kernel refuses after the permission check.
//
//	fence-probe NAME...   # one line per attempt: "NAME reached|fenced|absent: DETAIL"
//
// Each attempt runs as a child of its own (they change the process: its
// personality, its keyring, its tracer), so one cannot spoil the next.
// Build it static (CGO_ENABLED=0) and copy it into the rootfs.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// outcome of an attempt: reached (the kernel let it through), fenced (it
// refused: the fence held), absent (this kernel has no such thing).
type outcome struct {
	kind, detail string
}

func reached(f string, a ...any) outcome { return outcome{"reached", fmt.Sprintf(f, a...)} }
func fenced(err error) outcome           { return outcome{"fenced", err.Error()} }
func absent(f string, a ...any) outcome  { return outcome{"absent", fmt.Sprintf(f, a...)} }

// denied is the errors of a fence: EPERM (a capability, the seccomp
// filter, the device cgroup), EACCES, EROFS (a read-only mount).
func denied(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.EROFS)
}

// gate: a denial is fenced, any other answer means the call got past the
// fences to the kernel's own work.
func gate(what string, err error) outcome {
	if err == nil {
		return reached("%s succeeded", what)
	}
	if denied(err) {
		return fenced(fmt.Errorf("%s: %v", what, err))
	}
	return reached("%s got past the permission checks: %v", what, err)
}

var attempts = map[string]func() outcome{
	// Magic SysRq: `echo b > /proc/sysrq-trigger` reboots the host at once.
	"sysrq": func() outcome { return openForWrite("/proc/sysrq-trigger") },
	// /proc/kcore is the kernel's memory as an ELF core file.
	"kcore": func() outcome {
		f, err := os.Open("/proc/kcore")
		if errors.Is(err, os.ErrNotExist) {
			return absent("this kernel has no /proc/kcore")
		}
		if err != nil {
			return fenced(err)
		}
		defer f.Close()
		b := make([]byte, 4)
		n, err := f.Read(b)
		if n == 4 && string(b) == "\x7fELF" {
			return reached("read the ELF header of the kernel's memory")
		}
		return fenced(fmt.Errorf("read %d bytes (masked): %v", n, err))
	},
	// /proc/timer_list shows every timer of the host, other tenants' too.
	"timer_list": func() outcome {
		b, err := os.ReadFile("/proc/timer_list")
		if errors.Is(err, os.ErrNotExist) {
			return absent("no /proc/timer_list")
		}
		if bytes.Contains(b, []byte("Timer List")) {
			return reached("read the host's timers")
		}
		return fenced(fmt.Errorf("read %d bytes (masked): %v", len(b), err))
	},
	"mount": func() outcome {
		os.MkdirAll("/mnt/probe", 0755)
		err := unix.Mount("tmpfs", "/mnt/probe", "tmpfs", 0, "size=1m")
		if err == nil {
			unix.Unmount("/mnt/probe", 0)
		}
		return gate("mount -t tmpfs", err)
	},
	// init_module with a few bytes that are no module: refused before any
	// parsing without CAP_SYS_MODULE, ENOEXEC after.
	"init_module": func() outcome {
		img := []byte{0, 0, 0, 0}
		param := []byte{0}
		_, _, e := unix.Syscall(unix.SYS_INIT_MODULE, uintptr(unsafe.Pointer(&img[0])), uintptr(len(img)), uintptr(unsafe.Pointer(&param[0])))
		return gate("init_module", errno(e))
	},
	// A block device node: mknod is allowed (a node is only a name), the
	// device fence refuses to open it.
	"mknod_block": func() outcome { return mknodOpen(unix.S_IFBLK, 7, 0) },  // /dev/loop0
	"mknod_char":  func() outcome { return mknodOpen(unix.S_IFCHR, 1, 11) }, // /dev/kmsg
	// reboot(LINUX_REBOOT_CMD_CAD_OFF) in a PID namespace: past the
	// CAP_SYS_BOOT check the kernel answers EINVAL (only restart, halt and
	// power-off mean something there). Never run on the host.
	"reboot": func() outcome {
		if ino, err := pidNS(); err != nil || ino == 0xEFFFFFFC {
			return absent("not in a child PID namespace: refusing to call reboot(2)")
		}
		_, _, e := unix.Syscall6(unix.SYS_REBOOT, unix.LINUX_REBOOT_MAGIC1, unix.LINUX_REBOOT_MAGIC2,
			unix.LINUX_REBOOT_CMD_CAD_OFF, 0, 0, 0)
		return gate("reboot(CAD_OFF)", errno(e))
	},
	// settimeofday(NULL, NULL): the CAP_SYS_TIME check, and nothing set.
	"settimeofday": func() outcome {
		_, _, e := unix.Syscall(unix.SYS_SETTIMEOFDAY, 0, 0, 0)
		return gate("settimeofday(NULL, NULL)", errno(e))
	},
	// unshare -U, then mount in the new namespaces (as a child: a Go
	// program cannot unshare a user namespace for itself).
	"unshare_user": func() outcome {
		cmd := exec.Command("/proc/self/exe", "mount-in-userns")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}}
		out, err := cmd.CombinedOutput()
		if err == nil {
			return reached("a new user namespace, and a mount in it: %s", strings.TrimSpace(string(out)))
		}
		if len(out) > 0 {
			return fenced(fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out))))
		}
		return gate("clone(CLONE_NEWUSER|CLONE_NEWNS)", err)
	},
	"keyctl": func() outcome {
		_, _, e := unix.Syscall(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, sessionKeyring, 0)
		return gate("keyctl(KEYCTL_GET_KEYRING_ID)", errno(e))
	},
	// PTRACE_SEIZE of PID 1, minidocker's init: a process outside the
	// command's own, run from a host binary (the exit detaches it).
	"ptrace_init": func() outcome {
		_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SEIZE, 1, 0, 0, 0, 0)
		return gate("ptrace(PTRACE_SEIZE, 1)", errno(e))
	},
	// CVE-2019-5736: /proc/PID/exe of a process that runs a host binary
	// leads to that binary. Opened O_PATH only, never for writing.
	"proc_exe": func() outcome {
		fd, err := unix.Open("/proc/1/exe", unix.O_PATH|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		return gate("open /proc/1/exe", err)
	},
	// The "shocker" escape: a file handle (inode number and generation)
	// opened without a path, so outside any mount's reach. It needs
	// CAP_DAC_READ_SEARCH; /mnt/vol is a bind mount of the host's.
	"open_by_handle": func() outcome {
		h, mount, err := unix.NameToHandleAt(unix.AT_FDCWD, "/mnt/vol", 0)
		if err != nil {
			return absent("name_to_handle_at /mnt/vol: %v", err)
		}
		mfd, err := unix.Open("/mnt/vol", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return absent("open /mnt/vol: %v", err)
		}
		defer unix.Close(mfd)
		_ = mount
		fd, err := unix.OpenByHandleAt(mfd, h, unix.O_RDONLY)
		if err == nil {
			unix.Close(fd)
		}
		return gate("open_by_handle_at", err)
	},
	"sys_kernel": func() outcome {
		for _, p := range []string{"/sys/kernel/profiling", "/sys/kernel/mm/ksm/run", "/sys/kernel/rcu_expedited"} {
			if _, err := os.Stat(p); err == nil {
				return openForWrite(p)
			}
		}
		return absent("no writable file known in /sys/kernel")
	},
	"proc_sys": func() outcome { return openForWrite("/proc/sys/kernel/domainname") },
	// swapoff of a path that does not exist: EPERM without CAP_SYS_ADMIN,
	// ENOENT past it.
	"swapoff": func() outcome {
		p, _ := unix.BytePtrFromString("/no-such-swap-file")
		_, _, e := unix.Syscall(unix.SYS_SWAPOFF, uintptr(unsafe.Pointer(p)), 0, 0)
		return gate("swapoff", errno(e))
	},
	// CVE-2022-0492: mount a v1 cgroup hierarchy, whose release_agent runs
	// a program on the host. Only the mount is tried, release_agent is
	// never written.
	"cgroup_mount": func() outcome {
		os.MkdirAll("/mnt/cg", 0755)
		err := unix.Mount("cgroup", "/mnt/cg", "cgroup", 0, "none,name=mdprobe")
		if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EBUSY) {
			return absent("no cgroup v1 here: %v", err)
		}
		if err == nil {
			_, statErr := os.Stat("/mnt/cg/release_agent")
			unix.Unmount("/mnt/cg", 0)
			return reached("mounted a cgroup v1 hierarchy (release_agent there: %v)", statErr == nil)
		}
		return gate("mount -t cgroup", err)
	},
	// personality(ADDR_NO_RANDOMIZE): turns off ASLR for what runs next.
	"personality": func() outcome {
		_, _, e := unix.Syscall(unix.SYS_PERSONALITY, addrNoRandomize, 0, 0)
		return gate("personality(ADDR_NO_RANDOMIZE)", errno(e))
	},
	// bpf(BPF_MAP_CREATE): the kernel's in-kernel virtual machine.
	"bpf": func() outcome {
		attr := struct{ typ, key, value, max uint32 }{2 /* BPF_MAP_TYPE_ARRAY */, 4, 4, 1}
		fd, _, e := unix.Syscall(unix.SYS_BPF, 0 /* BPF_MAP_CREATE */, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		if e == 0 {
			unix.Close(int(fd))
		}
		return gate("bpf(BPF_MAP_CREATE)", errno(e))
	},
	"sethostname": func() outcome {
		name, _ := os.Hostname()
		return gate("sethostname", unix.Sethostname([]byte(name)))
	},
	// ip link set lo mtu (its own): CAP_NET_ADMIN.
	"net_admin": func() outcome {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return absent("socket: %v", err)
		}
		defer unix.Close(fd)
		ifr, _ := unix.NewIfreq("lo")
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFMTU, ifr); err != nil {
			return absent("SIOCGIFMTU: %v", err)
		}
		return gate("ip link set lo mtu (SIOCSIFMTU)", unix.IoctlIfreq(fd, unix.SIOCSIFMTU, ifr))
	},
	// A TCP port below 1024 (run with --network host --cap-drop
	// NET_BIND_SERVICE): the first one free, closed at once.
	"bind_low_port": func() outcome {
		for port := 1023; port > 900; port-- {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err == nil {
				l.Close()
				return reached("listened on 127.0.0.1:%d", port)
			}
			if !errors.Is(err, unix.EADDRINUSE) {
				return gate(fmt.Sprintf("bind 127.0.0.1:%d", port), err)
			}
		}
		return absent("ports 901-1023 are all in use")
	},
	// A setuid-root copy of this program (/bin/fence-probe-suid), run by a
	// user other than root: no_new_privs ignores the setuid bit.
	"setuid": func() outcome {
		if os.Geteuid() == 0 {
			return absent("run as root: nothing to gain (use --user)")
		}
		out, err := exec.Command("/bin/fence-probe-suid", "euid").Output()
		euid := strings.TrimSpace(string(out))
		if err != nil {
			return absent("fence-probe-suid: %v", err)
		}
		if euid == "0" {
			return reached("the setuid binary ran with euid 0")
		}
		return fenced(fmt.Errorf("the setuid binary ran with euid %s", euid))
	},
	// The classic chroot escape (step03's tools/chroot-escape), with
	// --cap-drop SYS_CHROOT: refused by default; allowed with
	// --privileged, where pivot_root still leaves nothing to escape to.
	"chroot": func() outcome {
		out, err := exec.Command("/bin/chroot-escape", "/no-such-host-path").CombinedOutput()
		s := strings.TrimSpace(string(out))
		if strings.Contains(s, "contained:") || strings.Contains(s, "escaped:") {
			return reached("chroot(2) allowed: %s", s)
		}
		if strings.Contains(s, "operation not permitted") {
			return fenced(errors.New(s))
		}
		return absent("chroot-escape: %v: %s", err, s)
	},
}

func main() {
	switch {
	case len(os.Args) == 2 && os.Args[1] == "euid":
		fmt.Println(os.Geteuid())
		return
	case len(os.Args) == 2 && os.Args[1] == "mount-in-userns":
		err := unix.Mount("tmpfs", "/mnt", "tmpfs", 0, "size=1m")
		if err != nil {
			fmt.Println("mount in the new namespace:", err)
			os.Exit(1)
		}
		fmt.Println("mounted")
		return
	case len(os.Args) == 3 && os.Args[1] == "one":
		fn, ok := attempts[os.Args[2]]
		if !ok {
			fmt.Println("absent: no such attempt")
			return
		}
		o := fn()
		fmt.Printf("%s: %s\n", o.kind, strings.ReplaceAll(o.detail, "\n", " "))
		return
	}
	for _, name := range os.Args[1:] {
		out, _ := exec.Command("/proc/self/exe", "one", name).Output()
		line := strings.TrimSpace(string(out))
		if line == "" {
			line = "absent: the attempt died"
		}
		fmt.Printf("%s %s\n", name, line)
	}
}

func openForWrite(path string) outcome {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return absent("this kernel has no %s", path)
	}
	if err == nil {
		f.Close() // never written
	}
	return gate("open "+path+" for writing", err)
}

func mknodOpen(kind uint32, major, minor uint32) outcome {
	path := fmt.Sprintf("/tmp/probe-dev-%d-%d", major, minor)
	os.Remove(path)
	if err := unix.Mknod(path, kind|0600, int(unix.Mkdev(major, minor))); err != nil {
		return gate("mknod", err)
	}
	defer os.Remove(path)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	return gate(fmt.Sprintf("open of the node %d:%d", major, minor), err)
}

const (
	sessionKeyring  = ^uintptr(2) // KEY_SPEC_SESSION_KEYRING, -3
	addrNoRandomize = 0x0040000   // ADDR_NO_RANDOMIZE
)

// pidNS is the inode of our PID namespace (the host's is 0xEFFFFFFC).
func pidNS() (uint64, error) {
	var st unix.Stat_t
	err := unix.Stat("/proc/self/ns/pid", &st)
	return st.Ino, err
}

func errno(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
