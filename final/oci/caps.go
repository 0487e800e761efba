package oci

import "github.com/minidocker/build-your-own-docker/final/security"

// capNumber is CAP_NAME's number (config.json spells them CAP_...),
// as minidocker's security code knows them.
func capNumber(name string) (int, bool) {
	n := security.CapNumber(name)
	return n, n >= 0
}
