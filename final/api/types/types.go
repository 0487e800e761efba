// Package types holds the Docker Engine API's wire types: the JSON bodies
// the docker CLI and the Python docker SDK send and expect, for the part of
// the API minidocker serves. The field names are Docker's, letter for
// letter (the CLI decodes into strict Go structs, so a wrong type breaks
// it). Written by hand instead of importing moby's api/types: those are
// thousands of fields and a large module; these are the few hundred lines
// a learner can read against what `curl --unix-socket` shows.
// Chapter: docs/09-daemon.md.
package types

import (
	"encoding/json"
	"fmt"
	"strings"
)

// APIVersion is the version minidocker announces: the docker CLI 20.10-28
// and docker-py accept it (see docs/09-daemon.md for why 1.44).
const (
	APIVersion    = "1.44"
	MinAPIVersion = "1.24"
)

// StrSlice is a list of strings that JSON may also give as one string
// ("Cmd": "sh" or "Cmd": ["sh", "-c", "..."]), as Docker accepts.
type StrSlice []string

func (s *StrSlice) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = nil
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = StrSlice{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings, got %s", b)
	}
	*s = many
	return nil
}

// Config is what a container runs: the part of `docker run` that does not
// depend on the host (an image's config has the same shape).
type Config struct {
	Hostname     string              `json:"Hostname"`
	Domainname   string              `json:"Domainname"`
	User         string              `json:"User"`
	AttachStdin  bool                `json:"AttachStdin"`
	AttachStdout bool                `json:"AttachStdout"`
	AttachStderr bool                `json:"AttachStderr"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Tty          bool                `json:"Tty"`
	OpenStdin    bool                `json:"OpenStdin"`
	StdinOnce    bool                `json:"StdinOnce"`
	Env          []string            `json:"Env"`
	Cmd          StrSlice            `json:"Cmd"`
	Image        string              `json:"Image"`
	Volumes      map[string]struct{} `json:"Volumes"`
	WorkingDir   string              `json:"WorkingDir"`
	Entrypoint   StrSlice            `json:"Entrypoint"`
	Labels       map[string]string   `json:"Labels"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	StopTimeout  *int                `json:"StopTimeout,omitempty"`
}

// PortBinding is one host side of a published port.
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// PortMap is "80/tcp" -> the host addresses and ports it is published on.
type PortMap map[string][]PortBinding

// RestartPolicy is --restart.
type RestartPolicy struct {
	Name              string `json:"Name"`
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

// LogConfig is --log-driver and --log-opt (minidocker writes json-file only).
type LogConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config"`
}

// Mount is one --mount (and, in inspect, one of the container's mounts).
type Mount struct {
	Type     string `json:"Type"`
	Source   string `json:"Source"`
	Target   string `json:"Target"`
	ReadOnly bool   `json:"ReadOnly,omitempty"`
}

// DeviceMapping is one --device.
type DeviceMapping struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}

// WeightDevice is one --blkio-weight-device: a block device and its weight.
type WeightDevice struct {
	Path   string `json:"Path"`
	Weight uint16 `json:"Weight"`
}

// ThrottleDevice is one --device-read-bps (or -write-bps, -read-iops,
// -write-iops): a block device and its limit, bytes or operations a second.
type ThrottleDevice struct {
	Path string `json:"Path"`
	Rate uint64 `json:"Rate"`
}

// HostConfig is the host-dependent part of `docker run`: resources,
// volumes, network, ports, security.
type HostConfig struct {
	Binds           []string          `json:"Binds"`
	ContainerIDFile string            `json:"ContainerIDFile"`
	LogConfig       LogConfig         `json:"LogConfig"`
	NetworkMode     string            `json:"NetworkMode"`
	PortBindings    PortMap           `json:"PortBindings"`
	RestartPolicy   RestartPolicy     `json:"RestartPolicy"`
	AutoRemove      bool              `json:"AutoRemove"`
	VolumeDriver    string            `json:"VolumeDriver"`
	VolumesFrom     []string          `json:"VolumesFrom"`
	ConsoleSize     [2]uint           `json:"ConsoleSize"`
	CapAdd          []string          `json:"CapAdd"`
	CapDrop         []string          `json:"CapDrop"`
	CgroupnsMode    string            `json:"CgroupnsMode"`
	DNS             []string          `json:"Dns"`
	DNSOptions      []string          `json:"DnsOptions"`
	DNSSearch       []string          `json:"DnsSearch"`
	ExtraHosts      []string          `json:"ExtraHosts"`
	GroupAdd        []string          `json:"GroupAdd"`
	IpcMode         string            `json:"IpcMode"`
	Cgroup          string            `json:"Cgroup"`
	Links           []string          `json:"Links"`
	OomScoreAdj     int               `json:"OomScoreAdj"`
	PidMode         string            `json:"PidMode"`
	Privileged      bool              `json:"Privileged"`
	PublishAllPorts bool              `json:"PublishAllPorts"`
	ReadonlyRootfs  bool              `json:"ReadonlyRootfs"`
	SecurityOpt     []string          `json:"SecurityOpt"`
	Tmpfs           map[string]string `json:"Tmpfs,omitempty"`
	UTSMode         string            `json:"UTSMode"`
	UsernsMode      string            `json:"UsernsMode"`
	ShmSize         int64             `json:"ShmSize"`
	Runtime         string            `json:"Runtime,omitempty"`
	Init            *bool             `json:"Init,omitempty"`

	// Resources (cgroups, chapter 04).
	CPUShares          int64           `json:"CpuShares"`
	Memory             int64           `json:"Memory"`
	NanoCPUs           int64           `json:"NanoCpus"`
	CgroupParent       string          `json:"CgroupParent"`
	BlkioWeight        uint16          `json:"BlkioWeight"`
	CPUPeriod          int64           `json:"CpuPeriod"`
	CPUQuota           int64           `json:"CpuQuota"`
	CPURealtimePeriod  int64           `json:"CpuRealtimePeriod"`
	CPURealtimeRuntime int64           `json:"CpuRealtimeRuntime"`
	CpusetCpus         string          `json:"CpusetCpus"`
	CpusetMems         string          `json:"CpusetMems"`
	Devices            []DeviceMapping `json:"Devices"`
	MemoryReservation  int64           `json:"MemoryReservation"`
	MemorySwap         int64           `json:"MemorySwap"`
	MemorySwappiness   *int64          `json:"MemorySwappiness"`
	OomKillDisable     *bool           `json:"OomKillDisable"`
	PidsLimit          *int64          `json:"PidsLimit"`
	Mounts             []Mount         `json:"Mounts,omitempty"`

	// Block I/O, per device (the io controller; blkio on cgroup v1).
	BlkioWeightDevice    []WeightDevice   `json:"BlkioWeightDevice"`
	BlkioDeviceReadBps   []ThrottleDevice `json:"BlkioDeviceReadBps"`
	BlkioDeviceWriteBps  []ThrottleDevice `json:"BlkioDeviceWriteBps"`
	BlkioDeviceReadIOps  []ThrottleDevice `json:"BlkioDeviceReadIOps"`
	BlkioDeviceWriteIOps []ThrottleDevice `json:"BlkioDeviceWriteIOps"`
}

// EndpointIPAMConfig is an endpoint's requested address (--ip).
type EndpointIPAMConfig struct {
	IPv4Address string `json:"IPv4Address,omitempty"`
}

// EndpointSettings is one network of a container: what was asked
// (aliases, address) and, in inspect, what it got.
type EndpointSettings struct {
	IPAMConfig  *EndpointIPAMConfig `json:"IPAMConfig"`
	Links       []string            `json:"Links"`
	Aliases     []string            `json:"Aliases"`
	DNSNames    []string            `json:"DNSNames"`
	NetworkID   string              `json:"NetworkID"`
	EndpointID  string              `json:"EndpointID"`
	Gateway     string              `json:"Gateway"`
	IPAddress   string              `json:"IPAddress"`
	IPPrefixLen int                 `json:"IPPrefixLen"`
	MacAddress  string              `json:"MacAddress"`
}

// NetworkingConfig is the create body's third part.
type NetworkingConfig struct {
	EndpointsConfig map[string]*EndpointSettings `json:"EndpointsConfig"`
}

// ContainerCreateRequest is POST /containers/create: Config with HostConfig
// and NetworkingConfig beside it, at the top level of one JSON object.
type ContainerCreateRequest struct {
	Config
	HostConfig       *HostConfig       `json:"HostConfig,omitempty"`
	NetworkingConfig *NetworkingConfig `json:"NetworkingConfig,omitempty"`
}

// ContainerCreateResponse is its answer.
type ContainerCreateResponse struct {
	ID       string   `json:"Id"`
	Warnings []string `json:"Warnings"`
}

// Port is one published port in `docker ps`.
type Port struct {
	IP          string `json:"IP,omitempty"`
	PrivatePort uint16 `json:"PrivatePort"`
	PublicPort  uint16 `json:"PublicPort,omitempty"`
	Type        string `json:"Type"`
}

// MountPoint is one mount in ps and inspect.
type MountPoint struct {
	Type        string `json:"Type"`
	Name        string `json:"Name,omitempty"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Driver      string `json:"Driver,omitempty"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
	Propagation string `json:"Propagation"`
}

// Container is one row of GET /containers/json (`docker ps`). Created is
// unix seconds here (an RFC 3339 string in inspect), State a word here (an
// object in inspect): the CLI's strict decoding depends on both.
type Container struct {
	ID         string            `json:"Id"`
	Names      []string          `json:"Names"`
	Image      string            `json:"Image"`
	ImageID    string            `json:"ImageID"`
	Command    string            `json:"Command"`
	Created    int64             `json:"Created"`
	Ports      []Port            `json:"Ports"`
	Labels     map[string]string `json:"Labels"`
	State      string            `json:"State"`
	Status     string            `json:"Status"`
	HostConfig struct {
		NetworkMode string `json:"NetworkMode"`
	} `json:"HostConfig"`
	NetworkSettings struct {
		Networks map[string]*EndpointSettings `json:"Networks"`
	} `json:"NetworkSettings"`
	Mounts []MountPoint `json:"Mounts"`
}

// ContainerState is inspect's State.
type ContainerState struct {
	Status     string `json:"Status"`
	Running    bool   `json:"Running"`
	Paused     bool   `json:"Paused"`
	Restarting bool   `json:"Restarting"`
	OOMKilled  bool   `json:"OOMKilled"`
	Dead       bool   `json:"Dead"`
	Pid        int    `json:"Pid"`
	ExitCode   int    `json:"ExitCode"`
	Error      string `json:"Error"`
	StartedAt  string `json:"StartedAt"`
	FinishedAt string `json:"FinishedAt"`
}

// NetworkSettings is inspect's NetworkSettings: the default network's
// address at the top (docker's legacy fields, which --format uses), and
// every network below.
type NetworkSettings struct {
	Bridge      string                       `json:"Bridge"`
	SandboxKey  string                       `json:"SandboxKey"`
	Ports       PortMap                      `json:"Ports"`
	Gateway     string                       `json:"Gateway"`
	IPAddress   string                       `json:"IPAddress"`
	IPPrefixLen int                          `json:"IPPrefixLen"`
	MacAddress  string                       `json:"MacAddress"`
	Networks    map[string]*EndpointSettings `json:"Networks"`
}

// GraphDriver says where the container's layers are.
type GraphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

// ContainerJSON is GET /containers/{id}/json (`docker inspect`).
type ContainerJSON struct {
	ID              string           `json:"Id"`
	Created         string           `json:"Created"`
	Path            string           `json:"Path"`
	Args            []string         `json:"Args"`
	State           *ContainerState  `json:"State"`
	Image           string           `json:"Image"`
	ResolvConfPath  string           `json:"ResolvConfPath"`
	HostnamePath    string           `json:"HostnamePath"`
	HostsPath       string           `json:"HostsPath"`
	LogPath         string           `json:"LogPath"`
	Name            string           `json:"Name"`
	RestartCount    int              `json:"RestartCount"`
	Driver          string           `json:"Driver"`
	Platform        string           `json:"Platform"`
	MountLabel      string           `json:"MountLabel"`
	ProcessLabel    string           `json:"ProcessLabel"`
	AppArmorProfile string           `json:"AppArmorProfile"`
	ExecIDs         []string         `json:"ExecIDs"`
	HostConfig      *HostConfig      `json:"HostConfig"`
	GraphDriver     GraphDriver      `json:"GraphDriver"`
	Mounts          []MountPoint     `json:"Mounts"`
	Config          *Config          `json:"Config"`
	NetworkSettings *NetworkSettings `json:"NetworkSettings"`
	Security        *SecurityInfo    `json:"Security,omitempty"` // minidocker's own
}

// ContainerWaitResponse is the body POST /containers/{id}/wait ends with.
type ContainerWaitResponse struct {
	StatusCode int        `json:"StatusCode"`
	Error      *WaitError `json:"Error,omitempty"`
}

// WaitError is a wait that could not tell the exit code.
type WaitError struct {
	Message string `json:"Message"`
}

// TopResponse is GET /containers/{id}/top (`docker top`).
type TopResponse struct {
	Titles    []string   `json:"Titles"`
	Processes [][]string `json:"Processes"`
}

// ExecConfig is POST /containers/{id}/exec.
type ExecConfig struct {
	User         string   `json:"User"`
	Privileged   bool     `json:"Privileged"`
	Tty          bool     `json:"Tty"`
	ConsoleSize  *[2]uint `json:"ConsoleSize,omitempty"`
	AttachStdin  bool     `json:"AttachStdin"`
	AttachStderr bool     `json:"AttachStderr"`
	AttachStdout bool     `json:"AttachStdout"`
	Detach       bool     `json:"Detach"`
	DetachKeys   string   `json:"DetachKeys"`
	Env          []string `json:"Env"`
	WorkingDir   string   `json:"WorkingDir"`
	Cmd          StrSlice `json:"Cmd"`
}

// ExecStartConfig is POST /exec/{id}/start.
type ExecStartConfig struct {
	Detach      bool     `json:"Detach"`
	Tty         bool     `json:"Tty"`
	ConsoleSize *[2]uint `json:"ConsoleSize,omitempty"`
}

// ExecInspect is GET /exec/{id}/json: the exit code docker exec ends with.
type ExecInspect struct {
	ID            string `json:"ID"`
	ContainerID   string `json:"ContainerID"`
	Running       bool   `json:"Running"`
	ExitCode      int    `json:"ExitCode"`
	Pid           int    `json:"Pid"`
	OpenStdin     bool   `json:"OpenStdin"`
	OpenStdout    bool   `json:"OpenStdout"`
	OpenStderr    bool   `json:"OpenStderr"`
	ProcessConfig struct {
		Tty        bool     `json:"tty"`
		Entrypoint string   `json:"entrypoint"`
		Arguments  []string `json:"arguments"`
	} `json:"ProcessConfig"`
}

// IDResponse is {"Id": ...}: exec create, commit.
type IDResponse struct {
	ID string `json:"Id"`
}

// ErrorResponse is every error's body: the CLI prints
// "Error response from daemon: " + Message.
type ErrorResponse struct {
	Message string `json:"message"`
}

// Version is GET /version.
type Version struct {
	Platform      struct{ Name string } `json:"Platform"`
	Components    []ComponentVersion    `json:"Components"`
	Version       string                `json:"Version"`
	APIVersion    string                `json:"ApiVersion"`
	MinAPIVersion string                `json:"MinAPIVersion"`
	GitCommit     string                `json:"GitCommit"`
	GoVersion     string                `json:"GoVersion"`
	Os            string                `json:"Os"`
	Arch          string                `json:"Arch"`
	KernelVersion string                `json:"KernelVersion"`
	BuildTime     string                `json:"BuildTime"`
}

// ComponentVersion is one part of the engine in `docker version`.
type ComponentVersion struct {
	Name    string            `json:"Name"`
	Version string            `json:"Version"`
	Details map[string]string `json:"Details,omitempty"`
}

// Info is GET /info (`docker info`).
type Info struct {
	ID                string      `json:"ID"`
	Name              string      `json:"Name"`
	ServerVersion     string      `json:"ServerVersion"`
	Containers        int         `json:"Containers"`
	ContainersRunning int         `json:"ContainersRunning"`
	ContainersPaused  int         `json:"ContainersPaused"`
	ContainersStopped int         `json:"ContainersStopped"`
	Images            int         `json:"Images"`
	Driver            string      `json:"Driver"`
	DriverStatus      [][2]string `json:"DriverStatus"`
	Plugins           PluginsInfo `json:"Plugins"`
	MemoryLimit       bool        `json:"MemoryLimit"`
	SwapLimit         bool        `json:"SwapLimit"`
	CPUCfsPeriod      bool        `json:"CpuCfsPeriod"`
	CPUCfsQuota       bool        `json:"CpuCfsQuota"`
	PidsLimit         bool        `json:"PidsLimit"`
	IPv4Forwarding    bool        `json:"IPv4Forwarding"`
	LoggingDriver     string      `json:"LoggingDriver"`
	CgroupDriver      string      `json:"CgroupDriver"`
	CgroupVersion     string      `json:"CgroupVersion"`
	KernelVersion     string      `json:"KernelVersion"`
	OperatingSystem   string      `json:"OperatingSystem"`
	OSVersion         string      `json:"OSVersion"`
	OSType            string      `json:"OSType"`
	Architecture      string      `json:"Architecture"`
	NCPU              int         `json:"NCPU"`
	MemTotal          int64       `json:"MemTotal"`
	DockerRootDir     string      `json:"DockerRootDir"`
	Swarm             struct {
		LocalNodeState string `json:"LocalNodeState"`
	} `json:"Swarm"`
	Runtimes           map[string]struct{ Path string } `json:"Runtimes"`
	DefaultRuntime     string                           `json:"DefaultRuntime"`
	LiveRestoreEnabled bool                             `json:"LiveRestoreEnabled"`
	SecurityOptions    []string                         `json:"SecurityOptions"`
	Warnings           []string                         `json:"Warnings"`
}

// PluginsInfo lists the drivers in `docker info`.
type PluginsInfo struct {
	Volume  []string `json:"Volume"`
	Network []string `json:"Network"`
	Log     []string `json:"Log"`
}

// ImageSummary is one row of GET /images/json (`docker images`).
type ImageSummary struct {
	ID          string            `json:"Id"`
	ParentID    string            `json:"ParentId"`
	RepoTags    []string          `json:"RepoTags"`
	RepoDigests []string          `json:"RepoDigests"`
	Created     int64             `json:"Created"`
	Size        int64             `json:"Size"`
	SharedSize  int64             `json:"SharedSize"`
	VirtualSize int64             `json:"VirtualSize,omitempty"`
	Labels      map[string]string `json:"Labels"`
	Containers  int64             `json:"Containers"`
}

// RootFS lists an image's layers (diff IDs) in inspect.
type RootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

// ImageInspect is GET /images/{name}/json.
type ImageInspect struct {
	ID              string      `json:"Id"`
	RepoTags        []string    `json:"RepoTags"`
	RepoDigests     []string    `json:"RepoDigests"`
	Parent          string      `json:"Parent"`
	Comment         string      `json:"Comment"`
	Created         string      `json:"Created"`
	Container       string      `json:"Container"`
	ContainerConfig *Config     `json:"ContainerConfig"`
	DockerVersion   string      `json:"DockerVersion"`
	Author          string      `json:"Author"`
	Config          *Config     `json:"Config"`
	Architecture    string      `json:"Architecture"`
	Variant         string      `json:"Variant,omitempty"`
	Os              string      `json:"Os"`
	Size            int64       `json:"Size"`
	VirtualSize     int64       `json:"VirtualSize"`
	GraphDriver     GraphDriver `json:"GraphDriver"`
	RootFS          RootFS      `json:"RootFS"`
	Metadata        struct {
		LastTagTime string `json:"LastTagTime,omitempty"`
	} `json:"Metadata"`
}

// ImageDeleteResponseItem is one line of `docker rmi`'s answer.
type ImageDeleteResponseItem struct {
	Untagged string `json:"Untagged,omitempty"`
	Deleted  string `json:"Deleted,omitempty"`
}

// ImagesPruneReport is POST /images/prune's answer.
type ImagesPruneReport struct {
	ImagesDeleted  []ImageDeleteResponseItem `json:"ImagesDeleted"`
	SpaceReclaimed uint64                    `json:"SpaceReclaimed"`
}

// IPAMConfig is one address range of a network.
type IPAMConfig struct {
	Subnet  string `json:"Subnet,omitempty"`
	IPRange string `json:"IPRange,omitempty"`
	Gateway string `json:"Gateway,omitempty"`
}

// IPAM is a network's address management.
type IPAM struct {
	Driver  string            `json:"Driver"`
	Options map[string]string `json:"Options"`
	Config  []IPAMConfig      `json:"Config"`
}

// NetworkCreateRequest is POST /networks/create.
type NetworkCreateRequest struct {
	Name           string            `json:"Name"`
	CheckDuplicate bool              `json:"CheckDuplicate"`
	Driver         string            `json:"Driver"`
	Internal       bool              `json:"Internal"`
	Attachable     bool              `json:"Attachable"`
	EnableIPv6     bool              `json:"EnableIPv6"`
	IPAM           *IPAM             `json:"IPAM"`
	Options        map[string]string `json:"Options"`
	Labels         map[string]string `json:"Labels"`
}

// NetworkCreateResponse is its answer.
type NetworkCreateResponse struct {
	ID      string `json:"Id"`
	Warning string `json:"Warning"`
}

// EndpointResource is one container of a network, in network inspect.
type EndpointResource struct {
	Name        string `json:"Name"`
	EndpointID  string `json:"EndpointID"`
	MacAddress  string `json:"MacAddress"`
	IPv4Address string `json:"IPv4Address"`
	IPv6Address string `json:"IPv6Address"`
}

// NetworkResource is GET /networks/{id} and one row of GET /networks.
type NetworkResource struct {
	Name       string                      `json:"Name"`
	ID         string                      `json:"Id"`
	Created    string                      `json:"Created"`
	Scope      string                      `json:"Scope"`
	Driver     string                      `json:"Driver"`
	EnableIPv6 bool                        `json:"EnableIPv6"`
	IPAM       IPAM                        `json:"IPAM"`
	Internal   bool                        `json:"Internal"`
	Attachable bool                        `json:"Attachable"`
	Ingress    bool                        `json:"Ingress"`
	Containers map[string]EndpointResource `json:"Containers"`
	Options    map[string]string           `json:"Options"`
	Labels     map[string]string           `json:"Labels"`
}

// NetworkConnectRequest is POST /networks/{id}/connect and /disconnect.
type NetworkConnectRequest struct {
	Container      string            `json:"Container"`
	EndpointConfig *EndpointSettings `json:"EndpointConfig,omitempty"`
	Force          bool              `json:"Force"`
}

// VolumeCreateRequest is POST /volumes/create.
type VolumeCreateRequest struct {
	Name       string            `json:"Name"`
	Driver     string            `json:"Driver"`
	DriverOpts map[string]string `json:"DriverOpts"`
	Labels     map[string]string `json:"Labels"`
}

// Volume is a named volume.
type Volume struct {
	Name       string            `json:"Name"`
	Driver     string            `json:"Driver"`
	Mountpoint string            `json:"Mountpoint"`
	CreatedAt  string            `json:"CreatedAt"`
	Labels     map[string]string `json:"Labels"`
	Scope      string            `json:"Scope"`
	Options    map[string]string `json:"Options"`
}

// VolumeListResponse is GET /volumes.
type VolumeListResponse struct {
	Volumes  []*Volume `json:"Volumes"`
	Warnings []string  `json:"Warnings"`
}

// Actor is what an event is about.
type Actor struct {
	ID         string            `json:"ID"`
	Attributes map[string]string `json:"Attributes"`
}

// Event is one line of GET /events (`docker events`), with the legacy
// fields (status, id, from) that docker-compose 1.29 reads.
type Event struct {
	Type     string `json:"Type"`
	Action   string `json:"Action"`
	Actor    Actor  `json:"Actor"`
	Scope    string `json:"scope"`
	Time     int64  `json:"time"`
	TimeNano int64  `json:"timeNano"`
	Status   string `json:"status,omitempty"`
	ID       string `json:"id,omitempty"`
	From     string `json:"from,omitempty"`
}

// CPUUsage, CPUStats, MemoryStats, NetworkStats, PidsStats, StatsJSON:
// GET /containers/{id}/stats. The CLI computes CPU % as
// (cpu delta / system delta) * online CPUs * 100, from cpu_stats and
// precpu_stats, and MEM as usage minus inactive_file.
type CPUUsage struct {
	TotalUsage        uint64   `json:"total_usage"`
	PercpuUsage       []uint64 `json:"percpu_usage,omitempty"`
	UsageInKernelmode uint64   `json:"usage_in_kernelmode"`
	UsageInUsermode   uint64   `json:"usage_in_usermode"`
}

type CPUStats struct {
	CPUUsage       CPUUsage `json:"cpu_usage"`
	SystemUsage    uint64   `json:"system_cpu_usage,omitempty"`
	OnlineCPUs     uint32   `json:"online_cpus,omitempty"`
	ThrottlingData struct {
		Periods          uint64 `json:"periods"`
		ThrottledPeriods uint64 `json:"throttled_periods"`
		ThrottledTime    uint64 `json:"throttled_time"`
	} `json:"throttling_data"`
}

type MemoryStats struct {
	Usage    uint64            `json:"usage,omitempty"`
	MaxUsage uint64            `json:"max_usage,omitempty"`
	Stats    map[string]uint64 `json:"stats,omitempty"`
	Limit    uint64            `json:"limit,omitempty"`
}

type NetworkStats struct {
	RxBytes   uint64 `json:"rx_bytes"`
	RxPackets uint64 `json:"rx_packets"`
	RxErrors  uint64 `json:"rx_errors"`
	RxDropped uint64 `json:"rx_dropped"`
	TxBytes   uint64 `json:"tx_bytes"`
	TxPackets uint64 `json:"tx_packets"`
	TxErrors  uint64 `json:"tx_errors"`
	TxDropped uint64 `json:"tx_dropped"`
}

type PidsStats struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

type BlkioStatEntry struct {
	Major uint64 `json:"major"`
	Minor uint64 `json:"minor"`
	Op    string `json:"op"`
	Value uint64 `json:"value"`
}

type BlkioStats struct {
	IoServiceBytesRecursive []BlkioStatEntry `json:"io_service_bytes_recursive"`
}

type StatsJSON struct {
	Read        string                  `json:"read"`
	PreRead     string                  `json:"preread"`
	PidsStats   PidsStats               `json:"pids_stats"`
	BlkioStats  BlkioStats              `json:"blkio_stats"`
	NumProcs    uint32                  `json:"num_procs"`
	CPUStats    CPUStats                `json:"cpu_stats"`
	PreCPUStats CPUStats                `json:"precpu_stats"`
	MemoryStats MemoryStats             `json:"memory_stats"`
	Name        string                  `json:"name"`
	ID          string                  `json:"id"`
	Networks    map[string]NetworkStats `json:"networks,omitempty"`
}

// ParsePort reads "80/tcp" (or "80") into the port and the protocol.
func ParsePort(s string) (port, proto string) {
	port, proto, ok := strings.Cut(s, "/")
	if !ok {
		proto = "tcp"
	}
	return port, proto
}
