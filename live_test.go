package main

import (
	"maps"
	"net/netip"
	"sync"
	"testing"
	"time"
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
		if !got.Has(netip.MustParseAddr(s)) || !r.live.Load().Has(netip.MustParseAddr(s)) {
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
	if got.Has(netip.MustParseAddr(a)) || !got.Has(netip.MustParseAddr(b)) || len(got.m) != 2 {
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
		if !r.live.Load().Has(netip.MustParseAddr(s)) {
			t.Errorf("%s is not live", s)
		}
	}
	p.set(liveAuto, nil)
	if l := r.live.Load(); l.Has(netip.MustParseAddr("2001:db8::1ff")) || l.Has(netip.MustParseAddr("2001:db8::c")) {
		t.Errorf("-auto's addresses outlived it")
	}
	if got := <-p.follow(followMLD); got != r.live.Load() {
		t.Errorf("the MLD follower was not handed the current snapshot")
	}
}

// TestThrottle: a change publishes at once, changes within publishEvery
// after it publish once when the time is up, and after stop nothing runs;
// the put-off run's timer is made once and reused.
func TestThrottle(t *testing.T) {
	var mu sync.Mutex
	n := 0
	th := &throttle{mu: &mu, publish: func() { n++ }}
	count := func() int { mu.Lock(); defer mu.Unlock(); return n }
	waitFor := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); count() != want && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if got := count(); got != want {
			t.Fatalf("%d publications, want %d", got, want)
		}
	}
	mu.Lock()
	th.kick(false) // the first change: at once
	th.kick(false) // within publishEvery: put off
	th.kick(false) // and folded into the same run
	mu.Unlock()
	waitFor(1)
	waitFor(2)
	mu.Lock()
	timer := th.timer
	th.kick(false)
	mu.Unlock()
	waitFor(3)
	mu.Lock()
	if th.timer != timer {
		t.Error("a second put-off run made a new timer")
	}
	th.kick(true) // a change that must not wait
	th.kick(false)
	th.stop()
	mu.Unlock()
	waitFor(4)
	time.Sleep(publishEvery + 50*time.Millisecond)
	if got := count(); got != 4 {
		t.Errorf("%d publications after stop, want 4", got)
	}
}

// TestLivePublisherNoGarbage: the publisher changes its copies and the
// union in place, so a container that starts and stops on a host with
// others makes no garbage there, whatever the number of live addresses.
func TestLivePublisherNoGarbage(t *testing.T) {
	r := &responder{}
	p := newLivePublisher(r)
	ch := p.follow(followKeeper)
	others := map[netip.Addr]struct{}{}
	for i := range 50 {
		others[netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i + 1)})] = struct{}{}
	}
	with := maps.Clone(others)
	started := netip.MustParseAddr("2001:db8::ff")
	with[started] = struct{}{}
	p.set(liveDocker, addrSet("2001:db8:1::d"))
	cycle := func() {
		p.set(liveLearn, with)
		p.set(liveLearn, others)
	}
	cycle()
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Errorf("a start and a stop among 50 live addresses allocate %v times, want 0", n)
	}
	l := <-ch
	if l.Has(started) || !l.Has(netip.MustParseAddr("2001:db8:1::d")) || len(l.m) != 51 {
		t.Errorf("after the stop, %v is live: %v; want the 50 and 2001:db8:1::d", started, l.Has(started))
	}
	p.set(liveLearn, with)
	if !r.live.Load().Has(started) {
		t.Errorf("after the start, %v is not live", started)
	}
}
