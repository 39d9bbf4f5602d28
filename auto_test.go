package main

import (
	"net/netip"
	"testing"

	"ndpresponder/internal/rtnl"
)

// The -auto tests' interfaces: the uplink, a tun device (a WireGuard
// client's), a bridge.
const (
	autoUplink = 2
	autoTun    = 9
	autoBridge = 5
)

var (
	autoRange = netip.MustParsePrefix("2001:db8:1:2:7775::/96")
	wgClient  = netip.MustParseAddr("2001:db8:1:2:7775::c")
)

func autoRoute(dst string, oif int, typ uint8, priority uint32) rtnl.Route {
	return rtnl.Route{Dst: netip.MustParsePrefix(dst), OIF: oif, Table: rtnl.RtTableMain, Type: typ, Priority: priority}
}

// autoLive is what the responder sees of the table.
func autoLive(t *autoRoutes) *liveAddrs {
	hosts, routes := t.snapshot(autoUplink)
	m := map[netip.Addr]uint8{}
	for a := range hosts {
		m[a] = 1 << liveAuto
	}
	return &liveAddrs{m: m, routes: routes}
}

// TestAutoRoutes: a host route by a tun device makes its address live, one
// by the uplink does not; a prefix more specific than the on-link /64 makes
// all of its addresses live, but a more specific route by the uplink inside
// it wins; the lowest metric wins; routes that leave by no interface, of
// another table or outside the ranges make nothing live; a deleted route or
// a deleted interface takes its addresses along.
func TestAutoRoutes(t *testing.T) {
	tab := newAutoRoutes([]netip.Prefix{autoRange}, rtnl.RtTableMain)
	steps := []struct {
		name    string
		r       rtnl.Route
		deleted bool
		changed bool
		live    map[string]bool
	}{
		{"the default route", autoRoute("::/0", autoUplink, rtnl.RtnUnicast, 1024), false, true,
			map[string]bool{"2001:db8:1:2:7775::c": false}},
		{"the uplink's on-link /64", autoRoute("2001:db8:1:2::/64", autoUplink, rtnl.RtnUnicast, 256), false, true,
			map[string]bool{"2001:db8:1:2:7775::c": false}},
		{"a client's /128 on tun", autoRoute("2001:db8:1:2:7775::c/128", autoTun, rtnl.RtnUnicast, 1024), false, true,
			map[string]bool{"2001:db8:1:2:7775::c": true, "2001:db8:1:2:7775::d": false}},
		{"the same again", autoRoute("2001:db8:1:2:7775::c/128", autoTun, rtnl.RtnUnicast, 1024), false, false,
			map[string]bool{"2001:db8:1:2:7775::c": true}},
		{"a routed /120 on a bridge", autoRoute("2001:db8:1:2:7775::100/120", autoBridge, rtnl.RtnUnicast, 1024), false, true,
			map[string]bool{"2001:db8:1:2:7775::100": true, "2001:db8:1:2:7775::1ff": true, "2001:db8:1:2:7775::200": false}},
		{"a /128 by the uplink inside it", autoRoute("2001:db8:1:2:7775::1aa/128", autoUplink, rtnl.RtnUnicast, 1024), false, true,
			map[string]bool{"2001:db8:1:2:7775::1aa": false, "2001:db8:1:2:7775::1ab": true}},
		{"a blackhole /128 inside it", autoRoute("2001:db8:1:2:7775::1bb/128", 0, 6, 1024), false, true,
			map[string]bool{"2001:db8:1:2:7775::1bb": false}},
		{"a better metric by the uplink", autoRoute("2001:db8:1:2:7775::c/128", autoUplink, rtnl.RtnUnicast, 10), false, true,
			map[string]bool{"2001:db8:1:2:7775::c": false}},
		{"it goes again", autoRoute("2001:db8:1:2:7775::c/128", autoUplink, rtnl.RtnUnicast, 10), true, true,
			map[string]bool{"2001:db8:1:2:7775::c": true}},
		{"another table", rtnl.Route{Dst: netip.MustParsePrefix("2001:db8:1:2:7775::e/128"), OIF: autoTun, Table: 100, Type: rtnl.RtnUnicast}, false, false,
			map[string]bool{"2001:db8:1:2:7775::e": false}},
		{"outside the ranges", autoRoute("2001:db8:9::1/128", autoTun, rtnl.RtnUnicast, 1024), false, false,
			map[string]bool{"2001:db8:9::1": false}},
		{"the client's route is deleted", autoRoute("2001:db8:1:2:7775::c/128", autoTun, rtnl.RtnUnicast, 1024), true, true,
			map[string]bool{"2001:db8:1:2:7775::c": false}},
	}
	for _, s := range steps {
		if got := tab.apply(s.r, s.deleted); got != s.changed {
			t.Errorf("%s: apply(%+v, %v) = %v, want %v", s.name, s.r, s.deleted, got, s.changed)
		}
		l := autoLive(tab)
		for a, want := range s.live {
			if got := l.Has(netip.MustParseAddr(a)); got != want {
				t.Errorf("%s: %s live = %v, want %v", s.name, a, got, want)
			}
		}
	}
	// The routes that decide nothing are left out of the snapshot: the
	// default route and the on-link /64 (by the uplink, within nothing
	// live), not the /128s inside the live /120.
	_, routes := tab.snapshot(autoUplink)
	if len(routes) != 3 {
		t.Errorf("snapshot routes = %v, want the /120 and the two /128s inside it", routes)
	}
	if !tab.dropLink(autoBridge) || autoLive(tab).Has(netip.MustParseAddr("2001:db8:1:2:7775::100")) {
		t.Errorf("the bridge's /120 outlived the bridge")
	}
	if tab.dropLink(autoBridge) {
		t.Errorf("dropLink of a link with no routes left says it changed something")
	}
}

// TestAutoRoutesHosts: live host routes are addresses to announce; the
// uplink unknown (0), a route by any interface counts.
func TestAutoRoutesHosts(t *testing.T) {
	tab := newAutoRoutes([]netip.Prefix{autoRange}, rtnl.RtTableMain)
	tab.apply(autoRoute("2001:db8:1:2:7775::c/128", autoTun, rtnl.RtnUnicast, 1024), false)
	tab.apply(autoRoute("2001:db8:1:2:7775::d/128", autoUplink, rtnl.RtnUnicast, 1024), false)
	hosts, routes := tab.snapshot(autoUplink)
	if _, ok := hosts[wgClient]; !ok || len(hosts) != 1 || len(routes) != 0 {
		t.Errorf("snapshot = %v, %v; want only %v", hosts, routes, wgClient)
	}
	if hosts, _ := tab.snapshot(0); len(hosts) != 2 {
		t.Errorf("with no uplink, %d live host routes, want 2", len(hosts))
	}
}

// TestAutoRoutesCaps: the routes followed and the prefixes handed to the
// responder are bounded.
func TestAutoRoutesCaps(t *testing.T) {
	tab := newAutoRoutes([]netip.Prefix{autoRange}, rtnl.RtTableMain)
	for i := range maxAutoRoutes + 10 {
		a := autoRange.Addr().As16()
		bits, v := 128, i
		if i < maxAutoPrefixes+5 {
			bits, v = 127, i<<1 // prefixes, not host routes
			a[12] = 1
		}
		a[13], a[14], a[15] = byte(v>>16), byte(v>>8), byte(v)
		tab.apply(rtnl.Route{Dst: netip.PrefixFrom(netip.AddrFrom16(a), bits), OIF: autoTun, Table: rtnl.RtTableMain, Type: rtnl.RtnUnicast}, false)
	}
	if len(tab.routes) != maxAutoRoutes || tab.prefixes != maxAutoPrefixes || tab.dropped != 10 {
		t.Errorf("%d routes kept, %d of them prefixes, %d dropped; want %d, %d and 10 (5 prefixes, 5 host routes)", len(tab.routes), tab.prefixes, tab.dropped, maxAutoRoutes, maxAutoPrefixes)
	}
	if _, routes := tab.snapshot(autoUplink); len(routes) != maxAutoPrefixes {
		t.Errorf("%d prefixes handed on, want %d", len(routes), maxAutoPrefixes)
	}
}

func TestLiveAddrsHasAllocs(t *testing.T) {
	tab := newAutoRoutes([]netip.Prefix{autoRange}, rtnl.RtTableMain)
	tab.apply(autoRoute("2001:db8:1:2:7775::100/120", autoBridge, rtnl.RtnUnicast, 1024), false)
	tab.apply(autoRoute("2001:db8:1:2:7775::1aa/128", autoUplink, rtnl.RtnUnicast, 1024), false)
	l := autoLive(tab)
	a := netip.MustParseAddr("2001:db8:1:2:7775::1ab")
	if n := testing.AllocsPerRun(1000, func() { l.Has(a) }); n != 0 {
		t.Errorf("has: %v allocations per run, want 0", n)
	}
}
