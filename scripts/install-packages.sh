#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the steps, minidocker and the tests use.
# Idempotent: packages already present are not touched, and apt-get update runs
# only when something is missing.
set -euo pipefail

pkgs=(
  busybox-static # the container's userland: one static binary, no libc needed inside
  iproute2       # ip link / ip addr / ip netns: the shell side of netlink
  iptables       # NAT (MASQUERADE) and port publishing (DNAT)
  util-linux     # unshare, nsenter, mount, ipcmk/ipcs
  procps         # ps, to compare with what the container sees
  stress-ng      # real load for the cgroup tests
  runc           # the reference runtime minidocker is benchmarked against
  gcc            # cgo, for minidocker-nsenter: exec's C constructor
  libc6-dev      # its C headers and the static libc
  make
  docker-compose # compose v1 (python3-docker): the daemon's tests drive it against minidocker
  bsdutils       # script(1): a terminal for the tests of docker run -it
  docker-registry # the Distribution registry: pull and push are tested against it (chapter 11)
  skopeo         # copies and inspects images in registries and OCI layouts: the tests' second opinion
  umoci          # writes OCI image layouts layer by layer: the tests' images with whiteouts
  uidmap         # newuidmap/newgidmap: a rootless user's subordinate ids (docs/10-security.md)
  podman         # podman 4.3 and conmon: the third engine that drives minidocker-runc (chapter 13)
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-packages: run as root (sudo make setup)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "install-packages: no apt-get; install by hand: ${pkgs[*]//#*/}" >&2
  exit 1
fi

# The docker CLI (a client only is needed; chapter 09 points it at
# minidocker's daemon). Debian ships it in docker.io, whose install does
# not start the engine here; the learner VM installs the static client.
# dockerd, from the same package, is the peer the save/load tests hand
# tarballs to; it is never left running (the tests start their own).
if ! command -v docker >/dev/null || ! command -v dockerd >/dev/null; then
  pkgs+=(docker.io)
fi

# The group that may use the daemon's socket (0660 root:minidocker), and
# the uids and gids of --userns=private: a range of 65536 for "minidocker"
# in /etc/subuid and /etc/subgid (as Docker's dockremap), from 100000 or
# after every range already there.
group_ready() {
  getent group minidocker >/dev/null || groupadd --system minidocker
  local f start
  for f in /etc/subuid /etc/subgid; do
    touch "$f"
    grep -q '^minidocker:' "$f" && continue
    start=$(awk -F: 'NF == 3 && $2 + $3 > max { max = $2 + $3 } END { print (max > 100000 ? max : 100000) }' "$f")
    echo "minidocker:$start:65536" >>"$f"
    echo "install-packages: $f: minidocker:$start:65536 (--userns=private)"
  done
}

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  group_ready
  echo "install-packages: all present"
  exit 0
fi
echo "install-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Nothing the packages bring may start: a policy-rc.d that says no keeps
# dpkg from starting dockerd, containerd and docker-registry, and systemd's
# units are masked: the tests start each server themselves.
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[ -z "$made_policy" ] || rm -f "$policy"
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  # podman's units: its API socket and the boot-time restart would use
  # the default store in /var/lib/containers.
  systemctl mask --now docker.service docker.socket containerd.service docker-registry.service \
    podman.service podman.socket podman-restart.service podman-auto-update.service podman-auto-update.timer >/dev/null 2>&1 || true
fi
group_ready
