#!/usr/bin/env bash
# Checks that this machine has what the steps need from the kernel and the toolchain, and says
# how to fix what is missing. One line per check:
#
#   ok    cgroup: v2 (controllers: cpuset cpu io memory pids)
#   FAIL  overlay: not available — fix: sudo modprobe overlay
#
# Exit status 1 when something the steps need is missing, 0 otherwise (warnings do not fail).
# Run it as root for the most complete answer (`sudo make doctor`); `vagrant up` runs it each time.
#
# Environment: MINIDOCKER_ROOTFS (default /var/lib/minidocker/rootfs), MINIDOCKER_REPO (default:
# the checkout this script is in; used to read the Go version go.mod asks for).
set -uo pipefail # no -e: every check runs, even after one fails

rootfs=${MINIDOCKER_ROOTFS:-/var/lib/minidocker/rootfs}
repo=${MINIDOCKER_REPO:-$(cd "$(dirname "$0")/.." && pwd)}
fails=0 warns=0

ok() { printf 'ok    %s\n' "$*"; }
info() { printf 'info  %s\n' "$*"; }
warn() { printf 'warn  %s\n' "$*"; warns=$((warns + 1)); }
fail() { printf 'FAIL  %s\n' "$*"; fails=$((fails + 1)); }
# version_ge A B: A >= B for dotted versions.
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# Non-root shells often lack the sbin directories, where iptables and modprobe live.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

# --- kernel and CPU --------------------------------------------------------------------------
kernel=$(uname -r)
if version_ge "${kernel%%[-+]*}" 5.10; then
  ok "kernel: $kernel"
else
  warn "kernel: $kernel is older than 5.10; the tutorial is written on 6.x (Ubuntu 24.04 has 6.8)"
fi
arch=$(uname -m)
case $arch in
  x86_64 | aarch64) ok "architecture: $arch" ;;
  *) warn "architecture: $arch; only x86_64 and aarch64 are tested" ;;
esac
if [ -r /etc/os-release ]; then
  info "os: $(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"')"
fi
is_root || info "not root: some checks are partial; run: sudo bash $0"

# --- cgroups ---------------------------------------------------------------------------------
# statfs tells the layouts apart: cgroup2fs at the top is v2 only; tmpfs holds one v1 hierarchy
# per controller, plus a v2 mount at unified/ on hybrid systems.
need_ctrls=(cpuset cpu memory pids)
cg_type=$(stat -fc %T /sys/fs/cgroup 2>/dev/null)
have_ctrls=()
case $cg_type in
  cgroup2fs)
    read -r -a have_ctrls </sys/fs/cgroup/cgroup.controllers
    ok "cgroup: v2 (controllers: ${have_ctrls[*]})"
    missing_fix="look for cgroup_disable= in /proc/cmdline, or a v1 hierarchy holding them (grep cgroup /proc/mounts)"
    ;;
  tmpfs)
    # A v1 controller is usable when the kernel enables it and its hierarchy is mounted.
    while read -r name _ _ enabled; do
      [ "$enabled" = 1 ] && [ -d "/sys/fs/cgroup/$name" ] && have_ctrls+=("$name")
    done < <(grep -v '^#' /proc/cgroups)
    if [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
      warn "cgroup: v1 hybrid (v1 controllers: ${have_ctrls[*]}; v2 at /sys/fs/cgroup/unified) — the steps handle it, but learners' VMs are v2, so cgroup files and paths differ from the docs"
    else
      warn "cgroup: v1 (controllers: ${have_ctrls[*]}) — the steps handle it, but learners' VMs are v2, so cgroup files and paths differ from the docs"
    fi
    missing_fix="mount it: sudo mkdir -p /sys/fs/cgroup/NAME && sudo mount -t cgroup -o NAME cgroup /sys/fs/cgroup/NAME"
    ;;
  *)
    fail "cgroup: nothing mounted on /sys/fs/cgroup (${cg_type:-missing}) — fix: sudo mount -t cgroup2 none /sys/fs/cgroup"
    missing_fix=""
    ;;
esac
if [ "$cg_type" = cgroup2fs ] || [ "$cg_type" = tmpfs ]; then
  missing=()
  for c in "${need_ctrls[@]}"; do
    [[ " ${have_ctrls[*]} " == *" $c "* ]] || missing+=("$c")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    ok "cgroup controllers: ${need_ctrls[*]} available"
  else
    fail "cgroup controllers: missing ${missing[*]} (step04 and minidocker need ${need_ctrls[*]}) — fix: $missing_fix"
  fi
fi

# --- overlayfs -------------------------------------------------------------------------------
has_overlay() { grep -qw overlay /proc/filesystems; }
if ! has_overlay && is_root; then modprobe overlay 2>/dev/null; fi
if has_overlay; then
  ok "overlay: available"
else
  fail "overlay: not available — fix: sudo modprobe overlay"
fi

# --- namespaces ------------------------------------------------------------------------------
missing=()
for ns in uts pid ipc mnt net user cgroup; do
  [ -e "/proc/self/ns/$ns" ] || missing+=("$ns")
done
if [ ${#missing[@]} -eq 0 ]; then
  ok "namespaces: uts pid ipc mnt net user cgroup"
else
  fail "namespaces: kernel lacks ${missing[*]} — fix: use a kernel built with CONFIG_{UTS,PID,IPC,NET,USER,CGROUP}_NS (the Vagrant VM has them)"
fi
if ! command -v unshare >/dev/null; then
  fail "unshare: missing — fix: sudo apt-get install util-linux"
elif unshare --user true 2>/dev/null; then
  ok "user namespace: unshare --user works"
else
  warn "user namespace: unshare --user fails here; the steps run as root and do not need it, but the exercises on rootless containers do"
fi
# Ubuntu 24.04 confines unprivileged user namespaces with AppArmor; root is not affected.
for knob in unprivileged_userns_clone apparmor_restrict_unprivileged_userns; do
  f=/proc/sys/kernel/$knob
  [ -r "$f" ] && info "kernel.$knob = $(cat "$f") (limits unprivileged users only; the steps run as root)"
done

# --- networking ------------------------------------------------------------------------------
if command -v iptables >/dev/null; then
  ver=$(iptables --version 2>/dev/null)
  case $ver in
    *nf_tables*) ok "iptables: ${ver} — nf_tables backend" ;;
    *legacy*) ok "iptables: ${ver} — legacy backend (the VM uses nf_tables; rules look the same)" ;;
    *) warn "iptables: cannot tell the backend from '${ver}'" ;;
  esac
else
  fail "iptables: missing (step06 and minidocker's NAT need it) — fix: sudo make setup (or sudo apt-get install iptables)"
fi
if [ -r /proc/sys/net/ipv4/ip_forward ]; then
  info "ip_forward: $(cat /proc/sys/net/ipv4/ip_forward) (step06 and minidocker turn it on when they need it)"
fi

# --- Go, as sudo will find it ----------------------------------------------------------------
# The steps run as `sudo go run ...`; sudo replaces PATH with secure_path, which holds neither
# /usr/local/go/bin nor ~/go/bin.
go_min=$(awk '$1 == "go" { print $2; exit }' "$repo/go.mod" 2>/dev/null)
go_min=${go_min:-1.22}
secure_go=""
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin /snap/bin; do
  [ -x "$d/go" ] && { secure_go=$d/go; break; }
done
go_line=""
if is_root; then
  go_bin=$(command -v go 2>/dev/null)
  go_bin=${go_bin:-$secure_go}
  [ -n "$go_bin" ] && go_line=$("$go_bin" version 2>/dev/null)
elif command -v sudo >/dev/null && go_line=$(sudo -n go version 2>/dev/null); then
  go_bin="sudo go"
else
  go_bin=$secure_go
  [ -n "$go_bin" ] && go_line=$("$go_bin" version 2>/dev/null)
  info "go: could not run sudo -n go (no sudo, or it wants a password); checked the secure_path directories instead"
fi
go_have=$(sed -n 's/.* go\([0-9][0-9.]*\).*/\1/p' <<<"$go_line")
if [ -z "$go_line" ]; then
  fail "go: not found for root — fix: sudo bash vagrant/provision.sh (installs Go and links it into /usr/local/bin)"
elif ! version_ge "${go_have:-0}" "$go_min"; then
  fail "go: $go_line is older than go.mod's go $go_min — fix: sudo bash vagrant/provision.sh"
elif [ -z "$secure_go" ]; then
  warn "go: $go_line, but not in /usr/local/bin or /usr/bin, so 'sudo go' will not find it — fix: sudo ln -s $(dirname "$(readlink -f "$go_bin")")/{go,gofmt} /usr/local/bin/"
else
  ok "go: ${go_line#go version } (sudo go: $secure_go; go.mod needs >= $go_min)"
fi

# --- rootfs and state on the machine's own disk ----------------------------------------------
if [ -x "$rootfs/bin/busybox" ]; then
  ok "rootfs: $rootfs (busybox present)"
else
  fail "rootfs: no $rootfs/bin/busybox — fix: sudo make rootfs"
fi
# overlayfs cannot use a shared folder as an upper dir; the rootfs's filesystem is where the
# layers and state go too. Check the nearest directory that exists.
d=$rootfs
while [ ! -d "$d" ] && [ "$d" != / ]; do d=$(dirname "$d"); done
case $(stat -fc %t "$d" 2>/dev/null) in
  6969 | ff534d42 | fe534d42 | 1021997 | 786f4256 | 65735546 | 7c7c6673 | 517b)
    fail "state disk: $d is on a shared or network filesystem ($(stat -fc %T "$d")); overlay upper dirs cannot live there — fix: keep MINIDOCKER_ROOTFS on the machine's own disk (default /var/lib/minidocker/rootfs)" ;;
  *) ok "state disk: $d is on $(stat -fc %T "$d") (local)" ;;
esac

# --- verdict ---------------------------------------------------------------------------------
if [ "$fails" -gt 0 ]; then
  echo "doctor: $fails problem(s), $warns warning(s); fix the FAIL lines above and run it again"
  exit 1
fi
echo "doctor: ready ($warns warning(s))"
