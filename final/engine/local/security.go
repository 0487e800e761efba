//go:build linux

package local

import (
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
