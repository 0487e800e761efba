// Package network wires containers to the host. A bridge network is a Linux
// bridge (网桥) with a subnet: the default "bridge" network is minidocker0
// with 172.29.0.1/16, user networks (`network create`) get md-<id> bridges.
// Each container gets one veth pair (one end on the bridge, the other
// renamed eth0 inside the container's network namespace) and an address
// from the network's IPAM file, taken under the engine lock. iptables rules,
// all tagged with the comment "minidocker": MASQUERADE so containers reach
// the outside, MINIDOCKER-ISOLATION-1/2 so networks cannot reach each other,
// and for -p a DNAT rule (reached from PREROUTING and OUTPUT) plus a
// FORWARD accept. Modes: bridge or a network's name, none (only lo), host
// (the host's stack), container:C (C's network namespace).
// Chapters: docs/06-bridge-net.md (the bridge), docs/08-networking.md.
package network
