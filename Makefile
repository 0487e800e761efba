# Thin wrappers around the project's scripts. Every target is safe to run twice.
# Run as root (sudo make ...): namespaces, mounts and cgroups need it.

ROOTFS ?= /var/lib/minidocker/rootfs
GO     ?= go
export MINIDOCKER_ROOTFS := $(ROOTFS)

.PHONY: help setup packages rootfs minidocker busybox-image test demo bench doctor vm-check net-clean test-cgroup2

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

setup: packages rootfs busybox-image ## install the packages, build the busybox rootfs and minidocker's busybox image (idempotent)

packages: ## apt-get install what the steps and tests use
	bash scripts/install-packages.sh

rootfs: ## build the busybox rootfs at $(ROOTFS) (ROOTFS_TAR=busybox.tar uses a `docker export` tarball)
	bash scripts/mkrootfs.sh $(if $(ROOTFS_TAR),--from-tar $(ROOTFS_TAR)) $(ROOTFS)

minidocker: ## build bin/minidocker, bin/minidocker-init, bin/minidocker-runc (static, no cgo) and bin/minidocker-nsenter (exec's C constructor: cgo)
	CGO_ENABLED=0 $(GO) build -tags urfave_cli_no_docs -ldflags '-s -w' -o bin/minidocker ./final
	CGO_ENABLED=0 $(GO) build -ldflags '-s -w' -o bin/minidocker-init ./final/minidocker-init
	CGO_ENABLED=0 $(GO) build -ldflags '-s -w' -o bin/minidocker-runc ./final/minidocker-runc
	rm -f bin/minidocker-nsenter
	CGO_ENABLED=1 $(GO) build -ldflags '-s -w -extldflags=-static' -o bin/minidocker-nsenter ./final/minidocker-nsenter || \
	  echo "minidocker: no C toolchain for cgo (apt-get install gcc): minidocker exec will use nsenter(1)"

busybox-image: minidocker rootfs ## put the busybox image into minidocker's store (offline, from the rootfs)
	bash scripts/busybox-image.sh bin/minidocker

test: setup ## set up, then run every test as root (README's test command)
	$(GO) test -count=1 -timeout 40m ./...

demo: setup ## set up, then run the main job: minidocker runs a limited busybox container
	bin/minidocker run --rm --hostname demo -m 64m --pids-limit 32 --network none busybox \
	  sh -c 'echo "hostname: $$(hostname)"; echo "my PID: $$$$"; ps; echo "my cgroup: $$(grep -E "memory|^0::" /proc/self/cgroup)"'

bench: setup ## minidocker vs runc, paired and alternated (docs/07-final.md)
	bash scripts/bench.sh

doctor: ## check this machine: kernel, cgroups, overlay, namespaces, iptables, Go for sudo, rootfs
	bash scripts/doctor.sh

vm-check: ## CI for the learner VM: validate the Vagrantfile, shellcheck, provision (no Go download), doctor
	bash .ci/vagrant-check.sh

net-clean: ## remove the bridges, iptables rules and network records step06 and minidocker keep (like docker0)
	bash scripts/net-clean.sh

test-cgroup2: ## run the root test suite on cgroup v2 (Debian 6.1 under qemu)
	bash scripts/cgroup2-vm.sh
