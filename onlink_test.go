package main

import (
	"net/netip"
	"sync/atomic"
	"testing"
)

// Without -n, an engine's network made with a neighbour's prefix: its
// containers' addresses are live to the engine, but only those inside the
// uplink's on-link prefix are ours.
var (
	uplinkOnLink = netip.MustParsePrefix("2001:db8:1:2::/64")
	insideAddr   = netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:c1")
	neighbourAdr = netip.MustParseAddr("2001:db8:1:3::c1") // another host's /64
)

// TestAnswerOnLinkOnly: with -N alone, a live target outside the uplink's
// on-link prefixes is not answered; one inside is.
func TestAnswerOnLinkOnly(t *testing.T) {
	r := &responder{}
	r.configure(&config{docker: []string{"ndpr6"}})
	u := testUplink()
	u.OnLink = []netip.Prefix{uplinkOnLink}
	r.link.Store(u)
	p := newLivePublisher(r) // unscoped: both are live, as the engine says
	p.set(liveDocker, map[netip.Addr]struct{}{insideAddr: {}, neighbourAdr: {}})
	var na [naFrameLen]byte
	if why := r.answer(routerNS(insideAddr), &na, 1); why != reasonNone {
		t.Errorf("answer(NS for %v, inside %v) = %v, want an answer", insideAddr, uplinkOnLink, why)
	}
	if why := r.answer(routerNS(neighbourAdr), &na, 2); why != reasonOutOfRange {
		t.Errorf("answer(NS for %v, outside %v) = %v, want %v", neighbourAdr, uplinkOnLink, why, reasonOutOfRange)
	}
	// An uplink with no on-link prefix (yet): nothing.
	r.link.Store(testUplink())
	if why := r.answer(routerNS(insideAddr), &na, 3); why != reasonOutOfRange {
		t.Errorf("answer(NS for %v, no on-link prefix) = %v, want %v", insideAddr, why, reasonOutOfRange)
	}
}

// TestLivePublisherScope: without ranges, what a source says outside the
// uplink's on-link prefixes is held back and counted, not published (so
// neither announced nor joined); a prefix that comes on-link publishes it,
// one that goes withdraws it. With ranges, they bound it.
func TestLivePublisherScope(t *testing.T) {
	r := &responder{}
	p := newLivePublisher(r)
	var refused atomic.Uint64
	p.refused = &refused
	p.setRanges(nil)
	ch := p.follow(followKeeper)
	p.setOnLink([]netip.Prefix{uplinkOnLink})
	p.set(liveDocker, map[netip.Addr]struct{}{insideAddr: {}, neighbourAdr: {}})
	l := <-ch
	if !l.Has(insideAddr) || l.Has(neighbourAdr) || len(l.m) != 1 {
		t.Errorf("published %v, want only %v", l.m, insideAddr)
	}
	if n := refused.Load(); n != 1 {
		t.Errorf("live-out-of-scope = %d, want 1", n)
	}
	// Said again and again, still one.
	p.set(liveDocker, map[netip.Addr]struct{}{insideAddr: {}, neighbourAdr: {}})
	if n := refused.Load(); n != 1 {
		t.Errorf("live-out-of-scope = %d after the same listing again, want 1: an address is counted once", n)
	}
	p.setOnLink([]netip.Prefix{uplinkOnLink, netip.MustParsePrefix("2001:db8:1:3::/64")})
	if l := <-ch; !l.Has(neighbourAdr) || len(p.held) != 0 {
		t.Errorf("after its prefix came on-link, %v is not published (%v), or still held (%v)", neighbourAdr, l.m, p.held)
	}
	p.setOnLink(nil)
	if l := <-ch; len(l.m) != 0 || refused.Load() != 3 || len(p.held) != 2 {
		t.Errorf("with no on-link prefix, published %v (want none), held %v (want both), counted %d (want 3)", l.m, p.held, refused.Load())
	}
	// The source stops: nothing held either.
	p.set(liveDocker, nil)
	if len(p.held) != 0 {
		t.Errorf("after the source stopped, %v held, want none", p.held)
	}
	// With -n, the ranges bound it, whatever is on-link.
	p.setOnLink([]netip.Prefix{uplinkOnLink})
	p.setRanges([]netip.Prefix{netip.MustParsePrefix("2001:db8:1:3::/64")})
	p.set(liveDocker, map[netip.Addr]struct{}{insideAddr: {}, neighbourAdr: {}})
	if l := r.live.Load(); !l.Has(neighbourAdr) || l.Has(insideAddr) {
		t.Errorf("with -n 2001:db8:1:3::/64, published %v, want only %v", l.m, neighbourAdr)
	}
}
