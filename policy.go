package main

// The decision: answer a solicitation or not, and why. Plain Go over a
// parsed frame and a snapshot of the uplink's state, so tests drive it
// without root.

import (
	"net/netip"
	"sync/atomic"
)

// sourceMode chooses the IPv6 source of the NAs we send.
type sourceMode uint8

const (
	// sourceTarget sends from the solicited target itself: a hypervisor
	// filter that drops frames from addresses outside the VPS's range lets
	// it through, where a link-local source is dropped.
	sourceTarget sourceMode = iota
	// sourceLinkLocal sends from the uplink's link-local address, for LANs
	// whose hosts accept NDP only from link-local sources.
	sourceLinkLocal
	// sourceFixed sends from one configured address.
	sourceFixed
)

// answerPolicy is what the configuration says about answering; a reload
// replaces it whole.
type answerPolicy struct {
	ranges     []netip.Prefix
	from       []netip.Prefix // if any, the only sources we answer
	source     sourceMode
	fixed      netip.Addr // for sourceFixed
	flags      uint8      // NA flags
	rate       int64      // NAs per second in all; 0: unlimited
	rateTarget int64      // NAs per second for one target; 0: unlimited
	liveOnly   bool       // answer only live addresses (-learn, -N, -auto), inside the ranges
	probe      bool       // probe the -learn bridges for targets not live
}

// responder decides and builds answers. Only the packet loop calls answer;
// the policy and the uplink snapshot may be replaced from other goroutines.
type responder struct {
	pol    atomic.Pointer[answerPolicy]
	link   atomic.Pointer[uplink]
	live   atomic.Pointer[liveAddrs] // nil until something is learned
	budget naBudget
	ns     neighborSolicitation // scratch, reused for every frame
	gate   probeGate
	probes chan probeRequest // to the -learn watcher; nil: no probing
}

// configure applies the answering part of cfg.
func (r *responder) configure(cfg *config) {
	p := &answerPolicy{ranges: cfg.ranges, from: cfg.from, source: cfg.source, fixed: cfg.fixed,
		flags: naFlagSolicited | naFlagOverride, rate: cfg.rate, rateTarget: cfg.rateTarget,
		liveOnly: cfg.liveOnly(), probe: len(cfg.learn) > 0}
	if cfg.router {
		p.flags |= naFlagRouter
	}
	r.pol.Store(p)
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// allowed says whether src may solicit: any source when from is empty.
func allowed(from []netip.Prefix, src netip.Addr) bool {
	return len(from) == 0 || contains(from, src.WithZone(""))
}

// answer handles one received frame at now (ns). When the solicitation is
// to be answered it writes the NA into na and returns reasonNone; otherwise
// it returns why not, and r.ns holds what was parsed (if anything).
func (r *responder) answer(frame []byte, na *[naFrameLen]byte, now int64) reason {
	return r.decide(frame, &r.ns, na, now, false)
}

// answerLate answers a solicitation kept while its target was probed, now
// that the target is alive, as answer would have; ns is the caller's
// scratch. Only the -learn watcher calls it: it spends no NA budget (the
// probe budget bounds these answers) and starts no probe.
func (r *responder) answerLate(frame []byte, ns *neighborSolicitation, na *[naFrameLen]byte) reason {
	return r.decide(frame, ns, na, 0, true)
}

// decide is answer, with the scratch ns; late: see answerLate.
func (r *responder) decide(frame []byte, ns *neighborSolicitation, na *[naFrameLen]byte, now int64, late bool) reason {
	u, p := r.link.Load(), r.pol.Load()
	if len(frame) >= ethHdrLen && mac(frame[ethOffSrc:]) == u.MAC {
		// Our own frame, such as an announcement, looped back by a bridge.
		return reasonOwnFrame
	}
	*ns = neighborSolicitation{}
	if err := parseNS(frame, ns); err != nil {
		return err.(reason)
	}
	// A multicast NS, or a unicast one sent to our MAC (a router's
	// reachability probe, RFC 4861 §7.3.3): both are ours to answer, or the
	// router's entry falls to FAILED.
	if !ns.EthDst.isMulticast() && ns.EthDst != u.MAC {
		return reasonNotForUs
	}
	if !ns.Dst.IsMulticast() && ns.Dst != ns.Target {
		return reasonNotForUs
	}
	// Another node's duplicate address detection. Answering it would have
	// to go to all-nodes and would defend the address; we never send to ::.
	if ns.Src.IsUnspecified() {
		return reasonDAD
	}
	// The NA goes to the source link-layer address if there is one (RFC
	// 4861 §7.2.4), else to the frame's source: either must be one
	// station, never a group or nobody.
	to := ns.EthSrc
	if ns.HasSourceLLA {
		to = ns.SourceLLA
	}
	if !ns.EthSrc.isUnicast() || !to.isUnicast() {
		return reasonBadLinkAddress
	}
	// The ranges bound what we answer; without them (Docker networks
	// alone), the uplink's on-link prefixes do: a network made with a
	// neighbour's prefix must not make us claim the neighbour's addresses.
	if (len(p.ranges) > 0 || !p.liveOnly) && !contains(p.ranges, ns.Target) {
		return reasonOutOfRange
	}
	if len(p.ranges) == 0 && !u.onLink(ns.Target) {
		return reasonOutOfRange
	}
	if p.liveOnly {
		if l := r.live.Load(); l == nil || !l.Has(ns.Target) {
			if !late && p.probe && r.offerProbe(frame, ns, p, u, now) {
				return reasonProbing
			}
			return reasonNotLive
		}
	}
	if !allowed(p.from, ns.Src) {
		return reasonSourceNotAllowed
	}
	if u.owns(ns.Target) {
		return reasonOwnAddress
	}
	if ns.Target == u.Gateway {
		return reasonGatewayAddress
	}
	src := ns.Target
	switch p.source {
	case sourceLinkLocal:
		src = u.LinkLocal
	case sourceFixed:
		src = p.fixed
	}
	if !src.IsValid() {
		return reasonNoSource
	}
	if !late && !r.budget.allow(ns.Target, now, p.rate, p.rateTarget) {
		return reasonRateLimited
	}
	buildNA(na, u.MAC, to, src, ns.Src, ns.Target, p.flags, u.MAC)
	return reasonNone
}

// offerProbe hands the -learn watcher a request to resolve a target that
// is not live, with its solicitation, if the solicitation would be answered
// were the target alive and the probe budget allows; it never blocks.
func (r *responder) offerProbe(frame []byte, ns *neighborSolicitation, p *answerPolicy, u *uplink, now int64) bool {
	target := ns.Target
	if r.probes == nil || !allowed(p.from, ns.Src) || u.owns(target) || target == u.Gateway || !r.gate.admit(target, now) {
		return false
	}
	req := probeRequest{target: target}
	if len(frame) <= maxProbeFrame {
		req.n = copy(req.ns[:], frame)
	}
	select {
	case r.probes <- req:
		return true
	default:
		return false
	}
}
