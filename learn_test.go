package main

import (
	"net/netip"
	"testing"

	"ndpresponder/internal/rtnl"
	"ndpresponder/internal/rtnl/rtnltest"
)

func TestLearner(t *testing.T) {
	r := netip.MustParsePrefix("2001:db8:1:2:646f:636b:6572::/112")
	a := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c1")
	br := map[int]bool{5: true}
	e := func(addr netip.Addr, ifindex int, state uint16) rtnl.Neigh {
		return rtnl.Neigh{Ifindex: ifindex, State: state, Addr: addr, MAC: routerNew, HasMAC: true}
	}
	steps := []struct {
		name    string
		entry   rtnl.Neigh
		deleted bool
		changed bool
		live    bool
	}{
		{"reachable: learned", e(a, 5, rtnl.NudReachable), false, true, true},
		{"stale: a sleeping container stays", e(a, 5, rtnl.NudStale), false, false, true},
		{"probe: still there", e(a, 5, rtnl.NudProbe), false, false, true},
		{"failed: gone", e(a, 5, rtnl.NudFailed), false, true, false},
		{"incomplete: not alive", e(a, 5, rtnl.NudIncomplete), false, false, false},
		{"delay: back", e(a, 5, rtnl.NudDelay), false, true, true},
		{"on another interface: ignored", e(a, 6, rtnl.NudFailed), false, false, true},
		{"deleted: gone", e(a, 5, rtnl.NudReachable), true, true, false},
		{"outside the ranges: ignored", e(netip.MustParseAddr("2001:db8:9::1"), 5, rtnl.NudReachable), false, false, false},
		{"link-local: ignored", e(netip.MustParseAddr("fe80::1"), 5, rtnl.NudReachable), false, false, false},
	}
	l := newLearner([]netip.Prefix{r}, 16)
	for _, s := range steps {
		if got := l.apply(s.entry, s.deleted, br); got != s.changed {
			t.Errorf("%s: apply = %v, want %v", s.name, got, s.changed)
		}
		if live := l.snapshot().Has(a); live != s.live && s.entry.Addr == a {
			t.Errorf("%s: %v live = %v, want %v", s.name, a, live, s.live)
		}
	}
	// The cap: past maxLearned, entries are counted, not kept.
	l = newLearner([]netip.Prefix{netip.MustParsePrefix("2001:db8::/64")}, maxLearned)
	for i := 0; i < maxLearned+10; i++ {
		addr := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)})
		entry := e(addr, 5, rtnl.NudReachable)
		entry.MAC = mac{0x02, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)}
		l.apply(entry, false, br)
	}
	if len(l.addrs) != maxLearned || l.dropped != 10 {
		t.Errorf("after %d entries: %d kept, %d dropped; want %d and 10", maxLearned+10, len(l.addrs), l.dropped, maxLearned)
	}
}

// TestLearnerPerMAC: one MAC gets at most perMAC addresses; the others'
// are not crowded out; a gone address frees its place; an entry that
// names no station is not learned.
func TestLearnerPerMAC(t *testing.T) {
	br := map[int]bool{5: true}
	l := newLearner([]netip.Prefix{netip.MustParsePrefix("2001:db8:1:2::/64")}, 3)
	entry := func(i int, m mac) rtnl.Neigh {
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 15: byte(i)})
		return rtnl.Neigh{Ifindex: 5, State: rtnl.NudReachable, Addr: a, MAC: m, HasMAC: true}
	}
	greedy, modest := mac{0x02, 0, 0, 0, 0, 0x10}, mac{0x02, 0, 0, 0, 0, 0x20}
	for i := range 10 {
		l.apply(entry(i, greedy), false, br)
	}
	if !l.apply(entry(100, modest), false, br) {
		t.Errorf("another MAC's address was not learned after one MAC reached its cap")
	}
	if len(l.addrs) != 4 || l.overMAC != 7 {
		t.Errorf("kept %d, over the per-MAC cap %d; want 4 and 7", len(l.addrs), l.overMAC)
	}
	gone := entry(0, greedy)
	if !l.apply(gone, true, br) {
		t.Errorf("deleting a learned address changed nothing")
	}
	if !l.apply(entry(9, greedy), false, br) {
		t.Errorf("a freed place was not taken")
	}
	for _, m := range []mac{{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		if l.apply(entry(200, m), false, br) {
			t.Errorf("an entry at %v was learned", m)
		}
	}
	// Moving to another MAC counts against the new one: a full one.
	moved := entry(100, greedy)
	if !l.apply(moved, false, br) || l.snapshot().Has(moved.Addr) {
		t.Errorf("an address that moved to a MAC with enough is still live")
	}
}

// TestLearnerDropLink: a bridge that goes takes its addresses along, and
// only its own.
func TestLearnerDropLink(t *testing.T) {
	l := newLearner([]netip.Prefix{netip.MustParsePrefix("2001:db8::/64")}, 16)
	br := map[int]bool{5: true, 6: true}
	a, b := netip.MustParseAddr("2001:db8::a"), netip.MustParseAddr("2001:db8::b")
	l.apply(rtnl.Neigh{Ifindex: 5, State: rtnl.NudReachable, Addr: a, MAC: routerNew, HasMAC: true}, false, br)
	l.apply(rtnl.Neigh{Ifindex: 6, State: rtnl.NudReachable, Addr: b, MAC: routerMAC, HasMAC: true}, false, br)
	if !l.dropLink(5) || l.snapshot().Has(a) || !l.snapshot().Has(b) || len(l.macs) != 1 {
		t.Errorf("after bridge 5 went: %v live, %d MACs; want only %v", l.addrs, len(l.macs), b)
	}
	if l.dropLink(5) {
		t.Errorf("dropLink of a bridge with nothing learned says it changed something")
	}
}

// TestLearnerFlushedPort: a station whose bridge port went (the kernel
// flushes its forwarding entry before it aged) takes its addresses along at
// once, and the kernel's leftover neighbour entry, STALE and then DELAY or
// PROBE, does not bring them back; the kernel confirming the station, or
// the bridge seeing its MAC again, does.
func TestLearnerFlushedPort(t *testing.T) {
	const bridge, port, other = 5, 9, 6
	br := map[int]bool{bridge: true, other: true}
	a, b := netip.MustParseAddr("2001:db8::a"), netip.MustParseAddr("2001:db8::b")
	gone := mac{0x02, 0x42, 0xac, 0x11, 0, 0x02}
	neigh := func(addr netip.Addr, m mac, state uint16) rtnl.Neigh {
		return rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: bridge, State: state, Addr: addr, MAC: m, HasMAC: true}
	}
	fdb := func(master int, m mac, state uint16) rtnl.Neigh {
		return rtnl.Neigh{Family: rtnl.AfBridge, Ifindex: port, Master: master, State: state, MAC: m, HasMAC: true}
	}
	steps := []struct {
		name    string
		entry   rtnl.Neigh
		deleted bool
		changed bool
		live    bool // a
	}{
		{"learned", neigh(a, gone, rtnl.NudReachable), false, true, true},
		{"its forwarding entry aged: a sleeping container stays", fdb(bridge, gone, rtnl.NudStale), true, false, true},
		{"the bridge's own entry deleted: not a station", fdb(bridge, gone, rtnl.NudPermanent), true, false, true},
		{"a static entry deleted: set by hand", fdb(bridge, gone, rtnl.NudNoARP), true, false, true},
		{"another bridge flushed it: not where a was learned", fdb(7, gone, rtnl.NudReachable), true, false, true},
		{"its port went", fdb(bridge, gone, rtnl.NudReachable), true, true, false},
		{"the leftover entry goes STALE", neigh(a, gone, rtnl.NudStale), false, false, false},
		{"traffic to it: DELAY", neigh(a, gone, rtnl.NudDelay), false, false, false},
		{"PROBE", neigh(a, gone, rtnl.NudProbe), false, false, false},
		{"the kernel confirms it: back", neigh(a, gone, rtnl.NudReachable), false, true, true},
		{"STALE now counts again", neigh(a, gone, rtnl.NudStale), false, false, true},
		{"its port went again", fdb(bridge, gone, rtnl.NudReachable), true, true, false},
		{"STALE does not count", neigh(a, gone, rtnl.NudStale), false, false, false},
		{"the bridge learns its MAC again, on a new port", fdb(bridge, gone, rtnl.NudReachable), false, false, false},
		{"STALE counts: the station is back", neigh(a, gone, rtnl.NudStale), false, true, true},
	}
	l := newLearner([]netip.Prefix{netip.MustParsePrefix("2001:db8::/64")}, 16)
	l.apply(neigh(b, routerMAC, rtnl.NudReachable), false, br)
	for _, s := range steps {
		if got := l.apply(s.entry, s.deleted, br); got != s.changed {
			t.Errorf("%s: apply = %v, want %v", s.name, got, s.changed)
		}
		if live := l.snapshot().Has(a); live != s.live {
			t.Errorf("%s: %v live = %v, want %v", s.name, a, live, s.live)
		}
		if !l.snapshot().Has(b) {
			t.Fatalf("%s: %v, behind another MAC, went too", s.name, b)
		}
	}

	// An address that moves to a flushed MAC, unconfirmed, is the kernel
	// pointing at a gone station: it goes.
	l.apply(fdb(bridge, gone, rtnl.NudReachable), true, br) // a goes with it
	if !l.apply(neigh(b, gone, rtnl.NudDelay), false, br) || l.snapshot().Has(b) {
		t.Errorf("%v moved to the flushed MAC, unconfirmed: still live", b)
	}

	// The ring is bounded: past flushedMACs newer flushes, the oldest MAC
	// is forgotten and its STALE entry counts again, as it did before the
	// bridge's flushes were read.
	l = newLearner([]netip.Prefix{netip.MustParsePrefix("2001:db8::/64")}, 16)
	macOf := func(i int) mac { return mac{0x02, 0, 0, 0, byte(i >> 8), byte(i)} }
	addrOf := func(i int) netip.Addr {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
	}
	for i := range flushedMACs + 1 {
		l.apply(neigh(addrOf(i), macOf(i), rtnl.NudReachable), false, br)
		l.apply(fdb(bridge, macOf(i), rtnl.NudReachable), true, br)
	}
	if len(l.addrs) != 0 {
		t.Fatalf("%d addresses left after their ports went", len(l.addrs))
	}
	if !l.apply(neigh(addrOf(0), macOf(0), rtnl.NudStale), false, br) {
		t.Errorf("the oldest flushed MAC, past the ring, still does not count")
	}
	if l.apply(neigh(addrOf(1), macOf(1), rtnl.NudStale), false, br) {
		t.Errorf("the second oldest flushed MAC, still in the ring, counts")
	}
	if n := testing.AllocsPerRun(100, func() {
		l.apply(neigh(addrOf(2), macOf(2), rtnl.NudStale), false, br)
		l.apply(fdb(bridge, macOf(3), rtnl.NudStale), true, br)
	}); n != 0 {
		t.Errorf("%v allocations per flushed entry, want 0", n)
	}
}

// TestLinkName reads the index and name of the kernel's link message in
// rtnl_cut_test.go, without a copy.
func TestLinkName(t *testing.T) {
	msgs, err := rtnl.ParseNetlink(rtnltest.LinkQemu.Host(t))
	if err != nil || len(msgs) != 1 {
		t.Fatalf("parseNetlink = %v, %v", msgs, err)
	}
	i, name, ok := linkName(msgs[0].Data)
	if !ok || i != 2 || string(name) != "eth0" {
		t.Errorf("linkName = %d, %q, %v; want 2, eth0", i, name, ok)
	}
	if n := testing.AllocsPerRun(100, func() { linkName(msgs[0].Data) }); n != 0 {
		t.Errorf("linkName: %v allocations per run, want 0", n)
	}
	if _, _, ok := linkName(msgs[0].Data[:rtnl.IfinfomsgLen]); ok {
		t.Errorf("linkName of a message without a name: ok")
	}
}

// snapshot is a copy of the live set.
func (l *learner) snapshot() *liveAddrs {
	m := map[netip.Addr]uint8{}
	for a := range l.addrs {
		m[a] = 1 << liveLearn
	}
	return &liveAddrs{m: m}
}
