#!/usr/bin/env bash
# Provisions the learner VM; CI runs it on its own machine too, so both are set up by the same code.
#
#   vagrant/provision.sh [--skip-go] [REPO]        (as root)
#
#   REPO       the repository (default: $MINIDOCKER_REPO, else the checkout this script is in)
#   --skip-go  or MINIDOCKER_SKIP_GO=1: download nothing when a Go new enough for go.mod is
#              already installed; only link it for sudo
#
# Steps, each skipped when already done (so `vagrant provision` can run any number of times):
#   1. a few base packages the steps below need (curl, git, make)
#   2. Go $GO_VERSION from the official tarball for this CPU, checked against its published SHA-256
#   3. go and gofmt linked into /usr/local/bin: sudo's secure_path drops /usr/local/go/bin, and the
#      steps are run as `sudo go run ./stepNN-...`
#   4. git safe.directory for root: a synced folder belongs to the vagrant user, and root's git
#      (which go calls to stamp builds) refuses repositories owned by someone else
#   5. the docker CLI, for chapter 09 (DOCKER_HOST=unix:///run/minidocker.sock docker ...): from the
#      distribution's docker.io, with its engine (dockerd, containerd) masked, never started
#   6. the project's own setup: `make -C REPO setup` (packages + busybox rootfs on the VM's disk)
set -euo pipefail

# Pinned toolchain. The sums are the ones published on https://go.dev/dl/ for these files.
GO_VERSION=1.23.4
declare -A GO_SHA256=(
  [amd64]=6924efde5de86fe277676e929dc9917d466efa02fb934197bc2eba35d5680971
  [arm64]=16e5017863a7f6071363782b1b8042eb12c6ca4f4cd71528b2123f0a1275b13e
)
GOROOT_DIR=/usr/local/go

log() { printf 'provision: %s\n' "$*"; }
die() { printf 'provision: %s\n' "$*" >&2; exit 1; }

skip_go=${MINIDOCKER_SKIP_GO:-0}
repo=${MINIDOCKER_REPO:-}
while [ $# -gt 0 ]; do
  case $1 in
    --skip-go) skip_go=1 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) die "unknown flag $1 (try --help)" ;;
    *) repo=$1 ;;
  esac
  shift
done
if [ -z "$repo" ]; then
  # Run from a checkout: the repo is the script's parent. (Vagrant uploads the script to /tmp,
  # which is why the Vagrantfile passes the path.)
  repo=$(cd "$(dirname "$0")/.." && pwd)
fi
[ -f "$repo/go.mod" ] || die "$repo has no go.mod; pass the repository path: $0 /path/to/repo"
[ "$(id -u)" -eq 0 ] || die "run as root: sudo $0 $repo"

# The oldest Go the module accepts, from go.mod's `go` line.
go_min=$(awk '$1 == "go" { print $2; exit }' "$repo/go.mod")
go_min=${go_min:-1.22}

# version_ge A B: A >= B, both like 1.22 or 1.23.4.
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]; }
# go_version BIN: prints 1.23.4 for a working go binary, nothing otherwise.
go_version() { "$1" env GOVERSION 2>/dev/null | sed -n 's/^go\([0-9][0-9.]*\).*/\1/p'; }

# --- 1. base packages ----------------------------------------------------------------------
ensure_packages() {
  local missing=() p
  for p in "$@"; do command -v "$p" >/dev/null || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "install ${missing[*]} first (no apt-get here)"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Try without refreshing the index first: it is fast, and a fresh VM's index is often good enough.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}
ensure_packages curl git make

# ensure_packages_named PKG...: like ensure_packages, by package name rather than command.
ensure_packages_named() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

# --- 2. Go ---------------------------------------------------------------------------------
# The Go the steps will use: on PATH, else the tarball's place (a provisioner's PATH may lack it).
find_go() {
  local g
  g=$(command -v go 2>/dev/null || true)
  [ -n "$g" ] || { [ -x "$GOROOT_DIR/bin/go" ] && g=$GOROOT_DIR/bin/go; }
  [ -n "$g" ] && readlink -f "$g"
  return 0
}

install_go() {
  local arch sum tmp
  arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
  case $arch in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
  esac
  sum=${GO_SHA256[$arch]:-}
  [ -n "$sum" ] || die "no Go tarball pinned for CPU '$arch' (pinned: ${!GO_SHA256[*]})"

  if [ -x "$GOROOT_DIR/bin/go" ] && [ "$(go_version "$GOROOT_DIR/bin/go")" = "$GO_VERSION" ]; then
    log "go $GO_VERSION already in $GOROOT_DIR"
    return 0
  fi
  log "installing go $GO_VERSION ($arch) into $GOROOT_DIR"
  # The scratch dir sits beside the destination, so the final rename stays on one filesystem.
  tmp=$(mktemp -d "$(dirname "$GOROOT_DIR")/.go-install.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $tmp is local and gone by the time the trap runs
  trap "rm -rf '$tmp'" EXIT
  curl -fsSL --retry 3 -o "$tmp/go.tar.gz" "https://go.dev/dl/go$GO_VERSION.linux-$arch.tar.gz"
  echo "$sum  $tmp/go.tar.gz" | sha256sum -c --quiet - ||
    die "go$GO_VERSION.linux-$arch.tar.gz does not match its published SHA-256; not installing it"
  # Unpack beside the old tree, then swap: an interrupted run never leaves half a Go behind.
  tar -C "$tmp" -xzf "$tmp/go.tar.gz"
  rm -rf "$GOROOT_DIR.old"
  if [ -e "$GOROOT_DIR" ]; then mv "$GOROOT_DIR" "$GOROOT_DIR.old"; fi
  mv "$tmp/go" "$GOROOT_DIR"
  rm -rf "$GOROOT_DIR.old"
}

if [ "$skip_go" = 1 ]; then
  go_bin=$(find_go)
  [ -n "$go_bin" ] || die "--skip-go, but no go found; drop --skip-go to install go $GO_VERSION"
  have=$(go_version "$go_bin")
  version_ge "${have:-0}" "$go_min" ||
    die "--skip-go, but $go_bin is go ${have:-?}, older than go.mod's $go_min; drop --skip-go"
  log "skipping the Go download: $go_bin is go $have (go.mod needs >= $go_min)"
else
  install_go
  go_bin=$GOROOT_DIR/bin/go
fi

# --- 3. go and gofmt where sudo looks --------------------------------------------------------
go_dir=$(dirname "$go_bin")
case $go_dir in
  /usr/local/bin | /usr/bin | /bin) log "$go_bin is already on sudo's secure_path" ;;
  *)
    for tool in go gofmt; do
      link=/usr/local/bin/$tool
      if [ -e "$link" ] && ! [ -L "$link" ]; then
        # Someone installed a real binary there; replacing it is not this script's call.
        log "warning: $link is a file, not a link; leaving it (sudo $tool uses it)"
        continue
      fi
      [ -x "$go_dir/$tool" ] || continue
      if [ "$(readlink "$link" 2>/dev/null)" != "$go_dir/$tool" ]; then
        ln -sfn "$go_dir/$tool" "$link"
        log "linked $link -> $go_dir/$tool"
      fi
    done
    ;;
esac
log "sudo go: $(/usr/local/bin/go version 2>/dev/null || "$go_bin" version)"

# --- 4. git safe.directory for root ------------------------------------------------------------
root_gitconfig="$(getent passwd root | cut -d: -f6)/.gitconfig"
if git config --file "$root_gitconfig" --get-all safe.directory 2>/dev/null | grep -qxF "$repo"; then
  log "git safe.directory $repo already set for root"
else
  git config --file "$root_gitconfig" --add safe.directory "$repo"
  log "git safe.directory $repo added for root"
fi

# --- 5. the docker CLI, without its engine -------------------------------------------------------
# Chapter 09 points the docker CLI at minidocker's daemon. The distribution ships the client in the
# docker.io package together with dockerd; a policy-rc.d keeps the install from starting anything,
# and the engine's units are masked: the VM has a docker client, and no other container engine.
if command -v docker >/dev/null; then
  log "docker CLI already there: $(docker --version)"
else
  log "installing the docker CLI (docker.io, engine masked)"
  printf '#!/bin/sh
exit 101
' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  ensure_packages_named docker.io
  rm -f /usr/sbin/policy-rc.d
  if command -v systemctl >/dev/null; then
    systemctl mask --now docker.service docker.socket containerd.service >/dev/null 2>&1 || true
  fi
  log "$(docker --version); dockerd and containerd masked"
fi

# --- 6. the project's setup (packages + rootfs) ----------------------------------------------
log "make -C $repo setup"
make -C "$repo" setup
log "done; check the machine any time with: sudo bash $repo/scripts/doctor.sh (make doctor)"
