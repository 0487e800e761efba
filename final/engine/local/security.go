//go:build linux

package local

import (
	"github.com/minidocker/build-your-own-docker/final/state"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/security"
)

// checkSecurity checks the fences a create request asks for (docs/10):
// --cap-add/--cap-drop names, --security-opt, --device nodes, --tmpfs
// paths.
func checkSecurity(h *types.HostConfig) error {
	if _, err := security.Decide(*h, container.HostCaps()); err != nil {
		return invalid("%v", err)
	}
	if _, err := security.Devices(h.Devices); err != nil {
		return invalid("%v", err)
	}
	if _, err := security.TmpfsList(h.Tmpfs); err != nil {
		return invalid("%v", err)
	}
	return nil
}

// checkUser checks the form of the container's user (--user, or the
// image's USER when there is none). The name is looked up only when the
// container starts, in its own /etc/passwd.
func checkUser(user string) error {
	u, g, _ := strings.Cut(user, ":")
	if strings.Contains(user, ":") && (u == "" || g == "") || strings.ContainsAny(user, " \t\n/") || strings.Count(user, ":") > 1 {
		return invalid("invalid --user %q: use NAME|UID[:GROUP|GID]", user)
	}
	return nil
}

// securityInfo is inspect's Security: the fences as the container's init
// gets them.
func securityInfo(c *state.Container) *types.SecurityInfo {
	set, err := security.Decide(c.HostConfig, container.HostCaps())
	if err != nil {
		return nil
	}
	info := &types.SecurityInfo{Capabilities: set.Caps, Seccomp: set.Seccomp, NoNewPrivileges: set.NoNewPrivileges,
		MaskedPaths: set.MaskedPaths, ReadonlyPaths: set.ReadonlyPaths, UsernsMode: "host"}
	if info.Capabilities == nil {
		info.Capabilities = []string{}
	}
	if prog, err := set.Filter(container.KernelRelease()); err == nil && prog != nil {
		info.SeccompInstructions = len(prog.Instructions)
	}
	return info
}

// securityOptions are info's SecurityOptions, as dockerd lists its own:
// the docker CLI prints each "name=X,k=v" as a heading and its values.
func (e *Engine) securityOptions() []string {
	return []string{"name=seccomp,profile=builtin", "name=no-new-privileges"}
}
