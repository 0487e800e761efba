// Package security decides what a container may do, before it starts:
// the capabilities it keeps, the system calls it may make (a seccomp
// filter, compiled here to classic BPF), the paths of /proc and /sys it
// must not see or change, the devices it may open, and what --privileged
// and --security-opt change. Docker's defaults are the policy, letter for
// letter where they exist. The container's init (package pid1) applies
// the result from inside, just before the user's command starts; this
// package runs in minidocker (the CLI or the daemon), so that init stays
// small. Chapter: docs/10-security.md.
package security
