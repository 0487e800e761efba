// Package container starts and runs containers: the namespaces (命名空间)
// created by clone(2), minidocker's own init as PID 1 (mounts the layers,
// pivot_root(2)s into them, starts the user's command, forwards signals,
// reaps zombies), the per-container monitor that outlives the CLI for -d,
// ptys for -t, logs, and exec into a running container. Chapters:
// docs/01-uts.md, docs/02-pid.md, docs/03-mnt-chroot.md, docs/07-final.md.
package container
