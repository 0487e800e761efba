//go:build linux

package tests

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// step06 creates a bridge, veths and iptables rules, and keeps the bridge
// and the rules after exit (as Docker keeps docker0). So every step06 test
// runs in a throwaway network namespace: the test binary re-executes itself
// under `unshare --net --mount`, with a private tmpfs on /run (so
// /run/minidocker is the copy's own). The
// "host" of these tests is that namespace; the real host's links and
// iptables tables are never touched, even when a test fails half-way.

const step06Env = "MINIDOCKER_STEP06_NETNS"

// inThrowawayNetns returns true in the re-executed copy, which then runs the
// test body. In the first copy it runs the copy, reports its output, and
// returns false: the test is done.
func inThrowawayNetns(t *testing.T) bool {
	t.Helper()
	requireRoot(t)
	if os.Getenv(step06Env) == "1" {
		// /sys stays the host's: a new sysfs would hide the cgroup mounts
		// below it, and ip, iptables and the tests use netlink, not /sys.
		if err := syscall.Mount("tmpfs", "/run", "tmpfs", 0, ""); err != nil {
			t.Fatalf("mount -t tmpfs tmpfs /run in the throwaway namespace: %v", err)
		}
		sh(t, "ip link set lo up")
		return true
	}
	program(t, "step06-bridge-net") // build it once, here, for the copy to find in binDir
	rootfs(t)
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Fatal("iptables not installed: `apt-get install -y iptables`")
	}
	before := snapshot(t) // of the real host: must not change
	cmd := exec.Command("unshare", "--net", "--mount", "--propagation", "private",
		os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), step06Env+"=1", "MINIDOCKER_BIN_DIR="+binDir, "MINIDOCKER_REPO="+repoRoot)
	r := runCmd(t, cmd)
	t.Log("in a throwaway network namespace:\n" + r.stdout + r.stderr)
	checkNoLeaks(t, before)
	switch {
	case r.code == 0 && strings.Contains(r.stdout, "--- SKIP: "+t.Name()):
		t.Skip("skipped in the throwaway namespace (see the log)")
	case r.code != 0 || !strings.Contains(r.stdout, "--- PASS: "+t.Name()):
		t.Fatalf("%s failed in its throwaway network namespace (exit %d)", t.Name(), r.code)
	}
	return false
}

// sh runs a shell command of the test's "host" and returns its output.
func sh(t *testing.T, script string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

// step06Ready runs step06 once, which creates the bridge and the rules that
// stay, and returns the snapshot later runs must leave unchanged.
func step06Ready(t *testing.T) (string, hostState) {
	t.Helper()
	bin := program(t, "step06-bridge-net")
	mustRun(t, bin, "--", "true")
	return bin, snapshot(t)
}

// ruleCount counts the lines of iptables-save (of save, e.g.
// iptables-legacy-save) that are ours and contain want.
func ruleCount(t *testing.T, save, want string) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(sh(t, save), "\n") {
		if strings.Contains(line, "--comment minidocker") && strings.Contains(line, want) {
			n++
		}
	}
	return n
}

// netnsHolders lists the processes whose network namespace is ns.
func netnsHolders(ns string) []string {
	var holders []string
	links, _ := filepath.Glob("/proc/[0-9]*/ns/net")
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && target == ns {
			holders = append(holders, l)
		}
	}
	return holders
}

// TestStep06TwoContainers: two containers at once get the two lowest
// addresses, ping each other and the gateway; the host pings both; from
// outside, each has its own network namespace and a veth on the bridge.
// After exit the veths, namespaces and addresses are gone; the bridge and
// exactly one MASQUERADE rule stay, however many runs there were.
func TestStep06TwoContainers(t *testing.T) {
	if !inThrowawayNetns(t) {
		return
	}
	bin, before := step06Ready(t)
	script := `echo ip=$(ip -4 -o addr show dev eth0 | awk '{print $4}')
		echo route=$(ip route | grep default)
		read peer
		if ping -c1 -W5 $peer >/dev/null; then echo peer=ok; else echo peer=fail; fi
		if ping -c1 -W5 172.29.0.1 >/dev/null; then echo gateway=ok; else echo gateway=fail; fi
		read x`
	c1 := start(t, bin, "--", "sh", "-c", script)
	if got := c1.waitFor("ip="); got != "ip=172.29.0.2/16" {
		t.Fatalf("first container: %q, want ip=172.29.0.2/16", got)
	}
	c2 := start(t, bin, "--", "sh", "-c", script)
	if got := c2.waitFor("ip="); got != "ip=172.29.0.3/16" {
		t.Fatalf("second container: %q, want ip=172.29.0.3/16", got)
	}
	if got := c1.waitFor("route="); !strings.HasPrefix(got, "route=default via 172.29.0.1 dev eth0") {
		t.Errorf("inside: %q, want the default route via the bridge", got)
	}

	// From outside: own namespaces, host ends on the bridge, addresses recorded.
	var nets []string
	for _, c := range []*live{c1, c2} {
		pid := fmt.Sprint(c.pid())
		ns := nsInode(t, pid, "net")
		if ns == nsInode(t, "self", "net") {
			t.Errorf("container %s shares the host's network namespace", pid)
		}
		nets = append(nets, ns)
		if out := sh(t, "ip -o link show master minidocker0"); !strings.Contains(out, " veth"+pid+"@") {
			t.Errorf("veth%s is not on minidocker0:\n%s", pid, out)
		}
	}
	ips, _ := os.ReadFile("/run/minidocker/step06-ips")
	for _, want := range []string{fmt.Sprintf("172.29.0.2 %d\n", c1.cmd.Process.Pid), fmt.Sprintf("172.29.0.3 %d\n", c2.cmd.Process.Pid)} {
		if !strings.Contains(string(ips), want) {
			t.Errorf("/run/minidocker/step06-ips = %q, want a line %q", ips, want)
		}
	}

	io.WriteString(c1.stdin, "172.29.0.3\n")
	io.WriteString(c2.stdin, "172.29.0.2\n")
	for i, c := range []*live{c1, c2} {
		for _, what := range []string{"peer=", "gateway="} {
			if got := c.waitFor(what); got != what+"ok" {
				t.Errorf("container %d: %q", i+1, got)
			}
		}
	}
	busybox := filepath.Join(rootfs(t), "bin/busybox")
	for _, ip := range []string{"172.29.0.2", "172.29.0.3"} {
		if out, err := exec.Command(busybox, "ping", "-c1", "-W5", ip).CombinedOutput(); err != nil {
			t.Errorf("host cannot ping %s: %v\n%s", ip, err, out)
		}
	}
	for _, c := range []*live{c1, c2} {
		if r := c.finish(); r.code != 0 {
			t.Errorf("container: %s", r)
		}
	}

	// After exit.
	for _, ns := range nets {
		if h := netnsHolders(ns); len(h) > 0 {
			t.Errorf("network namespace %s still held by %v", ns, h)
		}
	}
	if _, err := os.Stat("/run/minidocker/step06-ips"); !os.IsNotExist(err) {
		b, _ := os.ReadFile("/run/minidocker/step06-ips")
		t.Errorf("the address file should be gone with the last container, holds %q", b)
	}
	if out := sh(t, "ip -o link show master minidocker0"); strings.TrimSpace(out) != "" {
		t.Errorf("veths left on the bridge:\n%s", out)
	}
	if _, err := net.InterfaceByName("minidocker0"); err != nil {
		t.Errorf("the bridge must stay after exit, like docker0: %v", err)
	}
	mustRun(t, bin, "--", "true")
	if n := ruleCount(t, "iptables-save", "MASQUERADE"); n != 1 {
		t.Errorf("after 4 runs: %d MASQUERADE rules tagged minidocker, want exactly 1", n)
	}
	if n := ruleCount(t, "iptables-save", "-A FORWARD"); n != 2 {
		t.Errorf("after 4 runs: %d FORWARD rules tagged minidocker, want exactly 2", n)
	}
	checkNoLeaks(t, before)
}

// TestStep06NAT: an "outside host" (a network namespace behind a veth, with
// no route back to 172.29.0.0/16) runs an HTTP server that replies with the
// address it sees. A container fetches it: the server sees the host's
// address, 192.0.2.1, never the container's, and the MASQUERADE rule counted
// the packet. Without the rule the reply could not even find its way back.
func TestStep06NAT(t *testing.T) {
	if !inThrowawayNetns(t) {
		return
	}
	sh(t, `ip netns add outside
		ip link add up0 type veth peer name out0 netns outside
		ip addr add 192.0.2.1/24 dev up0 && ip link set up0 up
		ip -n outside addr add 192.0.2.2/24 dev out0 && ip -n outside link set out0 up
		ip route add default via 192.0.2.2`)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", "outside").Run() })
	ln := listenIn(t, "/run/netns/outside", "192.0.2.2:0")
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		fmt.Fprintf(w, "peer=%s\n", host)
	}))
	defer ln.Close()

	bin, before := step06Ready(t)
	// busybox nc, not wget: this busybox's wget crashes on a static glibc.
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	r := mustRun(t, bin, "--", "sh", "-c", "ip -4 -o addr show dev eth0 | awk '{print \"me=\" $4}'; "+
		"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 10 "+host+" "+port)
	if !strings.Contains(r.stdout, "me=172.29.0.2/16") {
		t.Errorf("the container's own address: %s", r)
	}
	if !strings.Contains(r.stdout, "peer=192.0.2.1\n") {
		t.Errorf("the outside server should see the host's address 192.0.2.1 (SNAT), %s", r)
	}
	counters := sh(t, "iptables -t nat -L POSTROUTING -v -n -x")
	for _, line := range strings.Split(counters, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "MASQUERADE" && f[0] == "0" {
			t.Errorf("the MASQUERADE rule matched no packet:\n%s", counters)
		}
	}
	checkNoLeaks(t, before)
}

// listenIn opens a TCP listener inside another network namespace: one
// thread enters it with setns(2), listens, and comes back. The socket stays
// in the namespace it was made in.
func listenIn(t *testing.T, nsPath, addr string) net.Listener {
	t.Helper()
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	target, err := os.Open(nsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatalf("setns %s: %v", nsPath, err)
	}
	ln, lerr := net.Listen("tcp4", addr)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatalf("setns back: %v", err) // the thread stays locked, and dies with the goroutine
	}
	runtime.UnlockOSThread()
	if lerr != nil {
		t.Fatal(lerr)
	}
	return ln
}

// TestStep06IPErrors: --ip outside the subnet (or the gateway) and --ip that
// another container holds are one-line errors that leave nothing behind, and
// do not disturb the container that holds the address. --clean refuses while
// a container runs.
func TestStep06IPErrors(t *testing.T) {
	if !inThrowawayNetns(t) {
		return
	}
	bin, before := step06Ready(t)
	for _, ip := range []string{"10.1.2.3", "172.29.0.1", "172.29.0.9/24", "172.30.0.2/16", "nonsense"} {
		r := run(t, bin, "--ip", ip, "--", "true")
		if r.code != 1 {
			t.Errorf("--ip %s: want exit 1, %s", ip, r)
		}
		oneLine(t, r, "is not a container address on 172.29.0.0/16")
	}
	c := start(t, bin, "--ip", "172.29.0.9/16", "--", "sh", "-c", "echo ip=$(ip -4 -o addr show dev eth0 | awk '{print $4}'); read x; ping -c1 -W5 172.29.0.1 >/dev/null && echo still-online")
	if got := c.waitFor("ip="); got != "ip=172.29.0.9/16" {
		t.Fatalf("--ip 172.29.0.9/16: %q", got)
	}
	during := snapshot(t)
	r := run(t, bin, "--ip", "172.29.0.9", "--", "true")
	if r.code != 125 {
		t.Errorf("--ip taken: want exit 125, %s", r)
	}
	oneLine(t, r, "--ip 172.29.0.9 is in use")
	r = run(t, bin, "--clean")
	if r.code != 1 {
		t.Errorf("--clean while a container runs: want exit 1, %s", r)
	}
	oneLine(t, r, "still use minidocker0")
	checkNoLeaks(t, during) // the failed runs added nothing
	if ips, _ := os.ReadFile("/run/minidocker/step06-ips"); !strings.HasPrefix(string(ips), "172.29.0.9 ") {
		t.Errorf("the failed run disturbed the holder's address: %q", ips)
	}
	if r := c.finish(); r.code != 0 || !strings.Contains(r.stdout, "still-online") {
		t.Errorf("the holder lost its network: %s", r)
	}
	checkNoLeaks(t, before)
}

// TestStep06Clean: --clean removes the bridge and every rule tagged
// minidocker (twice is fine); the next run creates them again.
func TestStep06Clean(t *testing.T) {
	if !inThrowawayNetns(t) {
		return
	}
	bin, _ := step06Ready(t)
	mustRun(t, bin, "--clean")
	if n := ruleCount(t, "iptables-save", ""); n != 0 {
		t.Errorf("after --clean: %d rules tagged minidocker, want none", n)
	}
	if _, err := net.InterfaceByName("minidocker0"); err == nil {
		t.Error("after --clean: minidocker0 still exists")
	}
	mustRun(t, bin, "--clean")
	mustRun(t, bin, "--", "ping", "-c1", "-W5", "172.29.0.1")
	if n := ruleCount(t, "iptables-save", ""); n != 3 {
		t.Errorf("a run after --clean: %d rules, want 3", n)
	}
}

// TestStep06LegacyBackend: where iptables is the nft backend but legacy
// rules already exist (an older Docker, a firewall script), step06 puts its
// rules next to them in the legacy tables, not in nf_tables.
func TestStep06LegacyBackend(t *testing.T) {
	if !inThrowawayNetns(t) {
		return
	}
	if _, err := exec.LookPath("iptables-legacy"); err != nil {
		t.Skip("iptables-legacy not installed")
	}
	if !strings.Contains(sh(t, "iptables --version"), "nf_tables") {
		t.Skip("iptables is not the nft backend here")
	}
	sh(t, "iptables-legacy -A INPUT -m comment --comment other-firewall -j ACCEPT")
	bin := program(t, "step06-bridge-net")
	r := mustRun(t, bin, "-v", "--", "ping", "-c1", "-W5", "172.29.0.1")
	if !strings.Contains(r.stderr, "using iptables-legacy") {
		t.Errorf("-v should say it chose iptables-legacy: %s", r)
	}
	if n := ruleCount(t, "iptables-legacy-save", "MASQUERADE"); n != 1 {
		t.Errorf("legacy tables: %d MASQUERADE rules, want 1", n)
	}
	if n := ruleCount(t, "iptables-nft-save", ""); n != 0 {
		t.Errorf("nf_tables: %d rules of ours, want none (never mix the backends)", n)
	}
	mustRun(t, bin, "--clean")
	if n := ruleCount(t, "iptables-legacy-save", ""); n != 0 {
		t.Errorf("--clean left %d legacy rules", n)
	}
}

// TestStep06Contract: the checks TestStepsContract makes of every step, run
// here in the throwaway namespace (step06 keeps a bridge and rules, which
// must not land in the host's tables): exit status, 128+N on a signal, 127,
// not root; plus own hostname and PID 1.
func TestStep06Contract(t *testing.T) {
	if !inThrowawayNetns(t) {
		return
	}
	bin, before := step06Ready(t)
	c := start(t, bin, "--hostname", "box06", "--", "sh", "-c", "echo name=$(hostname) pid=$$; read x")
	if got := c.waitFor("name="); got != "name=box06 pid=1" {
		t.Errorf("inside: %q", got)
	}
	checkContract(t, bin, c)
	checkNoLeaks(t, before)
}
