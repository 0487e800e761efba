#!/usr/bin/env bash
# Benchmarks `docker build` (the classic builder, DOCKER_BUILDKIT=0) with
# minidocker's daemon against Debian's dockerd 20.10, through the same
# docker CLI, paired and alternated in one run (A B, B A, ...), on one
# Dockerfile of 10 instructions (3 RUNs, 2 COPYs):
#   - cold: --no-cache, every step runs
#   - warm: nothing changed, every step comes from the cache
# and, for reference, the daemonless `minidocker build` of the same.
# Both daemons run on sockets, data and exec roots of their own under a
# scratch directory; dockerd with --iptables=false --bridge=none, and the
# builds with --network none on both sides. Everything is stopped and
# removed at the end. Goals (never asserted by tests): minidocker <= 0.5x
# dockerd cold, <= 0.2x warm.
#
#   sudo scripts/bench-build.sh [PAIRS]     (default 15; needs docker.io: apt-get install -y docker.io)
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-15}
rootfs=${MINIDOCKER_ROOTFS:-/var/lib/minidocker/rootfs}
say() { printf 'bench-build: %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { say "run as root (sudo scripts/bench-build.sh)"; exit 1; }
for t in dockerd containerd docker; do
  command -v "$t" >/dev/null || { say "needs $t: apt-get install -y docker.io (its install does not start it)"; exit 1; }
done
[ -x "$rootfs/bin/busybox" ] || { say "no rootfs at $rootfs: run make rootfs"; exit 1; }

. scripts/bench-lib.sh
bench_begin bench-build
md_sock=$tmp/md.sock MD="docker -H unix://$tmp/md.sock"
bench_build init
bench_home
export DOCKER_BUILDKIT=0
export MINIDOCKER_ROOT=$tmp/md-state # a scratch store: its images and cache only

# The context: 10 instructions, 3 RUNs, 2 COPYs (a file and a directory).
ctx=$tmp/ctx
mkdir -p "$ctx/src"
for i in $(seq 20); do head -c 4096 /dev/urandom | base64 > "$ctx/src/file$i.txt"; done
echo "config" > "$ctx/app.conf"
cat > "$ctx/Dockerfile" <<'EOF'
FROM busybox
ENV APP=/app MODE=bench
WORKDIR /app
COPY app.conf /etc/app.conf
RUN mkdir -p /app/data && echo built > /app/data/stamp
COPY src/ /app/src/
RUN cat /app/src/*.txt | wc -c > /app/data/size
RUN chmod -R go-w /app && ls -lR /app > /app/data/listing
EXPOSE 8080
CMD ["cat", "/app/data/size"]
EOF

"$md" daemon -H "unix://$md_sock" --group root >"$tmp/md.log" 2>&1 &
bench_pids+=($!)
start_dockerd
wait_sock "$md_sock" "$MD"
wait_sock "$dk_sock" "$DK"
tar -C "$rootfs" -c . | $DK import - busybox >/dev/null
$MD images -q >/dev/null # minidocker makes its busybox image from the same rootfs

q="build -q --network none"
echo "== machine: $(nproc) CPUs, kernel $(uname -r); $($DK version --format 'dockerd {{.Server.Version}}'); $($MD version --format 'minidocker {{.Server.Version}}')"
echo "== docker build, cold (--no-cache: 10 steps, 3 RUNs, 2 COPYs): A = minidocker daemon, B = dockerd ($pairs pairs)"
"$bp" -n "$pairs" -a "$MD $q --no-cache $ctx" -b "$DK $q --no-cache $ctx"
echo "== docker build, warm (nothing changed: every step from the cache)"
$MD $q "$ctx" >/dev/null; $DK $q "$ctx" >/dev/null
"$bp" -n "$pairs" -a "$MD $q $ctx" -b "$DK $q $ctx"
echo "== the daemonless CLI (minidocker build): A = cold, B = warm"
"$bp" -n "$pairs" -a "$md $q --no-cache $ctx" -b "$md $q $ctx"
