#!/usr/bin/env bash
# Removes every network object that step06 and minidocker keep between runs
# (as Docker keeps docker0): the bridges minidocker0 and md-*, the iptables
# rules tagged "minidocker" in both backends (nft and legacy), the
# MINIDOCKER chains, step06's address file and minidocker's network records.
# The next run makes them again. Refused while containers exist.
#
#   sudo make net-clean        (same as: sudo bash scripts/net-clean.sh)
set -euo pipefail
root=${MINIDOCKER_ROOT:-/var/lib/minidocker}
say() { printf 'net-clean: %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { say "run as root (sudo make net-clean)"; exit 1; }
if [ -n "$(ls -A "$root/containers" 2>/dev/null)" ]; then
  say "containers exist in $root/containers: remove them first (minidocker rm -f \$(minidocker ps -aq))"
  exit 1
fi

# iptables-save prints rules as `-A CHAIN MATCH... -j TARGET`; the same words
# after `-D` delete the rule. Our rules carry `-m comment --comment minidocker`.
for ipt in iptables iptables-legacy; do
  command -v "$ipt-save" >/dev/null || continue
  saved=$("$ipt-save" 2>/dev/null) || continue
  table=
  while read -r line; do
    case $line in
      \**) table=${line#\*} ;;
      "-A "*"--comment minidocker"*)
        read -r -a rule <<<"${line#-A }"
        echo "+ $ipt -t $table -D ${rule[*]}"
        "$ipt" -w -t "$table" -D "${rule[@]}" ;;
    esac
  done <<<"$saved"
  awk '/^\*/ { t = substr($0, 2) } /^:MINIDOCKER/ { print t, substr($1, 2) }' <<<"$saved" |
    while read -r table chain; do
      echo "+ $ipt -t $table -X $chain"
      "$ipt" -w -t "$table" -F "$chain" && "$ipt" -w -t "$table" -X "$chain"
    done
done

for link in $(ip -o link show type bridge | awk -F': ' '{ print $2 }' | grep -E '^(minidocker0|md-[0-9a-f]{12})$' || true); do
  echo "+ ip link del $link"
  ip link del "$link"
done

rm -f /run/minidocker/step06-ips "$root"/network/*.json
say "done: no minidocker bridge, rule, chain or network record is left"
