#!/usr/bin/env bash
# Benchmarks minidocker pull against the pullers a Docker user has, from the
# same local registry (Debian's docker-registry on a loopback port), paired
# and alternated in one run:
#   - minidocker pull                         (the CLI, no daemon)
#   - docker pull through Debian's dockerd 20.10 (graph driver overlay2)
#   - skopeo copy into containers-storage (podman's store, overlay driver)
# The image: 5 layers of random bytes (gzip cannot shrink them), 100 MiB in
# all, made with umoci and pushed with skopeo. Before each pull the image
# is removed (untimed), so every pull fetches, checks and unpacks all five.
# Prints medians, the range, MB/s and the CPU each side used (the client's
# and, for docker, the daemon's and containerd's). Everything it starts is
# stopped and removed at the end.
#
#   sudo scripts/bench-pull.sh [PAIRS]   (default 9; needs docker.io docker-registry skopeo umoci)
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-9}
layers=5 mib=20
say() { printf 'bench-pull: %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { say "run as root (sudo scripts/bench-pull.sh)"; exit 1; }
for t in dockerd docker docker-registry skopeo umoci; do
  command -v "$t" >/dev/null || { say "needs $t: sudo make packages"; exit 1; }
done

. scripts/bench-lib.sh
bench_begin bench-pull
bench_build
bench_home # no login of the user's counts
export MINIDOCKER_ROOT=$tmp/md-state # a store of its own: the host's images do not count

# The registry, on a free loopback port (loopback registries are plain
# HTTP to Docker, skopeo and minidocker alike; skopeo is told so).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
reg=127.0.0.1:$port
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: %s\n' "$tmp" "$reg" >"$tmp/registry.yml"
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
bench_pids+=($!)
start_dockerd --insecure-registry "$reg"
for _ in $(seq 300); do curl -sf "http://$reg/v2/" >/dev/null && [ -S "$dk_sock" ] && $DK version >/dev/null 2>&1 && break; sleep 0.1; done
$DK version >/dev/null || { say "dockerd did not come up: $(tail -3 "$tmp/dockerd.log")"; exit 1; }

# The image, layer by layer.
umoci init --layout "$tmp/oci"
umoci new --image "$tmp/oci:big"
for i in $(seq "$layers"); do
  mkdir -p "$tmp/layer/data"
  head -c "${mib}M" /dev/urandom >"$tmp/layer/data/random-$i"
  tar -C "$tmp/layer" -cf "$tmp/layer.tar" data
  umoci raw add-layer --image "$tmp/oci:big" "$tmp/layer.tar"
  rm -rf "$tmp/layer" "$tmp/layer.tar"
done
skopeo copy -q --dest-tls-verify=false "oci:$tmp/oci:big" "docker://$reg/big:1"
rm -rf "$tmp/oci"
img=$reg/big:1
total=$((layers * mib))
storage="containers-storage:[overlay@$tmp/cs-root+$tmp/cs-run]"
# containers-storage's overlay driver keeps its directory mounted (private).
cs_reset="umount -l $tmp/cs-root/overlay 2>/dev/null; rm -rf $tmp/cs-root $tmp/cs-run"

# cpu PID...: the user+system seconds the processes used so far (their
# waited-for children included).
cpu() {
  local p t=0
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    t=$((t + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat")))
  done
  awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
ctd() { pgrep -f "containerd --config $tmp" | head -1 || true; }

echo "== machine: $(nproc) CPUs, kernel $(uname -r); $($DK version --format 'dockerd {{.Server.Version}}'); $(skopeo --version)"
echo "== the image: $layers layers of $mib MiB of random bytes ($total MiB), from docker-registry at $reg"
echo "== pull: A = minidocker pull, B = docker pull through dockerd ($pairs pairs; the image removed before each)"
"$bp" -n "$pairs" -prep-a "$md rmi $img >/dev/null 2>&1 || true" -a "$md pull -q $img" \
  -prep-b "$DK rmi $img >/dev/null 2>&1 || true" -b "$DK pull -q $img" | tee "$tmp/a.txt" | sed -E 's#/tmp/minidocker-bench-pull[^/]*/#/tmp/.../#g; s# /tmp/[.][.][.]/# #g'
echo "== pull: A = minidocker pull, B = skopeo copy into containers-storage ($pairs pairs)"
"$bp" -n "$pairs" -prep-a "$md rmi $img >/dev/null 2>&1 || true" -a "$md pull -q $img" \
  -prep-b "$cs_reset" -b "skopeo copy -q --src-tls-verify=false docker://$img $storage$img" |
  tee "$tmp/b.txt" | sed -E 's#/tmp/minidocker-bench-pull[^/]*/#/tmp/.../#g; s# /tmp/[.][.][.]/# #g'
for f in a b; do
  awk -v mib="$total" '/median/ { printf "   %s: %.0f MB/s (median)\n", $1, mib * 1.048576 / ($3 / 1000) }' "$tmp/$f.txt"
done

# CPU: one more pull each, the client's own and (docker) the daemons'.
$md rmi "$img" >/dev/null 2>&1 || true
$DK rmi "$img" >/dev/null 2>&1 || true
sh -c "$cs_reset"
c=$( { /usr/bin/time -f '%U %S' "$md" pull -q "$img" >/dev/null; } 2>&1 | awk '{ print $1 + $2 }')
echo "== CPU seconds for one pull of $total MiB: minidocker $c"
d0=$(cpu "$dk_pid" "$(ctd)")
c=$( { /usr/bin/time -f '%U %S' docker -H "unix://$dk_sock" pull -q "$img" >/dev/null; } 2>&1 | awk '{ print $1 + $2 }')
d1=$(cpu "$dk_pid" "$(ctd)")
echo "   docker: CLI $c + dockerd and containerd $(awk -v a="$d0" -v b="$d1" 'BEGIN { printf "%.2f", b - a }')"
c=$( { /usr/bin/time -f '%U %S' skopeo copy -q --src-tls-verify=false "docker://$img" "$storage$img" >/dev/null; } 2>&1 | awk '{ print $1 + $2 }')
echo "   skopeo: $c"
