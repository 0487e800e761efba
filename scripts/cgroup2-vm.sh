#!/usr/bin/env bash
# Runs the root test suite a second time on a cgroup v2 kernel.
#
# The development and CI machines run kernel 6.18 with cgroup v1 (hybrid), but
# learners' VMs (Ubuntu 24.04) have cgroup v2 only. To test both from one
# machine, this boots Debian's own 6.1 kernel under qemu (software emulation,
# no KVM needed), shares the host's root filesystem with it read-only, and runs
# the same test binaries there, on a fresh cgroup2 hierarchy.
#
#   sudo bash scripts/cgroup2-vm.sh          (or: sudo make test-cgroup2)
#
# Environment:
#   CGROUP2_VM_RUN=REGEXP    only run matching tests (go test's -run), e.g. TestStep04
#   CGROUP2_VM_PACKAGES=...  only these packages (go list patterns), e.g. ./tests; default ./...
#   CGROUP2_VM_SCRIPT=CMD    run this command from the repository instead of the tests,
#                            with the same prebuilt programs, e.g. 'scripts/bench-oci.sh 21'
#   CGROUP2_VM_TIMEOUT=50m   the whole run, boot included, is stopped after this
#   CGROUP2_VM_CACHE=DIR     kernel and initramfs cache (default /var/cache/minidocker-vm)
#   CGROUP2_VM_MEM=2048      guest memory in MiB;  CGROUP2_VM_CPUS=2  guest CPUs
#   CI                       passed to the tests (set to true in the guest if unset);
#                            when set, a skipped test fails the run
#
# Exit status: 0 when the guest printed `cgroup2-vm: PASS`, 1 otherwise (test
# failure, a skip under CI, kernel panic, timeout). The tests that ran are
# listed in $CGROUP2_VM_CACHE/last-run.tests. The guest's console is shown as it runs and
# kept in $CGROUP2_VM_CACHE/last-run.log.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd -P)

cache=${CGROUP2_VM_CACHE:-/var/cache/minidocker-vm}
limit=${CGROUP2_VM_TIMEOUT:-50m}
mem=${CGROUP2_VM_MEM:-2048}
cpus=${CGROUP2_VM_CPUS:-2}
run_filter=${CGROUP2_VM_RUN:-}
script=${CGROUP2_VM_SCRIPT:-}
read -r -a packages <<<"${CGROUP2_VM_PACKAGES:-./...}"
# sudo's secure_path leaves out Go's usual install place.
export PATH=$PATH:/usr/local/go/bin

say() { printf 'cgroup2-vm: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo make test-cgroup2): it installs packages and reads all of / for the guest"
command -v go >/dev/null || die "no go in PATH; install Go (https://go.dev/dl) into /usr/local/go"

# --- packages -----------------------------------------------------------------
# qemu runs the kernel, cpio packs the initramfs, kmod resolves module
# dependencies, busybox-static is the initramfs's only program (and the guest's
# PID 1 after switch_root). The tests' own tools come from install-packages.sh.
want=(qemu-system-x86 cpio kmod busybox-static)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ -f scripts/install-packages.sh ]; then bash scripts/install-packages.sh; fi

# --- kernel -------------------------------------------------------------------
# Debian's current 6.1 kernel: the package the linux-image-amd64 metapackage
# points at (e.g. linux-image-6.1.0-56-amd64). Unpacked once per version.
kernel_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'; }
pkg=$(kernel_pkg)
if [ -z "$pkg" ]; then apt-get update -qq; pkg=$(kernel_pkg); fi
[ -n "$pkg" ] || die "apt-cache knows no linux-image-amd64 (not Debian?); this script needs Debian's kernel package"
kver=${pkg#linux-image-}
kdir=$cache/$kver
mkdir -p "$cache"

if ! [ -e "$kdir/.complete" ]; then
  say "fetching kernel $pkg"
  rm -rf "$kdir" "$kdir.new"
  mkdir -p "$kdir.new/deb"
  # apt drops privileges to _apt for downloads; let it write here.
  if id _apt >/dev/null 2>&1; then chown _apt "$kdir.new/deb"; fi
  (cd "$kdir.new/deb" && apt-get download -qq "$pkg")
  dpkg-deb -x "$kdir.new"/deb/*.deb "$kdir.new"
  rm -rf "$kdir.new/deb"
  # Newer packages may ship modules only under usr/lib; modprobe -d wants lib/.
  if ! [ -d "$kdir.new/lib/modules/$kver" ] && [ -d "$kdir.new/usr/lib/modules/$kver" ]; then
    mkdir -p "$kdir.new/lib/modules"
    ln -s "../../usr/lib/modules/$kver" "$kdir.new/lib/modules/$kver"
  fi
  depmod -b "$kdir.new" "$kver"
  touch "$kdir.new/.complete"
  mv "$kdir.new" "$kdir"
  # Only the current kernel is worth keeping (each is ~400 MB unpacked).
  for old in "$cache"/*/.complete; do
    [ "$old" = "$kdir/.complete" ] || rm -rf "$(dirname "$old")" "$(dirname "$old").initrd"*
  done
fi
vmlinuz=$kdir/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "$vmlinuz missing: remove $kdir and run again"

# --- initramfs ----------------------------------------------------------------
# Modules the suite needs that Debian builds as modules: virtio + 9p to reach
# the host's files, overlay for the writable root and for the containers,
# veth/bridge for the network steps, netfilter for iptables (nft backend and
# legacy), loop and ext4 for the block I/O tests (the guest has no disk: a
# file on tmpfs becomes one; /dev/loop-control exists only once loop is
# loaded, so it cannot load on demand). Anything else is loaded on demand:
# the guest's /lib/modules is the cache above, and the kernel calls the
# host's modprobe.
modules=(virtio_pci virtio_console 9pnet_virtio 9p overlay veth bridge br_netfilter tun loop ext4
  nf_tables nft_compat nft_chain_nat nft_nat nft_masq nf_nat nf_conntrack
  x_tables xt_MASQUERADE xt_nat xt_comment xt_conntrack xt_addrtype xt_tcpudp xt_multiport
  ip_tables iptable_nat iptable_filter ipt_REJECT)

# --show-depends lists each module after its dependencies, so keeping the first
# occurrence of each file gives a valid insmod order. Built-in or missing
# modules are fine: they print `builtin` or nothing.
load_order() {
  local m
  for m in "${modules[@]}"; do
    modprobe -d "$kdir" -S "$kver" --show-depends "$m" 2>/dev/null || true
  done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}
mapfile -t kos < <(load_order)

# /init: runs in the initramfs. It loads the modules, mounts the host's / read
# only over 9p as the guest's root (so the guest cannot change the host, and
# / looks like a VM's: not an overlay, which tests of overlay mounts check),
# puts fresh tmpfs mounts where the tests write, mounts the kernel filesystems
# and switch_roots. PID 1 is then a shell that runs the runner and powers off
# whatever happens; if PID 1 itself dies the kernel panics, and panic=-1 with
# -no-reboot ends qemu: the run fails, never hangs.
init_script=$(cat <<'INIT'
#!/bin/busybox sh
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mkdir -p /proc /sys /dev
mount -t proc proc /proc
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
echo "cgroup2-vm: kernel $(uname -r) up after $(cut -d' ' -f1 /proc/uptime)s"
for ko in $(cat /modules.order); do
  insmod "/lib/modules/$ko" 2>/dev/null || echo "cgroup2-vm: insmod $ko failed (ok if a CPU feature is missing)"
done

r=/newroot
mkdir -p $r
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot $r ||
  { echo "cgroup2-vm: cannot mount the host's / over 9p"; poweroff -f; }
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t devtmpfs dev $r/dev
# What udev makes on a real machine: bash's <(...) needs /dev/fd.
ln -sf /proc/self/fd $r/dev/fd
ln -sf /proc/self/fd/0 $r/dev/stdin
ln -sf /proc/self/fd/1 $r/dev/stdout
ln -sf /proc/self/fd/2 $r/dev/stderr
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $r/dev/pts
mount -t tmpfs -o mode=1777 shm $r/dev/shm
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup
# The runner's own writable place, WORK/guest (an empty directory the host
# made): not under /run or /tmp, which tests mount over in their namespaces.
g=$r$CGROUP2_VM_WORK/guest
mount -t tmpfs -o mode=755 guest $g
# The host's / once more, without the mounts below: a repository under /tmp,
# say, is hidden by the guest's own /tmp.
mkdir -p $g/host
mount --bind $r $g/host
# Fresh, empty, writable places for what the tests create (the host script
# made sure each mount point exists). tmpfs, not overlayfs: the containers'
# overlays need an upper layer that is not an overlay itself.
mount -t tmpfs -o mode=755 run $r/run
mount -t tmpfs -o mode=1777 tmp $r/tmp
mount -t tmpfs -o mode=1777 vartmp $r/var/tmp
mount -t tmpfs -o mode=700 root $r/root
mount -t tmpfs -o mode=755 minidocker $r/var/lib/minidocker
# The kernel loads modules on demand (a veth, an xt_ match) by running
# /proc/sys/kernel/modprobe; point the host's modprobe at the unpacked kernel.
printf '#!/bin/sh\nexec /sbin/modprobe -d %s "$@"\n' "$CGROUP2_VM_KDIR" >$g/modprobe
chmod 755 $g/modprobe
echo "$CGROUP2_VM_WORK/guest/modprobe" >/proc/sys/kernel/modprobe

umount /proc
exec switch_root $r /bin/busybox sh -c "/bin/bash $CGROUP2_VM_WORK/runner.sh; echo cgroup2-vm: powering off; /bin/busybox poweroff -f"
INIT
)

# The initramfs is rebuilt only when its inputs change: kernel, module list,
# busybox, /init.
key=$( { echo "$kver"; printf '%s\n' "${kos[@]}"; sha256sum /bin/busybox; echo "$init_script"; } | sha256sum | cut -c1-16)
initrd=$kdir.initrd-$key.cpio.gz
if ! [ -s "$initrd" ]; then
  say "building initramfs ($(basename "$initrd"), ${#kos[@]} modules)"
  stage=$(mktemp -d)
  mkdir -p "$stage/bin" "$stage/lib/modules"
  cp /bin/busybox "$stage/bin/busybox"
  printf '%s\n' "$init_script" >"$stage/init"
  chmod 755 "$stage/init"
  : >"$stage/modules.order"
  for ko in "${kos[@]}"; do
    name=$(basename "$ko")
    # Debian 6.1 ships plain .ko files; busybox insmod cannot unpack others.
    case $name in
      *.ko.xz) xz -dc "$ko" >"$stage/lib/modules/${name%.xz}"; name=${name%.xz} ;;
      *.ko.zst) zstd -qdc "$ko" >"$stage/lib/modules/${name%.zst}"; name=${name%.zst} ;;
      *) cp "$ko" "$stage/lib/modules/$name" ;;
    esac
    echo "$name" >>"$stage/modules.order"
  done
  (cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 >"$initrd.new"
  rm -rf "$stage"
  rm -f "$kdir".initrd-*.cpio.gz
  mv "$initrd.new" "$initrd"
fi

# The guest's root is the host's /, read-only: the mount points for its tmpfs
# mounts must exist here. /var/lib/minidocker is the project's state dir.
mkdir -p /var/lib/minidocker

# --- programs and test binaries ------------------------------------------------
# Everything is compiled here, on the host, at full speed: under emulation a
# go build would take minutes. The guest reads the results over 9p.
work=$(mktemp -d "$cache/run.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/test" "$work/guest"
# A package that does not compile is reported and fails the run at the end,
# but the rest still runs: one broken step should not hide the others' results.
broken=()
say "building programs and test binaries"
# The programs under test, named and built as the harness (tests/harness_test.go)
# would build them itself: stepNN-* by folder name; ./final as minidocker
# without cgo, with minidocker-init, minidocker-runc and minidocker-nsenter (cgo) beside it, and
# again as minidocker-cgo with cgo; tools/NAME static (CGO_ENABLED=0) so they
# run in the busybox rootfs.
for d in step[0-9][0-9]-*/ final/ tools/*/; do
  [ -d "$d" ] || continue
  d=${d%/}
  case $d in
    final) CGO_ENABLED=0 go build -o "$work/bin/minidocker" ./final || broken+=(./final)
      CGO_ENABLED=0 go build -o "$work/bin/minidocker-init" ./final/minidocker-init || broken+=(./final/minidocker-init)
      CGO_ENABLED=0 go build -o "$work/bin/minidocker-runc" ./final/minidocker-runc || broken+=(./final/minidocker-runc)
      CGO_ENABLED=1 go build -o "$work/bin/minidocker-nsenter" ./final/minidocker-nsenter || broken+=(./final/minidocker-nsenter)
      CGO_ENABLED=1 go build -o "$work/bin/minidocker-cgo" ./final || broken+=("./final (cgo)") ;;
    tools/*) CGO_ENABLED=0 go build -o "$work/bin/$(basename "$d")" "./$d" || broken+=("./$d") ;;
    *) go build -o "$work/bin/$d" "./$d" || broken+=("./$d") ;;
  esac
done
# One test binary per package with tests, run from its own folder as go test does.
: >"$work/tests.list"
mod=$(go list -m)
while read -r ip dir; do
  [ -n "$ip" ] || continue
  rel=${ip#"$mod"}
  rel=${rel#/}
  name=${rel//\//_}
  name=${name:-root}
  if ! go test -c -o "$work/test/$name.test" "$ip"; then broken+=("$ip (tests)"); continue; fi
  echo "$work/test/$name.test $dir" >>"$work/tests.list"
done < <([ -n "$script" ] || go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' "${packages[@]}")
[ -s "$work/tests.list" ] || [ -n "$script" ] || die "no packages with tests"
# The busybox rootfs, built here too: mkrootfs.sh runs a few processes per
# applet, which takes a second here and well over a minute under emulation.
if [ -f scripts/mkrootfs.sh ]; then
  bash scripts/mkrootfs.sh "$work/rootfs" >/dev/null
else
  mkdir -p "$work/rootfs"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,root}
  cp /bin/busybox "$work/rootfs/bin/busybox"
  chroot "$work/rootfs" /bin/busybox --install -s
fi

# The OCI runtime-tools suite (TestOCIValidation), built here too, where
# the Go module proxy is; the guest runs it from the host's copy.
rt_dir=
if [ -f scripts/oci-validation.sh ]; then
  rt_dir=${RT_DIR:-/var/tmp/minidocker-runtime-tools}
  bash scripts/oci-validation.sh --build || broken+=("runtime-tools")
fi

# The runner: the guest's test session, written fresh each run (the initramfs
# only knows where to find it). Settings are baked in at the top.
{
  printf 'repo=%q\nwork=%q\nrun_filter=%q\nci=%q\nmodcache=%q\nrt_dir=%q\nscript=%q\n' \
    "$repo" "$work" "$run_filter" "${CI:-true}" "$(go env GOMODCACHE)" "$rt_dir" "$script"
  cat <<'RUNNER'
set -u
export PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# MINIDOCKER_EMULATED: no KVM, every instruction emulated (10-20x slower):
# the tests give one command more time before they call it hung.
export HOME=/root CI=$ci MINIDOCKER_REQUIRE_ROOT=1 MINIDOCKER_REPO=$repo MINIDOCKER_EMULATED=1 \
  MINIDOCKER_BIN_DIR=$work/guest/bin MINIDOCKER_ROOTFS=/var/lib/minidocker/rootfs
# Should a test still need `go build`: the host's module cache (the guest's
# /root is empty), and no network.
export GOMODCACHE=$work/guest/host$modcache GOPROXY=off GOFLAGS=-mod=mod
# The runtime-tools suite the host built (the guest's /var/tmp is its own).
[ -z "$rt_dir" ] || export RT_DIR=$work/guest/host$rt_dir
hostname cgroup2-vm
# systemd makes every mount shared, so a step that forgets to make its mounts
# private leaks them to the host; reproduce that here (the kernel's default
# would be private and hide the bug).
mount --make-rshared /
# A repository in a place the guest mounts over (/tmp, /root ...): show the host's copy.
if ! [ -d "$repo" ]; then
  mkdir -p "$repo" && mount --bind "$work/guest/host$repo" "$repo"
fi
ip link set lo up

cg=/sys/fs/cgroup
echo "cgroup2-vm: $(uname -r), $(stat -f -c %T $cg) on $cg, controllers: $(cat $cg/cgroup.controllers)"
# Like systemd on a learner's VM: every controller enabled below the root, and
# the tests started from a leaf cgroup (there: the login session's scope).
for c in $(cat $cg/cgroup.controllers); do echo "+$c" >$cg/cgroup.subtree_control; done
mkdir -p $cg/session.scope
echo $$ >$cg/session.scope/cgroup.procs

# The prebuilt programs, in a writable place: the harness builds there what
# it does not find (slowly, under emulation).
cp -a "$work/bin" "$MINIDOCKER_BIN_DIR"
# The busybox rootfs was built on the host; copy it onto the guest's tmpfs,
# where the containers' overlays can use it as a lower layer.
mkdir -p "$(dirname "$MINIDOCKER_ROOTFS")"
cp -a "$work/rootfs" "$MINIDOCKER_ROOTFS"
echo "cgroup2-vm: rootfs ready at $MINIDOCKER_ROOTFS ($(ls "$MINIDOCKER_ROOTFS/bin" | wc -l) entries in /bin), $(cut -d' ' -f1 /proc/uptime)s after boot"

n=0 failed=""
if [ -n "$script" ]; then
  # A command instead of the tests (a benchmark): its exit status is the run's.
  echo "cgroup2-vm: === $script (in $repo), $(cut -d' ' -f1 /proc/uptime)s after boot"
  (cd "$repo" && bash -c "$script")
  rc=$?
  echo "cgroup2-vm: --- $script: exit $rc"
  n=1
  [ $rc -eq 0 ] || failed=" $script"
fi
while read -r bin dir; do
  n=$((n + 1))
  echo "cgroup2-vm: === $(basename "$bin") (in $dir), $(cut -d' ' -f1 /proc/uptime)s after boot"
  start=$(date +%s)
  (cd "$dir" && "$bin" -test.v -test.count=1 -test.timeout 45m ${run_filter:+-test.run "$run_filter"})
  rc=$?
  echo "cgroup2-vm: --- $(basename "$bin"): exit $rc after $(($(date +%s) - start))s"
  [ $rc -eq 0 ] || failed="$failed $(basename "$bin")"
done <"$work/tests.list"

echo
if [ -z "$failed" ] && [ $n -gt 0 ]; then
  echo "cgroup2-vm: PASS ($n binaries)"
else
  echo "cgroup2-vm: FAIL (failed:${failed:- none ran})"
fi
RUNNER
} >"$work/runner.sh"

# --- boot ---------------------------------------------------------------------
log=$cache/last-run.log
say "booting $kver under qemu (no KVM: expect minutes, not seconds); log: $log"
started=$(date +%s)
qemu=(qemu-system-x86_64 -m "$mem" -smp "$cpus" -cpu max -nographic -no-reboot -nic none
  -kernel "$vmlinuz" -initrd "$initrd"
  -append "console=ttyS0 panic=-1 quiet mitigations=off CGROUP2_VM_WORK=$work CGROUP2_VM_KDIR=$kdir"
  -fsdev "local,id=r,path=/,security_model=passthrough,readonly=on,multidevs=remap"
  -device "virtio-9p-pci,fsdev=r,mount_tag=hostroot")
# stdin from /dev/null: nothing to type, and the terminal is never left in raw mode.
set +e
timeout -k 10 "$limit" "${qemu[@]}" </dev/null 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
elapsed=$(($(date +%s) - started))

if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  say "FAIL: stopped after $limit (CGROUP2_VM_TIMEOUT)"; exit 1
fi
if [ ${#broken[@]} -gt 0 ]; then say "FAIL: did not build: ${broken[*]}"; exit 1; fi
# The tests that ran, one per line (subtests indented), for the record:
# $cache/last-run.tests. A skipped test is a failure when CI is set: CI must
# never be green on tests that did not run.
tr -d '\r' <"$log" | sed -n 's/^\( *\)--- \(PASS\|FAIL\|SKIP\): \([^ ]*\) .*/\1\2 \3/p' >"$cache/last-run.tests"
passed=$(grep -c '^PASS ' "$cache/last-run.tests" || true)
skipped=$(grep -c '^ *SKIP ' "$cache/last-run.tests" || true)
say "$passed top-level tests passed, $skipped tests skipped (list: $cache/last-run.tests)"
if tr -d '\r' <"$log" | grep -q '^cgroup2-vm: PASS'; then
  if [ "$skipped" -gt 0 ] && [ -n "${CI:-}" ]; then
    grep '^ *SKIP ' "$cache/last-run.tests" | sed 's/^/cgroup2-vm:   /' >&2
    say "FAIL: tests were skipped on the cgroup v2 kernel (CI=$CI)"; exit 1
  fi
  say "PASS on $kver with cgroup v2 in ${elapsed}s"
  exit 0
fi
if grep -q 'Kernel panic' "$log"; then say "FAIL: the guest kernel panicked (see $log)"; exit 1; fi
say "FAIL after ${elapsed}s (qemu exit $rc; see $log)"
exit 1
