//go:build linux

// step03-mnt-chroot: + its own mount table and its own root filesystem.
//
// The new idea: a mount namespace (CLONE_NEWNS, the first namespace Linux had,
// hence the vague name), in which the container mounts its own /proc, /dev and
// /sys and then pivot_root(2)s into the busybox rootfs, so the host's files are
// out of reach. Now `ps` shows only the container's processes. --chroot uses
// chroot(2) instead, to show why containers do not: chroot can be escaped.
//
//	sudo go run ./step03-mnt-chroot -- ps
//	sudo go run ./step03-mnt-chroot --rootfs /path/to/rootfs -- ls /
//
// Shell equivalent: sudo unshare --uts --pid --ipc --mount --fork sh, then the
// mount and pivot_root commands that -v prints.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// name prefixes every message, so a learner knows which step spoke.
const name = "step03-mnt-chroot"

// config holds the flags. Parent and child parse the same command line, so the
// child (a fresh copy of this program) learns the flags without any extra channel.
type config struct {
	hostname string
	rootfs   string // the directory that becomes the container's /
	chroot   bool   // use chroot(2) instead of pivot_root(2), for comparison
	verbose  bool
	command  []string
}

func parseFlags(args []string) config {
	var c config
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	fs.StringVar(&c.hostname, "hostname", "container", "hostname inside the container")
	fs.StringVar(&c.rootfs, "rootfs", "/var/lib/minidocker/rootfs", "root filesystem (built by `sudo make rootfs`)")
	fs.BoolVar(&c.chroot, "chroot", false, "use chroot instead of pivot_root (escapable: see docs/03-mnt-chroot.md)")
	fs.BoolVar(&c.verbose, "v", false, "print each kernel-facing action as a shell command")
	fs.BoolVar(&c.verbose, "verbose", false, "same as -v")
	fs.Parse(args) // stops at the first non-flag or at "--"
	c.command = fs.Args()
	c.rootfs, _ = filepath.Abs(c.rootfs)
	if len(c.command) == 0 {
		c.command = []string{"/bin/sh"}
	}
	return c
}

// trace prints, with -v, the shell command a learner would type for the same effect.
func (c config) trace(format string, a ...any) {
	if c.verbose {
		fmt.Fprintf(os.Stderr, "+ "+format+"\n", a...)
	}
}

// region main
// childMarker is argv[0] of the re-executed copy. A user cannot pass it by
// accident (it is not an argument), and `ps` shows it while the child sets up.
const childMarker = "container-init"

func main() {
	if os.Args[0] == childMarker {
		child(parseFlags(os.Args[1:]))
		return
	}
	c := parseFlags(os.Args[1:])
	preflight(c)
	os.Exit(parent(c))
}

// endregion main

// preflight: the checks that would otherwise surface as a cryptic EPERM later.
func preflight(c config) {
	if os.Geteuid() != 0 {
		fail(1, "must run as root: namespaces need CAP_SYS_ADMIN; try `sudo go run ./%s`", name)
	}
	if _, err := os.Stat(filepath.Join(c.rootfs, "bin/sh")); err != nil {
		fail(1, "no rootfs at %s: run `sudo make rootfs` first, or pass --rootfs DIR", c.rootfs)
	}
}

// region clone
// parent re-executes this very program (/proc/self/exe) as the child, asking
// the kernel to create it in new namespaces. Go cannot do what C's
// clone(fn, stack, CLONE_NEWUTS|SIGCHLD) does — run a function in the new
// process — because a Go program is many threads and clone() copies only one.
// So the child is a fresh copy of the program, started by clone+execve.
func parent(c config) int {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = childMarker
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWUTS | // own hostname
			unix.CLONE_NEWPID | // own PIDs: the child is PID 1
			unix.CLONE_NEWIPC | // own message queues, semaphores, shared memory
			unix.CLONE_NEWNS, // own mount table

		Pdeathsig: unix.SIGKILL, // if we die, the kernel kills the container too
	}
	c.trace("unshare --uts --pid --ipc --mount --fork /proc/self/exe  # clone(CLONE_NEWUTS|CLONE_NEWPID|CLONE_NEWIPC|CLONE_NEWNS) + execve")
	// endregion clone
	if err := cmd.Start(); err != nil {
		fail(125, "cannot start the container: %v", err)
	}
	forwardSignals(cmd.Process)
	return exitStatus(cmd.Wait())
}

// region child
// child runs inside the new namespaces: set them up, then become the command.
func child(c config) {
	c.trace("hostname %s", c.hostname)
	must(unix.Sethostname([]byte(c.hostname)), "sethostname")
	setupRoot(c)
	execCommand(c)
}

// endregion child

// region root
// setupRoot makes the rootfs the container's / and mounts what programs expect.
func setupRoot(c config) {
	// systemd makes / a shared mount: a mount made below it would propagate to
	// the host (our /proc would appear there) and pivot_root fails with EINVAL.
	// Mark every mount private to this namespace first.
	c.mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, "")
	if c.chroot {
		c.trace("chroot %s", c.rootfs)
		must(unix.Chroot(c.rootfs), "chroot")
		must(unix.Chdir("/"), "chdir /")
	} else {
		pivotRoot(c)
	}
	c.mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	c.mount("sysfs", "/sys", "sysfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	mountDev(c)
}

// pivotRoot swaps the root mount of this namespace for the rootfs, then
// detaches the old root, so no path leads back to the host's files.
func pivotRoot(c config) {
	// pivot_root needs the new root to be a mount point: bind it onto itself.
	c.mount(c.rootfs, c.rootfs, "", unix.MS_BIND|unix.MS_REC, "")
	must(unix.Chdir(c.rootfs), "chdir rootfs")
	// pivot_root(".", "."): the old root is stacked on top of the new one at
	// "."; unmounting "." then drops the old root (runc does the same; it needs
	// no spare directory in the image).
	c.trace("cd %s && pivot_root . .", c.rootfs)
	must(unix.PivotRoot(".", "."), "pivot_root")
	c.trace("umount -l .")
	must(unix.Unmount(".", unix.MNT_DETACH), "umount old root")
	must(unix.Chdir("/"), "chdir /")
}

// endregion root

// region dev
// mountDev builds a minimal /dev on a tmpfs: only the harmless devices, never
// the host's disks. devpts gets its own instance, so ptys are the container's.
func mountDev(c config) {
	c.mount("tmpfs", "/dev", "tmpfs", unix.MS_NOSUID|unix.MS_STRICTATIME, "mode=755,size=64k")
	for _, d := range []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}} {
		path := "/dev/" + d.name
		c.trace("mknod -m 666 %s c %d %d", path, d.major, d.minor)
		must(unix.Mknod(path, unix.S_IFCHR|0666, int(unix.Mkdev(d.major, d.minor))), "mknod "+path)
		must(os.Chmod(path, 0666), "chmod "+path) // mknod's mode is filtered by the umask
	}
	must(os.Mkdir("/dev/pts", 0755), "mkdir /dev/pts")
	c.mount("devpts", "/dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620")
	for link, target := range map[string]string{"/dev/ptmx": "pts/ptmx", "/dev/fd": "/proc/self/fd",
		"/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2"} {
		must(os.Symlink(target, link), "ln -s "+link)
	}
}

// endregion dev

// mount is mount(2), traced as the mount(8) command that does the same.
func (c config) mount(source, target, fstype string, flags uintptr, data string) {
	switch {
	case flags&unix.MS_PRIVATE != 0:
		c.trace("mount --make-rprivate %s", target)
	case flags&unix.MS_BIND != 0:
		c.trace("mount --rbind %s %s", source, target)
	default:
		c.trace("mount -t %s -o %s %s %s", fstype, mountOptions(flags, data), source, target)
	}
	must(unix.Mount(source, target, fstype, flags, data), "mount "+target)
}

// mountOptions spells mount flags the way mount(8) -o does.
func mountOptions(flags uintptr, data string) string {
	opts := []string{}
	for _, f := range []struct {
		bit  uintptr
		name string
	}{{unix.MS_RDONLY, "ro"}, {unix.MS_NOSUID, "nosuid"}, {unix.MS_NODEV, "nodev"}, {unix.MS_NOEXEC, "noexec"}, {unix.MS_STRICTATIME, "strictatime"}} {
		if flags&f.bit != 0 {
			opts = append(opts, f.name)
		}
	}
	if data != "" {
		opts = append(opts, data)
	}
	if len(opts) == 0 {
		return "defaults"
	}
	return strings.Join(opts, ",")
}

// region exec
// execCommand replaces this process with the user's command (execve(2)): no Go
// code of ours stays behind in the container.
func execCommand(c config) {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "HOSTNAME=" + c.hostname, "TERM=" + os.Getenv("TERM"),
	}
	os.Setenv("PATH", env[0][len("PATH="):]) // LookPath searches the container's PATH
	path, err := exec.LookPath(c.command[0])
	if err != nil {
		fail(127, "%s: command not found", c.command[0])
	}
	c.trace("exec %s", strings.Join(c.command, " "))
	err = unix.Exec(path, c.command, env)
	fail(126, "cannot run %s: %v", c.command[0], err)
}

// endregion exec

// forwardSignals passes Ctrl-C, `kill` and friends on to the container.
func forwardSignals(p *os.Process) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	go func() {
		for s := range sigs {
			p.Signal(s)
		}
	}()
}

// exitStatus turns the child's end into a shell-style status: its exit code,
// or 128+N when signal N killed it.
func exitStatus(err error) int {
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		fail(125, "waiting for the container: %v", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// must stops the container setup at the first failed system call.
func must(err error, what string) {
	if err != nil {
		fail(125, "%s: %v", what, err)
	}
}

// fail prints one line that says what is wrong and exits with status code.
func fail(code int, format string, a ...any) {
	fmt.Fprintf(os.Stderr, name+": "+format+"\n", a...)
	os.Exit(code)
}
