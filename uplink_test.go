package main

import (
	"net/netip"
	"slices"
	"testing"
)

// TestMakeUplink: the snapshot takes the interface's MAC, its addresses
// (usable ones as sources: the first link-local, the globals in order) and
// the default gateway through it.
func TestMakeUplink(t *testing.T) {
	a := netip.MustParseAddr
	links := []link{{Index: 1, Name: "lo"}, {Index: 2, Name: "eth0", MAC: vpsMAC}, {Index: 3, Name: "br0", MAC: routerNew}}
	addrs := []ifAddr{
		{Index: 2, Addr: a("fe80::1"), Flags: ifaFTentative},
		{Index: 2, Addr: a("fe80::2")},
		{Index: 2, Addr: a("2001:db8:1:2::2")},
		{Index: 3, Addr: a("2001:db8:1:3::1")},
		{Index: 2, Addr: a("2001:db8:1:2::3"), Flags: ifaFDeprecated},
		{Index: 2, Addr: a("2001:db8:1:2::4")},
		{Index: 2, Addr: a("fe80::3")},
	}
	routes := []route{
		{Dst: netip.MustParsePrefix("::/0"), Gateway: a("fe80::99"), OIF: 3, Table: rtTableMain, Type: rtnUnicast},
		{Dst: netip.MustParsePrefix("::/0"), Gateway: routerLL, OIF: 2, Table: rtTableMain, Type: rtnUnicast},
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
