package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/reference"
)

// hubKey is the key Docker Hub's credentials have in config.json, from
// the days of the v1 index.
const hubKey = "https://index.docker.io/v1/"

// region credentials
// ConfigPath is the docker CLI's own config file, $DOCKER_CONFIG/config.json
// or ~/.docker/config.json: `minidocker login` and `docker login` share it,
// so a login with one works for the other. Credentials sit there as
// base64("user:password"): encoded, not encrypted, hence the file's 0600.
func ConfigPath() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".docker", "config.json")
}

// endregion credentials

// ServerKey is a registry's address as config.json keys it: host[:port],
// or Docker Hub's historic URL.
func ServerKey(server string) (string, error) {
	s := strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	if s == "" || s == "docker.io" || s == "index.docker.io" || s == "registry-1.docker.io" {
		return hubKey, nil
	}
	if _, err := reference.Parse(s + "/x"); err != nil {
		return "", fmt.Errorf("invalid registry address %q", server)
	}
	return s, nil
}

func readConfig() (map[string]json.RawMessage, map[string]types.AuthConfig, error) {
	all := map[string]json.RawMessage{}
	auths := map[string]types.AuthConfig{}
	b, err := os.ReadFile(ConfigPath())
	if os.IsNotExist(err) {
		return all, auths, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &all); err != nil {
			return nil, nil, fmt.Errorf("%s is not JSON: %v", ConfigPath(), err)
		}
	}
	if a, ok := all["auths"]; ok {
		json.Unmarshal(a, &auths)
	}
	return all, auths, nil
}

// LookupAuth is the stored credentials for a registry (its domain as a
// reference has it), or nil.
func LookupAuth(domain string) *types.AuthConfig {
	key, err := ServerKey(domain)
	if err != nil {
		return nil
	}
	_, auths, err := readConfig()
	if err != nil {
		return nil
	}
	for k, a := range auths {
		if k2, _ := ServerKey(k); k2 == key && (a.Auth != "" || a.Username != "" || a.IdentityToken != "") {
			a.ServerAddress = k
			return &a
		}
	}
	return nil
}

// StoreAuth writes (or, with user empty, removes) a registry's credentials,
// keeping every other setting of the file, mode 0600.
func StoreAuth(server, user, pass string) error {
	key, err := ServerKey(server)
	if err != nil {
		return err
	}
	all, auths, err := readConfig()
	if err != nil {
		return err
	}
	for k := range auths {
		if k2, _ := ServerKey(k); k2 == key {
			delete(auths, k)
		}
	}
	if user != "" {
		auths[key] = types.AuthConfig{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
	}
	a, _ := json.Marshal(auths)
	all["auths"] = a
	b, _ := json.MarshalIndent(all, "", "\t")
	if err := os.MkdirAll(filepath.Dir(ConfigPath()), 0700); err != nil {
		return err
	}
	tmp := ConfigPath() + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0600); err != nil {
		return err
	}
	return os.Rename(tmp, ConfigPath())
}

// region login
// Login checks credentials against a registry, as `docker login` does:
// ping /v2/; a Basic registry must then answer GET /v2/ with 200 for the
// user's password; a Bearer one must give a token for it.
func Login(ctx context.Context, server string, o Options) error {
	key, err := ServerKey(server)
	if err != nil {
		return err
	}
	host := strings.TrimPrefix(key, "https://index.docker.io/v1/")
	if host == "" {
		host = reference.DefaultDomain
	}
	ref, _ := reference.Parse(host + "/library/x")
	r, err := Open(ctx, ref, "pull", o)
	if err != nil {
		return err
	}
	switch {
	case r.basic:
		resp, err := r.do(ctx, http.MethodGet, "/v2/", nil, 0, nil, ref.Path)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%w: login to %s: %s", ErrDenied, host, resp.Status)
		}
	case r.realm.scheme == "bearer":
		if _, err := r.bearer(ctx, ""); err != nil {
			return fmt.Errorf("login to %s: %v", host, err)
		}
	}
	return nil
}

// endregion login
