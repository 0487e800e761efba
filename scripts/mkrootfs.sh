#!/usr/bin/env bash
# Builds the busybox root filesystem the steps run in, offline, from Debian's
# busybox-static: one static binary plus a symlink per applet (what
# `busybox --install -s` does), a few files in /etc and the empty mount points.
#
#   scripts/mkrootfs.sh [--from-tar FILE] DIR
#
# --from-tar uses a `docker export` tarball instead, e.g. made on a machine with Docker:
#   docker export $(docker create busybox) > busybox.tar
# Idempotent: an up-to-date rootfs is left alone; a new one is built beside it
# and renamed into place, so an interrupted run never leaves half a rootfs.
set -euo pipefail

tar=""
if [ "${1:-}" = "--from-tar" ]; then tar=$2; shift 2; fi
dir=${1:-/var/lib/minidocker/rootfs}
bb=/bin/busybox

if [ "$(id -u)" -ne 0 ]; then
  echo "mkrootfs: run as root (sudo make rootfs)" >&2; exit 1
fi

if [ -z "$tar" ]; then
  if ! [ -x "$bb" ]; then
    echo "mkrootfs: $bb missing; run: sudo apt-get install busybox-static" >&2; exit 1
  fi
  if [ -x "$dir/bin/busybox" ] && cmp -s "$bb" "$dir/bin/busybox" && [ -e "$dir/etc/passwd" ]; then
    echo "mkrootfs: $dir is up to date"; exit 0
  fi
fi

new="$dir.new.$$"
trap 'rm -rf "$new"' EXIT
mkdir -p "$new"

if [ -n "$tar" ]; then
  # A docker export tarball is already a whole filesystem: unpack it as it is.
  tar -C "$new" -xf "$tar"
else
  mkdir -p "$new/bin"
  cp "$bb" "$new/bin/busybox"
  # One symlink per applet, each in its usual place (bin/sh, usr/bin/awk, sbin/ip ...).
  # The target is absolute (/bin/busybox): it resolves inside the container's root.
  "$bb" --list-full | while read -r applet; do
    mkdir -p "$new/$(dirname "$applet")"
    [ -e "$new/$applet" ] || ln -s /bin/busybox "$new/$applet"
  done
fi

# Mount points and files every step relies on (a docker export has most of them).
mkdir -p "$new"/{proc,sys,dev,tmp,etc,root,var,run}
chmod 1777 "$new/tmp"
[ -e "$new/etc/passwd" ] || printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$new/etc/passwd"
[ -e "$new/etc/group" ] || printf 'root:x:0:\nnogroup:x:65534:\n' >"$new/etc/group"
echo container >"$new/etc/hostname"

rm -rf "$dir.old"
[ -e "$dir" ] && mv "$dir" "$dir.old"
mkdir -p "$(dirname "$dir")"
mv "$new" "$dir"
rm -rf "$dir.old"
trap - EXIT
echo "mkrootfs: built $dir ($(ls "$dir"/bin | wc -l) entries in /bin)"
