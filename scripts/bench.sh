#!/usr/bin/env bash
# Benchmarks minidocker's container start against runc, paired and
# alternated in one run (A B, B A, ...) so both see the same machine load;
# prints the median of each and the ratio. Also: the default bridge network
# (in a throwaway network namespace, so the host's links and iptables stay
# untouched), `ps -a` with 100 containers, pull from a local registry
# (scripts/bench-pull.sh), and docker build, cold and warm
# (scripts/bench-build.sh).
#
#   sudo scripts/bench.sh [PAIRS]      (default 15; needs runc: apt-get install -y runc)
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-15}
rootfs=${MINIDOCKER_ROOTFS:-/var/lib/minidocker/rootfs}

if [ "$(id -u)" -ne 0 ]; then echo "bench: run as root (sudo scripts/bench.sh)" >&2; exit 1; fi
command -v runc >/dev/null || { echo "bench: needs runc: apt-get install -y runc" >&2; exit 1; }
[ -x "$rootfs/bin/busybox" ] || { echo "bench: no rootfs at $rootfs: run make rootfs" >&2; exit 1; }

tmp=$(mktemp -d /tmp/minidocker-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# The same build as `make minidocker` (exec's helper is not needed here).
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -ldflags '-s -w' -o "$tmp/minidocker" ./final
CGO_ENABLED=0 go build -ldflags '-s -w' -o "$tmp/minidocker-init" ./final/minidocker-init
CGO_ENABLED=0 go build -o "$tmp/benchpair" ./tools/benchpair
md=$tmp/minidocker bp=$tmp/benchpair

# An OCI bundle for runc with the same rootfs, running `true`.
mkdir -p "$tmp/bundle" && cp -a "$rootfs" "$tmp/bundle/rootfs"
(cd "$tmp/bundle" && runc spec)
sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"sh"$/"true"/' "$tmp/bundle/config.json"
grep -q '"true"' "$tmp/bundle/config.json" || { echo "bench: could not edit the runc spec" >&2; exit 1; }

echo "== machine: $(nproc) CPUs, kernel $(uname -r), $(runc --version | head -1)"
echo "== start + stop, no network: minidocker vs runc ($pairs pairs)"
(cd "$tmp/bundle" && "$bp" -n "$pairs" -a "$md run --rm --network none busybox true" -b "runc run minidocker-bench")
echo "== the same namespaces with unshare(1): the floor"
"$bp" -n "$pairs" -a "$md run --rm --network none busybox true" -b "unshare --uts --pid --ipc --mount --net --fork true"
echo "== default bridge network (veth, IPAM; in a throwaway netns)"
unshare --net --mount --propagation private sh -c "mount -t tmpfs tmpfs /run; ip link set lo up
  $md run --rm busybox true
  $bp -n $pairs -a '$md run --rm busybox true' -b '$md run --rm --network none busybox true'"
echo "== ps -a with 100 containers (in a scratch state directory)"
export MINIDOCKER_ROOT=$tmp/state
for i in $(seq 100); do "$md" run --network none --name "bench-$i" busybox true; done
"$bp" -n "$pairs" -a "$md ps -a >/dev/null"
"$md" rm $("$md" ps -aq) >/dev/null
echo "== pull from a local registry: scripts/bench-pull.sh (minidocker pull vs dockerd and skopeo)"
if command -v docker-registry >/dev/null && command -v dockerd >/dev/null && command -v skopeo >/dev/null && command -v umoci >/dev/null; then
  bash scripts/bench-pull.sh "$pairs"
else
  echo "   skipped: needs docker-registry, dockerd, skopeo and umoci (sudo make packages)"
fi
echo "== docker build with the classic builder: scripts/bench-build.sh (minidocker's daemon vs dockerd, cold and warm)"
if command -v dockerd >/dev/null; then
  bash scripts/bench-build.sh "$pairs"
else
  echo "   skipped: needs dockerd (sudo make packages)"
fi
