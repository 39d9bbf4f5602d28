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

	"ndpresponder/internal/rtnl"
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
	ranges   []netip.Prefix
	table    uint32
	routes   map[autoKey]bool // whether the route leaves by an interface (a unicast route with one)
	prefixes int              // routes other than host routes
	dropped  uint64           // routes not kept: a cap was reached
}

func newAutoRoutes(ranges []netip.Prefix, table uint32) *autoRoutes {
	return &autoRoutes{ranges: ranges, table: table, routes: map[autoKey]bool{}}
}

// apply takes one route, from a dump or an event (deleted for
// RTM_DELROUTE), and says whether the table changed.
func (t *autoRoutes) apply(r rtnl.Route, deleted bool) bool {
	if r.Table != t.table || !overlaps(t.ranges, r.Dst) {
		return false
	}
	k := autoKey{r.Dst.Masked(), r.Priority, r.OIF}
	leaves := r.Type == rtnl.RtnUnicast && r.OIF != 0
	was, had := t.routes[k]
	host := k.dst.IsSingleIP()
	switch {
	case deleted:
		if had {
			t.forget(k)
		}
		return had
	case had:
		t.routes[k] = leaves
		return was != leaves
	case len(t.routes) >= maxAutoRoutes || !host && t.prefixes >= maxAutoPrefixes:
		t.dropped++
		return false
	}
	t.routes[k] = leaves
	if !host {
		t.prefixes++
	}
	return true
}

func (t *autoRoutes) forget(k autoKey) {
	delete(t.routes, k)
	if !k.dst.IsSingleIP() {
		t.prefixes--
	}
}

// dropLink forgets the routes by an interface that is gone, and says
// whether there were any.
func (t *autoRoutes) dropLink(ifindex int) bool {
	n := len(t.routes)
	for k := range t.routes {
		if k.oif == ifindex {
			t.forget(k)
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
func (t *autoRoutes) snapshot(uplink int) (hosts map[netip.Addr]struct{}, routes []liveRoute) {
	type best struct {
		priority uint32
		live     bool
	}
	dsts := map[netip.Prefix]best{}
	for k, leaves := range t.routes {
		if b, ok := dsts[k.dst]; !ok || k.priority < b.priority {
			dsts[k.dst] = best{k.priority, leaves && k.oif != uplink}
		}
	}
	hosts = map[netip.Addr]struct{}{}
	var blocked []liveRoute // host routes that make nothing live
	for dst, b := range dsts {
		switch {
		case b.live && dst.IsSingleIP():
			hosts[dst.Addr()] = struct{}{}
		case dst.IsSingleIP():
			blocked = append(blocked, liveRoute{dst, false})
		default:
			// In order, the most specific first; there are at most
			// maxAutoPrefixes of them.
			i := len(routes)
			routes = append(routes, liveRoute{dst, b.live})
			for ; i > 0 && moreSpecific(dst, routes[i-1].dst); i-- {
				routes[i], routes[i-1] = routes[i-1], routes[i]
			}
		}
	}
	keep := blocked[:0]
	for _, r := range blocked {
		if coveredLive(routes, r.dst) {
			keep = append(keep, r)
		}
	}
	for i, r := range routes {
		if r.live || coveredLive(routes[i+1:], r.dst) {
			keep = append(keep, r)
		}
	}
	return hosts, keep
}

// moreSpecific orders prefixes: the longer first, then by address.
func moreSpecific(a, b netip.Prefix) bool {
	if a.Bits() != b.Bits() {
		return a.Bits() > b.Bits()
	}
	return a.Addr().Less(b.Addr())
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
