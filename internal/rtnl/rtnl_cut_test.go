package rtnl

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"ndpresponder/internal/rtnl/rtnltest"
)

// countCuts returns how many messages have been counted as cut since it
// was called; the count goes back to what it was when the test ends.
func countCuts(t testing.TB) func() uint64 {
	before := Cut.Load()
	t.Cleanup(func() { Cut.Store(before) })
	return func() uint64 { return Cut.Load() - before }
}

// swappedAttr is an empty nested attribute of type typ in the byte order
// the host does not speak, as qemu-user leaves one.
func swappedAttr(typ uint16) []byte {
	var other binary.AppendByteOrder = binary.BigEndian
	if rtnltest.BigEndian {
		other = binary.LittleEndian
	}
	return other.AppendUint16(other.AppendUint16(nil, rtaHdrLen), typ|0x8000)
}

func TestParseLinkQemuGolden(t *testing.T) {
	cuts := countCuts(t)
	data := parseOne(t, rtnltest.LinkQemu.Host(t), msgHeader{RtmNewLink, nlmFMulti, 1, 0x1234})
	got, err := ParseLink(data)
	if want := (Link{Index: 2, Name: "eth0", MAC: vpsMAC}); err != nil || got != want {
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
	ifinfo := slices.Concat([]byte{0, 0}, rtnltest.U16(1), rtnltest.U32(2), rtnltest.U32(0), rtnltest.U32(0))
	ifaddr := slices.Concat([]byte{AfInet6, 64, 0, 0}, rtnltest.U32(2))
	ndmsg := func(state uint16) []byte {
		return slices.Concat([]byte{AfInet6, 0, 0, 0}, rtnltest.U32(2), rtnltest.U16(state), []byte{0, 0})
	}
	addr := netip.MustParseAddr("2001:db8:1:2::2")
	ll, global, prefix := routerLL.As16(), addr.As16(), onLinkPrefix.Addr().As16()
	name := rtnltest.Attr(IflaIfname, []byte("eth0\x00"))
	table, oif, prio := rtnltest.Attr(rtaTable, rtnltest.U32(RtTableMain)), rtnltest.Attr(RtaOIF, rtnltest.U32(2)), rtnltest.Attr(RtaPriority, rtnltest.U32(1024))
	tests := []struct {
		name  string
		parse func([]byte) (any, error)
		in    []byte
		want  any // nil: dropped
	}{
		{"link with name and MAC", parseLinkAny, slices.Concat(ifinfo, name, rtnltest.Attr(IflaAddress, vpsMAC[:]), bad),
			Link{Index: 2, Name: "eth0", MAC: vpsMAC}},
		{"link without its MAC", parseLinkAny, slices.Concat(ifinfo, name, bad), nil},
		{"link without its name", parseLinkAny, slices.Concat(ifinfo, rtnltest.Attr(IflaAddress, vpsMAC[:]), bad), nil},
		{"address", parseAddrAny, slices.Concat(ifaddr, rtnltest.Attr(IfaAddress, global[:]), bad),
			IfAddr{Index: 2, Addr: addr}},
		{"address cut before it", parseAddrAny, slices.Concat(ifaddr, bad, rtnltest.Attr(IfaAddress, global[:])), nil},
		{"default route", parseRouteAny, rtnltest.Rtmsg(AfInet6, 0, RtTableMain, RtnUnicast, table, prio, rtnltest.Attr(rtaGateway, ll[:]), oif, bad),
			Route{Dst: netip.MustParsePrefix("::/0"), Gateway: routerLL, OIF: 2, Table: RtTableMain, Type: RtnUnicast, Priority: 1024}},
		{"route without its destination", parseRouteAny, rtnltest.Rtmsg(AfInet6, 64, RtTableMain, RtnUnicast, table, bad, rtnltest.Attr(RtaDst, prefix[:]), prio, oif), nil},
		{"route without its metric", parseRouteAny, rtnltest.Rtmsg(AfInet6, 0, RtTableMain, RtnUnicast, table, rtnltest.Attr(rtaGateway, ll[:]), oif, bad), nil},
		{"route without its interface", parseRouteAny, rtnltest.Rtmsg(AfInet6, 0, RtTableMain, RtnUnicast, table, prio, rtnltest.Attr(rtaGateway, ll[:]), bad), nil},
		{"reachable neighbour", parseNeighAny, slices.Concat(ndmsg(NudReachable), rtnltest.Attr(ndaDst, ll[:]), rtnltest.Attr(ndaLLAddr, routerMAC[:]), bad),
			Neigh{Family: AfInet6, Ifindex: 2, State: NudReachable, Addr: routerLL, MAC: routerMAC, HasMAC: true}},
		{"reachable neighbour without its MAC", parseNeighAny, slices.Concat(ndmsg(NudReachable), rtnltest.Attr(ndaDst, ll[:]), bad), nil},
		{"failed neighbour, which has no MAC", parseNeighAny, slices.Concat(ndmsg(NudFailed), rtnltest.Attr(ndaDst, ll[:]), bad),
			Neigh{Family: AfInet6, Ifindex: 2, State: NudFailed, Addr: routerLL}},
		{"neighbour without its address", parseNeighAny, slices.Concat(ndmsg(NudFailed), bad), nil},
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
		if _, err := ParseLink(slices.Concat(ifinfo, name, rtnltest.Attr(IflaAddress, vpsMAC[:]))); err != nil || cuts() != 0 {
			t.Errorf("parseLink of a whole message: %v, counted %d times as cut", err, cuts())
		}
	})
}

func parseLinkAny(b []byte) (any, error)  { return ParseLink(b) }
func parseAddrAny(b []byte) (any, error)  { return ParseAddr(b) }
func parseRouteAny(b []byte) (any, error) { return ParseRoute(b) }
func parseNeighAny(b []byte) (any, error) { return ParseNeigh(b) }
