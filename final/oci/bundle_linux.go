//go:build linux

package oci

import (
	"errors"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/pid1"
	"github.com/minidocker/build-your-own-docker/final/security"
)

// region bundle
// FromContainer is the config.json of a bundle made from a minidocker
// container (`minidocker export --oci DIR C`, whose rootfs is the
// container's filesystem): runc's default spec, with what the container
// ran (its command, environment, working directory, hostname), its user
// (names looked up in the bundle's own /etc/passwd and /etc/group, read
// inside that root), its limits and Docker's 14 capabilities. runc runs
// the bundle as it is, and so does minidocker-runc.
func FromContainer(j *types.ContainerJSON, rootfs string) (*Spec, error) {
	if j.Config == nil || j.HostConfig == nil {
		return nil, errors.New("export --oci: the container has no config")
	}
	s := Default()
	s.Process.Terminal = false
	s.Process.Args = append([]string{j.Path}, j.Args...)
	if j.Path == "" {
		return nil, errors.New("export --oci: the container has no command")
	}
	s.Process.Env = append([]string{}, j.Config.Env...)
	if j.Config.WorkingDir != "" {
		s.Process.Cwd = j.Config.WorkingDir
	}
	uid, gid, groups, err := pid1.UserIn(rootfs, j.Config.User)
	if err != nil {
		return nil, err
	}
	s.Process.User = User{UID: uid, GID: gid, AdditionalGids: groups}
	caps := append([]string{}, security.DefaultCaps...)
	s.Process.Capabilities = &Capabilities{Bounding: caps, Effective: caps, Permitted: caps}
	s.Hostname = strings.TrimSpace(j.Config.Hostname)
	s.Root.Readonly = j.HostConfig.ReadonlyRootfs
	h := j.HostConfig
	r := s.Linux.Resources
	if h.Memory > 0 {
		m := h.Memory
		r.Memory = &Memory{Limit: &m}
		if h.MemorySwap != 0 {
			sw := h.MemorySwap
			r.Memory.Swap = &sw
		}
	}
	if h.NanoCPUs > 0 || h.CPUQuota != 0 || h.CPUShares > 0 || h.CpusetCpus != "" {
		r.CPU = &CPU{Cpus: h.CpusetCpus}
		if h.NanoCPUs > 0 { // --cpus: a quota per 100 ms period
			q, p := h.NanoCPUs/1e4, uint64(100000)
			r.CPU.Quota, r.CPU.Period = &q, &p
		}
		if h.CPUQuota != 0 {
			q := h.CPUQuota
			r.CPU.Quota = &q
		}
		if h.CPUPeriod > 0 {
			p := uint64(h.CPUPeriod)
			r.CPU.Period = &p
		}
		if h.CPUShares > 0 {
			sh := uint64(h.CPUShares)
			r.CPU.Shares = &sh
		}
	}
	if h.PidsLimit != nil && *h.PidsLimit > 0 {
		r.Pids = &Pids{Limit: *h.PidsLimit}
	}
	return s, nil
}

// endregion bundle
