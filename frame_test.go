package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"ndpresponder/internal/rtnl/rtnltest"
)

// unhex decodes hex with whitespace and "//" comments, as golden frames are
// written below: the format of the netlink goldens, which rtnltest reads.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	return rtnltest.Unhex(t, s)
}

var (
	routerMAC = mac{0x02, 0, 0, 0, 0, 0x01}
	vpsMAC    = mac{0x02, 0, 0, 0, 0, 0x02}
	routerLL  = netip.MustParseAddr("fe80::ff:fe00:1")
	container = netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c1")
)

// Golden frames captured from Linux 6.18 in two network namespaces joined
// by a veth pair (ga0 02:00:00:00:00:01, gb0 02:00:00:00:00:02), with
//
//	ip -n gA -6 route add 2001:db8:1:2::/64 dev ga0
//	ip netns exec gB tcpdump -ni gb0 -xx 'icmp6 and ip6[40]==135'
//
// kernelNS: the kernel of gA resolving an on-link address, for
// "ip netns exec gA ping 2001:db8:1:2:646f:636b:6572:c1".
const kernelNS = `
	3333ff7200c1 020000000001 86dd          // Ethernet: to the solicited-node group, from ga0
	60000000 0020 3a ff                     // IPv6: payload 32, ICMPv6, hop limit 255
	fe80000000000000000000fffe000001        //   src fe80::ff:fe00:1
	ff0200000000000000000001ff7200c1        //   dst ff02::1:ff72:c1
	87 00 1d1f 00000000                     // ICMPv6 NS, checksum, reserved
	20010db800010002646f636b657200c1        //   target 2001:db8:1:2:646f:636b:6572:c1
	0101 020000000001                       //   source link-layer address option
`

// kernelDAD: the kernel of gB probing a new address before using it, for
// "ip -n gB -6 addr add 2001:db8:1:2::2/64 dev gb0".
const kernelDAD = `
	3333ff000002 020000000002 86dd          // Ethernet
	60000000 0020 3a ff                     // IPv6
	00000000000000000000000000000000        //   src ::
	ff0200000000000000000001ff000002        //   dst ff02::1:ff00:2
	87 00 7340 00000000                     // ICMPv6 NS
	20010db8000100020000000000000002        //   target 2001:db8:1:2::2
	0e01 e5798cc15963                       //   nonce option (RFC 3971), no SLLA
`

// kernelProbe: the kernel of gA confirming a STALE entry with a unicast NS
// (RFC 4861 §7.3.3), after
//
//	ip -n gA -6 neigh replace 2001:db8:1:2:646f:636b:6572:c1 lladdr 02:00:00:00:00:02 dev ga0 nud stale
//	ip netns exec gA ping 2001:db8:1:2:646f:636b:6572:c1
const kernelProbe = `
	020000000002 020000000001 86dd          // Ethernet: unicast to gb0's MAC
	60000000 0020 3a ff                     // IPv6
	fe80000000000000000000fffe000001        //   src fe80::ff:fe00:1
	20010db800010002646f636b657200c1        //   dst: the target itself
	87 00 c08c 00000000                     // ICMPv6 NS
	20010db800010002646f636b657200c1        //   target
	0101 020000000001                       //   source link-layer address option
`

// wantNA is our answer to kernelNS from gb0 (02:00:00:00:00:02). The
// checksum was computed apart from this code, by a Python one-liner over the
// pseudo-header, and tcpdump -vv reads it as "icmp6 sum ok".
const wantNA = `
	020000000001 020000000002 86dd          // Ethernet: to the solicitor, from us
	60000000 0020 3a ff                     // IPv6: payload 32, ICMPv6, hop limit 255
	20010db800010002646f636b657200c1        //   src: the target
	fe80000000000000000000fffe000001        //   dst: the solicitor
	88 00 5e8b 60000000                     // ICMPv6 NA, checksum, flags S|O
	20010db800010002646f636b657200c1        //   target
	0201 020000000002                       //   target link-layer address option: us
`

func TestParseNSGolden(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  neighborSolicitation
	}{
		{"multicast", kernelNS, neighborSolicitation{
			EthDst: mac{0x33, 0x33, 0xff, 0x72, 0x00, 0xc1}, EthSrc: routerMAC, HopLimit: 255,
			Src: routerLL, Dst: netip.MustParseAddr("ff02::1:ff72:c1"), Target: container,
			SourceLLA: routerMAC, HasSourceLLA: true,
		}},
		{"dad", kernelDAD, neighborSolicitation{
			EthDst: mac{0x33, 0x33, 0xff, 0x00, 0x00, 0x02}, EthSrc: vpsMAC, HopLimit: 255,
			Src: netip.IPv6Unspecified(), Dst: netip.MustParseAddr("ff02::1:ff00:2"),
			Target: netip.MustParseAddr("2001:db8:1:2::2"),
		}},
		{"probe", kernelProbe, neighborSolicitation{
			EthDst: vpsMAC, EthSrc: routerMAC, HopLimit: 255,
			Src: routerLL, Dst: container, Target: container,
			SourceLLA: routerMAC, HasSourceLLA: true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(t, tt.frame)
			var got neighborSolicitation
			if err := parseNS(b, &got); err != nil || got != tt.want {
				t.Errorf("parseNS(%x) = %+v, %v; want %+v", b, got, err, tt.want)
			}
		})
	}
}

func TestBuildNAGolden(t *testing.T) {
	var f [naFrameLen]byte
	buildNA(&f, vpsMAC, routerMAC, container, routerLL, container, naFlagSolicited|naFlagOverride, vpsMAC)
	if want := unhex(t, wantNA); !bytes.Equal(f[:], want) {
		t.Errorf("buildNA = %x\nwant       %x", f, want)
	}
	var na neighborAdvertisement
	if err := parseNA(f[:], &na); err != nil {
		t.Fatalf("parseNA(buildNA) = %v", err)
	}
	want := neighborAdvertisement{EthDst: routerMAC, EthSrc: vpsMAC, Src: container, Dst: routerLL,
		Flags: naFlagSolicited | naFlagOverride, Target: container, TargetLLA: vpsMAC, HasTargetLLA: true}
	if na != want {
		t.Errorf("parseNA(buildNA) = %+v, want %+v", na, want)
	}
}

// TestAppendNSMatchesKernel builds the three captured solicitations anew:
// what we send when we solicit is what the kernel sends.
func TestAppendNSMatchesKernel(t *testing.T) {
	tests := []struct {
		name             string
		frame            string
		ethDst, ethSrc   mac
		src, dst, target netip.Addr
		nonce            [6]byte
	}{
		{"multicast", kernelNS, multicastMAC(solicitedNode(container)), routerMAC, routerLL, solicitedNode(container), container, [6]byte{}},
		{"dad", kernelDAD, mac{0x33, 0x33, 0xff, 0, 0, 2}, vpsMAC, netip.IPv6Unspecified(),
			netip.MustParseAddr("ff02::1:ff00:2"), netip.MustParseAddr("2001:db8:1:2::2"), [6]byte{0xe5, 0x79, 0x8c, 0xc1, 0x59, 0x63}},
		{"probe", kernelProbe, vpsMAC, routerMAC, routerLL, container, container, [6]byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendNS(nil, tt.ethSrc, tt.ethDst, tt.src, tt.dst, tt.target, tt.nonce)
			if want := unhex(t, tt.frame); !bytes.Equal(got, want) {
				t.Errorf("appendNS = %x\nwant        %x", got, want)
			}
		})
	}
}

// fixChecksum recomputes the ICMPv6 checksum of an ND frame after a test
// changed it, so that only the change under test is wrong.
func fixChecksum(b []byte) {
	if len(b) < ethIP6Len+4 {
		return
	}
	icmp := b[ethIP6Len:]
	if plen := int(binary.BigEndian.Uint16(b[ethHdrLen+ip6OffPayloadLen:])); plen <= len(icmp) {
		icmp = icmp[:plen]
	}
	if len(icmp) < icmp6OffChecksum+2 {
		return
	}
	src := netip.AddrFrom16([16]byte(b[ethHdrLen+ip6OffSrc:]))
	dst := netip.AddrFrom16([16]byte(b[ethHdrLen+ip6OffDst:]))
	icmp[2], icmp[3] = 0, 0
	binary.BigEndian.PutUint16(icmp[2:], icmp6Checksum(src, dst, icmp))
}

// malformedNS is a table of solicitations that RFC 4861 §7.1.1 says to
// drop, each made from a good one by one change.
var malformedNS = []struct {
	name   string
	frame  string
	change func(b []byte) []byte
	want   reason
}{
	{"empty", kernelNS, func(b []byte) []byte { return nil }, reasonTruncated},
	{"cut in the target", kernelNS, func(b []byte) []byte { return b[:70] }, reasonTruncated},
	{"cut in an option", kernelNS, func(b []byte) []byte { return b[:len(b)-2] }, reasonTruncated},
	{"payload length short of 24", kernelNS, func(b []byte) []byte {
		binary.BigEndian.PutUint16(b[ethHdrLen+ip6OffPayloadLen:], 20)
		return b
	}, reasonTruncated},
	{"IPv4", kernelNS, func(b []byte) []byte { b[ethOffType+1] = 0x00; b[ethOffType] = 0x08; return b }, reasonWrongType},
	{"IP version 4 in an IPv6 frame", kernelNS, func(b []byte) []byte { b[ethHdrLen] = 0x40; return b }, reasonWrongType},
	{"hop-by-hop header", kernelNS, func(b []byte) []byte { b[ethHdrLen+ip6OffNextHeader] = 0; return b }, reasonWrongType},
	{"an NA", kernelNS, func(b []byte) []byte { b[ethIP6Len] = icmp6TypeNA; return b }, reasonWrongType},
	{"hop limit 64", kernelNS, func(b []byte) []byte { b[ethHdrLen+ip6OffHopLimit] = 64; return b }, reasonHopLimit},
	{"hop limit 254", kernelNS, func(b []byte) []byte { b[ethHdrLen+ip6OffHopLimit] = 254; return b }, reasonHopLimit},
	{"code 1", kernelNS, func(b []byte) []byte { b[ethIP6Len+icmp6OffCode] = 1; return b }, reasonCode},
	{"bad checksum", kernelNS, func(b []byte) []byte { b[ethIP6Len+icmp6OffChecksum] ^= 0x40; return b }, reasonChecksum},
	{"target changed, checksum not", kernelNS, func(b []byte) []byte { b[len(b)-9] ^= 1; return b }, reasonChecksum},
	{"multicast target", kernelNS, func(b []byte) []byte { b[ethIP6Len+ndOffTarget] = 0xff; return b }, reasonMulticastTarget},
	{"multicast source", kernelNS, func(b []byte) []byte { b[ethHdrLen+ip6OffSrc] = 0xff; return b }, reasonMulticastSource},
	{"zero-length option", kernelNS, func(b []byte) []byte { b[len(b)-7] = 0; return b }, reasonBadOption},
	{"option longer than the message", kernelNS, func(b []byte) []byte { b[len(b)-7] = 2; return b }, reasonBadOption},
	{"one stray option byte", kernelNS, func(b []byte) []byte {
		b = append(b, 0x01)
		binary.BigEndian.PutUint16(b[ethHdrLen+ip6OffPayloadLen:], 33)
		return b
	}, reasonBadOption},
	{"DAD to a unicast address", kernelDAD, func(b []byte) []byte {
		copy(b[ethHdrLen+ip6OffDst:], netip.MustParseAddr("2001:db8:1:2::2").AsSlice())
		return b
	}, reasonDADDestination},
	{"DAD to all-nodes", kernelDAD, func(b []byte) []byte {
		copy(b[ethHdrLen+ip6OffDst:], netip.MustParseAddr("ff02::1").AsSlice())
		return b
	}, reasonDADDestination},
	{"DAD with a source link-layer option", kernelDAD, func(b []byte) []byte { b[len(b)-8] = ndOptSourceLLA; return b }, reasonDADWithSLLA},
}

func TestParseNSMalformed(t *testing.T) {
	for _, tt := range malformedNS {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.change(unhex(t, tt.frame))
			if tt.want != reasonChecksum {
				fixChecksum(b)
			}
			var ns neighborSolicitation
			if err := parseNS(b, &ns); !errors.Is(err, tt.want) {
				t.Errorf("parseNS(%x) = %v, want %v", b, err, tt.want)
			}
		})
	}
}

func TestParseNAMulticastSolicited(t *testing.T) {
	var f [naFrameLen]byte
	buildNA(&f, vpsMAC, mac{0x33, 0x33, 0, 0, 0, 1}, container, netip.MustParseAddr("ff02::1"), container, naFlagSolicited, vpsMAC)
	var na neighborAdvertisement
	if err := parseNA(f[:], &na); !errors.Is(err, reasonSolicitedMulticast) {
		t.Errorf("parseNA(%x) = %v, want %v", f, err, reasonSolicitedMulticast)
	}
}

func TestSolicitedNode(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"2001:db8:1:2:646f:636b:6572:c1", "ff02::1:ff72:c1"},
		{"2001:db8::2", "ff02::1:ff00:2"},
		{"fe80::ff:fe00:1", "ff02::1:ff00:1"},
	} {
		got := solicitedNode(netip.MustParseAddr(tt.in))
		if got != netip.MustParseAddr(tt.want) || !isSolicitedNode(got) {
			t.Errorf("solicitedNode(%s) = %v, want %s", tt.in, got, tt.want)
		}
	}
	for _, s := range []string{"ff02::1", "ff02::2:ff00:1", "ff05::1:ff00:1", "2001:db8::1:ff00:1"} {
		if isSolicitedNode(netip.MustParseAddr(s)) {
			t.Errorf("isSolicitedNode(%s) = true, want false", s)
		}
	}
}

func TestFrameAllocs(t *testing.T) {
	b := unhex(t, kernelNS)
	var (
		ns neighborSolicitation
		na [naFrameLen]byte
		nb = make([]byte, 0, nsFrameMax)
	)
	for name, f := range map[string]func(){
		"parseNS":                func() { _ = parseNS(b, &ns) },
		"buildNA":                func() { buildNA(&na, vpsMAC, routerMAC, container, routerLL, container, naFlagSolicited, vpsMAC) },
		"appendNS":               func() { nb = appendNS(nb[:0], vpsMAC, routerMAC, container, routerLL, routerLL, [6]byte{}) },
		"parseNS of a bad frame": func() { _ = parseNS(b[:60], &ns) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
}

// FuzzParseNS checks that no input panics the parser and that what it
// accepts survives a round trip: parse(build(parse(x))) == parse(x), and the
// NA answering it parses back with the same addresses.
func FuzzParseNS(f *testing.F) {
	for _, s := range []string{kernelNS, kernelDAD, kernelProbe, wantNA} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// As it comes, and with its checksum made right, so that the
		// options and the checks after the checksum are reached too.
		checkParseNS(t, b)
		b = slices.Clone(b)
		fixChecksum(b)
		checkParseNS(t, b)
	})
}

// checkParseNS: an accepted NS is built again the same, and answered with
// an NA that parses.
func checkParseNS(t *testing.T, b []byte) {
	var ns neighborSolicitation
	if parseNS(b, &ns) != nil {
		return
	}
	var nonce [6]byte
	again := appendNS(nil, ns.EthSrc, ns.EthDst, ns.Src, ns.Dst, ns.Target, nonce)
	var ns2 neighborSolicitation
	if err := parseNS(again, &ns2); err != nil {
		t.Fatalf("parseNS(appendNS(%+v)) = %v", ns, err)
	}
	if !ns.Src.IsUnspecified() {
		// appendNS puts the Ethernet source in a source option.
		ns.SourceLLA, ns.HasSourceLLA = ns.EthSrc, true
	}
	if ns2 != ns {
		t.Fatalf("parseNS(appendNS(parseNS(x))) = %+v, want %+v", ns2, ns)
	}
	if ns.Src.IsUnspecified() {
		return
	}
	var fr [naFrameLen]byte
	buildNA(&fr, vpsMAC, ns.EthSrc, ns.Target, ns.Src, ns.Target, naFlagSolicited|naFlagOverride, vpsMAC)
	var na neighborAdvertisement
	if err := parseNA(fr[:], &na); err != nil || na.Target != ns.Target || na.Dst != ns.Src || na.Src != ns.Target || na.TargetLLA != vpsMAC {
		t.Fatalf("parseNA(NA for %+v) = %+v, %v", ns, na, err)
	}
}

// FuzzParseNA: no input panics the NA parser, and an accepted NA's target
// option is where the frame says it is.
func FuzzParseNA(f *testing.F) {
	f.Add(unhex(f, wantNA))
	f.Add(unhex(f, kernelNS))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, fix := range []bool{false, true} {
			if fix {
				b = slices.Clone(b)
				fixChecksum(b)
			}
			var na neighborAdvertisement
			if err := parseNA(b, &na); err != nil {
				continue
			}
			if na.Target.IsMulticast() || (na.Dst.IsMulticast() && na.Flags&naFlagSolicited != 0) {
				t.Fatalf("parseNA(%x) accepted %+v", b, na)
			}
			if m, ok := findLLA(b[ethIP6Len:ethIP6Len+int(binary.BigEndian.Uint16(b[ethHdrLen+ip6OffPayloadLen:]))], ndOptTargetLLA); ok != na.HasTargetLLA || m != na.TargetLLA {
				t.Fatalf("parseNA(%x): target option %v %v, found again %v %v", b, na.TargetLLA, na.HasTargetLLA, m, ok)
			}
		}
	})
}

// TestMutationsReachTheChecks measures what the fuzz targets' second pass
// buys: of 300,000 random mutations (one to four bytes) of the kernel's
// three solicitations, how many stop at the checksum as they come, and how
// far they get once it is made right. Run with -v for the table.
func TestMutationsReachTheChecks(t *testing.T) {
	seeds := [][]byte{unhex(t, kernelNS), unhex(t, kernelDAD), unhex(t, kernelProbe)}
	rng := rand.New(rand.NewPCG(1, 2))
	var raw, fixed [numReasons]int
	const n = 300000
	why := func(b []byte) reason {
		var ns neighborSolicitation
		if err := parseNS(b, &ns); err != nil {
			return err.(reason)
		}
		return reasonNone
	}
	for i := range n {
		b := slices.Clone(seeds[i%len(seeds)])
		for range 1 + rng.IntN(4) {
			b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
		}
		raw[why(b)]++
		fixChecksum(b)
		fixed[why(b)]++
	}
	for r := reasonNone; r < firstNAReason; r++ {
		if raw[r]+fixed[r] > 0 {
			t.Logf("%-20s as they come %6d   checksum made right %6d", r, raw[r], fixed[r])
		}
	}
	if raw[reasonChecksum] < n/2 || fixed[reasonChecksum] != 0 || fixed[reasonBadOption] < 100*max(raw[reasonBadOption], 1) {
		t.Errorf("checksum: %d then %d; bad-option: %d then %d; want most stopped by the checksum, none once it is made right, and the option checks reached",
			raw[reasonChecksum], fixed[reasonChecksum], raw[reasonBadOption], fixed[reasonBadOption])
	}
}
