package main

// -auto: an address of the ranges is alive while the kernel's route for it
// leaves by another interface than the uplink: /128 host routes to tun,
// WireGuard or veth interfaces (wg-quick's AllowedIPs, OpenVPN's iroutes,
// Incus and LXD routed NICs, Calico) and prefixes more specific than the
// uplink's on-link one. Such interfaces have no neighbour table to learn
// from, and often no MAC; the route is all there is. Plain Go, fed the
// routes of one table; auto_linux.go follows them on rtnetlink.

import (
	"net/netip"
	"slices"
)

// rtmDelRoute is RTM_DELROUTE (linux/rtnetlink.h).
const rtmDelRoute = 25

// maxAutoRoutes bounds the routes followed, so that a flood of routes
// cannot grow the daemon's memory; maxAutoPrefixes bounds those that are
// not live host routes, which the responder walks for each solicitation.
const (
	maxAutoRoutes   = maxLearned
	maxAutoPrefixes = 256
)

// autoKey is one route as the kernel tells them apart in a table: its
// destination, metric and interface.
type autoKey struct {
	dst      netip.Prefix
	priority uint32
	oif      int
}

// autoRoutes holds the routes of one table that overlap the ranges.
type autoRoutes struct {
	ranges  []netip.Prefix
	table   uint32
	routes  map[autoKey]uint8 // the route's type
	dropped uint64            // routes not kept: maxAutoRoutes was reached
}

func newAutoRoutes(ranges []netip.Prefix, table uint32) *autoRoutes {
	return &autoRoutes{ranges: ranges, table: table, routes: map[autoKey]uint8{}}
}

// apply takes one route, from a dump or an event (deleted for
// RTM_DELROUTE), and says whether the table changed.
func (t *autoRoutes) apply(r route, deleted bool) bool {
	if r.Table != t.table || !overlaps(t.ranges, r.Dst) {
		return false
	}
	k := autoKey{r.Dst.Masked(), r.Priority, r.OIF}
	typ, had := t.routes[k]
	switch {
	case deleted:
		delete(t.routes, k)
		return had
	case had:
		t.routes[k] = r.Type
		return typ != r.Type
	case len(t.routes) >= maxAutoRoutes:
		t.dropped++
		return false
	}
	t.routes[k] = r.Type
	return true
}

// dropLink forgets the routes by an interface that is gone, and says
// whether there were any.
func (t *autoRoutes) dropLink(ifindex int) bool {
	n := len(t.routes)
	for k := range t.routes {
		if k.oif == ifindex {
			delete(t.routes, k)
		}
	}
	return len(t.routes) != n
}

func overlaps(ranges []netip.Prefix, p netip.Prefix) bool {
	for _, r := range ranges {
		if r.Overlaps(p) {
			return true
		}
	}
	return false
}

// snapshot says what is alive with uplink as the uplink's ifindex (0:
// none): the host routes that leave by another interface, and the other
// routes that decide, the most specific first. Of a destination's routes
// the one with the lowest metric counts, as for the kernel. A route that
// leaves by no interface (blackhole, unreachable, several next hops) makes
// nothing live. Only the routes that decide are kept: one that makes
// nothing live matters only inside a wider one that does.
func (t *autoRoutes) snapshot(uplink int) (hosts map[netip.Addr]struct{}, routes []liveRoute, over int) {
	type best struct {
		priority uint32
		live     bool
	}
	dsts := map[netip.Prefix]best{}
	for k, typ := range t.routes {
		if b, ok := dsts[k.dst]; ok && b.priority <= k.priority {
			continue
		}
		dsts[k.dst] = best{k.priority, typ == rtnUnicast && k.oif != 0 && k.oif != uplink}
	}
	hosts = map[netip.Addr]struct{}{}
	for dst, b := range dsts {
		switch {
		case b.live && dst.IsSingleIP():
			hosts[dst.Addr()] = struct{}{}
		default:
			routes = append(routes, liveRoute{dst, b.live})
		}
	}
	slices.SortFunc(routes, func(a, b liveRoute) int {
		if a.dst.Bits() != b.dst.Bits() {
			return b.dst.Bits() - a.dst.Bits()
		}
		return a.dst.Addr().Compare(b.dst.Addr())
	})
	keep := routes[:0]
	for i, r := range routes {
		if !r.live && !coveredLive(routes[i+1:], r.dst) {
			continue
		}
		keep = append(keep, r)
	}
	routes = keep
	if len(routes) > maxAutoPrefixes {
		over = len(routes) - maxAutoPrefixes
		routes = routes[:maxAutoPrefixes:maxAutoPrefixes]
	}
	return hosts, routes, over
}

// coveredLive says whether one of wider, the less specific routes, holds
// p and makes addresses live.
func coveredLive(wider []liveRoute, p netip.Prefix) bool {
	for _, w := range wider {
		if w.dst.Bits() < p.Bits() && w.dst.Contains(p.Addr()) {
			return w.live
		}
	}
	return false
}
