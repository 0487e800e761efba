#!/usr/bin/env bash
# minidocker-runc against runc (and crun where it works: a cgroup v2
# host): create + start + delete --force of a bundle running `true`, the
# benchmark youki and crun publish. Paired and alternated (tools/benchpair):
# both see the same machine load.
#
#   sudo scripts/bench-oci.sh [PAIRS]      (default 30; needs runc)
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-30}
rootfs=${MINIDOCKER_ROOTFS:-/var/lib/minidocker/rootfs}
if [ "$(id -u)" -ne 0 ]; then echo "bench-oci: run as root" >&2; exit 1; fi
command -v runc >/dev/null || { echo "bench-oci: needs runc: apt-get install -y runc" >&2; exit 1; }
tmp=$(mktemp -d /tmp/oci-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# Prebuilt programs where there are some (the cgroup v2 guest: under
# emulation a go build takes minutes): MINIDOCKER_BIN_DIR, as the tests.
bin=${MINIDOCKER_BIN_DIR:-}
if [ -n "$bin" ] && [ -x "$bin/minidocker-runc" ] && [ -x "$bin/benchpair" ]; then
  cp "$bin/minidocker-runc" "$bin/benchpair" "$tmp/"
else
  CGO_ENABLED=0 go build -ldflags '-s -w' -o "$tmp/minidocker-runc" ./final/minidocker-runc
  CGO_ENABLED=0 go build -o "$tmp/benchpair" ./tools/benchpair
fi
# One bundle for all: runc's default config without the fences this build
# does not apply yet, running `true`.
mkdir -p "$tmp/bundle" && cp -a "$rootfs" "$tmp/bundle/rootfs"
(cd "$tmp/bundle" && "$tmp/minidocker-runc" spec)
python3 - "$tmp/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
p = c["process"]; p["terminal"] = False; p["args"] = ["true"]; p["noNewPrivileges"] = False; del p["capabilities"]
l = c["linux"]; del l["maskedPaths"]; del l["readonlyPaths"]; del l["resources"]
json.dump(c, open(sys.argv[1], "w"))
PY
# The same work for all: no session keyring (minidocker-runc never makes
# one; runc and crun do unless told, and crun's fails in the v2 guest,
# whose kernel refuses its keyring label).
cycle() { echo "$1 --root $tmp/root-$2 create --no-new-keyring --bundle $tmp/bundle b && $1 --root $tmp/root-$2 start b && $1 --root $tmp/root-$2 delete --force b"; }
echo "== machine: $(nproc) CPUs, kernel $(uname -r), $(runc --version | head -1)"
echo "== create + start + delete of true: minidocker-runc (A) vs runc (B), $pairs pairs"
"$tmp/benchpair" -n "$pairs" -a "$(cycle "$tmp/minidocker-runc" md)" -b "$(cycle runc runc)"
if command -v crun >/dev/null && [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  echo "== the same: minidocker-runc (A) vs crun (B)"
  "$tmp/benchpair" -n "$pairs" -a "$(cycle "$tmp/minidocker-runc" md)" -b "$(cycle crun crun)"
elif ! command -v crun >/dev/null; then
  echo "== crun: not installed (apt-get install -y crun)"
else
  echo "== crun: not here (crun refuses a hybrid cgroup host; it runs on cgroup v2:"
  echo "   CGROUP2_VM_SCRIPT='scripts/bench-oci.sh 21' bash scripts/cgroup2-vm.sh)"
fi
