// Package pid1 is the container's first process: `minidocker init`, or the
// small program minidocker-init built from the same code. Started by clone(2)
// in the new namespaces, it reads its Spec, builds the container's world from
// inside (hostname, overlay root, pivot_root, /proc /sys /dev, lo), starts the
// user's command, then reaps orphans and forwards signals as tini does.
// It imports nothing of minidocker but this package, so that minidocker-init
// stays small: a Go program's start time grows with its size, and init's
// start is on the path of every `minidocker run`.
// Chapters: docs/01-uts.md to docs/03-mnt-chroot.md, docs/07-final.md.
package pid1
