// Package network wires containers to the host. The default "bridge"
// network is a Linux bridge (网桥) minidocker0 with 172.29.0.1/16, one veth
// pair per container (one end on the bridge, the other renamed eth0 inside
// the container's network namespace), addresses handed out from a small
// IPAM file, and an iptables MASQUERADE rule so containers reach the
// outside. Modes: bridge (default), none (only lo), host (the host's stack).
// Chapter: docs/06-bridge-net.md.
//
// Growth: Mode is parsed in one place (ParseMode) and a bridge network is a
// value (Network), so user-defined networks (one bridge and IPAM file per
// network), container:X and published ports (-p, DNAT rules) add cases and
// values without changing how run calls Attach/Detach.
package network
