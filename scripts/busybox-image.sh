#!/usr/bin/env bash
# Makes the `busybox` image present in minidocker's store, from the rootfs
# that scripts/mkrootfs.sh builds (Debian's busybox-static), so that
# `minidocker run --rm busybox echo hi` works offline. Idempotent.
# (minidocker also does this by itself the first time `busybox` is asked for.)
#
#   scripts/busybox-image.sh [MINIDOCKER_BINARY]    (default: bin/minidocker)
set -euo pipefail
bin=${1:-bin/minidocker}
rootfs=${MINIDOCKER_ROOTFS:-/var/lib/minidocker/rootfs}
if [ "$(id -u)" -ne 0 ]; then echo "busybox-image: run as root (sudo make setup)" >&2; exit 1; fi
[ -x "$bin" ] || { echo "busybox-image: $bin missing: run make minidocker" >&2; exit 1; }
[ -x "$rootfs/bin/busybox" ] || { echo "busybox-image: no rootfs at $rootfs: run make rootfs" >&2; exit 1; }
if "$bin" images | awk 'NR > 1 && $1 == "busybox" { found = 1 } END { exit !found }'; then
  echo "busybox-image: busybox is present"; exit 0
fi
# A tarball of the rootfs is exactly what `docker export` would give.
tar -C "$rootfs" -c . | "$bin" import - busybox
