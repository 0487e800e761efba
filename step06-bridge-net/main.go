//go:build linux

// step06-bridge-net: + a network stack of its own, wired to the host by a bridge.
//
// The new idea: a network namespace (CLONE_NEWNET) starts with nothing but a
// loopback that is down. The parent plugs it in the way Docker does: a bridge
// (网桥) minidocker0 with 172.29.0.1/16 on the host, made once and kept, like
// docker0; per container a veth pair, one end on the bridge, the other moved
// into the container and renamed eth0, with an address, lo up and a default
// route via the bridge; IP forwarding and an iptables MASQUERADE rule let the
// containers reach the outside with the host's address. The mechanism lives
// in network.go; this file only calls it.
//
//	sudo go run ./step06-bridge-net -- ping -c1 172.29.0.1
//	sudo go run ./step06-bridge-net --ip 172.29.0.9/16 -- ip addr
//	sudo go run ./step06-bridge-net --clean    # remove the bridge and the rules
//
// Shell equivalent: sudo unshare --uts --pid --ipc --mount --net --fork sh,
// then the ip, iptables and mount commands that -v prints.
package main

import (
	"crypto/rand"
	"encoding/hex"
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
const name = "step06-bridge-net"

// config holds the flags. Parent and child parse the same command line, so the
// child (a fresh copy of this program) learns the flags without any extra channel.
type config struct {
	hostname string
	rootfs   string // the directory that becomes the container's /
	chroot   bool   // use chroot(2) instead of pivot_root(2), for comparison
	verbose  bool
	command  []string

	// Docker's resource flags, as typed, and parsed into the kernel's units
	// (see cgroups.go); a bad value is reported by preflight.
	memory, memorySwap, cpus, cpuShares, pidsLimit, cpusetCpus string
	limits                                                     limits
	badLimit                                                   error

	layers    []string // extra read-only image layers above the rootfs, top first
	keepLayer bool     // keep the container layer (upper dir) after exit

	ip    string // --ip: the container's address on minidocker0 (default: the lowest free one)
	clean bool   // --clean: remove the bridge and the iptables rules, then exit
}

func parseFlags(args []string) config {
	var c config
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	fs.StringVar(&c.hostname, "hostname", "container", "hostname inside the container")
	fs.StringVar(&c.rootfs, "rootfs", "/var/lib/minidocker/rootfs", "root filesystem (built by `sudo make rootfs`)")
	fs.BoolVar(&c.chroot, "chroot", false, "use chroot instead of pivot_root (escapable: see docs/03-mnt-chroot.md)")
	fs.BoolVar(&c.verbose, "v", false, "print each kernel-facing action as a shell command")
	fs.BoolVar(&c.verbose, "verbose", false, "same as -v")
	fs.StringVar(&c.memory, "m", "", "memory limit, e.g. 64m (units b, k, m, g)")
	fs.StringVar(&c.memory, "memory", "", "same as -m")
	fs.StringVar(&c.memorySwap, "memory-swap", "", "memory+swap limit (-1: unlimited swap; default: twice -m)")
	fs.StringVar(&c.cpus, "cpus", "", "number of CPUs, e.g. 0.5 (a quota per 100 ms period)")
	fs.StringVar(&c.cpuShares, "cpu-shares", "", "relative CPU weight (default 1024)")
	fs.StringVar(&c.pidsLimit, "pids-limit", "", "maximum number of tasks (-1: unlimited)")
	fs.StringVar(&c.cpusetCpus, "cpuset-cpus", "", "CPUs allowed, e.g. 0 or 0-1,3")
	fs.Func("layer", "extra read-only image layer DIR above the rootfs (repeat it, top layer first)", func(dir string) error {
		c.layers = append(c.layers, dir)
		return nil
	})
	fs.BoolVar(&c.keepLayer, "keep-layer", false, "keep the container layer (upper dir) after exit and print its path")
	fs.StringVar(&c.ip, "ip", "", "the container's address, 172.29.0.N/16 (default: the lowest free one)")
	fs.BoolVar(&c.clean, "clean", false, "remove the bridge "+bridgeName+" and its iptables rules, then exit")
	fs.Parse(args) // stops at the first non-flag or at "--"
	c.command = fs.Args()
	c.rootfs, _ = filepath.Abs(c.rootfs)
	for i := range c.layers {
		c.layers[i], _ = filepath.Abs(c.layers[i])
	}
	if len(c.command) == 0 {
		c.command = []string{"/bin/sh"}
	}
	c.limits, c.badLimit = parseLimits(c)
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
	if c.clean {
		cleanNetwork(c)
		return
	}
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
	if c.badLimit != nil {
		fail(1, "%v", c.badLimit)
	}
	if err := checkControllers(c.limits); err != nil {
		fail(1, "%v", err)
	}
	preflightLayers(c)
	preflightNetwork(c)
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
			unix.CLONE_NEWNS | // own mount table
			unix.CLONE_NEWNET, // own interfaces, addresses, routes, iptables

		Pdeathsig: unix.SIGKILL, // if we die, the kernel kills the container too
	}
	c.trace("unshare --uts --pid --ipc --mount --net --fork /proc/self/exe  # clone(CLONE_NEWUTS|CLONE_NEWPID|CLONE_NEWIPC|CLONE_NEWNS|CLONE_NEWNET) + execve")
	// endregion clone
	// region join
	// Before the child starts: the container's cgroup, with its limits.
	cg, err := createCgroup(c, fmt.Sprintf("%s-%d", name, os.Getpid()))
	if err != nil {
		fail(125, "%v", err)
	}
	onFail = cg.remove // from here on, every error path removes the cgroup
	// The child starts blocked on a pipe (fd 3): it may run no instruction of
	// the command before it is inside the cgroup, or that part runs unlimited.
	ready, release, err := os.Pipe()
	if err != nil {
		fail(125, "pipe: %v", err)
	}
	cmd.ExtraFiles = []*os.File{ready}
	// region parent-layers
	run := prepareLayers(c)
	onFail = func() { cg.remove(); removeLayers(c, run) } // and now the layers too
	cmd.Env = append(os.Environ(), runDirEnv+"="+run)     // where the child finds its layers
	// endregion parent-layers
	if err := cmd.Start(); err != nil {
		fail(125, "cannot start the container: %v", err)
	}
	ready.Close()
	if err := cg.join(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		fail(125, "%v", err)
	}
	// region parent-net
	// The veth can only be moved into the namespace once it exists, that is
	// after the clone: so the child still waits on its pipe while the parent
	// wires its network.
	ep, err := wireNetwork(c, cmd.Process.Pid)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		unwireNetwork(c, ep)
		fail(125, "%v", err)
	}
	// endregion parent-net
	c.trace("# the child waited on a pipe until now: release it")
	release.Write([]byte{1}) // "you are in": the child goes on
	release.Close()
	forwardSignals(cmd.Process)
	status := exitStatus(cmd.Wait())
	// The group still exists: read the kernel's verdict before removing it.
	if kills, peak := cg.oomKills(); kills > 0 {
		fmt.Fprintf(os.Stderr, "%s: out of memory: the kernel killed %d process(es) at the memory limit %s (peak %s; %s oom_kill %d)\n",
			name, kills, bytesString(c.limits.memory), bytesString(peak), cg.oomFile(), kills)
	}
	cg.traceCounters()
	cg.remove()
	removeLayers(c, run) // the child has exited: its mount namespace, and the overlay, are gone
	unwireNetwork(c, ep) // the veth and the address; the bridge and the rules stay
	return status
	// endregion join
}

// region child
// child runs inside the new namespaces: set them up, then become the command.
func child(c config) {
	// Wait until the parent has put us into the cgroup and wired eth0 (one byte on fd 3).
	ready := os.NewFile(3, "cgroup-ready")
	n, _ := ready.Read(make([]byte, 1))
	ready.Close() // the command must not inherit the pipe
	if n != 1 {
		os.Exit(125) // the parent failed and says why
	}
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
	c.rootfs = mountOverlay(c) // from here on, the container's / is the merged view
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

// region overlay
// mountOverlay runs in the child, after / became private: it mounts the union
// of the image layers (read-only, top first, the rootfs at the bottom) and
// this run's container layer (read-write) on merged, and returns merged, the
// directory that pivot_root makes the container's /.
//
// Why the child mounts it, inside its own mount namespace, and not the parent
// on the host: the overlay then never appears in the host's mount table, and
// the kernel unmounts it by itself when the namespace's last process exits,
// even if this program is killed with SIGKILL and cleans up nothing. The
// parent is left with directories to remove. (Docker mounts on the host side
// instead, because `docker cp`, `docker diff` and `docker commit` need the
// merged view and the upper dir from outside while the container runs.)
func mountOverlay(c config) string {
	run := os.Getenv(runDirEnv)
	lower := strings.Join(append(append([]string{}, c.layers...), c.rootfs), ":")
	data := fmt.Sprintf("lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower, run, run)
	merged := filepath.Join(run, "merged")
	c.trace("mount -t overlay -o %s overlay %s", data, merged)
	if err := unix.Mount("overlay", merged, "overlay", 0, data); err != nil {
		fail(125, "mount overlay on %s: %v: is the upper dir on overlay, 9p or NFS (use the machine's own disk)? do the --layer paths overflow one 4 KiB page? `dmesg | tail` says why", merged, err)
	}
	return merged
}

// endregion overlay

// region layers
// stateDir holds one directory per run. It must be on the machine's own disk:
// overlayfs refuses an upper dir on overlayfs, and the synced folder of a VM
// (vboxsf, 9p, NFS) lacks the xattrs and whiteouts it needs.
const stateDir = "/var/lib/minidocker/step05"

// runDirEnv tells the child where its run directory is. The flags reach the
// child on its command line, but the run's id is made at run time, so it
// travels in the environment (execCommand gives the command a fresh one).
const runDirEnv = "MINIDOCKER_RUN_DIR"

// prepareLayers makes this run's directories, before the clone:
//
//	upper   the container layer: every file the container creates or changes
//	work    overlayfs's scratch space: empty, on the same filesystem as upper
//	merged  the mount point of the union, which becomes the container's /
func prepareLayers(c config) string {
	id := make([]byte, 6) // 12 hex digits, like a short Docker container id
	rand.Read(id)
	run := filepath.Join(stateDir, hex.EncodeToString(id))
	c.trace("mkdir -p %s/upper %s/work %s/merged", run, run, run)
	for _, d := range []string{"upper", "work", "merged"} {
		dir := filepath.Join(run, d)
		err := os.MkdirAll(dir, 0755)
		if err == nil {
			err = os.Chmod(dir, 0755) // merged's / takes upper's mode: not the umask's
		}
		if err != nil {
			os.RemoveAll(run)
			fail(125, "cannot make the container layer in %s: %v", stateDir, err)
		}
	}
	return run
}

// removeLayers deletes the run's directories once the child has exited (the
// overlay went with its mount namespace). With --keep-layer the upper dir
// stays, and its path is printed, to look at copied-up files and whiteouts.
func removeLayers(c config, run string) {
	remove := []string{run}
	if c.keepLayer {
		remove = []string{filepath.Join(run, "work"), filepath.Join(run, "merged")}
	}
	for _, dir := range remove {
		c.trace("rm -rf %s", dir)
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(os.Stderr, "%s: cannot remove %s: %v; remove it by hand\n", name, dir, err)
		}
	}
	if c.keepLayer {
		fmt.Fprintf(os.Stderr, "%s: kept the container layer: %s\n", name, filepath.Join(run, "upper"))
	}
}

// preflightLayers: every --layer must be a directory.
func preflightLayers(c config) {
	for _, dir := range c.layers {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			fail(1, "layer %s is not a directory: pass --layer with an existing directory", dir)
		}
	}
}

// endregion layers

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

// onFail undoes what the parent made on the host (the cgroup) before fail exits.
var onFail = func() {}

// fail prints one line that says what is wrong and exits with status code.
func fail(code int, format string, a ...any) {
	fmt.Fprintf(os.Stderr, name+": "+format+"\n", a...)
	onFail()
	os.Exit(code)
}
