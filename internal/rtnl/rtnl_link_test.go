package rtnl

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
	return AppendAttr(nil, typ, v)
}

func TestParseLink(t *testing.T) {
	hdr := make([]byte, IfinfomsgLen)
	binary.NativeEndian.PutUint32(hdr[4:], 7) // ifi_index
	data := slices.Concat(hdr, hostAttr(IflaIfname, []byte("eth0\x00")), hostAttr(IflaAddress, vpsMAC[:]))
	l, err := ParseLink(data)
	if want := (Link{Index: 7, Name: "eth0", MAC: vpsMAC}); err != nil || l != want {
		t.Errorf("parseLink(%x) = %+v, %v; want %+v", data, l, err, want)
	}
	if _, err := ParseLink(hdr[:10]); err == nil {
		t.Errorf("parseLink of a short header: no error")
	}
	if _, err := ParseLink(slices.Concat(hdr, []byte{8, 0})); err == nil {
		t.Errorf("parseLink with a cut attribute: no error")
	}
}

func TestParseAddr(t *testing.T) {
	a := netip.MustParseAddr("2001:db8:1:2::2")
	hdr := func(family byte) []byte {
		h := make([]byte, IfaddrmsgLen)
		h[0], h[1], h[2] = family, 64, IfaFTentative
		binary.NativeEndian.PutUint32(h[4:], 7)
		return h
	}
	a16 := a.As16()
	flags := make([]byte, 4)
	binary.NativeEndian.PutUint32(flags, IfaFDeprecated)
	for _, c := range []struct {
		name   string
		data   []byte
		want   IfAddr
		usable bool
	}{
		{"tentative, flags in the header", slices.Concat(hdr(AfInet6), hostAttr(IfaAddress, a16[:])), IfAddr{Index: 7, Addr: a, Flags: IfaFTentative}, false},
		{"deprecated, IFA_FLAGS wins", slices.Concat(hdr(AfInet6), hostAttr(IfaAddress, a16[:]), hostAttr(ifaFlags, flags)), IfAddr{Index: 7, Addr: a, Flags: IfaFDeprecated}, false},
	} {
		got, err := ParseAddr(c.data)
		if err != nil || got != c.want || got.Usable() != c.usable {
			t.Errorf("%s: parseAddr(%x) = %+v (usable %v), %v; want %+v (usable %v)", c.name, c.data, got, got.Usable(), err, c.want, c.usable)
		}
	}
	if got := (IfAddr{Addr: a}); !got.Usable() {
		t.Errorf("an address with no flags is not usable")
	}
	if _, err := ParseAddr(slices.Concat(hdr(2), hostAttr(IfaAddress, []byte{192, 0, 2, 1}))); err == nil {
		t.Errorf("parseAddr of an IPv4 address: no error")
	}
	if _, err := ParseAddr(hdr(AfInet6)[:5]); err == nil {
		t.Errorf("parseAddr of a short header: no error")
	}
}

func TestAppendDump(t *testing.T) {
	b := AppendDump(nil, rtmGetAddr, 9, IfaddrmsgLen, AfInet6)
	msgs, err := ParseNetlink(b)
	if err != nil || len(msgs) != 1 || msgs[0].Type != rtmGetAddr || msgs[0].Flags != NlmFRequest|NlmFDump ||
		msgs[0].Seq != 9 || len(msgs[0].Data) != IfaddrmsgLen || msgs[0].Data[0] != AfInet6 {
		t.Errorf("appendDump = %x: %+v, %v", b, msgs, err)
	}
}
