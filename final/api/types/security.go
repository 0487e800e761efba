package types

// SecurityInfo is minidocker's own part of `inspect` (Docker has no such
// field; its HostConfig only repeats what was asked): the fences the
// container runs with, as decided from its HostConfig (docs/10-security.md).
type SecurityInfo struct {
	// Capabilities are the ones kept: root's effective set, everyone's
	// bounding set.
	Capabilities []string `json:"Capabilities"`
	// Seccomp: "builtin" (Docker's default profile), "unconfined" or
	// "custom" (--security-opt seccomp=FILE); SeccompInstructions is the
	// size of the compiled filter.
	Seccomp             string   `json:"Seccomp"`
	SeccompInstructions int      `json:"SeccompInstructions,omitempty"`
	NoNewPrivileges     bool     `json:"NoNewPrivileges"`
	MaskedPaths         []string `json:"MaskedPaths"`
	ReadonlyPaths       []string `json:"ReadonlyPaths"`
	// UsernsMode is "host" or "private"; UIDMap and GIDMap are
	// /proc/PID/uid_map's lines ("0 100000 65536": inside, outside, count).
	UsernsMode string   `json:"UsernsMode"`
	UIDMap     []string `json:"UIDMap,omitempty"`
	GIDMap     []string `json:"GIDMap,omitempty"`
}
