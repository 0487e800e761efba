//go:build linux

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// Checks every step shares: they are a contract (GUIDE §2), so each later
// step is run through the same table.
var allSteps = []string{"step01-uts", "step02-pid", "step03-mnt-chroot", "step04-cgroups", "step05-overlay"}

// TestStepsContract: exit status propagates, signals become 128+N, a missing
// command is 127, and not being root is a one-line error.
func TestStepsContract(t *testing.T) {
	requireRoot(t)
	for _, step := range allSteps {
		t.Run(step, func(t *testing.T) {
			bin := program(t, step)
			before := snapshot(t)
			// SIGKILL from the host (PID 1 of a pid namespace is immune to
			// signals sent from inside it, even SIGKILL).
			c := start(t, bin, "--", "sh", "-c", "echo ready; read x")
			c.waitFor("ready")
			checkContract(t, bin, c)
			checkNoLeaks(t, before)
		})
	}
}

// TestUTSNamespace: the hostname changes inside, not on the host, and the
// container's uts namespace is another one than the host's.
func TestUTSNamespace(t *testing.T) {
	requireRoot(t)
	hostBefore, _ := os.Hostname()
	for _, step := range allSteps {
		t.Run(step, func(t *testing.T) {
			c := start(t, program(t, step), "--hostname", "box-"+step[:6], "--", "sh", "-c", "echo name=$(hostname); read x")
			if got := c.waitFor("name="); got != "name=box-"+step[:6] {
				t.Errorf("inside: %q", got)
			}
			pid := fmt.Sprint(c.pid())
			if nsInode(t, pid, "uts") == nsInode(t, "self", "uts") {
				t.Error("container shares the host's uts namespace")
			}
			if h, _ := os.Hostname(); h != hostBefore {
				t.Errorf("host hostname changed to %q", h)
			}
			if r := c.finish(); r.code != 0 {
				t.Errorf("%s", r)
			}
		})
	}
}

// TestPIDAndIPCNamespaces: the command is PID 1 and lives in its own pid and
// ipc namespaces; a message queue made on the host is invisible inside.
func TestPIDAndIPCNamespaces(t *testing.T) {
	requireRoot(t)
	out, err := exec.Command("ipcmk", "-Q").CombinedOutput()
	if err != nil {
		t.Fatalf("ipcmk -Q: %v %s", err, out)
	}
	qid := strings.TrimSpace(strings.TrimPrefix(string(out), "Message queue id:"))
	defer exec.Command("ipcrm", "-q", qid).Run()
	hostQueues, _ := os.ReadFile("/proc/sysvipc/msg")
	if !strings.Contains(string(hostQueues), " "+qid+" ") {
		t.Fatalf("queue %s not in the host's /proc/sysvipc/msg", qid)
	}
	for _, step := range allSteps[1:] {
		t.Run(step, func(t *testing.T) {
			// /proc/sysvipc/msg is what `ipcs -q` reads; it shows the queues of
			// the reader's ipc namespace (even through the host's /proc).
			c := start(t, program(t, step), "--", "sh", "-c", "echo pid=$$; echo queues=$(wc -l < /proc/sysvipc/msg); read x")
			if got := c.waitFor("pid="); got != "pid=1" {
				t.Errorf("inside: %q, want pid=1", got)
			}
			if got := c.waitFor("queues="); got != "queues=1" { // the header line only
				t.Errorf("inside the ipc namespace: %q, want only the header (no host queue)", got)
			}
			pid := fmt.Sprint(c.pid())
			for _, ns := range []string{"pid", "ipc"} {
				if nsInode(t, pid, ns) == nsInode(t, "self", ns) {
					t.Errorf("container shares the host's %s namespace", ns)
				}
			}
			c.finish()
		})
	}
}

// TestStep02SeesHostProc is step02's cliffhanger: without its own /proc, ps
// inside still lists the host's processes (this test process among them).
func TestStep02SeesHostProc(t *testing.T) {
	requireRoot(t)
	r := mustRun(t, program(t, "step02-pid"), "--", "sh", "-c", fmt.Sprintf("test -d /proc/%d && echo host-proc-visible", os.Getpid()))
	if !strings.Contains(r.stdout, "host-proc-visible") {
		t.Errorf("step02 should still see the host's /proc: %s", r)
	}
}

// checkContract checks the exit statuses every step promises (GUIDE §2):
// the command's own status, 128+N when c (a running container) is killed
// by signal N from the host, 127 for a missing command, and a one-line
// error when not root.
func checkContract(t *testing.T, bin string, c *live) {
	t.Helper()
	if r := run(t, bin, "--", "sh", "-c", "exit 7"); r.code != 7 {
		t.Errorf("sh -c 'exit 7': %s", r)
	}
	syscall.Kill(c.pid(), syscall.SIGKILL)
	if r := c.finish(); r.code != 137 {
		t.Errorf("killed by SIGKILL: want 137, %s", r)
	}
	r := run(t, bin, "--", "no-such-command")
	if r.code != 127 {
		t.Errorf("missing command: want 127, %s", r)
	}
	oneLine(t, r, "no-such-command: command not found")
	r = runCmd(t, asNobody(exec.Command(bin, "--", "true")))
	if r.code == 0 {
		t.Errorf("as nobody: want failure, %s", r)
	}
	oneLine(t, r, "must run as root")
}
