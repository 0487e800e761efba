#!/usr/bin/env bash
# Runs the OCI runtime-tools validation suite against a runtime binary and
# prints one line per validation program: "pass NAME", "fail NAME" or
# "timeout NAME", with the seconds it took, then "passed N of M".
#
#   sudo scripts/oci-validation.sh bin/minidocker-runc [NAME...]
#   sudo scripts/oci-validation.sh runc
#   scripts/oci-validation.sh --build     (only build the suite into $RT_DIR)
#
# runtime-tools comes from the Go module proxy at Debian's commit, is built
# once into $RT_DIR (about a minute) and reused. Each program runs as root
# from that directory (it unpacks its rootfs tarball from there) with
# RUNTIME set, under a timeout of $RT_TIMEOUT seconds. Its TAP output
# goes to $RT_LOGS/NAME.tap. A program passes when it exits 0, prints no
# "not ok", and either prints an "ok", or (it has none to print) reports
# no diagnostic: the hook programs print a plan of "1..0" and a YAML
# error only when a check fails; the *_fail programs print nothing at
# all when the runtime refused their config, and exit 1 when it did not.
set -euo pipefail
RUNTIME=${1:?usage: $0 RUNTIME [TEST...]}
shift
build_only=
if [ "$RUNTIME" = --build ]; then
  build_only=1
else
  RUNTIME=$(command -v "$RUNTIME" || true)
  [ -x "$RUNTIME" ] || { echo "no runtime at ${1:-}" >&2; exit 2; }
  RUNTIME=$(readlink -f "$RUNTIME")
fi
MODULE=github.com/opencontainers/runtime-tools
VERSION=v0.9.1-0.20220125021840-0105384f68e1
RT_DIR=${RT_DIR:-/var/tmp/minidocker-runtime-tools}
RT_TIMEOUT=${RT_TIMEOUT:-30}
RT_LOGS=${RT_LOGS:-$(mktemp -d /tmp/oci-validation.XXXXXX)}
mkdir -p "$RT_LOGS"
export PATH=$PATH:/usr/local/go/bin

if [ ! -x "$RT_DIR/runtimetest" ] || [ ! -f "$RT_DIR/.built" ]; then
  echo "building runtime-tools $VERSION into $RT_DIR" >&2
  dir=$(GOFLAGS=-mod=mod GONOSUMDB=$MODULE GOPATH=${GOPATH:-/var/tmp/gopath} \
    go mod download -json "$MODULE@$VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  rm -rf "$RT_DIR.tmp" && cp -r "$dir" "$RT_DIR.tmp" && chmod -R u+w "$RT_DIR.tmp"
  rm -rf "$RT_DIR.tmp/vendor"
  (cd "$RT_DIR.tmp" && GOFLAGS=-mod=mod GONOSUMDB=$MODULE GOPATH=${GOPATH:-/var/tmp/gopath} \
    make runtimetest validation-executables >&2)
  touch "$RT_DIR.tmp/.built"
  rm -rf "$RT_DIR" && mv "$RT_DIR.tmp" "$RT_DIR"
fi
[ -z "$build_only" ] || exit 0
cd "$RT_DIR"
if [ $# -eq 0 ]; then
  set -- $(ls validation/*/*.t | sed 's|validation/\([^/]*\)/.*|\1|' | sort -u)
fi
one() {
  t=$1 log=$RT_LOGS/$1.tap rc=0 SECONDS=0
  RUNTIME=$RUNTIME TMPDIR=${RT_TMPDIR:-/var/tmp} timeout -k 5 "$RT_TIMEOUT" "validation/$t/$t.t" >"$log" 2>&1 || rc=$?
  took=${SECONDS}s
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "timeout $t $took"
  elif [ $rc -ne 0 ] || grep -q '^not ok' "$log"; then
    echo "fail $t $took"
  elif grep -q '^ok ' "$log"; then
    echo "pass $t $took"
  elif grep -qx '1..0' "$log" && ! grep -q '^ *---$' "$log"; then
    echo "pass $t $took"
  elif [[ $t == *_fail ]] && ! grep -q '^TAP version' "$log"; then
    echo "pass $t $took"
  else
    echo "fail $t $took"
  fi
}
export -f one
export RUNTIME RT_LOGS RT_TIMEOUT RT_TMPDIR
# $RT_JOBS programs at a time (each mostly waits on its containers), but
# those that share the cgroup path /cgrouptest one after the other.
shared='cgroups|delete_(only_create_)?resources'
{
  printf '%s\n' "$@" | grep -Ev "$shared" | xargs -r -P "${RT_JOBS:-4}" -I{} bash -c 'one {}'
  printf '%s\n' "$@" | grep -E "$shared" | xargs -r -P 1 -I{} bash -c 'one {}'
} | sort -k2 | tee "$RT_LOGS/summary"
echo "passed $(grep -c '^pass ' "$RT_LOGS/summary") of $#"
