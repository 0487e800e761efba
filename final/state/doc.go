// Package state keeps minidocker's records of containers under
// /var/lib/minidocker/containers/<id>/config.v2.json: one JSON file per
// container, written atomically (temp file + rename) while holding a lock
// (flock(2) on /var/lib/minidocker/.lock), so concurrent commands never see
// half a file or lose an update. Chapter: docs/07-final.md (state).
package state
