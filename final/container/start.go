//go:build linux

package container

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/events"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/network"
	"github.com/minidocker/build-your-own-docker/final/pid1"
	"github.com/minidocker/build-your-own-docker/final/rootless"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Process is a started container, seen from its parent (the CLI or the monitor).
type Process struct {
	C      *state.Container
	Pty    *os.File // with -t: the master side of the container's terminal
	pid    int      // the container's init, our child
	cgroup *cgroups.Cgroup
	image  *image.Image
	// devices: the device fence's rules for the cgroup (nil: every device)
	devices []cgroups.DeviceRule
	userns  *userns // --userns=private, else nil
}

// Limits turns the record's HostConfig into cgroup limits.
func Limits(h types.HostConfig) cgroups.Limits {
	l := cgroups.Limits{Memory: h.Memory, MemorySwap: h.MemorySwap, NanoCPUs: h.NanoCPUs,
		CPUShares: h.CPUShares, CpusetCpus: h.CpusetCpus}
	if h.PidsLimit != nil && *h.PidsLimit > 0 {
		l.PidsLimit = *h.PidsLimit
	}
	rates := func(ds []types.ThrottleDevice) []cgroups.Device {
		var out []cgroups.Device
		for _, d := range ds {
			if d.Rate > 0 { // 0: no limit
				out = append(out, cgroups.Device{Path: d.Path, Rate: d.Rate})
			}
		}
		return out
	}
	l.IO = cgroups.IO{Weight: h.BlkioWeight, ReadBps: rates(h.BlkioDeviceReadBps), WriteBps: rates(h.BlkioDeviceWriteBps),
		ReadIOps: rates(h.BlkioDeviceReadIOps), WriteIOps: rates(h.BlkioDeviceWriteIOps)}
	for _, d := range h.BlkioWeightDevice {
		l.IO.WeightDevice = append(l.IO.WeightDevice, cgroups.Device{Path: d.Path, Rate: uint64(d.Weight)})
	}
	return l
}

// region clone
// Start creates the container's namespaces and its init, puts it in its
// cgroup, wires its network, hands it the spec and waits until the user's
// command runs (or fails to). stdio are the container's stdin/out/err.
// init is started first: while the Go runtime boots in the child (the
// slowest step), we make the directories, the cgroup and the init layer.
func Start(c *state.Container, stdio [3]*os.File) (*Process, error) {
	mode, err := network.ParseMode(c.HostConfig.NetworkMode)
	if err != nil {
		return nil, err
	}
	fences, err := decideFences(c, "", false)
	if err != nil {
		return nil, err
	}
	uns, err := usernsOf(c)
	if err != nil {
		return nil, err
	}
	p := &Process{C: c, devices: fences.rules, userns: uns}
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer specW.Close()
	// The status channel is a SOCK_SEQPACKET socket pair: one message per
	// write, and it can carry a file descriptor (the pty's master, made by
	// init inside the container's own /dev/pts).
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		specR.Close()
		return nil, err
	}
	statusR, statusW := pair[0], os.NewFile(uintptr(pair[1]), "status")
	defer unix.Close(statusR)
	flags := unix.CLONE_NEWUTS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWNS
	if mode.OwnNamespace() {
		flags |= unix.CLONE_NEWNET
	}
	attr := &syscall.ProcAttr{
		// init is a supervisor: one P is plenty for the Go runtime, and
		// each OS thread it makes counts against the container's
		// --pids-limit (pids.max counts threads, not processes).
		// GOTRACEBACK=none: should init die anyway, one line, not a dump
		// of the Go runtime's goroutines on the container's stderr.
		Env: []string{"GOMAXPROCS=1", "GOTRACEBACK=none"},
		// stdin, stdout, stderr, then the spec (fd 3) and status (fd 4) ends.
		Files: []uintptr{stdio[0].Fd(), stdio[1].Fd(), stdio[2].Fd(), specR.Fd(), statusW.Fd()},
		Sys: &syscall.SysProcAttr{
			Cloneflags: uintptr(flags),
			// The container never outlives the process that waits for it:
			// when the monitor (or the CLI) dies, the kernel kills init, and
			// with it every process in the PID namespace.
			Pdeathsig: unix.SIGKILL,
		},
	}
	if uns != nil {
		uns.clone(&flags, attr.Sys)
		attr.Sys.Cloneflags = uintptr(flags)
	}
	prog := initProgram()
	// First the cgroup (a mkdir and a few writes in each tree), so that
	// init can be cloned straight into it (cgroups.ForkIn): moving it in
	// afterwards would wait for the kernel's cgroup lock. While clone(2)
	// makes the namespaces and the child execs (ForkExec returns only
	// then), make the directories. syscall's ForkExec, not os/exec: os/exec
	// first forks a throwaway child to probe the kernel's pidfd support, a
	// millisecond on every container start.
	prepared := make(chan error, 1)
	go func() { prepared <- p.prepare(mode) }()
	if p.cgroup, err = cgroups.Create(c.ID, Limits(c.HostConfig)); err == nil && p.devices != nil {
		if err = p.cgroup.AllowDevices(p.devices); err != nil {
			p.cgroup.Destroy()
		}
	}
	if err != nil {
		specR.Close()
		statusW.Close()
		<-prepared
		return nil, p.abort(err)
	}
	pid, in, err := p.cgroup.ForkIn(attr.Sys, func() (int, error) {
		trace("unshare --uts --pid --ipc --mount%s%s --fork %s init %s  # clone(%s) + execve",
			map[bool]string{true: " --net", false: ""}[mode.OwnNamespace()], map[bool]string{true: " --user --map-users=0:" + fmt.Sprint(uidStart(uns)) + ":65536", false: ""}[uns != nil],
			prog, c.ID[:12], cloneNames(flags))
		return syscall.ForkExec(prog, []string{"minidocker", "init", c.ID}, attr)
	})
	p.pid = pid
	specR.Close()
	statusW.Close()
	if err != nil {
		<-prepared
		return nil, p.abort(fmt.Errorf("cannot start the container's init: %v", err))
	}
	// endregion clone
	if err := <-prepared; err != nil {
		return nil, p.abort(err)
	}
	dir := state.Dir(c.ID)
	if !in {
		if err := p.cgroup.Apply(pid); err != nil {
			return nil, p.abort(err)
		}
	}
	lower := p.image.LowerDirs()
	var layerFds []int
	if uns != nil {
		if lower, layerFds, err = uns.layers(p.image, dir, pid); err != nil {
			return nil, p.abort(err)
		}
		defer closeAll(layerFds)
	}
	spec := Spec{ID: c.ID, Hostname: c.Config.Hostname,
		Lower: append([]string{filepath.Join(dir, "init")}, lower...),
		Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work"), Merged: filepath.Join(dir, "merged"),
		Mounts: binds(c.Mounts), Env: userEnv(DefaultEnv(c.Config.Hostname, c.Config.Tty, c.Config.Env), c.Config.Env, c.Config.User), Cwd: c.Config.WorkingDir, Args: c.Command(),
		Tty: c.Config.Tty, NetNS: mode.OwnNamespace(), Debug: logrus.IsLevelEnabled(logrus.DebugLevel),
		Volatile: c.HostConfig.AutoRemove}
	fences.apply(&spec)
	spec.Userns, spec.IdmapLayers = uns != nil || rootless.On(), len(layerFds) > 0
	if cs := c.HostConfig.ConsoleSize; c.Config.Tty && cs[0] > 0 && cs[1] > 0 {
		spec.Winsize = fmt.Sprintf("%d %d", cs[0], cs[1])
	}
	ports, err := PortsOf(c.HostConfig.PortBindings)
	if err != nil {
		return nil, p.abort(err)
	}
	ip, err := p.connect(mode, pid, &spec)
	if err != nil {
		return nil, p.abort(err)
	}
	if err := writeHosts(c, ip); err != nil {
		return nil, p.abort(err)
	}
	if uns != nil {
		uns.ownInitLayer(dir)
	}
	// Recorded before init may start the command: from its first output
	// on, ps and a crash recovery know the PID (and start time) to check.
	start, _ := state.StartTime(pid)
	mon, _ := state.StartTime(os.Getpid())
	_, err = state.Update(c.ID, func(r *state.Container) error {
		if r.State.Status == "restarting" && r.ManuallyStopped {
			return errStopped // stopped while its restart was on the way: not again
		}
		r.State = state.State{Status: "running", Pid: pid, PidStart: start, MonitorPid: os.Getpid(), MonStart: mon,
			StartedAt: time.Now().UTC()}
		r.Network = c.Network
		if err := publish(r, ports); err != nil { // -p: checked and recorded under the lock
			return err
		}
		*c = *r
		return nil
	})
	if err != nil {
		return nil, p.abort(err)
	}
	if err := network.AddRules(c.Network.Rules); err != nil {
		return nil, p.abort(err)
	}
	if mode.Kind == "bridge" && mode.Name != "bridge" {
		refreshHosts(mode.Name) // user networks: the neighbours learn our name, we theirs
	}
	if len(layerFds) > 0 { // the idmapped layers, for init to attach (see userns.layers)
		if err := unix.Sendmsg(statusR, []byte("layers"), unix.UnixRights(layerFds...), nil, 0); err != nil {
			return nil, p.abort(fmt.Errorf("sending the layers to init: %v", err))
		}
	}
	_, err = specW.Write(spec.Encode())
	specW.Close()
	if err != nil {
		return nil, p.abort(fmt.Errorf("sending the spec to init: %v", err))
	}
	if p.Pty, err = readStatus(statusR); err != nil {
		return nil, p.abort(err)
	}
	events.Container("start", c.ID, EventAttrs(c))
	return p, nil
}

// region initprogram
// initProgram is the program that becomes the container's PID 1:
// minidocker-init beside this binary when it is there (`make minidocker`
// builds both), else this binary itself, re-executed as `minidocker init`
// (as with `go run ./final`). Same code, package pid1; but a Go program's
// start time grows with its size, and init's start is on the path of every
// run: the small program saves a few milliseconds each time.
var initProgram = sync.OnceValue(func() string {
	if p := beside("minidocker-init"); p != "" {
		return p
	}
	return "/proc/self/exe"
})

// endregion initprogram

// beside is the path of the executable program name in this binary's
// directory, or "" when there is none.
func beside(name string) string { return pid1.Beside(name) }

// prepare makes the container's directories and the init layer's files
// that need no address.
func (p *Process) prepare(mode network.Mode) error {
	var err error
	if p.image, err = image.Get(p.C.ImageID); err != nil {
		return err
	}
	for _, d := range []string{"upper", "work", "merged", "init/etc"} {
		if err := os.MkdirAll(filepath.Join(state.Dir(p.C.ID), d), 0755); err != nil {
			return err
		}
	}
	if p.userns != nil {
		if err := p.userns.ownDirs(state.Dir(p.C.ID)); err != nil {
			return err
		}
	}
	return writeInitLayer(p.C, mode)
}

// binds are the record's -v mounts as init takes them.
func binds(ms []state.Mount) []pid1.Mount {
	var out []pid1.Mount
	for _, m := range ms {
		out = append(out, pid1.Mount{Source: m.Source, Destination: m.Destination, RW: m.RW})
	}
	return out
}

// readStatus reads init's report: trace lines (shown with --debug), the
// pty's master with -t, then "ok PID" or "error CODE MESSAGE". EOF first
// means init died.
func readStatus(fd int) (pty *os.File, err error) {
	// One message per read; the longest is a --debug trace of the overlay
	// mount, whose options the kernel caps at a page. (Not 64 KiB: a buffer
	// that size would sit on the goroutine's stack and make Go copy the
	// stack to a bigger one, on every start.)
	buf, oob := make([]byte, 8192), make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return pty, errorf(125, "the container's init died while setting up")
		}
		line := strings.TrimSuffix(string(buf[:n]), "\n")
		switch {
		case strings.HasPrefix(line, "trace "):
			logrus.Debugf("+ %s", line[6:])
		case line == "pty":
			if pty, err = receiveFd(oob[:oobn]); err != nil {
				return nil, err
			}
		case strings.HasPrefix(line, "ok"):
			return pty, nil
		case strings.HasPrefix(line, "error "):
			f := strings.SplitN(line, " ", 3)
			code, _ := strconv.Atoi(f[1])
			if len(f) < 3 {
				f = append(f, "unknown error")
			}
			return pty, &ExitError{Code: code, Msg: f[2]}
		}
	}
}

// receiveFd takes the file descriptor passed with SCM_RIGHTS.
func receiveFd(oob []byte) (*os.File, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) == 0 {
		return nil, fmt.Errorf("expected a file descriptor: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return nil, fmt.Errorf("expected a file descriptor: %v", err)
	}
	return os.NewFile(uintptr(fds[0]), "pty"), nil
}

// abort undoes a half-made start: kill init, remove its cgroup and network.
func (p *Process) abort(err error) error {
	if p.pid > 0 {
		unix.Kill(p.pid, unix.SIGKILL)
		p.wait()
	}
	if p.Pty != nil {
		p.Pty.Close()
	}
	Release(p.C)
	return err
}

// Wait waits for the container's init and returns the container's exit
// status (137 when init itself was killed by SIGKILL: OOM, stop, kill)
// and whether the kernel's OOM killer struck in its cgroup.
func (p *Process) Wait() (code int, oom bool) {
	ws, err := p.wait()
	switch {
	case err != nil:
		code = 125
	case ws.Signaled():
		code = 128 + int(ws.Signal())
	default:
		code = ws.ExitStatus()
	}
	if p.C.HostConfig.AutoRemove || p.cgroup == nil {
		return code, false // nobody will ask
	}
	return code, p.cgroup.OOMKilled()
}

// wait is wait4(2) for init, once.
func (p *Process) wait() (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(p.pid, &ws, 0, nil)
		if err != unix.EINTR {
			return ws, err
		}
	}
}

// Pid is the host PID of the container's init.
func (p *Process) Pid() int { return p.pid }

// region finish
// Finish records how the container ended and releases what it held (cgroup,
// veth, address); with --rm it removes the container altogether. The end
// is told first (the record, the "die" event: a waiting client gets its
// exit code now), the slow part after: deleting a veth waits for the
// kernel's RCU grace periods (tens of milliseconds), as Docker's teardown
// also comes after the exit status.
func Finish(c *state.Container, code int, oom bool) { end(c, code, oom, "exited") }

// end records the end of one run: status "exited", or "restarting" when
// its restart policy starts it again (one more restart counted, as
// Docker counts it when it decides). The "die" event carries the exit
// code and how many seconds the run lasted (execDuration), as Docker's.
func end(c *state.Container, code int, oom bool, status string) {
	attrs := EventAttrs(c)
	attrs["exitCode"] = strconv.Itoa(code)
	attrs["execDuration"] = strconv.Itoa(int(time.Since(c.State.StartedAt).Seconds()))
	if c.HostConfig.AutoRemove {
		events.Container("die", c.ID, attrs)
		Remove(c)
		return
	}
	state.Update(c.ID, func(r *state.Container) error {
		r.State.Status = status
		r.State.Paused = false
		r.State.ExitCode = code
		r.State.OOMKilled = oom
		r.State.FinishedAt = time.Now().UTC()
		if status == "restarting" {
			r.RestartCount++
		}
		return nil
	})
	events.Container("die", c.ID, attrs)
	Release(c)
}

// endregion finish

// Failed records a start that failed: the container stays "created" with
// the exit code (126, 127...) and the message, as Docker leaves it; with
// --rm it is removed.
func Failed(c *state.Container, code int, err error) {
	if c.HostConfig.AutoRemove {
		Remove(c)
		return
	}
	state.Update(c.ID, func(r *state.Container) error {
		r.State = state.State{Status: "created", ExitCode: code, Error: err.Error(), FinishedAt: time.Now().UTC()}
		return nil
	})
	Release(c)
}

// Release frees the kernel objects of a container that no longer runs. It
// is idempotent: rm after a crash calls it again.
func Release(c *state.Container) {
	cgroups.Open(c.ID, c.HostConfig.CpusetCpus != "").Destroy()
	releaseNetwork(c, false)
	deleteVeth(c)
}

// Remove deletes the container's directory (record, logs, layers), says
// "destroy", and only then releases its cgroup, rules, address and veth:
// none of them is in use once its processes are gone, and releasing them
// first would keep `run --rm`'s client waiting (rmdir of a v1 cgroup and
// a veth's deletion wait for the kernel's RCU grace periods; the address
// and the rules are a locked file and iptables). What a crash in between
// leaves is found again: an address whose owner has no directory is free
// (network's allocate), a daemon removes empty groups (cgroups.Sweep),
// and the veth goes with the container's network namespace.
func Remove(c *state.Container) error {
	trace("rm -rf %s", state.Dir(c.ID))
	err := os.RemoveAll(state.Dir(c.ID))
	events.Container("destroy", c.ID, EventAttrs(c))
	cgroups.Open(c.ID, c.HostConfig.CpusetCpus != "").Destroy()
	releaseNetwork(c, true)
	deleteVeth(c)
	return err
}

// EventAttrs are an event's Actor.Attributes: the container's name, image
// and labels, as Docker sends them.
func EventAttrs(c *state.Container) map[string]string {
	attrs := map[string]string{}
	for k, v := range c.Config.Labels {
		attrs[k] = v
	}
	attrs["name"], attrs["image"] = c.Name, c.Image
	return attrs
}

// writeInitLayer writes the per-container files that sit between the image
// and the container's own layer: /etc/hostname, /etc/hosts, /etc/resolv.conf.
// The first two are written while init is cloned (prepare), hosts once
// the container's address is known.
func writeInitLayer(c *state.Container, mode network.Mode) error {
	etc := filepath.Join(state.Dir(c.ID), "init", "etc")
	if err := os.WriteFile(filepath.Join(etc, "hostname"), []byte(c.Config.Hostname+"\n"), 0644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte(resolvConf(mode)), 0644)
}

// writeHosts writes the init layer's /etc/hosts: localhost, and the
// container's address with its names.
func writeHosts(c *state.Container, ip string) error {
	hosts := fmt.Sprintf("%s%s\t%s\n", hostsHeader, ip, hostNames(c))
	return os.WriteFile(filepath.Join(state.Dir(c.ID), "init", "etc", "hosts"), []byte(hosts), 0644)
}

// resolvConf is the host's, unless it points at a resolver on the host's
// loopback (systemd-resolved's 127.0.0.53), which the container cannot
// reach: then the upstream list, or public resolvers as Docker does.
func resolvConf(mode network.Mode) string {
	b, _ := os.ReadFile("/etc/resolv.conf")
	if mode.Kind == "host" || !onlyLoopback(string(b)) {
		return string(b)
	}
	if u, err := os.ReadFile("/run/systemd/resolve/resolv.conf"); err == nil && !onlyLoopback(string(u)) {
		return string(u)
	}
	return "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
}

func onlyLoopback(conf string) bool {
	found := false
	for _, line := range strings.Split(conf, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			found = true
			if ip := net.ParseIP(f[1]); ip == nil || !ip.IsLoopback() {
				return false
			}
		}
	}
	return found
}

func cloneNames(flags int) string {
	var n []string
	for _, f := range []struct {
		bit  int
		name string
	}{{unix.CLONE_NEWUTS, "CLONE_NEWUTS"}, {unix.CLONE_NEWPID, "CLONE_NEWPID"}, {unix.CLONE_NEWIPC, "CLONE_NEWIPC"},
		{unix.CLONE_NEWNS, "CLONE_NEWNS"}, {unix.CLONE_NEWNET, "CLONE_NEWNET"}} {
		if flags&f.bit != 0 {
			n = append(n, f.name)
		}
	}
	return strings.Join(n, "|")
}

func firstDir(cg *cgroups.Cgroup) string {
	if cg.V2 {
		return cg.Dirs[""]
	}
	return cg.Dirs["memory"]
}
