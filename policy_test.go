package main

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
)

// The responder under test is the VPS (vpsMAC) answering for a /112 of
// containers on its uplink. The uplink's own addresses are a global one
// outside the range, the bridge's address inside it, and a link-local one.
var (
	policyRange    = netip.MustParsePrefix("2001:db8:1:2:646f:636b:6572::/112")
	uplinkGlobal   = netip.MustParseAddr("2001:db8:1:2::2")
	uplinkInRange  = netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:1")
	uplinkLL       = netip.MustParseAddr("fe80::ff:fe00:2")
	otherContainer = netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c2")
	fixedSource    = netip.MustParseAddr("2001:db8:1:2::53")
	peerMAC        = mac{0x02, 0, 0, 0, 0, 0x03} // a third host on the link
)

func testUplink() *uplink {
	return &uplink{MAC: vpsMAC, Addrs: []netip.Addr{uplinkGlobal, uplinkInRange, uplinkLL}, LinkLocal: uplinkLL}
}

// testResponder answers for ranges (policyRange when nil) on link.
func testResponder(ranges []netip.Prefix, source sourceMode, fixed netip.Addr, router bool, link *uplink) *responder {
	if ranges == nil {
		ranges = []netip.Prefix{policyRange}
	}
	r := newResponder(ranges, source, fixed, router)
	r.link.Store(link)
	return r
}

// routerNS is the router's multicast NS for target, sent to the target's
// solicited-node group as the kernel sends it.
func routerNS(target netip.Addr) []byte {
	g := solicitedNode(target)
	return appendNS(nil, routerMAC, multicastMAC(g), routerLL, g, target, [6]byte{})
}

// withEthSrc returns b with its Ethernet source replaced; the ICMPv6
// checksum does not cover it.
func withEthSrc(b []byte, m mac) []byte {
	copy(b[ethOffSrc:], m[:])
	return b
}

// dadInRange is kernelDAD from a peer, for a target moved into the range:
// the target, the IPv6 and the Ethernet destination follow it, and the
// checksum is fixed.
func dadInRange(t *testing.T, target netip.Addr) []byte {
	b := withEthSrc(unhex(t, kernelDAD), peerMAC)
	g := solicitedNode(target)
	gm := multicastMAC(g)
	copy(b[ethOffDst:], gm[:])
	copy(b[ethHdrLen+ip6OffDst:], g.AsSlice())
	copy(b[ethIP6Len+ndOffTarget:], target.AsSlice())
	fixChecksum(b)
	return b
}

// probeWithoutSLLA is kernelProbe with its source link-layer option cut
// off, which RFC 4861 §4.3 allows in a unicast solicitation.
func probeWithoutSLLA(t *testing.T) []byte {
	b := unhex(t, kernelProbe)
	b = b[:ethIP6Len+nsLen]
	binary.BigEndian.PutUint16(b[ethHdrLen+ip6OffPayloadLen:], nsLen)
	fixChecksum(b)
	return b
}

// TestAnswerGolden: the answer to the kernel's solicitation is, byte for
// byte, the NA that tcpdump and a separate checksum computation vouch for.
func TestAnswerGolden(t *testing.T) {
	r := testResponder(nil, sourceTarget, netip.Addr{}, false, testUplink())
	ns := unhex(t, kernelNS)
	var na [naFrameLen]byte
	if got := r.answer(ns, &na, 1); got != reasonNone {
		t.Fatalf("answer(%x) = %v, want %v", ns, got, reasonNone)
	}
	if want := unhex(t, wantNA); !bytes.Equal(na[:], want) {
		t.Errorf("answer(%x) wrote %x\nwant %x", ns, na, want)
	}
}

func TestAnswer(t *testing.T) {
	const so = naFlagSolicited | naFlagOverride
	peerSrc := netip.MustParseAddr("2001:db8:1:2::99")
	first := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:0")
	last := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:ffff")
	second := netip.MustParsePrefix("2001:db8:1:2:7777::/80")
	inSecond := netip.MustParseAddr("2001:db8:1:2:7777::42")
	tests := []struct {
		name   string
		frame  []byte
		ranges []netip.Prefix // policyRange when nil
		source sourceMode
		fixed  netip.Addr
		router bool
		// The NA's IPv6 source, destination and target, and its
		// Ethernet destination; the rest is the same for every answer.
		src, dst, target netip.Addr
		ethDst           mac
		flags            uint8
	}{
		{name: "multicast NS", frame: unhex(t, kernelNS),
			src: container, dst: routerLL, target: container, ethDst: routerMAC, flags: so},
		{name: "multicast NS, -router", frame: unhex(t, kernelNS), router: true,
			src: container, dst: routerLL, target: container, ethDst: routerMAC, flags: naFlagRouter | so},
		{name: "unicast probe to our MAC", frame: unhex(t, kernelProbe),
			src: container, dst: routerLL, target: container, ethDst: routerMAC, flags: so},
		{name: "unicast probe without a source link-layer option", frame: probeWithoutSLLA(t),
			src: container, dst: routerLL, target: container, ethDst: routerMAC, flags: so},
		{name: "NS from a peer's global address",
			frame: appendNS(nil, peerMAC, multicastMAC(solicitedNode(otherContainer)), peerSrc, solicitedNode(otherContainer), otherContainer, [6]byte{}),
			src:   otherContainer, dst: peerSrc, target: otherContainer, ethDst: peerMAC, flags: so},
		{name: "first address of the range", frame: routerNS(first),
			src: first, dst: routerLL, target: first, ethDst: routerMAC, flags: so},
		{name: "last address of the range", frame: routerNS(last),
			src: last, dst: routerLL, target: last, ethDst: routerMAC, flags: so},
		{name: "target in the second range", frame: routerNS(inSecond), ranges: []netip.Prefix{policyRange, second},
			src: inSecond, dst: routerLL, target: inSecond, ethDst: routerMAC, flags: so},
		{name: "-source link-local", frame: unhex(t, kernelNS), source: sourceLinkLocal,
			src: uplinkLL, dst: routerLL, target: container, ethDst: routerMAC, flags: so},
		{name: "-source link-local, unicast probe", frame: unhex(t, kernelProbe), source: sourceLinkLocal,
			src: uplinkLL, dst: routerLL, target: container, ethDst: routerMAC, flags: so},
		{name: "-source fixed", frame: unhex(t, kernelNS), source: sourceFixed, fixed: fixedSource,
			src: fixedSource, dst: routerLL, target: container, ethDst: routerMAC, flags: so},
		{name: "-source fixed, -router", frame: unhex(t, kernelNS), source: sourceFixed, fixed: fixedSource, router: true,
			src: fixedSource, dst: routerLL, target: container, ethDst: routerMAC, flags: naFlagRouter | so},
		{name: "to the source link-layer option, not the frame's source", frame: withEthSrc(routerNS(container), peerMAC),
			src: container, dst: routerLL, target: container, ethDst: routerMAC, flags: so},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testResponder(tt.ranges, tt.source, tt.fixed, tt.router, testUplink())
			var f [naFrameLen]byte
			if got := r.answer(tt.frame, &f, 1); got != reasonNone {
				t.Fatalf("answer(%x) = %v, want %v", tt.frame, got, reasonNone)
			}
			var na neighborAdvertisement
			if err := parseNA(f[:], &na); err != nil {
				t.Fatalf("parseNA(answer(%x)) = %v, want a valid NA", tt.frame, err)
			}
			want := neighborAdvertisement{
				EthDst: tt.ethDst, EthSrc: vpsMAC,
				Src: tt.src, Dst: tt.dst, Flags: tt.flags, Target: tt.target,
				TargetLLA: vpsMAC, HasTargetLLA: true,
			}
			if na != want {
				t.Errorf("answer(%x) = %+v, want %+v", tt.frame, na, want)
			}
		})
	}
}

func TestAnswerIgnored(t *testing.T) {
	probeElsewhere := unhex(t, kernelProbe)
	copy(probeElsewhere[ethOffDst:], peerMAC[:])
	noLL := &uplink{MAC: vpsMAC, Addrs: []netip.Addr{uplinkGlobal, uplinkInRange}}
	gwInRange := testUplink()
	gwInRange.Gateway = otherContainer
	broadcast, zero, group := mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac{}, mac{0x33, 0x33, 0, 0, 0, 1}
	// nsWithSLLA is the router's NS for container whose source link-layer
	// option names m; the Ethernet source stays the router's.
	nsWithSLLA := func(m mac) []byte {
		return withEthSrc(appendNS(nil, m, multicastMAC(solicitedNode(container)), routerLL, solicitedNode(container), container, [6]byte{}), routerMAC)
	}
	tests := []struct {
		name   string
		frame  []byte
		source sourceMode
		link   *uplink // testUplink() when nil
		want   reason
	}{
		{name: "unicast NS to another MAC", frame: probeElsewhere, want: reasonNotForUs},
		{name: "unicast NS to another MAC, multicast IPv6 destination",
			frame: appendNS(nil, routerMAC, peerMAC, routerLL, solicitedNode(container), container, [6]byte{}), want: reasonNotForUs},
		{name: "unicast NS to our MAC for another address",
			frame: appendNS(nil, routerMAC, vpsMAC, routerLL, otherContainer, container, [6]byte{}), want: reasonNotForUs},
		{name: "multicast frame to a unicast IPv6 address not the target",
			frame: appendNS(nil, routerMAC, multicastMAC(solicitedNode(container)), routerLL, otherContainer, container, [6]byte{}), want: reasonNotForUs},
		{name: "DAD probe in range", frame: dadInRange(t, container), want: reasonDAD},
		{name: "DAD probe in range, -source link-local", frame: dadInRange(t, container), source: sourceLinkLocal, want: reasonDAD},
		{name: "DAD probe for our own address", frame: dadInRange(t, uplinkInRange), want: reasonDAD},
		{name: "DAD probe out of range, from a peer", frame: withEthSrc(unhex(t, kernelDAD), peerMAC), want: reasonDAD},
		{name: "target outside every range", frame: routerNS(netip.MustParseAddr("2001:db8:ffff::1")), want: reasonOutOfRange},
		{name: "target just past the range", frame: routerNS(netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:0")), want: reasonOutOfRange},
		{name: "target just before the range", frame: routerNS(netip.MustParseAddr("2001:db8:1:2:646f:636b:6571:ffff")), want: reasonOutOfRange},
		{name: "link-local target", frame: routerNS(uplinkLL), want: reasonOutOfRange},
		{name: "the uplink's own address in range", frame: routerNS(uplinkInRange), want: reasonOwnAddress},
		{name: "the uplink's own address in range, unicast probe",
			frame: appendNS(nil, routerMAC, vpsMAC, routerLL, uplinkInRange, uplinkInRange, [6]byte{}), want: reasonOwnAddress},
		{name: "our own frame", frame: withEthSrc(unhex(t, kernelNS), vpsMAC), want: reasonOwnFrame},
		{name: "our own frame, as the kernel's DAD probe", frame: unhex(t, kernelDAD), want: reasonOwnFrame},
		{name: "our own frame, malformed", frame: withEthSrc(unhex(t, kernelNS), vpsMAC)[:40], want: reasonOwnFrame},
		{name: "-source link-local without a link-local address", frame: unhex(t, kernelNS), source: sourceLinkLocal, link: noLL, want: reasonNoSource},
		{name: "-source link-local without a link-local address, probe", frame: unhex(t, kernelProbe), source: sourceLinkLocal, link: noLL, want: reasonNoSource},
		{name: "the gateway's address in range", frame: routerNS(otherContainer), link: gwInRange, want: reasonGatewayAddress},
		{name: "from the broadcast address", frame: withEthSrc(routerNS(container), broadcast), want: reasonBadLinkAddress},
		{name: "from the zero address", frame: withEthSrc(routerNS(container), zero), want: reasonBadLinkAddress},
		{name: "from a group address", frame: withEthSrc(routerNS(container), group), want: reasonBadLinkAddress},
		{name: "a broadcast source link-layer option", frame: nsWithSLLA(broadcast), want: reasonBadLinkAddress},
		{name: "a zero source link-layer option", frame: nsWithSLLA(zero), want: reasonBadLinkAddress},
		{name: "unicast probe without an option, from the zero address", frame: withEthSrc(probeWithoutSLLA(t), zero), want: reasonBadLinkAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			link := tt.link
			if link == nil {
				link = testUplink()
			}
			r := testResponder(nil, tt.source, netip.Addr{}, false, link)
			var na [naFrameLen]byte
			if got := r.answer(tt.frame, &na, 1); got != tt.want {
				t.Errorf("answer(%x) = %v, want %v", tt.frame, got, tt.want)
			}
			if na != ([naFrameLen]byte{}) {
				t.Errorf("answer(%x) wrote an NA %x, want none", tt.frame, na)
			}
		})
	}
}

// TestAnswerMalformed: every frame parseNS refuses is refused by answer
// too, for the same reason, and nothing is written.
func TestAnswerMalformed(t *testing.T) {
	for _, tt := range malformedNS {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(t, tt.frame)
			if mac(b[ethOffSrc:]) == vpsMAC {
				// kernelDAD came from gb0, which is vpsMAC: let a peer
				// send it, or it is our own frame.
				withEthSrc(b, peerMAC)
			}
			b = tt.change(b)
			if tt.want != reasonChecksum {
				fixChecksum(b)
			}
			r := testResponder(nil, sourceTarget, netip.Addr{}, false, testUplink())
			var na [naFrameLen]byte
			if got := r.answer(b, &na, 1); got != tt.want {
				t.Errorf("answer(%x) = %v, want %v", b, got, tt.want)
			}
			if na != ([naFrameLen]byte{}) {
				t.Errorf("answer(%x) wrote an NA %x, want none", b, na)
			}
		})
	}
}

// TestAnswerFollowsUplink: a new snapshot of the uplink takes effect on the
// next frame: a new MAC in the NA, a probe to the old MAC not ours.
func TestAnswerFollowsUplink(t *testing.T) {
	r := testResponder(nil, sourceTarget, netip.Addr{}, false, testUplink())
	probe := unhex(t, kernelProbe)
	var f [naFrameLen]byte
	if got := r.answer(probe, &f, 1); got != reasonNone {
		t.Fatalf("answer(%x) = %v, want %v", probe, got, reasonNone)
	}
	u := testUplink()
	u.MAC = peerMAC
	r.link.Store(u)
	if got := r.answer(probe, &f, 1); got != reasonNotForUs {
		t.Errorf("after a MAC change, answer(%x) = %v, want %v", probe, got, reasonNotForUs)
	}
	ns := unhex(t, kernelNS)
	if got := r.answer(ns, &f, 1); got != reasonNone {
		t.Fatalf("after a MAC change, answer(%x) = %v, want %v", ns, got, reasonNone)
	}
	var na neighborAdvertisement
	if err := parseNA(f[:], &na); err != nil || na.EthSrc != peerMAC || na.TargetLLA != peerMAC {
		t.Errorf("after a MAC change, answer(%x) = %+v, %v; want Ethernet source and TLLA %v", ns, na, err, peerMAC)
	}
	own := withEthSrc(unhex(t, kernelNS), peerMAC)
	if got := r.answer(own, &f, 1); got != reasonOwnFrame {
		t.Errorf("after a MAC change, answer(%x) = %v, want %v", own, got, reasonOwnFrame)
	}
}

// TestAnswerAllocs: the per-packet decision allocates nothing, whether it
// answers or not.
func TestAnswerAllocs(t *testing.T) {
	r := testResponder(nil, sourceTarget, netip.Addr{}, false, testUplink())
	tests := []struct {
		name  string
		frame []byte
		want  reason
	}{
		{"answered multicast NS", unhex(t, kernelNS), reasonNone},
		{"answered unicast probe", unhex(t, kernelProbe), reasonNone},
		{"out of range", routerNS(netip.MustParseAddr("2001:db8:ffff::1")), reasonOutOfRange},
		{"DAD probe", dadInRange(t, container), reasonDAD},
		{"malformed", unhex(t, kernelNS)[:60], reasonTruncated},
		{"own frame", unhex(t, kernelDAD), reasonOwnFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var na [naFrameLen]byte
			if got := r.answer(tt.frame, &na, 1); got != tt.want {
				t.Fatalf("answer(%x) = %v, want %v", tt.frame, got, tt.want)
			}
			if n := testing.AllocsPerRun(1000, func() { r.answer(tt.frame, &na, 1) }); n != 0 {
				t.Errorf("answer(%x): %v allocations per run, want 0", tt.frame, n)
			}
		})
	}
}

// newResponder makes a responder with an unlimited budget; configure
// sets the rest of a configuration.
func newResponder(ranges []netip.Prefix, source sourceMode, fixed netip.Addr, router bool) *responder {
	r := &responder{}
	r.configure(&config{ranges: ranges, source: source, fixed: fixed, router: router})
	return r
}

// FuzzAnswer drives the whole decision with any frame (as it comes, and
// with its checksum made right) under each source mode, and holds it to
// what must never happen: an NA for a target outside the ranges or one of
// the uplink's or the gateway's own, to a group or zero MAC, from ::, or
// that is not an answer to this solicitation.
func FuzzAnswer(f *testing.F) {
	for _, s := range []string{kernelNS, kernelProbe, kernelDAD} {
		f.Add(unhex(f, s), uint8(0))
	}
	f.Add(routerNS(container), uint8(1))
	f.Add(withEthSrc(routerNS(otherContainer), peerMAC), uint8(2))
	link := testUplink()
	link.Gateway = netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:fe")
	f.Fuzz(func(t *testing.T, b []byte, mode uint8) {
		source := sourceMode(mode % 3)
		r := testResponder(nil, source, fixedSource, mode&4 != 0, link)
		for _, fix := range []bool{false, true} {
			if fix {
				b = slices.Clone(b)
				fixChecksum(b)
			}
			var f [naFrameLen]byte
			if r.answer(b, &f, int64(mode)) != reasonNone {
				if f != ([naFrameLen]byte{}) {
					t.Fatalf("answer(%x) refused it but wrote %x", b, f)
				}
				continue
			}
			var ns neighborSolicitation
			if err := parseNS(b, &ns); err != nil {
				t.Fatalf("answer(%x) answered what parseNS refuses: %v", b, err)
			}
			var na neighborAdvertisement
			if err := parseNA(f[:], &na); err != nil {
				t.Fatalf("answer(%x) wrote an NA that does not parse: %v", b, err)
			}
			switch {
			case !policyRange.Contains(na.Target):
				t.Fatalf("answer(%x): NA for %v, outside %v", b, na.Target, policyRange)
			case link.owns(na.Target) || na.Target == link.Gateway:
				t.Fatalf("answer(%x): NA for the uplink's or the gateway's own %v", b, na.Target)
			case !na.EthDst.isUnicast():
				t.Fatalf("answer(%x): NA to %v", b, na.EthDst)
			case na.Src.IsUnspecified() || na.Dst.IsUnspecified():
				t.Fatalf("answer(%x): NA from %v to %v", b, na.Src, na.Dst)
			case na.Target != ns.Target || na.Dst != ns.Src || na.EthSrc != vpsMAC:
				t.Fatalf("answer(%x): NA %+v does not answer %+v", b, na, ns)
			}
		}
	})
}
