package main

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
)

// Link and address messages are built here field by field in host order
// (the layouts of struct ifinfomsg and struct ifaddrmsg), so the test means
// the same on big-endian hosts.
func hostAttr(typ uint16, v []byte) []byte {
	return appendAttr(nil, typ, v)
}

func TestParseLink(t *testing.T) {
	hdr := make([]byte, ifinfomsgLen)
	binary.NativeEndian.PutUint32(hdr[4:], 7) // ifi_index
	data := slices.Concat(hdr, hostAttr(iflaIfname, []byte("eth0\x00")), hostAttr(iflaAddress, vpsMAC[:]))
	l, err := parseLink(data)
	if want := (link{Index: 7, Name: "eth0", MAC: vpsMAC}); err != nil || l != want {
		t.Errorf("parseLink(%x) = %+v, %v; want %+v", data, l, err, want)
	}
	if _, err := parseLink(hdr[:10]); err == nil {
		t.Errorf("parseLink of a short header: no error")
	}
	if _, err := parseLink(slices.Concat(hdr, []byte{8, 0})); err == nil {
		t.Errorf("parseLink with a cut attribute: no error")
	}
}

func TestParseAddr(t *testing.T) {
	a := netip.MustParseAddr("2001:db8:1:2::2")
	hdr := func(family byte) []byte {
		h := make([]byte, ifaddrmsgLen)
		h[0], h[1], h[2] = family, 64, ifaFTentative
		binary.NativeEndian.PutUint32(h[4:], 7)
		return h
	}
	a16 := a.As16()
	flags := make([]byte, 4)
	binary.NativeEndian.PutUint32(flags, ifaFDeprecated)
	for _, c := range []struct {
		name   string
		data   []byte
		want   ifAddr
		usable bool
	}{
		{"tentative, flags in the header", slices.Concat(hdr(afInet6), hostAttr(ifaAddress, a16[:])), ifAddr{Index: 7, Addr: a, Flags: ifaFTentative}, false},
		{"deprecated, IFA_FLAGS wins", slices.Concat(hdr(afInet6), hostAttr(ifaAddress, a16[:]), hostAttr(ifaFlags, flags)), ifAddr{Index: 7, Addr: a, Flags: ifaFDeprecated}, false},
	} {
		got, err := parseAddr(c.data)
		if err != nil || got != c.want || got.usable() != c.usable {
			t.Errorf("%s: parseAddr(%x) = %+v (usable %v), %v; want %+v (usable %v)", c.name, c.data, got, got.usable(), err, c.want, c.usable)
		}
	}
	if got := (ifAddr{Addr: a}); !got.usable() {
		t.Errorf("an address with no flags is not usable")
	}
	if _, err := parseAddr(slices.Concat(hdr(2), hostAttr(ifaAddress, []byte{192, 0, 2, 1}))); err == nil {
		t.Errorf("parseAddr of an IPv4 address: no error")
	}
	if _, err := parseAddr(hdr(afInet6)[:5]); err == nil {
		t.Errorf("parseAddr of a short header: no error")
	}
}

func TestAppendDump(t *testing.T) {
	b := appendDump(nil, rtmGetAddr, 9, ifaddrmsgLen, afInet6)
	msgs, err := parseNetlink(b)
	if err != nil || len(msgs) != 1 || msgs[0].Type != rtmGetAddr || msgs[0].Flags != nlmFRequest|nlmFDump ||
		msgs[0].Seq != 9 || len(msgs[0].Data) != ifaddrmsgLen || msgs[0].Data[0] != afInet6 {
		t.Errorf("appendDump = %x: %+v, %v", b, msgs, err)
	}
}
