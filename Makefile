# Thin wrappers around the project's scripts. Every target is safe to run twice.
# Run as root (sudo make ...): namespaces, mounts and cgroups need it.

ROOTFS ?= /var/lib/minidocker/rootfs
GO     ?= go
export MINIDOCKER_ROOTFS := $(ROOTFS)

.PHONY: help setup packages rootfs test demo doctor vm-check net-clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

setup: packages rootfs ## install the Debian/Ubuntu packages and build the busybox rootfs (idempotent)

packages: ## apt-get install what the steps and tests use
	bash scripts/install-packages.sh

rootfs: ## build the busybox rootfs at $(ROOTFS) (ROOTFS_TAR=busybox.tar uses a `docker export` tarball)
	bash scripts/mkrootfs.sh $(if $(ROOTFS_TAR),--from-tar $(ROOTFS_TAR)) $(ROOTFS)

test: setup ## set up, then run every test as root (README's test command)
	$(GO) test -count=1 -timeout 40m ./...

demo: setup ## set up, then run the main job: a container with its own hostname, PIDs and root
	$(GO) run ./step03-mnt-chroot --hostname demo -- sh -c 'echo "hostname: $$(hostname)"; echo "my PID: $$$$"; ps; ls /'

doctor: ## check this machine: kernel, cgroups, overlay, namespaces, iptables, Go for sudo, rootfs
	bash scripts/doctor.sh

vm-check: ## CI for the learner VM: validate the Vagrantfile, shellcheck, provision (no Go download), doctor
	bash .ci/vagrant-check.sh

net-clean: ## remove step06's bridge minidocker0 and its iptables rules (kept after runs, like docker0)
	$(GO) run ./step06-bridge-net --clean
