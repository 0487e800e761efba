//go:build linux

package container

import (
	"errors"

	"github.com/minidocker/build-your-own-docker/final/cgroups"
	"github.com/minidocker/build-your-own-docker/final/events"
	"github.com/minidocker/build-your-own-docker/final/state"
)

// region pause
// Pause freezes every process of a running container (docker pause): its
// cgroup's freezer (cgroups.Freeze) stops them all at once, forks
// included, which no signal sent process by process could do without a
// race. The container stays "running" and is "paused" as well, as Docker
// records it; nothing runs in it until Unpause.
func Pause(c *state.Container) error {
	if err := cgroups.Open(c.ID, c.HostConfig.CpusetCpus != "").Freeze(); err != nil {
		return err
	}
	return setPaused(c, true, "pause")
}

// Unpause thaws it again (docker unpause).
func Unpause(c *state.Container) error {
	if err := cgroups.Open(c.ID, c.HostConfig.CpusetCpus != "").Thaw(); err != nil {
		return err
	}
	return setPaused(c, false, "unpause")
}

// endregion pause

// setPaused records the change and says so ("pause", "unpause" events).
func setPaused(c *state.Container, paused bool, action string) error {
	_, err := state.Update(c.ID, func(r *state.Container) error {
		if !r.Running() {
			return errors.New("container " + r.ID + " is not running")
		}
		r.State.Paused = paused
		return nil
	})
	if err != nil {
		return err
	}
	events.Container(action, c.ID, EventAttrs(c))
	return nil
}
