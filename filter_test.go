package main

import (
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/net/bpf"
)

// ndFilter passes only IPv6 frames carrying an ICMPv6 Neighbor Solicitation
// or Advertisement directly after the fixed header: the solicitations we
// answer, and the gateway's answers to ours. Everything else stays in the
// kernel.
func ndFilter() []bpf.Instruction {
	return icmp6Filter(icmp6TypeNS, icmp6TypeNA)
}

// icmp6Filter passes IPv6 frames carrying ICMPv6 of type lo to hi.
func icmp6Filter(lo, hi uint32) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: ethOffType, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: ethTypeIPv6, SkipTrue: 6},
		bpf.LoadAbsolute{Off: ethHdrLen + ip6OffNextHeader, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: protoICMPv6, SkipTrue: 4},
		bpf.LoadAbsolute{Off: ethIP6Len + icmp6OffType, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpLessThan, Val: lo, SkipTrue: 2},
		bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: hi, SkipTrue: 1},
		bpf.RetConstant{Val: nsSnapLen},
		bpf.RetConstant{Val: 0},
	}
}

// TestFilterGolden runs the socket filter (NS and NA only) in x/net/bpf's VM over the golden
// frames; the kernel runs the same program in the integration tests.
func TestFilterGolden(t *testing.T) {
	vm, err := bpf.NewVM(ndFilter())
	if err != nil {
		t.Fatalf("bpf.NewVM: %v", err)
	}
	var f [naFrameLen]byte
	buildNA(&f, vpsMAC, routerMAC, container, routerLL, container, naFlagSolicited, vpsMAC)
	hbh := unhex(t, kernelNS)
	hbh[ethHdrLen+ip6OffNextHeader] = 0
	arp := unhex(t, kernelNS)
	arp[ethOffType], arp[ethOffType+1] = 0x08, 0x06
	icmpType := func(typ byte) []byte {
		b := unhex(t, kernelNS)
		b[ethIP6Len+icmp6OffType] = typ
		return b
	}
	for _, tt := range []struct {
		name  string
		frame []byte
		pass  bool
	}{
		{"multicast NS", unhex(t, kernelNS), true},
		{"DAD NS", unhex(t, kernelDAD), true},
		{"unicast probe", unhex(t, kernelProbe), true},
		{"NA", f[:], true},
		{"router advertisement", icmpType(134), false},
		{"redirect", icmpType(137), false},
		{"echo request", icmpType(128), false},
		{"NS behind a hop-by-hop header", hbh, false},
		{"ARP", arp, false},
		{"runt", []byte{1, 2, 3}, false},
	} {
		n, err := vm.Run(tt.frame)
		if err != nil {
			t.Errorf("%s: vm.Run = %v", tt.name, err)
			continue
		}
		// The kernel keeps min(n, frame length) bytes.
		if pass := n > 0; pass != tt.pass || (pass && n < len(tt.frame)) {
			t.Errorf("%s: filter returns %d for a frame of %d bytes, want pass=%v", tt.name, n, len(tt.frame), tt.pass)
		}
	}
}

// TestFilterAssembly: the program the daemon loads is what x/net/bpf
// assembles from ndFilter.
func TestFilterAssembly(t *testing.T) {
	prog, err := bpf.Assemble(ndFilter())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(prog, ndFilterProgram) {
		t.Errorf("bpf.Assemble(ndFilter()) = %v\nwant ndFilterProgram %v", prog, ndFilterProgram)
	}
}

func TestSolicitedNodeGroups(t *testing.T) {
	p := func(s string) []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix(s)} }
	if g, all := solicitedNodeGroups(p("2001:db8:1:2:646f:636b:6572::/112")); !all || g != nil {
		t.Errorf("a /112 joins %d groups, all=%v; want all multicast", len(g), all)
	}
	g, all := solicitedNodeGroups(p("2001:db8:1:2:646f:636b:6572:c0/124"))
	if all || len(g) != 16 || g[0] != (mac{0x33, 0x33, 0xff, 0x72, 0, 0xc0}) || g[15] != (mac{0x33, 0x33, 0xff, 0x72, 0, 0xcf}) {
		t.Errorf("a /124 joins %v, all=%v; want the 16 groups 33:33:ff:72:00:c0 to cf", g, all)
	}
	// Two /128s whose low 24 bits agree share one group.
	two := append(p("2001:db8::1:2:3/128"), netip.MustParsePrefix("2001:db8::9:2:3/128"))
	if g, all := solicitedNodeGroups(two); all || len(g) != 1 {
		t.Errorf("two /128s with one group join %v, all=%v", g, all)
	}
}
