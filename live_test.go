package main

import (
	"net/netip"
	"testing"
)

func addrSet(addrs ...string) map[netip.Addr]struct{} {
	m := map[netip.Addr]struct{}{}
	for _, a := range addrs {
		m[netip.MustParseAddr(a)] = struct{}{}
	}
	return m
}

// TestLivePublisher: the union of the sources goes to the responder and
// to the keeper's channel; a source that stops takes its addresses along;
// a keeper that starts later finds the current set waiting.
func TestLivePublisher(t *testing.T) {
	r := &responder{}
	p := newLivePublisher(r)
	a, b, c := "2001:db8::a", "2001:db8::b", "2001:db8::c"
	p.set(liveLearn, addrSet(a, b))
	p.set(liveDocker, addrSet(b, c))
	ch := p.follow(followKeeper)
	got := <-ch
	for _, s := range []string{a, b, c} {
		if !got.has(netip.MustParseAddr(s)) || !r.live.Load().has(netip.MustParseAddr(s)) {
			t.Errorf("after two sources, %s is not live", s)
		}
	}
	select {
	case l := <-ch:
		t.Errorf("a second snapshot %v waiting, want only the latest", l.m)
	default:
	}
	p.set(liveLearn, nil)
	got = <-ch
	if got.has(netip.MustParseAddr(a)) || !got.has(netip.MustParseAddr(b)) || len(got.m) != 2 {
		t.Errorf("after learning stopped, live = %v, want %s and %s", got.m, b, c)
	}
	if r.live.Load() != got {
		t.Errorf("the responder and the keeper were given different snapshots")
	}
	if again := <-p.follow(followKeeper); again != got {
		t.Errorf("follow() again gave %v, want the current snapshot", again.m)
	}
}

// TestMailbox: put never blocks, and the reader gets the latest value.
func TestMailbox(t *testing.T) {
	m := newMailbox[int]()
	for i := range 100 {
		m.put(i)
	}
	if v := <-m.c; v != 99 {
		t.Errorf("after 100 puts, read %d, want 99", v)
	}
	select {
	case v := <-m.c:
		t.Errorf("a second value %d, want none", v)
	default:
	}
}

// TestLivePublisherRoutes: -auto's routes come with its addresses, stay
// when another source changes, and go when -auto stops.
func TestLivePublisherRoutes(t *testing.T) {
	r := &responder{}
	p := newLivePublisher(r)
	routed := netip.MustParsePrefix("2001:db8::100/120")
	p.setRoutes(liveAuto, addrSet("2001:db8::c"), []liveRoute{{routed, true}})
	p.set(liveLearn, addrSet("2001:db8::a"))
	for _, s := range []string{"2001:db8::a", "2001:db8::c", "2001:db8::1ff"} {
		if !r.live.Load().has(netip.MustParseAddr(s)) {
			t.Errorf("%s is not live", s)
		}
	}
	p.set(liveAuto, nil)
	if l := r.live.Load(); l.has(netip.MustParseAddr("2001:db8::1ff")) || l.has(netip.MustParseAddr("2001:db8::c")) {
		t.Errorf("-auto's addresses outlived it")
	}
	if got := <-p.follow(followMLD); got != r.live.Load() {
		t.Errorf("the MLD follower was not handed the current snapshot")
	}
}
