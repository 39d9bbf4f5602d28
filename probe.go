package main

// Probing inward, for -learn: a container that has sent nothing since it
// started has no neighbour entry on the bridge, so learning cannot know it
// is there. A solicitation for such an address of the ranges makes the
// kernel resolve it on the bridge its route leaves by, as ndppd's iface
// rule does; the container answers the kernel, its entry comes alive, and
// the solicitation is answered then, or at the router's retransmission a
// second later at the latest. An address nobody answers for stays unknown,
// and is never answered upstream.
//
// Plain Go: the packet loop asks the gate and hands what it admits to the
// -learn watcher (learn_linux.go), which asks the kernel; both in fixed
// memory, so that a scan of the ranges costs a bounded number of probes.

import (
	"net/netip"
	"time"

	"ndpresponder/internal/rtnl"
)

// The probe budget.
const (
	// probeRate and probeBurst bound the probes in all: a scan of the
	// ranges, of any size, costs probeBurst probes at once and probeRate
	// a second after that. One probe is the kernel's own resolution: up
	// to mcast_solicit (3) NS on the bridge, retrans_time (1 s) apart.
	probeRate  = 10
	probeBurst = 10
	// probeEvery is the least time between two probes of one target:
	// the router solicits three times a second apart, and one probe of
	// the kernel's lasts as long.
	probeEvery = 5 * time.Second
	// probeSlots targets are followed at once, by hash. A new target
	// takes a slot over: a collision errs on the side of probing, which
	// the budget in all still bounds.
	probeSlots = 256
)

// The solicitations waiting for their target to come alive.
const (
	// maxProbeFrame is the longest solicitation kept to be answered
	// once its target is alive (one with a source link-layer option is
	// 86 bytes); a longer one is answered at the router's retransmission.
	maxProbeFrame = 128
	// probeQueueLen requests wait for the watcher at most; more are
	// dropped, as the budget would drop them anyway.
	probeQueueLen = probeBurst
	// probeWait is how long a probed target may take to come alive and
	// still have its solicitation answered: the kernel's three NS.
	probeWait = 3 * time.Second
	// maxPending solicitations wait at once; the oldest makes room.
	maxPending = 16
)

// probeRequest asks the -learn watcher to resolve a target on the bridge;
// ns[:n] is the solicitation, to be answered once the target is alive
// (n is 0 when it was too long to keep).
type probeRequest struct {
	target netip.Addr
	n      int
	ns     [maxProbeFrame]byte
}

// probeGate decides, in the packet loop, which solicitations start a
// probe: at most one per target in probeEvery, probeRate a second in all.
// It allocates nothing.
type probeGate struct {
	all     bucket
	targets [probeSlots]probeSlot
}

type probeSlot struct {
	key  uint64 // addrHash of the target
	at   int64  // monotonic ns of its last probe
	used bool
}

// admit says whether a solicitation for target at now (monotonic ns) may
// start a probe, and if so counts it.
func (g *probeGate) admit(target netip.Addr, now int64) bool {
	h := addrHash(target)
	s := &g.targets[h%probeSlots]
	if s.used && s.key == h && now-s.at < int64(probeEvery) {
		return false
	}
	if !g.all.take(now, probeRate, probeBurst) {
		return false
	}
	*s = probeSlot{key: h, at: now, used: true}
	return true
}

// pendingProbes are the probed targets not alive yet, each with the
// solicitation that asked for it, in fixed memory.
type pendingProbes struct {
	p [maxPending]pendingProbe
}

type pendingProbe struct {
	req probeRequest
	at  time.Time // zero: a free slot
}

// add keeps req, asked at now, in a free slot, or in place of the oldest.
func (q *pendingProbes) add(req *probeRequest, now time.Time) {
	slot := &q.p[0]
	for i := range q.p {
		s := &q.p[i]
		if s.at.IsZero() || s.req.target == req.target {
			slot = s
			break
		}
		if s.at.Before(slot.at) {
			slot = s
		}
	}
	slot.req, slot.at = *req, now
}

// has says whether target waits.
func (q *pendingProbes) has(target netip.Addr) bool {
	for i := range q.p {
		if !q.p[i].at.IsZero() && q.p[i].req.target == target {
			return true
		}
	}
	return false
}

// take copies the solicitation kept for target into ns, if it was asked
// for in the last probeWait, and forgets it.
func (q *pendingProbes) take(target netip.Addr, now time.Time, ns *[maxProbeFrame]byte) (n int, ok bool) {
	for i := range q.p {
		s := &q.p[i]
		if s.at.IsZero() || s.req.target != target {
			continue
		}
		fresh := now.Sub(s.at) <= probeWait
		s.at = time.Time{}
		return copy(ns[:], s.req.ns[:s.req.n]), fresh && s.req.n > 0
	}
	return 0, false
}

// ntfUse in a neighbour message's flags asks the kernel to use the entry
// as a packet to its address would (NTF_USE, linux/neighbour.h).
const ntfUse = 0x01

// ndmOffFlags is where struct ndmsg holds its flags.
const ndmOffFlags = 10

// appendNeighProbe appends a request that makes the kernel resolve addr
// on ifindex: RTM_NEWNEIGH with NTF_USE creates the entry if there is none
// and starts resolving it as traffic to the address would (an NS to its
// solicited-node group from the interface's link-local address, then
// more, retrans_time apart); an entry that is alive stays as it is. The
// state is left 0: an entry created PERMANENT, as ip(8)'s "use" asks,
// would be exempt from garbage collection. No NLM_F_ACK: the kernel
// answers only a refusal.
func appendNeighProbe(b []byte, seq uint32, ifindex int, addr netip.Addr) []byte {
	start := len(b)
	b = rtnl.AppendNeigh(b, rtnl.RtmNewNeigh, rtnl.NlmFRequest|rtnl.NlmFCreate, seq, ifindex, addr, 0, mac{})
	b[start+rtnl.NlmsgHdrLen+ndmOffFlags] = ntfUse
	return b
}
