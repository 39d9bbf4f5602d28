package main

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"ndpresponder/internal/rtnl"
)

// goldenLinkQemu is a link message as a big-endian program reads it under
// qemu-user on a little-endian Linux 6.18 (and the other way round): qemu
// translates the header of every attribute it walks, but its walk stops
// before a last attribute of only a header, which keeps the kernel's byte
// order. Written by hand after the end of what
// `ip netns exec NS qemu-mips-static ./dump RTM_GETLINK` printed for every
// link; the attributes in between are left out.
var goldenLinkQemu = nlGolden{le: `
	50000000          // nlmsghdr: len 80
	1000              //   type RTM_NEWLINK (16)
	0200              //   flags NLM_F_MULTI
	01000000          //   seq 1
	34120000          //   pid 0x1234
	00 00             // ifinfomsg: family AF_UNSPEC, pad
	0100              //   type ARPHRD_ETHER
	02000000          //   index 2
	43100100          //   flags IFF_UP|IFF_BROADCAST|IFF_RUNNING|IFF_MULTICAST|IFF_LOWER_UP
	00000000          //   change
	0900 0300         // rtattr: len 9, IFLA_IFNAME
	6574683000 000000 // "eth0\0", padding to RTA_ALIGN(9) = 12
	0800 0400         // rtattr: len 8, IFLA_MTU, skipped
	dc050000          //   1500
	0a00 0100         // rtattr: len 10, IFLA_ADDRESS
	020000000002      //   02:00:00:00:00:02
	0000              //   padding
	0a00 0200         // rtattr: len 10, IFLA_BROADCAST, skipped
	ffffffffffff      //   ff:ff:ff:ff:ff:ff
	0000              //   padding
	0004 8041         // rtattr in the other byte order: len 4, IFLA_DPLL_PIN (65)|NLA_F_NESTED
`, be: `
	00000050          // nlmsghdr: len 80
	0010              //   type RTM_NEWLINK (16)
	0002              //   flags NLM_F_MULTI
	00000001          //   seq 1
	00001234          //   pid 0x1234
	00 00             // ifinfomsg: family AF_UNSPEC, pad
	0001              //   type ARPHRD_ETHER
	00000002          //   index 2
	00011043          //   flags IFF_UP|IFF_BROADCAST|IFF_RUNNING|IFF_MULTICAST|IFF_LOWER_UP
	00000000          //   change
	0009 0003         // rtattr: len 9, IFLA_IFNAME
	6574683000 000000 // "eth0\0", padding to RTA_ALIGN(9) = 12
	0008 0004         // rtattr: len 8, IFLA_MTU, skipped
	000005dc          //   1500
	000a 0001         // rtattr: len 10, IFLA_ADDRESS
	020000000002      //   02:00:00:00:00:02
	0000              //   padding
	000a 0002         // rtattr: len 10, IFLA_BROADCAST, skipped
	ffffffffffff      //   ff:ff:ff:ff:ff:ff
	0000              //   padding
	0400 4180         // rtattr in the other byte order: len 4, IFLA_DPLL_PIN (65)|NLA_F_NESTED
`}

// countCuts returns how many messages have been counted as cut since it
// was called; the count goes back to what it was when the test ends.
func countCuts(t testing.TB) func() uint64 {
	before := rtnl.Cut.Load()
	t.Cleanup(func() { rtnl.Cut.Store(before) })
	return func() uint64 { return rtnl.Cut.Load() - before }
}

// swappedAttr is an empty nested attribute of type typ in the byte order
// the host does not speak, as qemu-user leaves one.
func swappedAttr(typ uint16) []byte {
	var other binary.AppendByteOrder = binary.BigEndian
	if hostIsBigEndian {
		other = binary.LittleEndian
	}
	return other.AppendUint16(other.AppendUint16(nil, rtnl.RtaHdrLen), typ|0x8000)
}

func TestParseLinkQemuGolden(t *testing.T) {
	cuts := countCuts(t)
	data := parseOne(t, goldenLinkQemu.host(t), msgHeader{rtnl.RtmNewLink, rtnl.NlmFMulti, 1, 0x1234})
	got, err := rtnl.ParseLink(data)
	if want := (rtnl.Link{Index: 2, Name: "eth0", MAC: vpsMAC}); err != nil || got != want {
		t.Errorf("parseLink(%x) = %+v, %v; want %+v", data, got, err, want)
	}
	if cuts() != 1 {
		t.Errorf("the cut message was counted %d times, want once", cuts())
	}
}

// TestParseCut: a message whose last attribute cannot be walked is kept
// when the fields the daemon needs came before it, and dropped otherwise;
// either way it is counted once.
func TestParseCut(t *testing.T) {
	bad := swappedAttr(65)
	ifinfo := slices.Concat([]byte{0, 0}, hostU16(1), hostU32(2), hostU32(0), hostU32(0))
	ifaddr := slices.Concat([]byte{rtnl.AfInet6, 64, 0, 0}, hostU32(2))
	ndmsg := func(state uint16) []byte {
		return slices.Concat([]byte{rtnl.AfInet6, 0, 0, 0}, hostU32(2), hostU16(state), []byte{0, 0})
	}
	addr := netip.MustParseAddr("2001:db8:1:2::2")
	ll, global, prefix := routerLL.As16(), addr.As16(), onLinkPrefix.Addr().As16()
	name := rtaOf(rtnl.IflaIfname, []byte("eth0\x00"))
	table, oif, prio := rtaOf(rtnl.RtaTable, hostU32(rtnl.RtTableMain)), rtaOf(rtnl.RtaOIF, hostU32(2)), rtaOf(rtnl.RtaPriority, hostU32(1024))
	tests := []struct {
		name  string
		parse func([]byte) (any, error)
		in    []byte
		want  any // nil: dropped
	}{
		{"link with name and MAC", parseLinkAny, slices.Concat(ifinfo, name, rtaOf(rtnl.IflaAddress, vpsMAC[:]), bad),
			rtnl.Link{Index: 2, Name: "eth0", MAC: vpsMAC}},
		{"link without its MAC", parseLinkAny, slices.Concat(ifinfo, name, bad), nil},
		{"link without its name", parseLinkAny, slices.Concat(ifinfo, rtaOf(rtnl.IflaAddress, vpsMAC[:]), bad), nil},
		{"address", parseAddrAny, slices.Concat(ifaddr, rtaOf(rtnl.IfaAddress, global[:]), bad),
			rtnl.IfAddr{Index: 2, Addr: addr}},
		{"address cut before it", parseAddrAny, slices.Concat(ifaddr, bad, rtaOf(rtnl.IfaAddress, global[:])), nil},
		{"default route", parseRouteAny, rtmsgOf(rtnl.AfInet6, 0, rtnl.RtTableMain, rtnl.RtnUnicast, table, prio, rtaOf(rtnl.RtaGateway, ll[:]), oif, bad),
			rtnl.Route{Dst: netip.MustParsePrefix("::/0"), Gateway: routerLL, OIF: 2, Table: rtnl.RtTableMain, Type: rtnl.RtnUnicast, Priority: 1024}},
		{"route without its destination", parseRouteAny, rtmsgOf(rtnl.AfInet6, 64, rtnl.RtTableMain, rtnl.RtnUnicast, table, bad, rtaOf(rtnl.RtaDst, prefix[:]), prio, oif), nil},
		{"route without its metric", parseRouteAny, rtmsgOf(rtnl.AfInet6, 0, rtnl.RtTableMain, rtnl.RtnUnicast, table, rtaOf(rtnl.RtaGateway, ll[:]), oif, bad), nil},
		{"route without its interface", parseRouteAny, rtmsgOf(rtnl.AfInet6, 0, rtnl.RtTableMain, rtnl.RtnUnicast, table, prio, rtaOf(rtnl.RtaGateway, ll[:]), bad), nil},
		{"reachable neighbour", parseNeighAny, slices.Concat(ndmsg(rtnl.NudReachable), rtaOf(rtnl.NdaDst, ll[:]), rtaOf(rtnl.NdaLLAddr, routerMAC[:]), bad),
			rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: 2, State: rtnl.NudReachable, Addr: routerLL, MAC: routerMAC, HasMAC: true}},
		{"reachable neighbour without its MAC", parseNeighAny, slices.Concat(ndmsg(rtnl.NudReachable), rtaOf(rtnl.NdaDst, ll[:]), bad), nil},
		{"failed neighbour, which has no MAC", parseNeighAny, slices.Concat(ndmsg(rtnl.NudFailed), rtaOf(rtnl.NdaDst, ll[:]), bad),
			rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: 2, State: rtnl.NudFailed, Addr: routerLL}},
		{"neighbour without its address", parseNeighAny, slices.Concat(ndmsg(rtnl.NudFailed), bad), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cuts := countCuts(t)
			got, err := tt.parse(tt.in)
			if tt.want == nil && err == nil {
				t.Errorf("parse(%x) = %+v, nil; want an error", tt.in, got)
			}
			if tt.want != nil && (err != nil || got != tt.want) {
				t.Errorf("parse(%x) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if cuts() != 1 {
				t.Errorf("the cut message was counted %d times, want once", cuts())
			}
		})
	}
	t.Run("a whole message is not counted", func(t *testing.T) {
		cuts := countCuts(t)
		if _, err := rtnl.ParseLink(slices.Concat(ifinfo, name, rtaOf(rtnl.IflaAddress, vpsMAC[:]))); err != nil || cuts() != 0 {
			t.Errorf("parseLink of a whole message: %v, counted %d times as cut", err, cuts())
		}
	})
}

func parseLinkAny(b []byte) (any, error)  { return rtnl.ParseLink(b) }
func parseAddrAny(b []byte) (any, error)  { return rtnl.ParseAddr(b) }
func parseRouteAny(b []byte) (any, error) { return rtnl.ParseRoute(b) }
func parseNeighAny(b []byte) (any, error) { return rtnl.ParseNeigh(b) }

// TestCountersNetlinkCut: the counters' line shows the cut messages once
// there are any.
func TestCountersNetlinkCut(t *testing.T) {
	countCuts(t)
	var c counters
	rtnl.Cut.Store(0)
	if got := c.String(); strings.Contains(got, "netlink-cut") {
		t.Errorf("counters.String() = %q with no cut message", got)
	}
	rtnl.Cut.Store(3)
	if got := c.String(); !strings.Contains(got, " netlink-cut=3") {
		t.Errorf("counters.String() = %q, want netlink-cut=3", got)
	}
}
