# shellcheck shell=bash disable=SC2034
# What the benchmarks against Debian's dockerd share (bench-daemon.sh,
# bench-pull.sh, bench-build.sh source it): a scratch directory that goes at
# exit with everything started in it, the programs built once, a HOME of
# the bench's own for the docker CLI, and dockerd on a socket, data root
# and exec root of its own (no iptables rules, no docker0: --bridge=none).
#
#   bench_begin NAME        tmp=/tmp/minidocker-NAME.XXXXXX, removed at exit
#   bench_build [init]      $md (and minidocker-init beside it), $bp (benchpair)
#   bench_home              HOME, DOCKER_CONFIG: the bench's own (after the builds:
#                           Go's module cache is under the real HOME)
#   start_dockerd [ARG...]  dockerd on $dk_sock; $DK is the docker CLI for it
#   wait_sock SOCK CMD      until CMD version answers on SOCK (30 s at most)
#   bench_on_exit=FUNC      called first at exit (e.g. to remove containers)

bench_begin() {
  tmp=$(mktemp -d "/tmp/minidocker-$1.XXXXXX")
  dk_sock=$tmp/docker.sock DK="docker -H unix://$tmp/docker.sock"
  dk_pid='' bench_pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  set +e
  [ -n "${bench_on_exit:-}" ] && "$bench_on_exit"
  [ -n "$dk_pid" ] && kill "$dk_pid" && wait "$dk_pid"
  for p in "${bench_pids[@]}"; do kill "$p" && wait "$p"; done
  pkill -f "containerd --config $tmp" 2>/dev/null
  grep -o " ${tmp}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$tmp"
}

bench_build() {
  CGO_ENABLED=0 go build -tags urfave_cli_no_docs -ldflags '-s -w' -o "$tmp/minidocker" ./final
  [ "${1:-}" = init ] && CGO_ENABLED=0 go build -ldflags '-s -w' -o "$tmp/minidocker-init" ./final/minidocker-init
  CGO_ENABLED=0 go build -o "$tmp/benchpair" ./tools/benchpair
  md=$tmp/minidocker bp=$tmp/benchpair
}

bench_home() {
  export HOME=$tmp/home DOCKER_CONFIG=$tmp/home/.docker DOCKER_CLI_HINTS=false
  mkdir -p "$HOME"
}

start_dockerd() {
  dockerd -H "unix://$dk_sock" --data-root "$tmp/docker-data" --exec-root "$tmp/docker-exec" --pidfile "$tmp/docker.pid" \
    --iptables=false --ip-masq=false --bridge=none --log-level=error "$@" >"$tmp/dockerd.log" 2>&1 &
  dk_pid=$!
}

wait_sock() {
  for _ in $(seq 300); do [ -S "$1" ] && $2 version >/dev/null 2>&1 && return 0; sleep 0.1; done
  say "$1 did not come up"
  return 1
}
