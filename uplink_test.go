package main

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"ndpresponder/internal/rtnl"
	"ndpresponder/internal/rtnl/rtnltest"
)

// makeUplink builds, as the daemon once did at start, the snapshot of interface index from dumps of the
// links, its addresses and the IPv6 routes; ok is false when the interface
// is not among the links.
func makeUplink(index int, links []rtnl.Link, addrs []rtnl.IfAddr, routes []rtnl.Route) (u *uplink, ok bool) {
	s := uplinkState{index: index}
	for _, l := range links {
		if l.Index == index {
			s.mac, ok = l.MAC, true
		}
	}
	if !ok {
		return nil, false
	}
	for _, a := range addrs {
		if a.Index == index {
			s.addrs = append(s.addrs, a)
		}
	}
	for _, r := range routes {
		s.addRoute(r)
	}
	return s.snapshot(), true
}

// TestMakeUplink: the snapshot takes the interface's MAC, its addresses
// (usable ones as sources: the first link-local, the globals in order) and
// the default gateway through it.
func TestMakeUplink(t *testing.T) {
	a := netip.MustParseAddr
	links := []rtnl.Link{{Index: 1, Name: "lo"}, {Index: 2, Name: "eth0", MAC: vpsMAC}, {Index: 3, Name: "br0", MAC: routerNew}}
	addrs := []rtnl.IfAddr{
		{Index: 2, Addr: a("fe80::1"), Flags: rtnl.IfaFTentative},
		{Index: 2, Addr: a("fe80::2")},
		{Index: 2, Addr: a("2001:db8:1:2::2")},
		{Index: 3, Addr: a("2001:db8:1:3::1")},
		{Index: 2, Addr: a("2001:db8:1:2::3"), Flags: rtnl.IfaFDeprecated},
		{Index: 2, Addr: a("2001:db8:1:2::4")},
		{Index: 2, Addr: a("fe80::3")},
	}
	routes := []rtnl.Route{
		{Dst: netip.MustParsePrefix("::/0"), Gateway: a("fe80::99"), OIF: 3, Table: rtnl.RtTableMain, Type: rtnl.RtnUnicast},
		{Dst: netip.MustParsePrefix("::/0"), Gateway: routerLL, OIF: 2, Table: rtnl.RtTableMain, Type: rtnl.RtnUnicast},
	}
	u, ok := makeUplink(2, links, addrs, routes)
	if !ok {
		t.Fatal("makeUplink(2, ...) found no interface 2")
	}
	if u.MAC != vpsMAC || u.LinkLocal != a("fe80::2") || u.Gateway != routerLL {
		t.Errorf("makeUplink: MAC %v, link-local %v, gateway %v; want %v, fe80::2, %v", u.MAC, u.LinkLocal, u.Gateway, vpsMAC, routerLL)
	}
	if want := []netip.Addr{a("2001:db8:1:2::2"), a("2001:db8:1:2::4")}; !slices.Equal(u.Global, want) {
		t.Errorf("makeUplink: globals %v, want %v", u.Global, want)
	}
	if len(u.Addrs) != 6 || !u.owns(a("fe80::1")) || !u.owns(a("2001:db8:1:2::3")) || u.owns(a("2001:db8:1:3::1")) {
		t.Errorf("makeUplink: own addresses %v, want the six of interface 2", u.Addrs)
	}
	if _, ok := makeUplink(9, links, addrs, routes); ok {
		t.Errorf("makeUplink(9, ...) found an interface that is not there")
	}
	if u, _ := makeUplink(3, links, addrs, nil); u.Gateway.IsValid() {
		t.Errorf("makeUplink without routes: gateway %v, want none", u.Gateway)
	}
}

// ownAddr is the uplink's global address in these tests.
var ownAddr = netip.MustParseAddr("2001:db8:1:2::2")

// Link, address and route messages as the kernel sends them, in host order.
func linkMsgOf(typ uint16, index int, name string, m mac) rtnl.Msg {
	hdr := make([]byte, rtnl.IfinfomsgLen)
	binary.NativeEndian.PutUint32(hdr[4:], uint32(index))
	binary.NativeEndian.PutUint32(hdr[8:], rtnl.IffUp)
	return rtnl.Msg{Type: typ, Data: slices.Concat(hdr, rtnl.AppendAttr(nil, rtnl.IflaIfname, []byte(name+"\x00")), rtnl.AppendAttr(nil, rtnl.IflaAddress, m[:]))}
}

func addrMsgOf(typ uint16, index int, a netip.Addr, flags byte) rtnl.Msg {
	hdr := make([]byte, rtnl.IfaddrmsgLen)
	hdr[0], hdr[1], hdr[2] = rtnl.AfInet6, 64, flags
	binary.NativeEndian.PutUint32(hdr[4:], uint32(index))
	b := a.As16()
	return rtnl.Msg{Type: typ, Data: slices.Concat(hdr, rtnl.AppendAttr(nil, rtnl.IfaAddress, b[:]))}
}

func routeMsgOf(typ uint16, dst netip.Prefix, oif int) rtnl.Msg {
	d := dst.Addr().As16()
	return rtnl.Msg{Type: typ, Data: rtnltest.Rtmsg(rtnl.AfInet6, byte(dst.Bits()), rtnl.RtTableMain, rtnl.RtnUnicast,
		rtnltest.Attr(rtnl.RtaDst, d[:]), rtnltest.Attr(rtnl.RtaOIF, rtnltest.U32(uint32(oif))), rtnltest.Attr(rtnl.RtaPriority, rtnltest.U32(1024)))}
}

// TestUplinkStateEvents: the uplink's state follows the events that
// concern it, as they say, and leaves the others alone; what an event
// cannot say (a default route, the interface gone) is marked.
func TestUplinkStateEvents(t *testing.T) {
	a := netip.MustParseAddr
	const eth0, veth = 2, 5
	base := func() *uplinkState {
		s := &uplinkState{}
		s.follow("eth0")
		s.index, s.mac = eth0, vpsMAC
		s.addrs = []rtnl.IfAddr{{Index: eth0, Addr: a("fe80::2")}, {Index: eth0, Addr: ownAddr}}
		s.routes = []rtnl.Route{{Dst: netip.MustParsePrefix("::/0"), Gateway: routerLL, OIF: eth0, Table: rtnl.RtTableMain, Type: rtnl.RtnUnicast}}
		return s
	}
	s := base()
	for _, step := range []struct {
		name    string
		m       rtnl.Msg
		concern bool
		check   func(s *uplinkState, u *uplink) bool
	}{
		{"another link", linkMsgOf(rtnl.RtmNewLink, veth, "veth1", routerNew), false, nil},
		{"another link deleted", linkMsgOf(rtnl.RtmDelLink, veth, "veth1", routerNew), false, nil},
		{"another's address", addrMsgOf(rtnl.RtmNewAddr, veth, a("fe80::5"), 0), false, nil},
		{"another's route", routeMsgOf(rtnl.RtmNewRoute, netip.MustParsePrefix("fe80::/64"), veth), false, nil},
		{"a host route of ours", routeMsgOf(rtnl.RtmNewRoute, netip.MustParsePrefix("2001:db8:1:2::2/128"), eth0), false, nil},
		{"another's on-link prefix", routeMsgOf(rtnl.RtmNewRoute, netip.MustParsePrefix("2001:db8:5::/64"), veth), false, nil},
		{"an on-link prefix of ours", routeMsgOf(rtnl.RtmNewRoute, netip.MustParsePrefix("2001:db8:1:3::/64"), eth0), true,
			func(s *uplinkState, u *uplink) bool {
				// Read again; here, as if read.
				s.routesStale = false
				s.addRoute(rtnl.Route{Dst: netip.MustParsePrefix("2001:db8:1:3::/64"), OIF: eth0, Table: rtnl.RtTableMain, Type: rtnl.RtnUnicast})
				u = s.snapshot()
				return u.onLink(a("2001:db8:1:3::77")) && !u.onLink(a("2001:db8:1:4::77")) && u.Gateway == routerLL
			}},
		{"a new address", addrMsgOf(rtnl.RtmNewAddr, eth0, a("2001:db8:1:2::3"), 0), true,
			func(s *uplinkState, u *uplink) bool {
				// Where the kernel lists it is read again; here, as if read.
				s.stale = false
				s.addrs = slices.Insert(s.addrs, 0, rtnl.IfAddr{Index: eth0, Addr: a("2001:db8:1:2::3")})
				return true
			}},
		{"the same again", addrMsgOf(rtnl.RtmNewAddr, eth0, a("2001:db8:1:2::3"), 0), false,
			func(s *uplinkState, u *uplink) bool { return slices.Contains(u.Global, a("2001:db8:1:2::3")) }},
		{"it is deprecated", addrMsgOf(rtnl.RtmNewAddr, eth0, a("2001:db8:1:2::3"), rtnl.IfaFDeprecated), true,
			func(s *uplinkState, u *uplink) bool {
				return !slices.Contains(u.Global, a("2001:db8:1:2::3")) && u.owns(a("2001:db8:1:2::3"))
			}},
		{"it goes", addrMsgOf(rtnl.RtmDelAddr, eth0, a("2001:db8:1:2::3"), 0), true,
			func(s *uplinkState, u *uplink) bool { return !u.owns(a("2001:db8:1:2::3")) && u.owns(ownAddr) }},
		{"one we did not have goes", addrMsgOf(rtnl.RtmDelAddr, eth0, a("2001:db8:1:2::9"), 0), false, nil},
		{"our link, nothing new", linkMsgOf(rtnl.RtmNewLink, eth0, "eth0", vpsMAC), false, nil},
		{"our MAC changes", linkMsgOf(rtnl.RtmNewLink, eth0, "eth0", routerNew), true,
			func(s *uplinkState, u *uplink) bool { return u.MAC == routerNew && u.Gateway == routerLL }},
		{"a default route", routeMsgOf(rtnl.RtmNewRoute, netip.MustParsePrefix("::/0"), veth), true,
			func(s *uplinkState, u *uplink) bool { return s.routesStale && !s.gone }},
		{"another link takes our name", linkMsgOf(rtnl.RtmNewLink, 9, "eth0", routerNew), true,
			func(s *uplinkState, u *uplink) bool { return s.gone }},
	} {
		changed := s.changed
		if got := s.event(step.m); got != step.concern {
			t.Errorf("%s: event = %v, want %v", step.name, got, step.concern)
		}
		if !step.concern && s.changed != changed {
			t.Errorf("%s: the state changed", step.name)
		}
		if step.check != nil {
			if u := s.snapshot(); !step.check(s, u) {
				t.Errorf("%s: state %+v, snapshot %+v", step.name, *s, *u)
			}
		}
	}

	s = base()
	if !s.event(linkMsgOf(rtnl.RtmDelLink, eth0, "eth0", vpsMAC)) || !s.gone {
		t.Errorf("our link deleted: not gone")
	}
	s = base()
	if !s.event(linkMsgOf(rtnl.RtmNewLink, eth0, "wan0", vpsMAC)) || !s.gone {
		t.Errorf("our link renamed: not gone")
	}
	s = &uplinkState{}
	s.follow("eth0")
	if s.event(linkMsgOf(rtnl.RtmNewLink, veth, "veth1", routerNew)) || s.event(addrMsgOf(rtnl.RtmNewAddr, eth0, ownAddr, 0)) ||
		s.event(routeMsgOf(rtnl.RtmNewRoute, netip.MustParsePrefix("::/0"), eth0)) {
		t.Errorf("before the uplink is found: an event that does not name it concerns it")
	}
	if !s.event(linkMsgOf(rtnl.RtmNewLink, eth0, "eth0", vpsMAC)) || s.gone {
		t.Errorf("before the uplink is found: its link does not concern it, or it is gone")
	}
}

// TestUplinkStateEventsAllocs: the events of other interfaces, which a
// container's start or stop brings by the dozen, and the changes of the
// uplink's addresses (lifetimes, at each Router Advertisement) cost no
// allocation.
func TestUplinkStateEventsAllocs(t *testing.T) {
	s := &uplinkState{}
	s.follow("eth0")
	s.index = 2
	s.addrs = []rtnl.IfAddr{{Index: 2, Addr: ownAddr}}
	msgs := []rtnl.Msg{
		linkMsgOf(rtnl.RtmNewLink, 5, "veth1", routerNew),
		linkMsgOf(rtnl.RtmDelLink, 5, "veth1", routerNew),
		addrMsgOf(rtnl.RtmNewAddr, 5, netip.MustParseAddr("fe80::5"), 0),
		routeMsgOf(rtnl.RtmNewRoute, netip.MustParsePrefix("fe80::/64"), 5),
		routeMsgOf(rtnl.RtmNewRoute, netip.MustParsePrefix("2001:db8:5::/64"), 5),
		addrMsgOf(rtnl.RtmNewAddr, 2, ownAddr, rtnl.IfaFDeprecated),
		addrMsgOf(rtnl.RtmNewAddr, 2, ownAddr, 0),
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, m := range msgs {
			s.event(m)
		}
	}); n != 0 {
		t.Errorf("event allocates %v times a round, want 0", n)
	}
}
