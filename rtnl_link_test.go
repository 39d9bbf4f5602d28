package main

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"ndpresponder/internal/rtnl"
)

// Link and address messages are built here field by field in host order
// (the layouts of struct ifinfomsg and struct ifaddrmsg), so the test means
// the same on big-endian hosts.
func hostAttr(typ uint16, v []byte) []byte {
	return rtnl.AppendAttr(nil, typ, v)
}

func TestParseLink(t *testing.T) {
	hdr := make([]byte, rtnl.IfinfomsgLen)
	binary.NativeEndian.PutUint32(hdr[4:], 7) // ifi_index
	data := slices.Concat(hdr, hostAttr(rtnl.IflaIfname, []byte("eth0\x00")), hostAttr(rtnl.IflaAddress, vpsMAC[:]))
	l, err := rtnl.ParseLink(data)
	if want := (rtnl.Link{Index: 7, Name: "eth0", MAC: vpsMAC}); err != nil || l != want {
		t.Errorf("parseLink(%x) = %+v, %v; want %+v", data, l, err, want)
	}
	if _, err := rtnl.ParseLink(hdr[:10]); err == nil {
		t.Errorf("parseLink of a short header: no error")
	}
	if _, err := rtnl.ParseLink(slices.Concat(hdr, []byte{8, 0})); err == nil {
		t.Errorf("parseLink with a cut attribute: no error")
	}
}

func TestParseAddr(t *testing.T) {
	a := netip.MustParseAddr("2001:db8:1:2::2")
	hdr := func(family byte) []byte {
		h := make([]byte, rtnl.IfaddrmsgLen)
		h[0], h[1], h[2] = family, 64, rtnl.IfaFTentative
		binary.NativeEndian.PutUint32(h[4:], 7)
		return h
	}
	a16 := a.As16()
	flags := make([]byte, 4)
	binary.NativeEndian.PutUint32(flags, rtnl.IfaFDeprecated)
	for _, c := range []struct {
		name   string
		data   []byte
		want   rtnl.IfAddr
		usable bool
	}{
		{"tentative, flags in the header", slices.Concat(hdr(rtnl.AfInet6), hostAttr(rtnl.IfaAddress, a16[:])), rtnl.IfAddr{Index: 7, Addr: a, Flags: rtnl.IfaFTentative}, false},
		{"deprecated, IFA_FLAGS wins", slices.Concat(hdr(rtnl.AfInet6), hostAttr(rtnl.IfaAddress, a16[:]), hostAttr(rtnl.IfaFlags, flags)), rtnl.IfAddr{Index: 7, Addr: a, Flags: rtnl.IfaFDeprecated}, false},
	} {
		got, err := rtnl.ParseAddr(c.data)
		if err != nil || got != c.want || got.Usable() != c.usable {
			t.Errorf("%s: parseAddr(%x) = %+v (usable %v), %v; want %+v (usable %v)", c.name, c.data, got, got.Usable(), err, c.want, c.usable)
		}
	}
	if got := (rtnl.IfAddr{Addr: a}); !got.Usable() {
		t.Errorf("an address with no flags is not usable")
	}
	if _, err := rtnl.ParseAddr(slices.Concat(hdr(2), hostAttr(rtnl.IfaAddress, []byte{192, 0, 2, 1}))); err == nil {
		t.Errorf("parseAddr of an IPv4 address: no error")
	}
	if _, err := rtnl.ParseAddr(hdr(rtnl.AfInet6)[:5]); err == nil {
		t.Errorf("parseAddr of a short header: no error")
	}
}

func TestAppendDump(t *testing.T) {
	b := rtnl.AppendDump(nil, rtnl.RtmGetAddr, 9, rtnl.IfaddrmsgLen, rtnl.AfInet6)
	msgs, err := rtnl.ParseNetlink(b)
	if err != nil || len(msgs) != 1 || msgs[0].Type != rtnl.RtmGetAddr || msgs[0].Flags != rtnl.NlmFRequest|rtnl.NlmFDump ||
		msgs[0].Seq != 9 || len(msgs[0].Data) != rtnl.IfaddrmsgLen || msgs[0].Data[0] != rtnl.AfInet6 {
		t.Errorf("appendDump = %x: %+v, %v", b, msgs, err)
	}
}
