package main

// What reaches the daemon: the classic BPF program on the packet socket,
// and the multicast groups it must receive.

import (
	"net/netip"

	"golang.org/x/net/bpf"
)

// nsSnapLen is how much of a frame the filter keeps. An NS is 78 to 94 bytes
// in practice; more is kept so that the checksum can be verified over
// whatever a sender adds, and a longer frame is cut short and so dropped as
// truncated.
const nsSnapLen = 1514

// ndFilterProgram is the socket filter as x/net/bpf assembles it from
// instructions, which TestFilterAssembly checks. The daemon loads this
// form: bpf.Assemble links package fmt through its error messages (about
// 0.16 MB of binary, resident memory on small boxes; deps_test.go).
var ndFilterProgram = []bpf.RawInstruction{
	{Op: 0x28, K: ethOffType},                   // ldh [12]
	{Op: 0x15, Jf: 6, K: ethTypeIPv6},           // jeq #0x86dd, else drop
	{Op: 0x30, K: ethHdrLen + ip6OffNextHeader}, // ldb [20]
	{Op: 0x15, Jf: 4, K: protoICMPv6},           // jeq #58, else drop
	{Op: 0x30, K: ethIP6Len + icmp6OffType},     // ldb [54]
	{Op: 0x35, Jf: 2, K: icmp6TypeNS},           // jge #135, else drop
	{Op: 0x25, Jt: 1, K: icmp6TypeNA},           // jgt #136: drop
	{Op: 0x06, K: nsSnapLen},                    // ret #1514
	{Op: 0x06, K: 0},                            // ret #0
}

// maxGroups is how many solicited-node groups we join one by one before
// asking for all multicast instead: NICs filter a few dozen groups exactly
// and fall back to hashing or all-multicast beyond that anyway.
const maxGroups = 64

// solicitedNodeGroups returns the Ethernet groups an NS for any target in
// ranges is sent to, or all=true when there are more than maxGroups of them.
// A solicited-node address keeps a target's low 24 bits, so a range of /104
// or wider maps onto every group.
func solicitedNodeGroups(ranges []netip.Prefix) (groups []mac, all bool) {
	if len(ranges) == 0 {
		return nil, true // Docker's containers may have any address
	}
	seen := make(map[mac]bool)
	for _, p := range ranges {
		host := 128 - p.Bits()
		if host > 24 || len(seen)+(1<<host) > maxGroups {
			return nil, true
		}
		base := p.Masked().Addr().As16()
		for i := 0; i < 1<<host; i++ {
			a := base
			v := uint32(a[13])<<16 | uint32(a[14])<<8 | uint32(a[15]) | uint32(i)
			a[13], a[14], a[15] = byte(v>>16), byte(v>>8), byte(v)
			m := multicastMAC(solicitedNode(netip.AddrFrom16(a)))
			if !seen[m] {
				seen[m] = true
				groups = append(groups, m)
			}
		}
	}
	return groups, false
}
