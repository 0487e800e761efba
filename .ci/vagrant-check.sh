#!/usr/bin/env bash
# CI for the learner VM (no VM boots here): the Vagrantfile parses and validates with the oldest
# Vagrant we meet (Debian's 2.3.4), the scripts are shellcheck-clean and keep LF endings, and the
# provisioning and doctor scripts really run on this machine (the Go download skipped: CI has Go).
# Run as root from anywhere; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
# Keep vagrant's per-project state out of the checkout and skip its version check (network).
export VAGRANT_DOTFILE_PATH=${VAGRANT_DOTFILE_PATH:-/tmp/minidocker-vagrant-check}
export VAGRANT_CHECKPOINT_DISABLE=1

step() { printf '\n=== %s\n' "$*"; }

step "tools: ruby vagrant shellcheck"
missing=()
for tool in ruby vagrant shellcheck; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi
vagrant --version

step "ruby -c Vagrantfile"
ruby -c Vagrantfile

step "vagrant validate --ignore-provider"
# --ignore-provider: no provider (VirtualBox, VMware ...) is installed here, and nothing is fetched.
vagrant validate --ignore-provider
# The knobs are checked too: a bad value must stop vagrant with a clear message.
if out=$(MINIDOCKER_VM_MEMORY=lots vagrant validate --ignore-provider 2>&1); then
  echo "MINIDOCKER_VM_MEMORY=lots was accepted"; exit 1
fi
grep -q 'MINIDOCKER_VM_MEMORY must be' <<<"$out" || { echo "unexpected message: $out"; exit 1; }
MINIDOCKER_VM_MEMORY=4096 MINIDOCKER_VM_CPUS=4 vagrant validate --ignore-provider >/dev/null

step "shellcheck"
shellcheck vagrant/*.sh scripts/doctor.sh .ci/vagrant-check.sh

step "line endings (.gitattributes)"
for f in Vagrantfile vagrant/*.sh scripts/doctor.sh .ci/vagrant-check.sh; do
  [ "$(git check-attr eol -- "$f" | awk '{print $NF}')" = lf ] || { echo "$f: eol is not lf"; exit 1; }
  if grep -q $'\r' "$f"; then echo "$f: has CR line endings"; exit 1; fi
done
echo "LF everywhere"

step "provision (Go download skipped), twice: the second run must change nothing"
MINIDOCKER_SKIP_GO=1 bash vagrant/provision.sh "$PWD"
MINIDOCKER_SKIP_GO=1 bash vagrant/provision.sh "$PWD"

step "doctor"
bash scripts/doctor.sh
