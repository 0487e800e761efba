//go:build linux

package local

import (
	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/network"
	"github.com/minidocker/build-your-own-docker/final/rootless"
	"github.com/sirupsen/logrus"
)

// region rootless
// checkRootless refuses, one line each, what a rootless minidocker cannot
// give (docs/10-security.md): it is root only of a user namespace that
// owns nothing of the host's. The host's network belongs to the host's
// namespace (no bridge, no veth, no iptables: --network none or host; a
// user-space network stack, slirp4netns or pasta, is what rootless Docker
// and Podman use instead), and so do the devices (no mknod, no device
// cgroup) and the capabilities --privileged would give. --userns=private
// is what rootless already is. Limits need a cgroup delegated to the user
// (cgroups.Rootless); without one the container has none, and one line
// says so.
func checkRootless(h *types.HostConfig) error {
	if !rootless.On() {
		return nil
	}
	mode, err := network.ParseMode(h.NetworkMode)
	if err != nil {
		return invalid("%v", err)
	}
	switch {
	case mode.Kind != "none" && mode.Kind != "host":
		return invalid("rootless: --network %s needs the host's network namespace (bridge, veth, iptables); use --network none or --network host (rootless Docker's slirp4netns or pasta are not supported by minidocker)", h.NetworkMode)
	case h.UsernsMode == "private":
		return invalid("rootless: the container is in the user's own user namespace already; --userns=private needs root (its ranges are the minidocker user's)")
	case h.Privileged:
		return invalid("rootless: --privileged would be every capability of a namespace that owns nothing, and no devices: not supported")
	case len(h.Devices) > 0:
		return invalid("rootless: --device needs mknod and the device cgroup: not supported")
	}
	if no, why := cgroups.None(); no {
		if !container.Limits(*h).Empty() {
			return invalid("rootless: %s: no limits (-m, --cpus, --pids-limit...) can be set here", why)
		}
		logrus.Warnf("rootless: %s: the container runs without limits", why)
	}
	return nil
}

// endregion rootless

// rootlessOptions is info's security option for a rootless engine, as
// docker info's.
func rootlessOptions() []string {
	if !rootless.On() {
		return nil
	}
	return []string{"name=rootless"}
}
