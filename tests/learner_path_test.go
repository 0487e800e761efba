//go:build linux

package tests

import (
	"path/filepath"
	"testing"
)

// TestLearnerPath: the README's order on one machine, as a learner goes:
// each step, then minidocker (with -p, on the bridge step06 made), then
// the daemon with the docker CLI, then `make net-clean`. Each part works
// after the one before it, and the end leaves the tables and links as
// they were (in a throwaway network namespace, like the network tests).
func TestLearnerPath(t *testing.T) {
	requireRoot(t)
	leakChecked(t)
	docker := tool(t, "docker")
	steps := map[string]string{}
	for _, s := range []string{"step01-uts", "step02-pid", "step03-mnt-chroot", "step04-cgroups", "step05-overlay", "step06-bridge-net"} {
		steps[s] = program(t, s)
	}
	out, all := netnsRun(t, `
mount -t tmpfs tmpfs `+filepath.Join(mdRoot(), "containers")+` # this namespace's containers only
rules >/tmp/rules.pristine; links0=$(links)
echo "step01: $(`+steps["step01-uts"]+` --hostname box -- hostname)"
echo "step02: $(`+steps["step02-pid"]+` -- sh -c 'echo $$')"
echo "step03: $(`+steps["step03-mnt-chroot"]+` -- sh -c 'ls /bin/busybox')"
echo "step04: $(`+steps["step04-cgroups"]+` -m 64m --pids-limit 32 -- sh -c 'echo limited')"
echo "step05: $(`+steps["step05-overlay"]+` -- sh -c 'echo layered')"
echo "step06: $(`+steps["step06-bridge-net"]+` -- sh -c 'ip -4 -o addr show eth0 | grep -c 172.29')"
echo "minidocker: $($md run --rm busybox echo hi)"
srv='mkdir /www; echo hi-from-$HOSTNAME > /www/index.html; exec httpd -f -p 80 -h /www'
fetch() { curl -s -m 3 --retry 20 --retry-connrefused --retry-delay 0 --retry-max-time 10 "$@"; }
$md run -d --name lp-web --hostname web -p 8080:80 busybox sh -c "$srv" >/dev/null
echo "minidocker-p: $(fetch http://127.0.0.1:8080/)"
$md rm -f lp-web >/dev/null
$md daemon -H unix:///run/lp.sock >/tmp/daemon.log 2>&1 & dpid=$!
for i in $(seq 100); do [ -S /run/lp.sock ] && break; sleep 0.05; done # a bounded wait for the socket
export DOCKER_HOST=unix:///run/lp.sock HOME=/tmp
echo "docker: $(`+docker+` run --rm busybox echo through-the-daemon)"
`+docker+` run -d --name lp-api --hostname api -p 8081:80 busybox sh -c "$srv" >/dev/null
echo "docker-p: $(fetch http://127.0.0.1:8081/)"
echo "docker-port: $(`+docker+` port lp-api 80)"
`+docker+` rm -f lp-api >/dev/null
kill $dpid; wait $dpid
bash `+filepath.Join(repoRoot, "scripts", "net-clean.sh")+` >/dev/null
echo "links-same: $([ "$(links)" = "$links0" ] && echo yes || echo "no: $links0 -> $(links)")"
echo "rules-same: $(rules | diff /tmp/rules.pristine - >/dev/null && echo yes || rules | diff /tmp/rules.pristine - | tr '\n' '|')"
`)
	expect(t, out, all, map[string]string{
		"step01": "box", "step02": "1", "step03": "/bin/busybox", "step04": "limited", "step05": "layered", "step06": "1",
		"minidocker": "hi", "minidocker-p": "hi-from-web", "docker": "through-the-daemon", "docker-p": "hi-from-api", "docker-port": `0\.0\.0\.0:8081`,
		"links-same": "yes", "rules-same": "yes",
	})
}
