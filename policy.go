package main

// The decision: answer a solicitation or not, and why. Plain Go over a
// parsed frame and a snapshot of the uplink's state, so tests drive it
// without root.

import (
	"net/netip"
	"sync/atomic"
)

// reason says why a solicitation got no answer. It is an error so that
// parseNS can return it without allocating, and an index into the counters.
type reason uint8

const (
	reasonNone reason = iota
	// The frame is not a valid NS (RFC 4861 §7.1.1).
	reasonTruncated
	reasonWrongType
	reasonHopLimit
	reasonCode
	reasonChecksum
	reasonBadOption
	reasonMulticastTarget
	reasonMulticastSource
	reasonDADDestination
	reasonDADWithSLLA
	reasonSolicitedMulticast // an NA, solicited yet sent to a group
	// The NS is valid, but not ours to answer.
	reasonOwnFrame
	reasonNotForUs
	reasonDAD
	reasonOutOfRange
	reasonOwnAddress
	reasonNoSource
	reasonSourceNotAllowed
	reasonRateLimited
	reasonNotLive
	numReasons
)

var reasonNames = [numReasons]string{
	reasonNone:               "none",
	reasonTruncated:          "truncated",
	reasonWrongType:          "wrong-type",
	reasonHopLimit:           "hop-limit",
	reasonCode:               "icmp-code",
	reasonChecksum:           "checksum",
	reasonBadOption:          "bad-option",
	reasonMulticastTarget:    "multicast-target",
	reasonMulticastSource:    "multicast-source",
	reasonDADDestination:     "dad-destination",
	reasonDADWithSLLA:        "dad-with-slla",
	reasonSolicitedMulticast: "solicited-multicast",
	reasonOwnFrame:           "own-frame",
	reasonNotForUs:           "not-for-us",
	reasonDAD:                "dad-probe",
	reasonOutOfRange:         "out-of-range",
	reasonOwnAddress:         "own-address",
	reasonNoSource:           "no-source-address",
	reasonSourceNotAllowed:   "source-not-allowed",
	reasonRateLimited:        "rate-limited",
	reasonNotLive:            "not-live",
}

func (r reason) Error() string { return reasonNames[r] }

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

// uplink is a snapshot of what the responder knows of its interface.
type uplink struct {
	MAC       mac
	Addrs     []netip.Addr // the interface's own addresses; the kernel answers for these
	LinkLocal netip.Addr   // first usable link-local address, if any
	Global    []netip.Addr // usable global addresses, to solicit from
}

func (u *uplink) owns(a netip.Addr) bool {
	for _, o := range u.Addrs {
		if o == a {
			return true
		}
	}
	return false
}

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
	liveOnly   bool       // answer only live addresses (-learn), inside the ranges
}

// liveAddrs is a snapshot of the addresses known alive behind the VPS.
type liveAddrs struct{ m map[netip.Addr]struct{} }

func (l *liveAddrs) has(a netip.Addr) bool {
	_, ok := l.m[a]
	return ok
}

// responder decides and builds answers. Only the packet loop calls answer;
// the policy and the uplink snapshot may be replaced from other goroutines.
type responder struct {
	pol    atomic.Pointer[answerPolicy]
	link   atomic.Pointer[uplink]
	live   atomic.Pointer[liveAddrs] // nil until something is learned
	budget naBudget
	ns     neighborSolicitation // scratch, reused for every frame
}

// newResponder makes a responder with an unlimited budget; configure
// sets the rest of a configuration.
func newResponder(ranges []netip.Prefix, source sourceMode, fixed netip.Addr, router bool) *responder {
	r := &responder{}
	r.configure(&config{ranges: ranges, source: source, fixed: fixed, router: router})
	return r
}

// configure applies the answering part of cfg.
func (r *responder) configure(cfg *config) {
	p := &answerPolicy{ranges: cfg.ranges, from: cfg.from, source: cfg.source, fixed: cfg.fixed,
		flags: naFlagSolicited | naFlagOverride, rate: cfg.rate, rateTarget: cfg.rateTarget,
		liveOnly: len(cfg.learn) > 0 || len(cfg.docker) > 0}
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
	u, p := r.link.Load(), r.pol.Load()
	if len(frame) >= ethHdrLen && mac(frame[ethOffSrc:]) == u.MAC {
		// Our own frame, such as an announcement, looped back by a bridge.
		return reasonOwnFrame
	}
	ns := &r.ns
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
	// With only Docker networks to follow, their containers' addresses
	// are all ours; otherwise the ranges bound what we answer.
	if (len(p.ranges) > 0 || !p.liveOnly) && !contains(p.ranges, ns.Target) {
		return reasonOutOfRange
	}
	if p.liveOnly {
		if l := r.live.Load(); l == nil || !l.has(ns.Target) {
			return reasonNotLive
		}
	}
	if !allowed(p.from, ns.Src) {
		return reasonSourceNotAllowed
	}
	if u.owns(ns.Target) {
		return reasonOwnAddress
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
	if !r.budget.allow(ns.Target, now, p.rate, p.rateTarget) {
		return reasonRateLimited
	}
	buildNA(na, u.MAC, ns.EthSrc, src, ns.Src, ns.Target, p.flags, u.MAC)
	return reasonNone
}
