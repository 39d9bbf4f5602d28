package main

// -learn: the addresses alive behind the VPS, as the kernel's neighbour
// table on a bridge shows them. Plain Go; learn_linux.go feeds it.

import (
	"bytes"
	"net/netip"
	"slices"
	"time"

	"ndpresponder/internal/rtnl"
)

// publishEvery is the least time between two snapshots of the live set.
const publishEvery = 200 * time.Millisecond

// flushedMACs is how many MACs of stations gone with their bridge port
// the learner remembers: enough for the containers of a fast churn whose
// leftover neighbour entries go STALE within the same half minute.
const flushedMACs = 256

// maxLearned bounds the learned addresses, so that a flood of neighbour
// entries cannot grow the daemon's memory.
const maxLearned = 4096

// neighAlive says whether an entry in state s shows its address alive.
// STALE counts: a sleeping container's entry goes STALE and stays so until
// traffic makes the kernel probe it, and it must not vanish from the
// router meanwhile. FAILED does not: the kernel probed and nobody answered,
// as for a container that is gone; and a deleted entry is gone too.
func neighAlive(s uint16) bool {
	return s&(rtnl.NudReachable|rtnl.NudStale|rtnl.NudDelay|rtnl.NudProbe|rtnl.NudPermanent|rtnl.NudNoARP) != 0
}

// neighConfirmed says whether an entry in state s shows its station
// answering now, not just remembered: the kernel heard from it within the
// reachable time, or the entry is set by hand.
func neighConfirmed(s uint16) bool {
	return s&(rtnl.NudReachable|rtnl.NudPermanent|rtnl.NudNoARP) != 0
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
	// flushed is a ring of the MACs whose bridge port went with their
	// station (a container stopped), the newest at nflushed-1: their
	// leftover neighbour entries, which the kernel keeps STALE for a
	// minute or more, do not count until it confirms the station again.
	flushed  [flushedMACs]mac
	nflushed int
}

// learned is where a kept address was seen.
type learned struct {
	ifindex int
	mac     mac
}

func newLearner(ranges []netip.Prefix, perMAC int) *learner {
	return &learner{ranges: ranges, perMAC: perMAC, addrs: map[netip.Addr]learned{}, macs: map[mac]int{}}
}

// reset forgets every address, keeping the maps' memory and the flushed
// MACs: what the bridge said about them is still true.
func (l *learner) reset() {
	clear(l.addrs)
	clear(l.macs)
	l.dropped, l.overMAC = 0, 0
}

// apply takes one neighbour entry, from a dump or an event (deleted for
// RTM_DELNEIGH), on a bridge whose ifindex is in bridges; it says whether
// the live addresses changed.
func (l *learner) apply(e rtnl.Neigh, deleted bool, bridges map[int]bool) bool {
	if e.Family == rtnl.AfBridge {
		return l.applyFDB(e, deleted, bridges)
	}
	if !bridges[e.Ifindex] || !globalUnicast(e.Addr) || !contains(l.ranges, e.Addr) {
		return false
	}
	had, ok := l.addrs[e.Addr]
	switch {
	case !deleted && neighAlive(e.State) && e.HasMAC && mac(e.MAC).isUnicast():
		now := learned{e.Ifindex, e.MAC}
		if ok && had == now {
			return false
		}
		if neighConfirmed(e.State) {
			l.unflush(e.MAC)
		} else if l.isFlushed(e.MAC) {
			// The leftover entry of a station gone with its port.
			if ok {
				l.forget(e.Addr, had)
			}
			return ok
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

// applyFDB takes an entry of a learned bridge's forwarding table. The
// bridge deletes an entry for one of two reasons: it aged, when the station
// was quiet for the ageing time (the kernel then says STALE), which a
// sleeping container does and stays alive; or it was flushed, because its
// port went, went down or left the bridge, which takes the station away:
// a container stopped. Then the addresses learned behind its MAC go at
// once, instead of when the kernel drops its neighbour entry a minute or
// more later, and the router stops being told it is there. A flushed MAC
// counts again once the bridge sees it again (a new entry) or the kernel
// confirms one of its addresses. It says whether the live addresses
// changed.
func (l *learner) applyFDB(e rtnl.Neigh, deleted bool, bridges map[int]bool) bool {
	if !bridges[e.Master] || !e.HasMAC || !mac(e.MAC).isUnicast() || e.State&(rtnl.NudPermanent|rtnl.NudNoARP) != 0 {
		return false // another bridge's, or the bridge's own or a static entry
	}
	switch {
	case !deleted:
		l.unflush(e.MAC)
		return false
	case e.State&rtnl.NudStale != 0 || l.macs[e.MAC] == 0:
		return false // aged, or nothing learned behind it
	}
	n := len(l.addrs)
	for a, was := range l.addrs {
		if was.mac == e.MAC && was.ifindex == e.Master {
			l.forget(a, was)
		}
	}
	if len(l.addrs) == n {
		return false
	}
	if !l.isFlushed(e.MAC) {
		l.flushed[l.nflushed%flushedMACs] = e.MAC
		l.nflushed++
	}
	return true
}

// broadcastMAC is ff:ff:ff:ff:ff:ff, which no station has.
var broadcastMAC = mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func (l *learner) isFlushed(m mac) bool {
	return slices.Contains(l.flushed[:min(l.nflushed, flushedMACs)], m)
}

// unflush takes m out of the flushed ring: the broadcast address, which is
// never learned, stands in its slot.
func (l *learner) unflush(m mac) {
	if i := slices.Index(l.flushed[:min(l.nflushed, flushedMACs)], m); i >= 0 {
		l.flushed[i] = broadcastMAC
	}
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
	if len(data) < rtnl.IfinfomsgLen {
		return 0, nil, false
	}
	rtnl.ParseAttrs(data[rtnl.IfinfomsgLen:], func(typ uint16, v []byte) {
		if typ == rtnl.IflaIfname {
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
