package types

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// region jsonmessage
// JSONMessage is one line of a progress stream: `docker pull`, `push`,
// `load`, `import` and `build` answer with one JSON object per line, and the
// CLI draws them (a line per layer id, redrawn in place on a terminal).
type JSONMessage struct {
	Stream          string        `json:"stream,omitempty"`         // build's output, load's "Loaded image: ..."
	Status          string        `json:"status,omitempty"`         // "Downloading", "Pull complete", ...
	Progress        *JSONProgress `json:"progressDetail,omitempty"` // bytes so far of total
	ProgressMessage string        `json:"progress,omitempty"`       // the bar, drawn by the server ("[==>  ] 1MB/3MB")
	ID              string        `json:"id,omitempty"`             // a layer's short digest, or the tag
	Error           *JSONError    `json:"errorDetail,omitempty"`    // a failure midway (the HTTP status is 200 by then)
	ErrorMessage    string        `json:"error,omitempty"`
	Aux             *RawMessage   `json:"aux,omitempty"` // push's {"Tag","Digest","Size"}, build's {"ID"}
}

// JSONProgress is progressDetail.
type JSONProgress struct {
	Current int64 `json:"current,omitempty"`
	Total   int64 `json:"total,omitempty"`
}

// JSONError is errorDetail.
type JSONError struct {
	Code    int    `json:"code,omitempty"`
	Message string `json:"message"`
}

// endregion jsonmessage

// RawMessage is json.RawMessage (a pointer to it keeps "aux" out when unset).
type RawMessage = json.RawMessage

// Aux makes an aux payload.
func Aux(v any) *RawMessage {
	b, _ := json.Marshal(v)
	m := RawMessage(b)
	return &m
}

// PushResult is push's aux: the manifest's digest and size.
type PushResult struct {
	Tag    string `json:"Tag"`
	Digest string `json:"Digest"`
	Size   int    `json:"Size"`
}

// region auth
// AuthConfig is a registry's credentials as clients send them: base64url
// JSON in the X-Registry-Auth header of pull and push, a JSON body to
// POST /auth (`docker login`).
type AuthConfig struct {
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	Auth          string `json:"auth,omitempty"` // base64 "user:password", as config.json keeps it
	ServerAddress string `json:"serveraddress,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// endregion auth

// DecodeAuth reads an X-Registry-Auth header (empty: no credentials).
// Docker's CLI sends URL-safe base64; old clients sent the standard kind.
func DecodeAuth(h string) (*AuthConfig, error) {
	if h == "" {
		return nil, nil
	}
	if len(h) > 64<<10 {
		return nil, fmt.Errorf("X-Registry-Auth is longer than 64 KiB")
	}
	b, err := base64.URLEncoding.DecodeString(h)
	if err != nil {
		if b, err = base64.StdEncoding.DecodeString(h); err != nil {
			if b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(h, "=")); err != nil {
				return nil, fmt.Errorf("X-Registry-Auth is not base64: %v", err)
			}
		}
	}
	var a AuthConfig
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("X-Registry-Auth is not JSON: %v", err)
	}
	if a == (AuthConfig{}) {
		return nil, nil
	}
	return &a, nil
}

// DecodeAuthConfigs reads X-Registry-Config, what the CLI sends with
// POST /build: base64 of a JSON map of registry to credentials (all it
// has: it cannot know which registries the Dockerfile's FROMs name).
func DecodeAuthConfigs(h string) (map[string]AuthConfig, error) {
	if h == "" {
		return nil, nil
	}
	if len(h) > 1<<20 {
		return nil, fmt.Errorf("X-Registry-Config is longer than 1 MiB")
	}
	b, err := base64.URLEncoding.DecodeString(h)
	if err != nil {
		if b, err = base64.StdEncoding.DecodeString(h); err != nil {
			return nil, fmt.Errorf("X-Registry-Config is not base64: %v", err)
		}
	}
	var m map[string]AuthConfig
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("X-Registry-Config is not JSON: %v", err)
	}
	return m, nil
}

// EncodeAuth is the X-Registry-Auth header for a.
func EncodeAuth(a *AuthConfig) string {
	if a == nil {
		return ""
	}
	b, _ := json.Marshal(a)
	return base64.URLEncoding.EncodeToString(b)
}

// Credentials are the user name and password of a, from either form.
func (a *AuthConfig) Credentials() (user, pass string) {
	if a == nil {
		return "", ""
	}
	if a.Username != "" || a.Password != "" {
		return a.Username, a.Password
	}
	if b, err := base64.StdEncoding.DecodeString(a.Auth); err == nil {
		user, pass, _ = strings.Cut(string(b), ":")
	}
	return user, pass
}

// AuthResponse is POST /auth's answer.
type AuthResponse struct {
	Status        string `json:"Status"`
	IdentityToken string `json:"IdentityToken,omitempty"`
}

// ImageHistoryItem is one line of `docker history`: GET /images/{name}/history.
type ImageHistoryItem struct {
	ID        string   `json:"Id"`
	Created   int64    `json:"Created"`
	CreatedBy string   `json:"CreatedBy"`
	Tags      []string `json:"Tags"`
	Size      int64    `json:"Size"`
	Comment   string   `json:"Comment"`
}

// DiskUsage is GET /system/df (`docker system df`), the images part.
type DiskUsage struct {
	LayersSize int64             `json:"LayersSize"`
	Images     []ImageSummary    `json:"Images"`
	Containers []Container       `json:"Containers"`
	Volumes    []Volume          `json:"Volumes"`
	BuildCache []json.RawMessage `json:"BuildCache"`
}
