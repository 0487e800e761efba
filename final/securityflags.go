//go:build linux

package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/security"
	"github.com/urfave/cli/v2"
)

// securityFlags are run's and create's fences (docs/10-security.md),
// Docker's names.
func securityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "privileged", Usage: "every capability and device, no seccomp, no masked paths (the fences off)"},
		&cli.StringSliceFlag{Name: "cap-add", Usage: "keep a capability beside Docker's 14 (NET_ADMIN, ALL)"},
		&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop a capability (NET_RAW, ALL)"},
		&cli.StringSliceFlag{Name: "security-opt", Usage: "no-new-privileges[=false], seccomp=unconfined|builtin|PROFILE.json, systempaths=unconfined"},
		&cli.BoolFlag{Name: "read-only", Usage: "mount the container's root filesystem read-only"},
		&cli.StringSliceFlag{Name: "tmpfs", Usage: "mount a tmpfs: DST[:OPTIONS] (e.g. /run:rw,size=64m)"},
		&cli.StringSliceFlag{Name: "device", Usage: "add a host device: HOST[:CONTAINER[:rwm]]"},
		&cli.StringFlag{Name: "userns", Usage: "user namespace: host, or private (root inside is an unprivileged uid outside)"},
	}
}

// securityRequest puts those flags into the create request, as the docker
// CLI does: a seccomp profile's file is read here, and its JSON sent.
func securityRequest(c *cli.Context, h *types.HostConfig) error {
	h.Privileged, h.ReadonlyRootfs, h.UsernsMode = c.Bool("privileged"), c.Bool("read-only"), c.String("userns")
	h.CapAdd, h.CapDrop = c.StringSlice("cap-add"), c.StringSlice("cap-drop")
	var err error
	if h.SecurityOpt, err = security.ReadProfileOpts(c.StringSlice("security-opt"), os.ReadFile); err != nil {
		return err
	}
	for _, t := range c.StringSlice("tmpfs") {
		dst, opts, _ := strings.Cut(t, ":")
		if h.Tmpfs == nil {
			h.Tmpfs = map[string]string{}
		}
		h.Tmpfs[dst] = opts
	}
	for _, d := range c.StringSlice("device") {
		p := strings.Split(d, ":")
		if len(p) > 3 || p[0] == "" {
			return fmt.Errorf("invalid --device %q: use HOST[:CONTAINER[:PERMISSIONS]]", d)
		}
		m := types.DeviceMapping{PathOnHost: p[0], PathInContainer: p[0], CgroupPermissions: "rwm"}
		if len(p) > 1 && p[1] != "" {
			m.PathInContainer = p[1]
		}
		if len(p) > 2 {
			m.CgroupPermissions = p[2]
		}
		h.Devices = append(h.Devices, m)
	}
	return nil
}

// printSecurityOptions prints info's SecurityOptions as `docker info`
// does: "name=seccomp,profile=builtin" is "seccomp" with " Profile: builtin".
func printSecurityOptions(opts []string) {
	if len(opts) == 0 {
		return
	}
	fmt.Println("Security Options:")
	for _, o := range opts {
		for i, kv := range strings.Split(o, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch {
			case i == 0 && k == "name":
				fmt.Println(" " + v)
			default:
				fmt.Printf("  %s%s: %s\n", strings.ToUpper(k[:1]), k[1:], v)
			}
		}
	}
}
