// Package cgroups puts a container in its own control group (控制组) and
// writes its limits: memory, swap, CPU quota and shares, PIDs, cpusets. It
// detects at run time whether the machine has cgroup v2 (one tree, as on
// Ubuntu 24.04) or v1 (a tree per controller, as on Debian 12's hybrid
// setup) and writes the matching files. Chapter: docs/04-cgroups.md.
package cgroups
