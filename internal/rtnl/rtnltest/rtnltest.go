// Package rtnltest holds what the tests of netlink messages share, in
// package rtnl and in the daemon's: golden datagrams written in both byte
// orders, and builders of hand-made pieces in the host's. It is imported
// by tests only and must not import rtnl, whose own tests use it.
package rtnltest

import (
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

// Netlink speaks the host's byte order, so each golden message below is
// written out twice, by hand: little-endian for x86 and ARM, big-endian
// for MIPS routers. The test picks the one the host speaks; under
// qemu-mips the big-endian vectors are the ones checked against the code.
// Each whitespace-separated word is one field: words of 2 or 4 bytes are
// integers in host order, every other word is a byte string. On any host,
// TestNetlinkGoldenOrders checks the two orders against each other word by
// word, so a typo in the order the host does not speak still fails.
//
// BigEndian says whether the host speaks big-endian.
var BigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// Golden is one netlink datagram in both byte orders.
type Golden struct{ LE, BE string }

// Host returns the datagram in the host's byte order.
func (g Golden) Host(t testing.TB) []byte {
	t.Helper()
	if BigEndian {
		return Unhex(t, g.BE)
	}
	return Unhex(t, g.LE)
}

// Unhex decodes a golden: hex words, whitespace and // comments.
func Unhex(t testing.TB, s string) []byte {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		line, _, _ = strings.Cut(line, "//")
		b.WriteString(strings.Join(strings.Fields(line), ""))
	}
	out, err := hex.DecodeString(b.String())
	if err != nil {
		t.Fatalf("bad golden hex: %v", err)
	}
	return out
}

// Messages the daemon's tests read too.
var (
	// RouteDefault: "default via fe80::ff:fe00:1 dev eth0 proto ra
	// metric 1024 pref medium", one message of a route dump.
	RouteDefault = Golden{LE: `
		50000000          // nlmsghdr: len 80
		1800              //   type RTM_NEWROUTE (24)
		0200              //   flags NLM_F_MULTI
		01000000          //   seq 1
		34120000          //   pid 0x1234: ours
		0a                // rtmsg: family AF_INET6
		00 00 00          //   dst_len 0: the default route; src_len, tos
		fe                //   table RT_TABLE_MAIN (254)
		09                //   protocol RTPROT_RA
		00                //   scope RT_SCOPE_UNIVERSE
		01                //   type RTN_UNICAST
		00000000          //   flags
		0800 0f00         // rtattr: len 8, RTA_TABLE
		fe000000          //   254
		0800 0600         // rtattr: len 8, RTA_PRIORITY
		00040000          //   1024
		1400 0500         // rtattr: len 20, RTA_GATEWAY
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1
		0800 0400         // rtattr: len 8, RTA_OIF
		02000000          //   2
		0500 1400         // rtattr: len 5, RTA_PREF (20), skipped
		00                //   ICMPV6_ROUTER_PREF_MEDIUM
		000000            //   padding to RTA_ALIGN(5) = 8
	`, BE: `
		00000050          // nlmsghdr: len 80
		0018              //   type RTM_NEWROUTE (24)
		0002              //   flags NLM_F_MULTI
		00000001          //   seq 1
		00001234          //   pid 0x1234: ours
		0a                // rtmsg: family AF_INET6
		00 00 00          //   dst_len 0: the default route; src_len, tos
		fe                //   table RT_TABLE_MAIN (254)
		09                //   protocol RTPROT_RA
		00                //   scope RT_SCOPE_UNIVERSE
		01                //   type RTN_UNICAST
		00000000          //   flags
		0008 000f         // rtattr: len 8, RTA_TABLE
		000000fe          //   254
		0008 0006         // rtattr: len 8, RTA_PRIORITY
		00000400          //   1024
		0014 0005         // rtattr: len 20, RTA_GATEWAY
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1
		0008 0004         // rtattr: len 8, RTA_OIF
		00000002          //   2
		0005 0014         // rtattr: len 5, RTA_PREF (20), skipped
		00                //   ICMPV6_ROUTER_PREF_MEDIUM
		000000            //   padding to RTA_ALIGN(5) = 8
	`}

	// LinkQemu is a link message as a big-endian program reads it under
	// qemu-user on a little-endian Linux 6.18 (and the other way round): qemu
	// translates the header of every attribute it walks, but its walk stops
	// before a last attribute of only a header, which keeps the kernel's byte
	// order. Written by hand after the end of what
	// `ip netns exec NS qemu-mips-static ./dump RTM_GETLINK` printed for every
	// link; the attributes in between are left out.
	LinkQemu = Golden{LE: `
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
	`, BE: `
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
)

// Hand-built pieces in host order, for the inputs the goldens do not cover.

func U16(v uint16) []byte { return binary.NativeEndian.AppendUint16(nil, v) }
func U32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// The route attribute header (struct rtattr) and its alignment
// (RTA_ALIGNTO), as in package rtnl, which this package must not import.
const (
	rtaHdrLen  = 4
	rtaAlignTo = 4
)

// Attr is a route attribute with its true length, padded.
func Attr(typ uint16, payload []byte) []byte {
	b := slices.Concat(U16(uint16(rtaHdrLen+len(payload))), U16(typ), payload)
	for len(b)%rtaAlignTo != 0 {
		b = append(b, 0)
	}
	return b
}

// Rtmsg is a struct rtmsg followed by attributes.
func Rtmsg(family, dstLen, table, typ byte, attrs ...[]byte) []byte {
	b := []byte{family, dstLen, 0, 0, table, 0, 0, typ, 0, 0, 0, 0}
	return slices.Concat(append([][]byte{b}, attrs...)...)
}

// goldenWords splits a golden message into its whitespace-separated words,
// comments dropped.
func goldenWords(s string) []string {
	var w []string
	for _, line := range strings.Split(s, "\n") {
		line, _, _ = strings.Cut(line, "//")
		w = append(w, strings.Fields(line)...)
	}
	return w
}

// CheckOrders checks each big-endian golden against its
// little-endian twin: the same words, with each 2- and 4-byte integer
// reversed and every byte string as it is.
func CheckOrders(t *testing.T, goldens map[string]Golden) {
	for name, g := range goldens {
		t.Run(name, func(t *testing.T) {
			le, be := goldenWords(g.LE), goldenWords(g.BE)
			if len(le) != len(be) {
				t.Fatalf("%d little-endian words, %d big-endian", len(le), len(be))
			}
			for i, w := range le {
				want := w
				if n := len(w) / 2; n == 2 || n == 4 {
					b, err := hex.DecodeString(w)
					if err != nil {
						t.Fatalf("word %d: %q: %v", i, w, err)
					}
					slices.Reverse(b)
					want = hex.EncodeToString(b)
				}
				if be[i] != want {
					t.Errorf("word %d: big-endian %s, little-endian %s, want %s", i, be[i], w, want)
				}
			}
			n := len(Unhex(t, g.LE))
			if got := int(binary.LittleEndian.Uint32(Unhex(t, g.LE))); name != "datagram" && got != n {
				t.Errorf("nlmsg_len %d, message of %d bytes", got, n)
			}
		})
	}
}
