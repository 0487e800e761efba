//go:build linux

package pid1

import (
	"encoding/base64"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Privileges are what a process of the container may do: who it is, the
// capabilities it keeps, whether it can ever gain more, and the seccomp
// filter its system calls go through. Init applies them to itself, and
// so to the command it starts; exec's helper to the command it becomes.
type Privileges struct {
	// User is --user: NAME|UID[:GROUP|GID], looked up in the container's
	// own /etc/passwd and /etc/group ("" is root).
	User string
	// Caps are the capabilities kept (their numbers): the bounding set,
	// and root's effective and permitted sets.
	Caps []string
	// AddedCaps (--cap-add) are raised as ambient capabilities for a user
	// other than root, the only way a capability survives its execve.
	AddedCaps []string
	// NoNewPrivs: no setuid bit or file capability ever raises privileges
	// again (prctl PR_SET_NO_NEW_PRIVS, inherited and irreversible).
	NoNewPrivs bool
	// Seccomp is the filter, base64 of its struct sock_filter array ("":
	// unconfined).
	Seccomp string
	// Inheritable, when not nil, are an OCI config's inheritable and
	// ambient sets (minidocker-runc takes them only equal), set as given,
	// for root too; nil: AddedCaps for a user other than root, as above.
	Inheritable []string
	// Permitted, when not nil, are the effective and permitted sets, part
	// of Caps (which stays the bounding set): an OCI config's for a user
	// other than root, to whom podman gives the bounding set alone.
	Permitted []string
}

// identity is who a process of the container runs as.
type identity struct {
	uid, gid uint32
	groups   []uint32
	home     string
}

// sysFunc makes one system call: on this thread only (unix.RawSyscall, for
// a thread that execs next), or on every thread of the process
// (syscall.AllThreadsSyscall: init stays alive beside the command).
type sysFunc func(trap, a1, a2, a3 uintptr) (uintptr, uintptr, syscall.Errno)

func thisThread(trap, a1, a2, a3 uintptr) (uintptr, uintptr, syscall.Errno) {
	return unix.RawSyscall(trap, a1, a2, a3)
}

// region drop
// drop becomes the container's user with the container's privileges, in
// runc's order (libcontainer's finalizeNamespace): each step needs what
// the one after takes away.
//
//  1. without no_new_privs the filter goes on first, while we still have
//     CAP_SYS_ADMIN (the kernel demands one or the other);
//  2. the bounding set, the ceiling of what any later execve can give:
//     prctl(PR_CAPBSET_DROP) needs CAP_SETPCAP, still ours;
//  3. the user: setgroups, setresgid, setresuid, with PR_SET_KEEPCAPS so
//     that a non-root user keeps the permitted set through setresuid;
//  4. capset: effective and permitted are the kept set (or Permitted,
//     within it); inheritable holds only the ambient ones, which a
//     non-root user needs to keep a capability across execve (root gets
//     the bounding set back anyway);
//  5. no_new_privs, then the filter, as the last thing before execve:
//     the filter need not allow what the steps above do.
//
// allThreads: init drops for every one of its threads (it stays alive,
// as tini does under `docker run --init`); exec's helper only for the
// thread that calls execve.
func drop(p Privileges, id identity, allThreads bool) error {
	sys := sysFunc(thisThread)
	if allThreads {
		sys = syscall.AllThreadsSyscall
	}
	prctlOn := func(sys sysFunc) func(what string, op, a1, a2 uintptr) error {
		return func(what string, op, a1, a2 uintptr) error {
			if _, _, e := sys(unix.SYS_PRCTL, op, a1, a2); e != 0 {
				return fmt.Errorf("prctl(%s): %v", what, e)
			}
			return nil
		}
	}
	prctl := prctlOn(sys)
	keep, err := capMask(p.Caps)
	if err != nil {
		return err
	}
	ambient, err := capMask(p.AddedCaps)
	if err != nil {
		return err
	}
	if !p.NoNewPrivs && p.Seccomp != "" {
		if err := loadSeccomp(p.Seccomp, allThreads); err != nil {
			return err
		}
	}
	// The bounding set is read only by execve, and only this thread (init's
	// main one, locked) forks the command: the drops are made here alone,
	// 27 all-threads rounds fewer. Not when the container keeps
	// CAP_SYS_PTRACE: with it, a process could reach init's other threads
	// (see cgoInit), and a thread with CAP_SETPCAP and a full bounding set
	// can raise inheritable capabilities past the container's.
	bounding := prctl
	if keep&(1<<unix.CAP_SYS_PTRACE) == 0 {
		bounding = prctlOn(thisThread)
	}
	for c := 0; c <= lastCap(); c++ {
		if keep&(1<<c) == 0 {
			if err := bounding("PR_CAPBSET_DROP "+strconv.Itoa(c), unix.PR_CAPBSET_DROP, uintptr(c), 0); err != nil {
				return err
			}
		}
	}
	if id.uid != 0 {
		if err := prctl("PR_SET_KEEPCAPS", unix.PR_SET_KEEPCAPS, 1, 0); err != nil {
			return err
		}
	}
	if err := setIdentity(sys, id); err != nil {
		return err
	}
	if id.uid != 0 { // (execve reset it to 0 for init: nothing to undo for root)
		if err := prctl("PR_SET_KEEPCAPS", unix.PR_SET_KEEPCAPS, 0, 0); err != nil {
			return err
		}
	}
	if p.Inheritable != nil {
		if ambient, err = capMask(p.Inheritable); err != nil {
			return err
		}
	} else if id.uid == 0 {
		ambient = 0
	}
	ambient &= keep
	permitted := keep
	if p.Permitted != nil {
		if permitted, err = capMask(p.Permitted); err != nil {
			return err
		}
		permitted &= keep
	}
	if err := capset(sys, permitted, permitted, ambient); err != nil {
		return err
	}
	for c := 0; c <= lastCap(); c++ {
		if ambient&permitted&(1<<c) != 0 { // PR_CAP_AMBIENT_RAISE needs both
			if err := prctl("PR_CAP_AMBIENT_RAISE", unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c)); err != nil {
				return err
			}
		}
	}
	if p.NoNewPrivs {
		if err := prctl("PR_SET_NO_NEW_PRIVS", unix.PR_SET_NO_NEW_PRIVS, 1, 0); err != nil {
			return err
		}
		if p.Seccomp != "" {
			return loadSeccomp(p.Seccomp, allThreads)
		}
	}
	return nil
}

// endregion drop

// setIdentity is setgroups(2), setresgid(2), setresuid(2), in that order
// (after setresuid, changing groups needs CAP_SETGID, which a user other
// than root no longer has in effect).
//
// Each call is made only if it changes something: with AllThreadsSyscall
// every call is a round of signals to all of init's threads, and root
// staying root (the common case) needs none of the three.
func setIdentity(sys sysFunc, id identity) error {
	if err := setGroups(sys, id); err != nil {
		return err
	}
	setres := func(name string, trap uintptr, get func() (int, int, int), want uint32) error {
		if r, e, s := get(); r == int(want) && e == int(want) && s == int(want) {
			return nil
		}
		if _, _, e := sys(trap, uintptr(want), uintptr(want), uintptr(want)); e != 0 {
			return fmt.Errorf("%s %d: %v", name, want, e)
		}
		return nil
	}
	if err := setres("setresgid", unix.SYS_SETRESGID, unix.Getresgid, id.gid); err != nil {
		return err
	}
	return setres("setresuid", unix.SYS_SETRESUID, unix.Getresuid, id.uid)
}

// setGroups is setgroups(2) with id's supplementary groups, unless they
// are the ones we have (getgroups(2), in any order).
func setGroups(sys sysFunc, id identity) error {
	if have, err := unix.Getgroups(); err == nil && sameGroups(have, id.groups) {
		return nil
	}
	groups := make([]uint32, len(id.groups)+1)
	copy(groups, id.groups)
	var ptr uintptr
	if len(id.groups) > 0 {
		ptr = uintptr(unsafe.Pointer(&groups[0]))
	}
	_, _, e := sys(unix.SYS_SETGROUPS, uintptr(len(id.groups)), ptr, 0)
	runtime.KeepAlive(groups)
	if e == unix.EPERM && setgroupsDenied() && onlyGroup(id) {
		// Rootless with the user's own gid only (no subgid range): the
		// namespace's /proc/PID/setgroups says deny, and the one group
		// there is already ours. Nothing to drop.
		e = 0
	}
	if e != 0 {
		return fmt.Errorf("setgroups %v: %v", id.groups, e)
	}
	return nil
}

// sameGroups: the same set of groups.
func sameGroups(have []int, want []uint32) bool {
	h, w := map[uint32]bool{}, map[uint32]bool{}
	for _, g := range have {
		h[uint32(g)] = true
	}
	for _, g := range want {
		w[g] = true
	}
	for g := range w {
		if !h[g] {
			return false
		}
	}
	return len(h) == len(w)
}

// setgroupsDenied: this user namespace was made with setgroups(2) denied
// (/proc/self/setgroups: a map written by an unprivileged process).
func setgroupsDenied() bool {
	b, _ := os.ReadFile("/proc/self/setgroups")
	return strings.TrimSpace(string(b)) == "deny"
}

// onlyGroup: the user needs no supplementary group beyond its own gid.
func onlyGroup(id identity) bool {
	for _, g := range id.groups {
		if g != id.gid {
			return false
		}
	}
	return true
}

// capset(2) with the 64-bit (version 3) layout: two 32-bit words per set.
func capset(sys sysFunc, effective, permitted, inheritable uint64) error {
	hdr := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := &[2]unix.CapUserData{
		{Effective: uint32(effective), Permitted: uint32(permitted), Inheritable: uint32(inheritable)},
		{Effective: uint32(effective >> 32), Permitted: uint32(permitted >> 32), Inheritable: uint32(inheritable >> 32)},
	}
	_, _, e := sys(unix.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(data)), 0)
	runtime.KeepAlive(hdr)
	runtime.KeepAlive(data)
	if e != 0 {
		return fmt.Errorf("capset: %v", e)
	}
	return nil
}

func capMask(nums []string) (uint64, error) {
	var m uint64
	for _, s := range nums {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 63 {
			return 0, fmt.Errorf("bad capability number %q", s)
		}
		m |= 1 << n
	}
	return m, nil
}

// lastCap is /proc/sys/kernel/cap_last_cap: the highest capability this
// kernel knows (40 on Linux 5.9 and later).
func lastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if n, e := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && e == nil {
		return n
	}
	return unix.CAP_LAST_CAP
}

// region seccomp
// loadSeccomp attaches the filter: seccomp(SECCOMP_SET_MODE_FILTER), with
// SECCOMP_FILTER_FLAG_TSYNC for every thread of the process at once. From
// here on the kernel runs it on each system call, and on those of every
// child: a filter can be added to, never removed.
func loadSeccomp(b64 string, allThreads bool) error {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) == 0 || len(raw)%8 != 0 {
		return fmt.Errorf("seccomp: a bad filter in the spec")
	}
	filter := make([]unix.SockFilter, len(raw)/8)
	for i := range filter {
		b := raw[8*i:]
		filter[i] = unix.SockFilter{Code: uint16(b[0]) | uint16(b[1])<<8, Jt: b[2], Jf: b[3],
			K: uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24}
	}
	prog := &unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	flags := uintptr(0)
	if allThreads {
		flags = unix.SECCOMP_FILTER_FLAG_TSYNC
	}
	r, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(prog)))
	runtime.KeepAlive(filter)
	if e != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %v", e)
	}
	if r != 0 { // TSYNC: the thread that could not be synchronised
		return fmt.Errorf("seccomp: thread %d could not take the filter", r)
	}
	return nil
}

// endregion seccomp

// Become is what exec's helper does just before execve: the container's
// user (looked up in its /etc/passwd: the helper is inside its root) and
// privileges, for the calling thread, which must be locked to its
// goroutine and be the one that calls execve.
//
// It returns the user's home directory (from /etc/passwd, "/" without an
// entry), for a HOME the environment lacks.
func Become(p Privileges) (home string, err error) {
	id, err := lookupUser(p.User)
	if err != nil {
		return "", err
	}
	return id.home, drop(p, id, false)
}
