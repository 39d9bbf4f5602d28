package main

// -learn: the addresses alive behind the VPS, as the kernel's neighbour
// table on a bridge shows them. Plain Go; learn_linux.go feeds it.

import (
	"bytes"
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
// ranges: at most maxLearned of them, and at most perMAC behind one MAC, so
// that one container making the VPS create many neighbour entries cannot
// fill the router's cache or crowd the others out.
type learner struct {
	ranges  []netip.Prefix
	perMAC  int
	addrs   map[netip.Addr]learned
	macs    map[mac]int // addresses kept behind each MAC
	dropped uint64      // entries not kept because the cap was reached
	overMAC uint64      // entries not kept because their MAC had enough
}

// learned is where a kept address was seen.
type learned struct {
	ifindex int
	mac     mac
}

func newLearner(ranges []netip.Prefix, perMAC int) *learner {
	return &learner{ranges: ranges, perMAC: perMAC, addrs: map[netip.Addr]learned{}, macs: map[mac]int{}}
}

// reset forgets every address, keeping the maps' memory.
func (l *learner) reset() {
	clear(l.addrs)
	clear(l.macs)
	l.dropped, l.overMAC = 0, 0
}

// apply takes one neighbour entry, from a dump or an event (deleted for
// RTM_DELNEIGH), on a bridge whose ifindex is in bridges; it says whether
// the live addresses changed.
func (l *learner) apply(e neighEntry, deleted bool, bridges map[int]bool) bool {
	if !bridges[e.Ifindex] || !globalUnicast(e.Addr) || !contains(l.ranges, e.Addr) {
		return false
	}
	had, ok := l.addrs[e.Addr]
	switch {
	case !deleted && neighAlive(e.State) && e.HasMAC && e.MAC.isUnicast():
		now := learned{e.Ifindex, e.MAC}
		if ok && had == now {
			return false
		}
		if ok {
			l.forget(e.Addr, had) // moved to another MAC or bridge
		}
		switch {
		case len(l.addrs) >= maxLearned:
			l.dropped++
		case l.macs[e.MAC] >= l.perMAC:
			l.overMAC++
		default:
			l.addrs[e.Addr] = now
			l.macs[e.MAC]++
			return true
		}
		return ok
	case ok && had.ifindex == e.Ifindex && (deleted || !neighAlive(e.State)):
		l.forget(e.Addr, had)
		return true
	}
	return false
}

// dropLink forgets the addresses learned on a bridge that is gone, and
// says whether there were any.
func (l *learner) dropLink(ifindex int) bool {
	n := len(l.addrs)
	for a, was := range l.addrs {
		if was.ifindex == ifindex {
			l.forget(a, was)
		}
	}
	return len(l.addrs) != n
}

// linkName reads an RTM_NEWLINK or RTM_DELLINK message's interface index
// and name, without copying the name.
func linkName(data []byte) (index int, name []byte, ok bool) {
	if len(data) < ifinfomsgLen {
		return 0, nil, false
	}
	parseAttrs(data[ifinfomsgLen:], func(typ uint16, v []byte) {
		if typ == iflaIfname {
			name, _, _ = bytes.Cut(v, []byte{0})
		}
	})
	return int(int32(ne.Uint32(data[4:]))), name, name != nil
}

func (l *learner) forget(a netip.Addr, was learned) {
	delete(l.addrs, a)
	if l.macs[was.mac]--; l.macs[was.mac] <= 0 {
		delete(l.macs, was.mac)
	}
}
