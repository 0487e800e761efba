//go:build linux

package local

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/archive"
	"github.com/minidocker/build-your-own-docker/final/image"
	"github.com/minidocker/build-your-own-docker/final/state"
	"github.com/minidocker/build-your-own-docker/final/volume"
	"golang.org/x/sys/unix"

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
		MaskedPaths: set.MaskedPaths, ReadonlyPaths: set.ReadonlyPaths}
	usernsInfo(c, info)
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
	opts := []string{"name=seccomp,profile=builtin", "name=no-new-privileges"}
	if e.UsernsRemap != "" {
		opts = append(opts, "name=userns")
	}
	return append(opts, rootlessOptions()...)
}

// region usernsmode
// checkUserns settles the container's user namespace: --userns=host or
// private as asked, else the engine's default (--userns-remap), recorded
// so that inspect says which it got. Private needs the ranges in
// /etc/subuid and /etc/subgid, and refuses --privileged (every capability
// of a namespace that owns nothing is a contradiction Docker refuses too).
func (e *Engine) checkUserns(h *types.HostConfig) error {
	switch h.UsernsMode {
	case "":
		h.UsernsMode = "host"
		if e.UsernsRemap != "" {
			h.UsernsMode = "private"
		}
	case "host", "private":
	default:
		return invalid("invalid --userns %q: host or private", h.UsernsMode)
	}
	if h.UsernsMode != "private" {
		return nil
	}
	if h.Privileged {
		return invalid("--privileged and a user namespace do not go together: use --userns=host with --privileged")
	}
	if _, _, err := security.RemapRanges(); err != nil {
		return invalid("%v", err)
	}
	return nil
}

// endregion usernsmode

// ownVolume gives a new named volume to the root of a container with a
// user namespace: its data, seeded from the image, shifted into the
// namespace's range (as the container's root would have written it).
func ownVolume(name string, h types.HostConfig) error {
	if h.UsernsMode != "private" {
		return nil
	}
	uids, gids, err := security.RemapRanges()
	if err != nil {
		return err
	}
	data := volume.Data(name)
	var st unix.Stat_t
	if err := unix.Stat(data, &st); err != nil || st.Uid != 0 {
		return err // not root's: shifted already, or the user's own
	}
	for _, d := range []string{filepath.Dir(filepath.Dir(data)), filepath.Dir(data)} {
		os.Chmod(d, 0711) // volumes/ and volumes/NAME: reachable, not listable
	}
	return archive.Shift(data, int64(uids.Start), int64(gids.Start))
}

// usernsInfo fills inspect's user mapping: /proc/PID/uid_map of a running
// container, the configured ranges otherwise.
func usernsInfo(c *state.Container, info *types.SecurityInfo) {
	info.UsernsMode = c.HostConfig.UsernsMode
	if info.UsernsMode == "" {
		info.UsernsMode = "host"
	}
	if info.UsernsMode != "private" {
		return
	}
	read := func(file string) []string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", c.State.Pid, file))
		if err != nil || !c.Running() {
			return nil
		}
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
		return out
	}
	info.UIDMap, info.GIDMap = read("uid_map"), read("gid_map")
	if info.UIDMap == nil {
		if uids, gids, err := security.RemapRanges(); err == nil {
			info.UIDMap, info.GIDMap = []string{uids.Map()}, []string{gids.Map()}
		}
	}
}

// unshiftCommit: the upper layer of a container with a user namespace
// belongs to the mapped ids (root's files to 100000); the committed layer
// gets them back as the image's own (100000 -> 0), as Docker's commit of
// a remapped container does.
func unshiftCommit(c *state.Container, im *image.Image) error {
	if c.HostConfig.UsernsMode != "private" {
		return nil
	}
	uids, gids, err := security.RemapRanges()
	if err != nil {
		return err
	}
	return archive.Shift(image.LayerDir(im.Layers[len(im.Layers)-1]), -int64(uids.Start), -int64(gids.Start))
}
