//go:build linux

package local

import (
	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/container"
	"github.com/minidocker/build-your-own-docker/final/image"
)

// region fromimage
// fromImage fills a container's config from its image's, as `docker run`
// does: what the user gave wins, field by field. The command is the subtle
// part: the image's ENTRYPOINT stays unless --entrypoint replaces it, and
// the image's CMD is used only when the user gave no command at all (and
// no --entrypoint: a new entrypoint does not get the old one's arguments).
// Env and Labels merge key by key; ExposedPorts and Volumes add up (an
// image's VOLUME becomes an anonymous volume of each container).
func fromImage(cfg *types.Config, ic image.ContainerConfig) {
	switch {
	case len(cfg.Entrypoint) == 1 && cfg.Entrypoint[0] == "": // --entrypoint "": no entrypoint at all
		cfg.Entrypoint = nil
	case len(cfg.Entrypoint) == 0:
		cfg.Entrypoint = ic.Entrypoint
		if len(cfg.Cmd) == 0 {
			cfg.Cmd = ic.Cmd
		}
	}
	cfg.Env = container.MergeEnv(ic.Env, cfg.Env)
	if cfg.User == "" {
		cfg.User = ic.User
	}
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = ic.WorkingDir
	}
	if cfg.StopSignal == "" {
		cfg.StopSignal = ic.StopSignal
	}
	labels := map[string]string{}
	for k, v := range ic.Labels {
		labels[k] = v
	}
	for k, v := range cfg.Labels {
		labels[k] = v
	}
	cfg.Labels = labels
	for p := range ic.ExposedPorts {
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		cfg.ExposedPorts[p] = struct{}{}
	}
	for v := range ic.Volumes {
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		cfg.Volumes[v] = struct{}{}
	}
}

// endregion fromimage
