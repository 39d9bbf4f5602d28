package main

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// dadTarget is the address kernelDAD probes for, from vpsMAC.
var dadTarget = netip.MustParseAddr("2001:db8:1:2::2")

// Where the DAD probe differs from the kernel's by design: the checksum,
// and the six random bytes of the Nonce option.
const (
	dadOffChecksum = ethIP6Len + icmp6OffChecksum
	dadOffNonce    = ethIP6Len + nsLen + 2
)

// TestAppendDADProbeMatchesKernel: our probe is the kernel's own, byte for
// byte, but for the nonce and so the checksum.
func TestAppendDADProbeMatchesKernel(t *testing.T) {
	want := unhex(t, kernelDAD)
	got := appendDADProbe(nil, vpsMAC, dadTarget)
	if len(got) != len(want) {
		t.Fatalf("appendDADProbe(nil, %v, %v) = %d bytes %x, want %d bytes %x", vpsMAC, dadTarget, len(got), got, len(want), want)
	}
	fields := []struct {
		name       string
		start, end int
	}{
		{"Ethernet dst", ethOffDst, ethOffSrc},
		{"Ethernet src", ethOffSrc, ethOffType},
		{"EtherType", ethOffType, ethHdrLen},
		{"IPv6 header", ethHdrLen, ethIP6Len},
		{"ICMPv6 type and code", ethIP6Len, dadOffChecksum},
		{"ICMPv6 reserved", dadOffChecksum + 2, ethIP6Len + ndOffTarget},
		{"target", ethIP6Len + ndOffTarget, ethIP6Len + ndOffOptions},
		{"option type 14 and length 1", dadOffNonce - 2, dadOffNonce},
	}
	for _, f := range fields {
		if g, w := got[f.start:f.end], want[f.start:f.end]; !bytes.Equal(g, w) {
			t.Errorf("appendDADProbe(nil, %v, %v): %s = %x, want %x", vpsMAC, dadTarget, f.name, g, w)
		}
	}
	var ns neighborSolicitation
	if err := parseNS(got, &ns); err != nil {
		t.Errorf("parseNS(appendDADProbe(nil, %v, %v)) = %v, want nil (%x)", vpsMAC, dadTarget, err, got)
	}
}

func TestAppendDADProbeNonce(t *testing.T) {
	a := appendDADProbe(nil, vpsMAC, dadTarget)
	b := appendDADProbe(nil, vpsMAC, dadTarget)
	na, nb := a[dadOffNonce:dadOffNonce+6], b[dadOffNonce:dadOffNonce+6]
	zero := make([]byte, 6)
	if bytes.Equal(na, zero) || bytes.Equal(nb, zero) {
		t.Errorf("appendDADProbe nonces %x and %x, want both non-zero", na, nb)
	}
	if bytes.Equal(na, nb) {
		t.Errorf("appendDADProbe twice: nonce %x both times, want two different", na)
	}
}

// TestAppendDADProbePrefix: the probe is appended after what b holds.
func TestAppendDADProbePrefix(t *testing.T) {
	prefix := []byte{0xde, 0xad, 0xbe, 0xef}
	got := appendDADProbe(slices.Clone(prefix), vpsMAC, dadTarget)
	var ns neighborSolicitation
	if !bytes.Equal(got[:len(prefix)], prefix) || parseNS(got[len(prefix):], &ns) != nil || ns.Target != dadTarget {
		t.Errorf("appendDADProbe(%x, %v, %v) = %x, want the prefix and then a probe", prefix, vpsMAC, dadTarget, got)
	}
}

func TestAppendGatewayNS(t *testing.T) {
	gua := netip.MustParseAddr("2001:db8:1:2::2")
	announced := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:10")
	tests := []struct {
		name    string
		src, gw netip.Addr
	}{
		{"from the uplink's address", gua, routerLL},
		{"from an announced address", announced, routerLL},
		{"from link-local", netip.MustParseAddr("fe80::ff:fe00:2"), routerLL},
		{"to a global gateway", gua, netip.MustParseAddr("2001:db8:1:2::1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := appendGatewayNS(nil, vpsMAC, tt.src, tt.gw)
			g := solicitedNode(tt.gw)
			want := neighborSolicitation{
				EthDst: multicastMAC(g), EthSrc: vpsMAC, HopLimit: ndHopLimit,
				Src: tt.src, Dst: g, Target: tt.gw,
				SourceLLA: vpsMAC, HasSourceLLA: true,
			}
			var got neighborSolicitation
			if err := parseNS(b, &got); err != nil || got != want {
				t.Errorf("parseNS(appendGatewayNS(nil, %v, %v, %v)) = %+v, %v; want %+v", vpsMAC, tt.src, tt.gw, got, err, want)
			}
			if len(b) != nsFrameMin+llaOptLen {
				t.Errorf("appendGatewayNS(nil, %v, %v, %v) is %d bytes, want %d: no nonce", vpsMAC, tt.src, tt.gw, len(b), nsFrameMin+llaOptLen)
			}
		})
	}
}

func TestSolicitSources(t *testing.T) {
	a := netip.MustParseAddr
	ll := a("fe80::ff:fe00:2")
	gua1, gua2 := a("2001:db8:1:2::2"), a("2001:db8:1:2::3")
	ann1, ann2 := a("2001:db8:1:2:646f:636b:6572:10"), a("2001:db8:1:2:646f:636b:6572:11")
	tests := []struct {
		name     string
		link     *uplink
		announce []netip.Addr
		want     []netip.Addr
	}{
		{"announced first, then the first global", &uplink{Addrs: []netip.Addr{ll, gua1, gua2}, LinkLocal: ll, Global: []netip.Addr{gua1, gua2}},
			[]netip.Addr{ann1, ann2}, []netip.Addr{ann1, ann2, gua1}},
		{"the first global alone", &uplink{Addrs: []netip.Addr{ll, gua2, gua1}, LinkLocal: ll, Global: []netip.Addr{gua2, gua1}}, nil, []netip.Addr{gua2}},
		{"an announced global once", &uplink{Addrs: []netip.Addr{ll, ann1}, LinkLocal: ll, Global: []netip.Addr{ann1}}, []netip.Addr{ann1}, []netip.Addr{ann1}},
		{"announced, no global", &uplink{Addrs: []netip.Addr{ll}, LinkLocal: ll}, []netip.Addr{ann1}, []netip.Addr{ann1}},
		{"link-local only when there is nothing else", &uplink{Addrs: []netip.Addr{ll}, LinkLocal: ll}, nil, []netip.Addr{ll}},
		{"multicast and loopback are not global", &uplink{Addrs: []netip.Addr{a("ff02::1"), a("::1"), ll}, LinkLocal: ll}, nil, []netip.Addr{ll}},
		{"nothing at all", &uplink{}, nil, nil},
		{"no link-local, no global", &uplink{Addrs: []netip.Addr{a("::1")}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			announce := slices.Clone(tt.announce)
			got := solicitSources(tt.link, announce)
			if !slices.Equal(got, tt.want) {
				t.Errorf("solicitSources(%+v, %v) = %v, want %v", *tt.link, tt.announce, got, tt.want)
			}
			if len(got) > 0 {
				got[0] = netip.Addr{}
			}
			if !slices.Equal(announce, tt.announce) {
				t.Errorf("solicitSources(%+v, %v): changing the result changed the announced list to %v", *tt.link, tt.announce, announce)
			}
		})
	}
}

func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{1, 4, 1000, time.Millisecond, time.Second, 3 * time.Second, 30 * time.Second, time.Hour} {
		lo, hi := d, d
		for range 2000 {
			got := jitter(d)
			// Within [3d/4, 5d/4], compared without rounding.
			if 4*got < 3*d || 4*got > 5*d {
				t.Fatalf("jitter(%v) = %v, want within [%v, %v]", d, got, 3*d/4, 5*d/4)
			}
			lo, hi = min(lo, got), max(hi, got)
		}
		if d >= time.Millisecond && (lo == d || hi == d) {
			t.Errorf("jitter(%v) over 2000 draws spans [%v, %v], want both sides of %v", d, lo, hi, d)
		}
	}
	for _, d := range []time.Duration{0, -time.Second} {
		if got := jitter(d); got != 0 {
			t.Errorf("jitter(%v) = %v, want 0", d, got)
		}
	}
}

func TestGatewayStateSeen(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	newMAC := mac{0x02, 0, 0, 0, 0, 0x09}
	g := &gatewayState{Addr: routerLL}
	steps := []struct {
		name                    string
		m                       mac
		at                      time.Duration
		wantChanged, wantSilent bool
	}{
		{"first NA", routerMAC, 0, true, false},
		{"same MAC", routerMAC, time.Second, false, false},
		{"same MAC again", routerMAC, 2 * time.Second, false, false},
		{"new MAC", newMAC, 3 * time.Second, true, false},
		{"back to the first", routerMAC, 4 * time.Second, true, false},
	}
	for _, s := range steps {
		changed, wasSilent := g.seen(s.m, t0.Add(s.at))
		if changed != s.wantChanged || wasSilent != s.wantSilent {
			t.Errorf("%s: seen(%v) = %v, %v; want %v, %v", s.name, s.m, changed, wasSilent, s.wantChanged, s.wantSilent)
		}
		if !g.Known || g.MAC != s.m || !g.LastSeen.Equal(t0.Add(s.at)) {
			t.Errorf("%s: after seen(%v), state = %+v", s.name, s.m, *g)
		}
	}
}

func TestGatewayStateSilent(t *testing.T) {
	const interval = 30 * time.Second
	limit := 2*interval + time.Second
	t0 := time.Unix(1_700_000_000, 0)

	g := &gatewayState{Addr: routerLL}
	if g.silent(t0.Add(time.Hour), interval) {
		t.Errorf("silent before any NA = true, want false")
	}
	g.seen(routerMAC, t0)
	steps := []struct {
		name string
		at   time.Duration
		want bool
	}{
		{"at once", 0, false},
		{"after one interval", interval, false},
		{"at 2*interval+1s", limit, false},
		{"just after 2*interval+1s", limit + time.Nanosecond, true},
		{"the next call", limit + time.Second, false},
		{"much later", time.Hour, false},
	}
	for _, s := range steps {
		if got := g.silent(t0.Add(s.at), interval); got != s.want {
			t.Errorf("%s: silent(t0+%v, %v) = %v, want %v", s.name, s.at, interval, got, s.want)
		}
	}

	// The gateway answers again: seen says it had been silent, once.
	back := t0.Add(2 * time.Hour)
	if changed, wasSilent := g.seen(routerMAC, back); changed || !wasSilent {
		t.Errorf("seen after silence = %v, %v; want false, true", changed, wasSilent)
	}
	if changed, wasSilent := g.seen(routerMAC, back.Add(time.Second)); changed || wasSilent {
		t.Errorf("seen again = %v, %v; want false, false", changed, wasSilent)
	}
	// And a new silence is reported anew, measured from the last NA.
	last := back.Add(time.Second)
	if g.silent(last.Add(limit), interval) {
		t.Errorf("silent(last+%v) = true, want false", limit)
	}
	if !g.silent(last.Add(limit+time.Millisecond), interval) {
		t.Errorf("silent(last+%v) = false, want true", limit+time.Millisecond)
	}
	// A new MAC after silence: changed and wasSilent both.
	if changed, wasSilent := g.seen(mac{0x02, 0, 0, 0, 0, 0x09}, last.Add(time.Hour)); !changed || !wasSilent {
		t.Errorf("seen(new MAC) after silence = %v, %v; want true, true", changed, wasSilent)
	}
}

// TestAppendProbeAllocs: the probes are built into a buffer the caller
// owns, without allocating.
func TestAppendProbeAllocs(t *testing.T) {
	b := make([]byte, 0, nsFrameMax)
	src := netip.MustParseAddr("2001:db8:1:2::2")
	for name, f := range map[string]func(){
		"appendDADProbe":  func() { b = appendDADProbe(b[:0], vpsMAC, dadTarget) },
		"appendGatewayNS": func() { b = appendGatewayNS(b[:0], vpsMAC, src, routerLL) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
}
