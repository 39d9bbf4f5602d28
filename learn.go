package main

// -learn: the addresses alive behind the VPS, as the kernel's neighbour
// table on a bridge shows them. Plain Go; learn_linux.go feeds it.

import (
	"net/netip"
	"time"
)

// publishEvery is the least time between two snapshots of the live set.
const publishEvery = 200 * time.Millisecond

// maxLearned bounds the learned addresses, so that a flood of neighbour
// entries cannot grow the daemon's memory.
const maxLearned = 4096

// neighAlive says whether an entry in state s shows its address alive.
// STALE counts: a sleeping container's entry goes STALE and stays so until
// traffic makes the kernel probe it, and it must not vanish from the
// router meanwhile. FAILED does not: the kernel probed and nobody answered,
// as for a container that is gone; and a deleted entry is gone too.
func neighAlive(s uint16) bool {
	return s&(nudReachable|nudStale|nudDelay|nudProbe|nudPermanent|nudNoARP) != 0
}

// learner keeps the addresses alive on the learned bridges, inside the
// ranges, at most maxLearned of them.
type learner struct {
	ranges  []netip.Prefix
	addrs   map[netip.Addr]int // address → the bridge's ifindex
	dropped uint64             // entries not kept because the cap was reached
}

func newLearner(ranges []netip.Prefix) *learner {
	return &learner{ranges: ranges, addrs: map[netip.Addr]int{}}
}

// apply takes one neighbour entry, from a dump or an event (deleted for
// RTM_DELNEIGH), on a bridge whose ifindex is in bridges; it says whether
// the live addresses changed.
func (l *learner) apply(e neighEntry, deleted bool, bridges map[int]bool) bool {
	if !bridges[e.Ifindex] || !e.Addr.Is6() || e.Addr.IsLinkLocalUnicast() || !contains(l.ranges, e.Addr) {
		return false
	}
	_, had := l.addrs[e.Addr]
	switch {
	case !deleted && neighAlive(e.State):
		if had {
			return false
		}
		if len(l.addrs) >= maxLearned {
			l.dropped++
			return false
		}
		l.addrs[e.Addr] = e.Ifindex
		return true
	case had && l.addrs[e.Addr] == e.Ifindex:
		delete(l.addrs, e.Addr)
		return true
	}
	return false
}

// snapshot is the live set for the responder.
func (l *learner) snapshot() *liveAddrs {
	m := make(map[netip.Addr]struct{}, len(l.addrs))
	for a := range l.addrs {
		m[a] = struct{}{}
	}
	return &liveAddrs{m: m}
}
