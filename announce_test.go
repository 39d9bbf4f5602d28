package main

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// Where the DAD probe differs from the kernel's by design: the checksum,
// and the six random bytes of the Nonce option.
const (
	dadOffChecksum = ethIP6Len + icmp6OffChecksum
	dadOffNonce    = ethIP6Len + nsLen + 2
)

// dadTarget is the address kernelDAD probes for, from vpsMAC.
var dadTarget = netip.MustParseAddr("2001:db8:1:2::2")

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

// TestAnnounceQueue: rounds at 0, 1 and 3 s; addresses the budget holds
// back keep their round and come again at the retry time.
func TestAnnounceQueue(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	q := announceQueue{jitter: func(d time.Duration) time.Duration { return d }}
	a := []netip.Addr{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8::3")}
	q.add(a, t0)
	tokens := 2
	take := func() bool { tokens--; return tokens >= 0 }
	got, held := q.due(t0, take, t0.Add(100*time.Millisecond))
	if !slices.Equal(got, a[:2]) || held != 1 {
		t.Fatalf("due with 2 tokens = %v, %d held; want %v, 1", got, held, a[:2])
	}
	always := func() bool { return true }
	if got, _ := q.due(t0.Add(99*time.Millisecond), always, time.Time{}); len(got) != 0 {
		t.Errorf("due before the retry = %v, want nothing", got)
	}
	if got, _ := q.due(t0.Add(100*time.Millisecond), always, time.Time{}); !slices.Equal(got, a[2:]) {
		t.Errorf("due at the retry = %v, want %v", got, a[2:])
	}
	for _, step := range []struct {
		at   time.Duration
		want []netip.Addr
	}{{time.Second, a[:2]}, {1100 * time.Millisecond, a[2:]}, {3 * time.Second, a[:2]}, {3100 * time.Millisecond, a[2:]}, {time.Hour, nil}} {
		if got, _ := q.due(t0.Add(step.at), always, time.Time{}); !slices.Equal(got, step.want) {
			t.Errorf("due at t0+%v = %v, want %v", step.at, got, step.want)
		}
	}
	if !q.next().IsZero() {
		t.Errorf("after three rounds, next() = %v, want nothing", q.next())
	}
}

// TestAnnounceQueueNoGarbage: once the queue has held as many addresses
// as a container's start brings, announcing them through all their rounds
// again allocates nothing (the queue copies what add hands it into its own
// slice, and due filters that slice in place).
func TestAnnounceQueueNoGarbage(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	q := announceQueue{jitter: func(d time.Duration) time.Duration { return d }}
	a := []netip.Addr{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")}
	always := func() bool { return true }
	cycle := func() {
		q.add(a, t0)
		for _, at := range []time.Duration{0, time.Second, 3 * time.Second} {
			if got, _ := q.due(t0.Add(at), always, time.Time{}); len(got) != len(a) {
				t.Fatalf("due at t0+%v = %v, want %v", at, got, a)
			}
		}
	}
	cycle()
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Errorf("a start's announcements allocate %v times, want 0", n)
	}
	if len(q.queue) != 0 {
		t.Errorf("after the last round the queue holds %v", q.queue)
	}
}
