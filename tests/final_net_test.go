//go:build linux

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFinalBridgeNetwork runs minidocker inside a throwaway network and
// mount namespace (unshare --net --mount, /run on a private tmpfs), so the
// bridge, veths and iptables rules it makes are the namespace's, never the
// host's. It checks: the default network is the bridge; the container has
// eth0 with an address from 172.29.0.0/16 and a default route, reaches the
// gateway, and its /etc/hosts maps its address to its name; minidocker0 has
// 172.29.0.1/16; its three POSTROUTING rules (MASQUERADE out, and for -p:
// from 127.0.0.1 and hairpin) exist once, even after more runs; a
// running container has one veth, and none is left after rm; the address
// goes back to the IPAM file; --network none gives only lo.
func TestFinalBridgeNetwork(t *testing.T) {
	requireRoot(t)
	md := program(t, "minidocker")
	for _, tool := range []string{"unshare", "ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: run `sudo make setup`", tool)
		}
	}
	leakChecked(t)
	script := `set -e
mount -t tmpfs tmpfs /run
ip link set lo up
md=` + md + `
echo "run1: $($md run --rm --name mdt-net busybox sh -c 'ip -o -4 addr show eth0; ip route | grep default; ping -c1 -W2 172.29.0.1 >/dev/null && echo ping=ok; grep mdt-net /etc/hosts' | tr '\n' '|')"
echo "bridge: $(ip -o -4 addr show minidocker0)"
echo "rules1: $(iptables -t nat -S POSTROUTING | grep -c minidocker)"
echo "run2: $($md run --rm busybox echo hi)"
echo "rules2: $(iptables -t nat -S POSTROUTING | grep -c minidocker)"
id=$($md run -d -i busybox sh -c 'read x')
echo "veths-running: $(ip -o link show type veth | wc -l)"
echo "ipam-running: $(grep -c $id ` + filepath.Join(mdRoot(), "network", "bridge.json") + `)"
$md inspect $id | grep '"IPAddress"' | head -1 | sed 's/^ */inspect: /'
$md rm -f $id >/dev/null
echo "veths-after: $(ip -o link show type veth | wc -l)"
echo "ipam-after: $(grep -c $id ` + filepath.Join(mdRoot(), "network", "bridge.json") + ` || true)"
echo "none: $($md run --rm --network none busybox sh -c 'ls /sys/class/net' | tr '\n' ' ')"
`
	cmd := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.Env = os.Environ()
	r := runCmd(t, cmd)
	if r.code != 0 {
		t.Fatalf("script in a throwaway netns: %s", r)
	}
	out := r.stdout
	for _, re := range []string{
		`run1: \d+: eth0\s+inet 172\.29\.\d+\.\d+/16 .*\|default via 172\.29\.0\.1 dev eth0.*\|ping=ok\|172\.29\.\d+\.\d+\s+\S+ mdt-net\|`,
		`bridge: \d+: minidocker0\s+inet 172\.29\.0\.1/16`,
		`rules1: 3\n`, `run2: hi\n`, `rules2: 3\n`,
		`veths-running: 1\n`, `ipam-running: 1\n`, `inspect: "IPAddress": "172\.29\.\d+\.\d+"`,
		`veths-after: 0\n`, `ipam-after: 0\n`, `none: lo \n`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("want %s in:\n%s", re, out)
		}
	}
	if strings.Contains(r.stderr, "minidocker:") {
		t.Errorf("stderr: %s", r.stderr)
	}
}
