//go:build linux

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The networking tests (chapter 08) run minidocker in a throwaway network
// and mount namespace, as TestFinalBridgeNetwork does: bridges, veths and
// iptables rules are the namespace's and vanish with it, never the host's.
// The namespace also gets its own tmpfs on /var/lib/minidocker/network, so
// the networks a test creates are not the host's either.

// netnsRun runs script (sh) in a new network and mount namespace and
// returns its "key: value" output lines as a map (values trimmed).
func netnsRun(t *testing.T, script string) (map[string]string, string) {
	t.Helper()
	for _, tool := range []string{"unshare", "ip", "iptables", "iptables-save", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: run `sudo make setup`", tool)
		}
	}
	md := program(t, "minidocker")
	netDir := filepath.Join(mdRoot(), "network")
	os.MkdirAll(netDir, 0700)
	prelude := `mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs ` + netDir + `
ip link set lo up
# a firewall of the "host's" own, which minidocker must leave as it found it
iptables -w -t filter -A FORWARD -s 192.0.2.0/24 -j DROP
iptables -w -t nat -A POSTROUTING -s 192.0.2.0/24 -j RETURN
md=` + md + `
# the host's rules and links, counters and comments dropped
rules() { iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }
links() { ip -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' '; }
try() { r=$("$@" 2>&1); rc=$?; echo "$r exit=$rc"; } # a one-line error stays on one line
get() { printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 "$@" | tail -1; }
`
	cmd := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", prelude+script)
	cmd.Env = os.Environ()
	r := runCmd(t, cmd)
	if r.code != 0 {
		t.Fatalf("script in a throwaway netns: %s", r)
	}
	out := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.Contains(k, " ") {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out, r.stdout + "\nstderr:\n" + r.stderr
}

func expect(t *testing.T, out map[string]string, all string, want map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !regexp.MustCompile(`^(?:` + want[k] + `)$`).MatchString(out[k]) {
			t.Errorf("%s: got %q, want %s", k, out[k], want[k])
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", all)
	}
}

// TestFinalNetPublish: -p end to end. A web server in the container,
// published three ways (8080:80, 127.0.0.1:8081:80, and 80 on a free host
// port), is reached from an "outside host" (a namespace of its own behind a
// veth: PREROUTING DNAT), from this host's 127.0.0.1 and its own address
// (OUTPUT DNAT; route_localnet + MASQUERADE for 127.0.0.1), and from the
// container itself through the host's address (hairpin). The 127.0.0.1
// binding is not reachable from outside. ps and port show the bindings; a
// second -p 8080 is one line and exit 125; a container whose engine was
// killed -9 has its rules removed by rm. At the end, the rule set and the
// link list are what they were before the first -p.
func TestFinalNetPublish(t *testing.T) {
	requireRoot(t)
	leakChecked(t)
	out, all := netnsRun(t, `
ip netns add outside
ip link add vhost type veth peer name vout netns outside
ip addr add 10.99.0.1/24 dev vhost; ip link set vhost up
ip netns exec outside sh -c 'ip addr add 10.99.0.2/24 dev vout; ip link set vout up; ip link set lo up; ip route add default via 10.99.0.1'
$md run --rm busybox true   # the default bridge, made on demand, is part of the baseline
rules >/tmp/rules.before; links0=$(links)
srv='mkdir /www; echo hi-from-$HOSTNAME > /www/index.html; exec httpd -f -p 80 -h /www'
$md run -d --name mdn-web --hostname web -p 8080:80 -p 127.0.0.1:8081:80 busybox sh -c "$srv" >/dev/null
$md run -d --name mdn-any --hostname any -p 80 busybox sh -c "$srv" >/dev/null
echo "outside: $(ip netns exec outside curl -s -m 3 http://10.99.0.1:8080/)"
echo "local127: $(curl -s -m 3 http://127.0.0.1:8080/)"
echo "localip: $(curl -s -m 3 http://10.99.0.1:8080/)"
echo "local8081: $(curl -s -m 3 http://127.0.0.1:8081/)"
echo "outside8081: $(ip netns exec outside curl -s -m 2 http://10.99.0.1:8081/ || echo refused)"
echo "hairpin: $($md exec mdn-web sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | nc -w 3 10.99.0.1 8080 | tail -1')"
echo "ps-web: $($md ps | grep mdn-web | grep -o '0.0.0.0:8080->80/tcp, 127.0.0.1:8081->80/tcp')"
echo "port-any: $($md port mdn-any)"
p=$($md port mdn-any 80 | cut -d: -f2)
echo "random: $p $(ip netns exec outside curl -s -m 3 http://10.99.0.1:$p/)"
echo "dup: $(try $md run --rm -p 8080:80 busybox true)"
echo "dnat-rules: $(iptables -t nat -S MINIDOCKER | grep -c DNAT)"
# The engine dies: kill -9 the monitor; the kernel kills the container
# (PR_SET_PDEATHSIG); rm still finds the rules in the record.
$md run -d --name mdn-orphan -p 8090:80 busybox sh -c "$srv" >/dev/null
mon=$(grep -o '"MonitorPid": [0-9]*' `+mdRoot()+`/containers/$($md inspect mdn-orphan | grep '"Id"' | cut -d'"' -f4)/config.v2.json | tr -dc 0-9)
echo "orphan-rules: $(iptables-save | grep -c 'dport 8090')"
kill -9 $mon
$md rm -f mdn-orphan >/dev/null
echo "orphan-rules-after: $(iptables-save | grep -c 'dport 8090')"
$md rm -f mdn-web mdn-any >/dev/null
echo "dup-after-rm: $($md run --rm -p 8080:80 busybox echo free)"
echo "links-same: $([ "$(links)" = "$links0" ] && echo yes || echo "no: $links0 -> $(links)")"
echo "rules-same: $(rules | diff /tmp/rules.before - >/dev/null && echo yes || rules | diff /tmp/rules.before - | tr '\n' '|')"
`)
	expect(t, out, all, map[string]string{
		"outside": "hi-from-web", "local127": "hi-from-web", "localip": "hi-from-web", "local8081": "hi-from-web",
		"outside8081": "refused", "hairpin": "hi-from-web",
		"ps-web": `0\.0\.0\.0:8080->80/tcp, 127\.0\.0\.1:8081->80/tcp`, "port-any": `80/tcp -> 0\.0\.0\.0:(3[2-9]\d{3}|[4-5]\d{4}|60\d{3})`,
		"random":     `\d+ hi-from-any`,
		"dup":        `minidocker: Bind for 0\.0\.0\.0:8080 failed: port is already allocated; [^\n]* exit=125`,
		"dnat-rules": "3", "orphan-rules": "1", "orphan-rules-after": "0", "dup-after-rm": "free",
		"links-same": "yes", "rules-same": "yes",
	})
}

// TestFinalNetModes: --network host shares the host's network namespace
// (same inode); none has only lo; container:C has C's namespace (same inode
// for the command, for init as /proc/PID/ns/net shows it, and for exec)
// and reaches C's server on 127.0.0.1; -p with container:C, and
// container:C for a missing C, are one-line errors with exit 125.
func TestFinalNetModes(t *testing.T) {
	requireRoot(t)
	leakChecked(t)
	out, all := netnsRun(t, `
echo "hostns: $(readlink /proc/self/ns/net)"
echo "host: $($md run --rm --network host busybox readlink /proc/self/ns/net)"
echo "none: $($md run --rm --network none busybox ls /sys/class/net | tr '\n' ' ')"
$md run -d --name mdn-srv busybox sh -c 'mkdir /www; echo hi-srv > /www/index.html; exec httpd -f -p 80 -h /www' >/dev/null
pid=$($md inspect mdn-srv | grep '"Pid"' | tr -dc 0-9)
echo "srvns: $(readlink /proc/$pid/ns/net)"
echo "joined: $($md run --rm --network container:mdn-srv busybox sh -c 'readlink /proc/self/ns/net; printf "GET / HTTP/1.0\r\n\r\n" | nc -w 3 127.0.0.1 80 | tail -1' | tr '\n' ' ')"
$md run -d -i --name mdn-joiner --network container:mdn-srv busybox sh -c 'read x' >/dev/null
jpid=$($md inspect mdn-joiner | grep '"Pid"' | tr -dc 0-9)
echo "joiner-init: $(readlink /proc/$jpid/ns/net)"
echo "joiner-exec: $($md exec mdn-joiner readlink /proc/self/ns/net)"
echo "ports-conflict: $(try $md run --rm --network container:mdn-srv -p 80 busybox true)"
echo "no-such: $(try $md run --rm --network container:mdn-nosuch busybox true)"
$md rm -f mdn-joiner mdn-srv >/dev/null
`)
	hostns := out["hostns"]
	srvns := out["srvns"]
	if !strings.HasPrefix(hostns, "net:[") || !strings.HasPrefix(srvns, "net:[") || hostns == srvns {
		t.Fatalf("bad inodes: host %q, server %q\n%s", hostns, srvns, all)
	}
	expect(t, out, all, map[string]string{
		"host": regexp.QuoteMeta(hostns), "none": "lo",
		"joined":      regexp.QuoteMeta(srvns) + " hi-srv",
		"joiner-init": regexp.QuoteMeta(srvns), "joiner-exec": regexp.QuoteMeta(srvns),
		"ports-conflict": `minidocker: conflicting options: port publishing and --network container:[0-9a-f]{64} [^\n]* exit=125`,
		"no-such":        `minidocker: --network container:mdn-nosuch: No such container: mdn-nosuch exit=125`,
	})
}

// TestFinalNetUserNetworks: network create/ls/inspect/rm; overlapping
// subnets refused; containers on one network reach each other by name
// (/etc/hosts kept current as they come and go) and cannot reach another
// network (MINIDOCKER-ISOLATION); rm of a network in use is refused; a /30
// holds one container and the next gets a one-line error (exit 125); 20
// parallel `run -d` get 20 distinct addresses from the locked IPAM file;
// after everything is removed, the rules and links are as before and the
// network files are gone.
func TestFinalNetUserNetworks(t *testing.T) {
	requireRoot(t)
	leakChecked(t)
	netDir := filepath.Join(mdRoot(), "network")
	out, all := netnsRun(t, `
$md network ls >/dev/null   # writes the default network's file
rules >/tmp/rules.before; links0=$(links)
$md network create --subnet 10.201.0.0/24 mdn-a >/dev/null
$md network create mdn-b >/dev/null
echo "overlap: $(try $md network create --subnet 10.201.0.0/16 mdn-c)"
echo "ls: $($md network ls | awk 'NR>1 {print $2"/"$3}' | tr '\n' ' ')"
ida=$($md network inspect mdn-a | grep '"Id"' | cut -d'"' -f4 | cut -c1-12)
echo "subnet-b: $($md network inspect mdn-b | grep '"Subnet"' | cut -d'"' -f4)"
$md run -d -i --name mdn-a1 --network mdn-a busybox sh -c 'read x' >/dev/null
$md run -d -i --name mdn-a2 --network mdn-a busybox sh -c 'read x' >/dev/null
$md run -d -i --name mdn-b1 --network mdn-b busybox sh -c 'read x' >/dev/null
b1ip=$($md inspect mdn-b1 | grep '"IPAddress"' | head -1 | cut -d'"' -f4)
a1ip=$($md inspect mdn-a1 | grep '"IPAddress"' | head -1 | cut -d'"' -f4)
echo "bridge-a: $(ip -o link show type bridge | grep -o "md-$ida")"
echo "a1-hosts: $($md exec mdn-a1 grep mdn-a /etc/hosts | awk '{print $1" "$3}' | tr '\n' ' ')"
echo "a1-to-a2: $($md exec mdn-a1 ping -c1 -W2 mdn-a2 >/dev/null && echo ok || echo fail)"
echo "a2-to-a1: $($md exec mdn-a2 ping -c1 -W2 mdn-a1 >/dev/null && echo ok || echo fail)"
echo "a1-to-b1: $($md exec mdn-a1 ping -c1 -W1 $b1ip >/dev/null && echo ok || echo fail)"
echo "b1-to-a1: $($md exec mdn-b1 ping -c1 -W1 $a1ip >/dev/null && echo ok || echo fail)"
echo "b1-by-name: $($md exec mdn-b1 ping -c1 -W1 mdn-a1 2>&1 | grep -c 'bad address')"
echo "rm-in-use: $(try $md network rm mdn-a)"
$md rm -f mdn-a2 >/dev/null
echo "a1-hosts-after: $($md exec mdn-a1 grep -c mdn-a2 /etc/hosts)"
$md network create --subnet 192.168.251.0/30 mdn-tiny >/dev/null
$md run -d -i --name mdn-t1 --network mdn-tiny busybox sh -c 'read x' >/dev/null
echo "exhausted: $(try $md run -d --name mdn-t2 --network mdn-tiny busybox true)"
for i in $(seq 1 20); do $md run -d -i --name mdn-p$i --network mdn-a busybox sh -c 'read x' >/tmp/p$i.out 2>&1 & done
wait
echo "parallel-ok: $(cat /tmp/p*.out | grep -c '^[0-9a-f]\{64\}$')"
for i in $(seq 1 20); do $md inspect mdn-p$i | grep '"IPAddress"' | head -1 | cut -d'"' -f4; done >/tmp/ips
echo "parallel-distinct: $(sort -u /tmp/ips | grep -c '^10\.201\.0\.')"
echo "ipam-entries: $(grep -c '"10\.201\.0\.[0-9]*": "[0-9a-f]' `+netDir+`/mdn-a.json)"
echo "veths: $(ip -o link show type veth | wc -l)"
$md rm -f mdn-a1 mdn-b1 mdn-t1 $(seq -f 'mdn-p%g' 1 20) >/dev/null
$md network rm mdn-a mdn-b mdn-tiny >/dev/null
echo "files: $(ls `+netDir+` | tr '\n' ' ')"
echo "links-same: $([ "$(links)" = "$links0" ] && echo yes || echo "no: $links0 -> $(links)")"
echo "rules-same: $(rules | diff /tmp/rules.before - >/dev/null && echo yes || rules | diff /tmp/rules.before - | tr '\n' '|')"
`)
	expect(t, out, all, map[string]string{
		"overlap":  `minidocker: invalid --subnet 10\.201\.0\.0/16: it overlaps network mdn-a \(10\.201\.0\.0/24\); choose another range exit=125`,
		"ls":       `bridge/bridge mdn-a/bridge mdn-b/bridge host/host none/null`,
		"bridge-a": `md-[0-9a-f]{12}`, "subnet-b": `172\.30\.0\.0/16`,
		"a1-hosts": `10\.201\.0\.2 mdn-a1 10\.201\.0\.3 mdn-a2`,
		"a1-to-a2": "ok", "a2-to-a1": "ok", "a1-to-b1": "fail", "b1-to-a1": "fail", "b1-by-name": "1",
		"rm-in-use":      `minidocker: network mdn-a has active endpoints \(mdn-a\d, mdn-a\d\): [^\n]* exit=125`,
		"a1-hosts-after": "0",
		"exhausted":      `minidocker: network mdn-tiny has no free address left in 192\.168\.251\.0/30 \(1 in use\): [^\n]* exit=125`,
		"parallel-ok":    "20", "parallel-distinct": "20", "ipam-entries": "21", "veths": "23",
		"files": "bridge.json", "links-same": "yes", "rules-same": "yes",
	})
}

// TestFinalNetLegacyBackend: where `iptables` is the nft backend but the
// legacy tables already hold rules (an older Docker, a firewall script),
// minidocker puts all its rules next to them in the legacy tables, none in
// nf_tables, and removes them from there.
func TestFinalNetLegacyBackend(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("iptables-legacy"); err != nil {
		t.Fatalf("needs iptables-legacy (Debian's iptables package has it): run `sudo make setup`")
	}
	if !strings.Contains(sh(t, "iptables --version"), "nf_tables") {
		t.Skip("iptables is the legacy backend here: nothing to choose")
	}
	leakChecked(t)
	out, all := netnsRun(t, `
iptables-legacy -A INPUT -s 192.0.2.9 -m comment --comment other-firewall -j ACCEPT
legacy() { iptables-legacy-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }
$md --debug run --rm busybox true 2>/tmp/trace0 # makes the default bridge: part of the baseline
echo "said: $(grep -c 'using iptables-legacy' /tmp/trace0)"
legacy >/tmp/legacy.before; rules >/tmp/nft.before
$md run -d --name mdn-leg -p 8080:80 busybox sh -c 'mkdir /www; echo hi-legacy > /www/index.html; exec httpd -f -p 80 -h /www' >/dev/null
echo "legacy-rules: $(iptables-legacy-save | grep -c 'comment minidocker')"
echo "nft-rules: $(iptables-nft-save | grep -c 'comment minidocker')"
echo "local: $(curl -s -m 3 http://127.0.0.1:8080/)"
$md rm -f mdn-leg >/dev/null
echo "legacy-after: $(iptables-legacy-save | grep -c 'dport 8080')"
echo "legacy-same: $(legacy | diff /tmp/legacy.before - >/dev/null && echo yes || legacy | diff /tmp/legacy.before - | tr '\n' '|')"
echo "nft-same: $(rules | diff /tmp/nft.before - >/dev/null && echo yes || rules | diff /tmp/nft.before - | tr '\n' '|')"
`)
	expect(t, out, all, map[string]string{
		"said": "1", "legacy-rules": `[1-9]\d*`, "nft-rules": "0", "local": "hi-legacy",
		"legacy-after": "0", "legacy-same": "yes", "nft-same": "yes",
	})
}

// TestNetClean: `make net-clean` (scripts/net-clean.sh) takes the tables,
// the links and the network records back to what they were before the
// first minidocker or step06 run, and refuses while a container exists.
func TestNetClean(t *testing.T) {
	requireRoot(t)
	leakChecked(t)
	script := filepath.Join(repoRoot, "scripts", "net-clean.sh")
	out, all := netnsRun(t, `
mount -t tmpfs tmpfs `+filepath.Join(mdRoot(), "containers")+` # this namespace's containers only
rules >/tmp/rules.pristine; links0=$(links)
$md network create --subnet 10.202.0.0/24 mdn-clean >/dev/null
$md run -d -i --name mdn-c1 --network mdn-clean -p 8080:80 busybox sh -c 'read x' >/dev/null
$md run --rm busybox true
echo "refused: $(try bash `+script+`)"
$md rm -f mdn-c1 >/dev/null
echo "rules-left: $(iptables-save | grep -c 'comment minidocker')"
bash `+script+` >/dev/null
echo "links-same: $([ "$(links)" = "$links0" ] && echo yes || echo "no: $links0 -> $(links)")"
echo "rules-same: $(rules | diff /tmp/rules.pristine - >/dev/null && echo yes || rules | diff /tmp/rules.pristine - | tr '\n' '|')"
echo "files: $(ls `+filepath.Join(mdRoot(), "network")+` | wc -l)"
echo "again: $($md run --rm busybox sh -c 'ip -4 -o addr show eth0 | grep -c 172.29')"
bash `+script+` >/dev/null
`)
	expect(t, out, all, map[string]string{
		"refused":    `net-clean: containers exist in [^ ]+: remove them first [^\n]* exit=1`,
		"rules-left": `[1-9]\d*`, "links-same": "yes", "rules-same": "yes", "files": "0", "again": "1",
	})
}

// TestFinalNetAfterStep06: the learner's order. step06 makes minidocker0
// and its own rules first; minidocker's -p then still works (it checks
// and makes each of its chains and rules, whatever already exists). The
// reverse order too: step06 after minidocker leaves minidocker's -p
// working. `make net-clean` after both takes the rules and links back to
// what they were at the start.
func TestFinalNetAfterStep06(t *testing.T) {
	requireRoot(t)
	leakChecked(t)
	step06 := program(t, "step06-bridge-net")
	script := filepath.Join(repoRoot, "scripts", "net-clean.sh")
	out, all := netnsRun(t, `
mount -t tmpfs tmpfs `+filepath.Join(mdRoot(), "containers")+` # this namespace's containers only
rules >/tmp/rules.pristine; links0=$(links)
srv='mkdir /www; echo hi-from-$HOSTNAME > /www/index.html; exec httpd -f -p 80 -h /www'
fetch() { curl -s -m 3 --retry 20 --retry-connrefused --retry-delay 0 --retry-max-time 10 "$@"; }
`+step06+` -- true; echo "step06-first: $?"
$md run -d --name o1 --hostname one -p 8080:80 busybox sh -c "$srv" >/dev/null; echo "run-after-step06: $?"
echo "get-after-step06: $(fetch http://127.0.0.1:8080/)"
$md rm -f o1 >/dev/null
bash `+script+` >/dev/null
echo "clean1-rules: $(rules | diff /tmp/rules.pristine - >/dev/null && echo yes || rules | diff /tmp/rules.pristine - | tr '\n' '|')"
$md run -d --name o2 --hostname two -p 8081:80 busybox sh -c "$srv" >/dev/null; echo "run-first: $?"
echo "get-first: $(fetch http://127.0.0.1:8081/)"
`+step06+` -- true; echo "step06-after: $?"
echo "get-after-both: $(fetch http://127.0.0.1:8081/)"
$md rm -f o2 >/dev/null
bash `+script+` >/dev/null
echo "links-same: $([ "$(links)" = "$links0" ] && echo yes || echo "no: $links0 -> $(links)")"
echo "rules-same: $(rules | diff /tmp/rules.pristine - >/dev/null && echo yes || rules | diff /tmp/rules.pristine - | tr '\n' '|')"
`)
	expect(t, out, all, map[string]string{
		"step06-first": "0", "run-after-step06": "0", "get-after-step06": "hi-from-one", "clean1-rules": "yes",
		"run-first": "0", "get-first": "hi-from-two", "step06-after": "0", "get-after-both": "hi-from-two",
		"links-same": "yes", "rules-same": "yes",
	})
}
