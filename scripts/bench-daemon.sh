#!/usr/bin/env bash
# Benchmarks minidocker's daemon against Debian's dockerd 20.10 (+ containerd
# + runc), through the same docker CLI, paired and alternated in one run:
#   - docker run --rm --network none busybox true
#   - docker run -d --network none busybox sleep ...
#   - docker ps with 100 containers in each
#   - the default bridge network's cost for run --rm (minidocker, throwaway netns)
#   - memory (RSS): each daemon idle, and with 20 containers, shims/monitors included
# Both daemons run on sockets, data and exec roots of their own under a
# scratch directory; dockerd with --iptables=false --bridge=none (the runs
# use --network none). Everything is stopped and removed at the end.
#
#   sudo scripts/bench-daemon.sh [PAIRS]     (default 15; needs docker.io: apt-get install -y docker.io)
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-15}
rootfs=${MINIDOCKER_ROOTFS:-/var/lib/minidocker/rootfs}
say() { printf 'bench-daemon: %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { say "run as root (sudo scripts/bench-daemon.sh)"; exit 1; }
for t in dockerd containerd docker; do
  command -v "$t" >/dev/null || { say "needs $t: apt-get install -y docker.io (its install does not start it)"; exit 1; }
done
[ -x "$rootfs/bin/busybox" ] || { say "no rootfs at $rootfs: run make rootfs"; exit 1; }

. scripts/bench-lib.sh
bench_begin bench-daemon
md_sock=$tmp/md.sock MD="docker -H unix://$tmp/md.sock"
# containers first (dockerd's shims hold mounts under its roots), then the daemons
remove_containers() {
  [ -n "$dk_pid" ] && $DK rm -f $($DK ps -aq) >/dev/null 2>&1
  [ ${#bench_pids[@]} -gt 0 ] && $MD rm -f $($MD ps -aq) >/dev/null 2>&1
}
bench_on_exit=remove_containers
bench_build init
bench_home
export MINIDOCKER_ROOT=$tmp/md-state # a scratch state: the host's containers do not count

"$md" daemon -H "unix://$md_sock" --group root >"$tmp/md.log" 2>&1 & md_pid=$!
bench_pids+=("$md_pid")
start_dockerd
wait_sock "$md_sock" "$MD"
wait_sock "$dk_sock" "$DK"
tar -C "$rootfs" -c . | $DK import - busybox >/dev/null
$MD images -q >/dev/null # minidocker makes its busybox image from the same rootfs

echo "== machine: $(nproc) CPUs, kernel $(uname -r); $($DK version --format 'dockerd {{.Server.Version}}, API {{.Server.APIVersion}}'); $($MD version --format 'minidocker {{.Server.Version}}, API {{.Server.APIVersion}}')"
echo "== docker run --rm --network none busybox true: A = minidocker daemon, B = dockerd ($pairs pairs)"
"$bp" -n "$pairs" -a "$MD run --rm --network none busybox true" -b "$DK run --rm --network none busybox true"
echo "== docker run -d --network none busybox sleep 100000 (containers stay; removed below)"
"$bp" -n "$pairs" -a "$MD run -d --network none busybox sleep 100000" -b "$DK run -d --network none busybox sleep 100000" | sed 's/^/   /'
rss() { ps -o rss= -p "$1" 2>/dev/null | awk '{ s += $1 } END { printf "%.1f", s / 1024 }'; }
sum_rss() { local s=0 p; for p in "$@"; do s=$((s + $(ps -o rss= -p "$p" 2>/dev/null || echo 0))); done; awk -v s="$s" 'BEGIN { printf "%.1f", s / 1024 }'; }
monitors() { pgrep -f "minidocker monitor" | tr '\n' ' '; }
shims() { pgrep -f "containerd-shim.*$tmp" | tr '\n' ' '; pgrep -f "containerd-shim-runc-v2" | tr '\n' ' '; }
$MD rm -f $($MD ps -aq) >/dev/null; $DK rm -f $($DK ps -aq) >/dev/null
ctd=$(pgrep -f "containerd --config $tmp" | head -1 || true)
echo "== memory (RSS, MiB), idle: minidocker daemon $(rss "$md_pid"); dockerd $(rss "$dk_pid") + containerd $(rss "${ctd:-0}")"
for i in $(seq 20); do $MD run -d --network none busybox sleep 100000 >/dev/null; $DK run -d --network none busybox sleep 100000 >/dev/null; done
mons=$(monitors) sh_pids=$(pgrep -f containerd-shim | tr '\n' ' ')
echo "== memory with 20 containers: minidocker daemon $(rss "$md_pid") + 20 monitors $(sum_rss $mons) ($(awk -v a="$(sum_rss $mons)" 'BEGIN{printf "%.1f", a/20}') each); dockerd $(rss "$dk_pid") + containerd $(rss "${ctd:-0}") + 20 shims $(sum_rss $sh_pids) ($(awk -v a="$(sum_rss $sh_pids)" 'BEGIN{printf "%.1f", a/20}') each)"
for i in $(seq 80); do $MD run -d --network none busybox sleep 100000 >/dev/null; $DK run -d --network none busybox sleep 100000 >/dev/null; done
echo "== docker ps with 100 running containers: A = minidocker daemon, B = dockerd"
"$bp" -n "$pairs" -a "$MD ps" -b "$DK ps" 2>&1 | grep -v '^CONTAINER' || true
echo "== the same list without the CLI (curl GET /containers/json): what each daemon itself takes"
"$bp" -n "$pairs" -a "curl -s -o /dev/null --unix-socket $md_sock http://x/v1.44/containers/json" -b "curl -s -o /dev/null --unix-socket $dk_sock http://x/v1.41/containers/json"
echo "== the docker CLI alone (docker version: two requests), the floor of every docker command above"
"$bp" -n "$pairs" -a "$MD version" -b "$DK version" | sed 's/^/   /' 
$MD rm -f $($MD ps -aq) >/dev/null; $DK rm -f $($DK ps -aq) >/dev/null
echo "== the default bridge network's cost: A = run --rm on the bridge, B = --network none (minidocker daemon, in a throwaway netns)"
unshare --net --mount --propagation private sh -c "mount -t tmpfs tmpfs /run; ip link set lo up
  $md daemon -H unix:///run/bench.sock --group root >/dev/null 2>&1 & p=\$!
  for i in \$(seq 300); do [ -S /run/bench.sock ] && break; sleep 0.1; done
  docker -H unix:///run/bench.sock run --rm busybox true
  $bp -n $pairs -a 'docker -H unix:///run/bench.sock run --rm busybox true' -b 'docker -H unix:///run/bench.sock run --rm --network none busybox true'
  kill \$p; wait \$p"
