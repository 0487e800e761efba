package security

import "strings"

// region builtin
// Builtin is Docker's default seccomp profile (moby's
// profiles/seccomp/default.json, the one `docker info` calls "builtin"),
// written out here as Go data: every system call is refused with EPERM
// unless a rule below lets it through. About 350 calls are always
// allowed; the rest are allowed only to a container that holds the
// capability they need anyway (mount wants CAP_SYS_ADMIN, reboot
// CAP_SYS_BOOT), so that --cap-add opens the system calls that go with
// the capability. Two calls are allowed with some arguments only:
// clone without namespace flags (a new thread or process, not a new
// namespace), and personality with the five harmless personas.
func Builtin() *Profile {
	eperm := uint(errEPERM)
	enosys := uint(errENOSYS)
	allow := func(names string, includes, excludes *Filter, args ...Arg) SyscallRule {
		return SyscallRule{Names: strings.Fields(names), Action: "SCMP_ACT_ALLOW", Includes: includes, Excludes: excludes, Args: args}
	}
	withCap := func(c string) *Filter { return &Filter{Caps: []string{c}} }
	onArch := func(a ...string) *Filter { return &Filter{Arches: a} }
	p := &Profile{DefaultAction: "SCMP_ACT_ERRNO", DefaultErrnoRet: &eperm,
		ArchMap: []ArchMapping{{Arch: "SCMP_ARCH_X86_64", SubArches: []string{"SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
			{Arch: "SCMP_ARCH_AARCH64", SubArches: []string{"SCMP_ARCH_ARM"}}}}
	p.Syscalls = []SyscallRule{
		allow(alwaysAllowed, nil, nil),
		// ptrace and its kin: before Linux 4.8 a ptrace'd process could
		// get past seccomp itself.
		allow("process_vm_readv process_vm_writev ptrace", &Filter{MinKernel: "4.8"}, nil),
		// socket, but not AF_VSOCK (40): the host's vsock is not the
		// container's to reach.
		allow("socket", nil, nil, Arg{Index: 0, Value: 40, Op: "SCMP_CMP_NE"}),
		// personality: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32
		// and 0xffffffff (the query); not READ_IMPLIES_EXEC or
		// ADDR_NO_RANDOMIZE, which weaken the process's own memory defences.
		allow("personality", nil, nil, Arg{Index: 0, Value: 0x0, Op: "SCMP_CMP_EQ"}),
		allow("personality", nil, nil, Arg{Index: 0, Value: 0x8, Op: "SCMP_CMP_EQ"}),
		allow("personality", nil, nil, Arg{Index: 0, Value: 0x20000, Op: "SCMP_CMP_EQ"}),
		allow("personality", nil, nil, Arg{Index: 0, Value: 0x20008, Op: "SCMP_CMP_EQ"}),
		allow("personality", nil, nil, Arg{Index: 0, Value: 0xffffffff, Op: "SCMP_CMP_EQ"}),
		allow("arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls", onArch("arm", "arm64"), nil),
		allow("arch_prctl", onArch("amd64", "x32"), nil),
		allow("modify_ldt", onArch("amd64", "x32", "x86"), nil),
		allow("open_by_handle_at", withCap("CAP_DAC_READ_SEARCH"), nil),
		allow("bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr "+
			"move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog "+
			"umount umount2 unshare", withCap("CAP_SYS_ADMIN"), nil),
		// clone without CAP_SYS_ADMIN: allowed when none of the namespace
		// flags is set, (flags & 0x7E020000) == 0: CLONE_NEWNS,
		// CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
		// CLONE_NEWPID, CLONE_NEWNET.
		allow("clone", nil, &Filter{Caps: []string{"CAP_SYS_ADMIN"}},
			Arg{Index: 0, Value: 0x7E020000, ValueTwo: 0, Op: "SCMP_CMP_MASKED_EQ"}),
		// clone3 passes its flags in memory, where a filter cannot look:
		// ENOSYS, so that the C library falls back to clone.
		{Names: []string{"clone3"}, Action: "SCMP_ACT_ERRNO", ErrnoRet: &enosys, Excludes: withCap("CAP_SYS_ADMIN")},
		allow("reboot", withCap("CAP_SYS_BOOT"), nil),
		allow("chroot", withCap("CAP_SYS_CHROOT"), nil),
		allow("delete_module init_module finit_module", withCap("CAP_SYS_MODULE"), nil),
		allow("acct", withCap("CAP_SYS_PACCT"), nil),
		allow("kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace", withCap("CAP_SYS_PTRACE"), nil),
		allow("iopl ioperm", withCap("CAP_SYS_RAWIO"), nil),
		allow("settimeofday stime clock_settime clock_settime64", withCap("CAP_SYS_TIME"), nil),
		allow("vhangup", withCap("CAP_SYS_TTY_CONFIG"), nil),
		allow("get_mempolicy mbind set_mempolicy set_mempolicy_home_node", withCap("CAP_SYS_NICE"), nil),
		allow("syslog", withCap("CAP_SYSLOG"), nil),
		allow("bpf", withCap("CAP_BPF"), nil),
		allow("perf_event_open", withCap("CAP_PERFMON"), nil),
	}
	return p
}

// alwaysAllowed are the system calls every container may make: files,
// memory, signals, sockets, timers, processes and threads (names of other
// architectures among them are ignored where they do not exist).
const alwaysAllowed = `
	accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
	clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
	clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2
	dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait
	epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64
	fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl
	fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64
	fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu
	getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups
	getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid
	getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname
	getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch
	inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents
	io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter
	io_uring_register io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset
	landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek
	lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier memfd_create memfd_secret mincore
	mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify
	mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap
	msgctl msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep
	newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2
	pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2
	prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead
	readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages
	removexattr rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending
	rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64
	rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max
	sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64
	sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select
	semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg
	sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer
	setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid
	setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid
	setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask
	sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync
	sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun
	timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime
	timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit
	umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid
	waitpid write writev
`

// endregion builtin
