package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"

	"ndpresponder/internal/rtnl"
)

// Netlink speaks the host's byte order, so each golden message below is
// written out twice, by hand: little-endian for x86 and ARM, big-endian
// for MIPS routers. The test picks the one the host speaks; under
// qemu-mips the big-endian vectors are the ones checked against the code.
// Each whitespace-separated word is one field: words of 2 or 4 bytes are
// integers in host order, every other word is a byte string. On any host,
// TestNetlinkGoldenOrders checks the two orders against each other word by
// word, so a typo in the order the host does not speak still fails.
var hostIsBigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// nlGolden is one netlink datagram in both byte orders.
type nlGolden struct{ le, be string }

// host returns the datagram in the host's byte order.
func (g nlGolden) host(t testing.TB) []byte {
	t.Helper()
	if hostIsBigEndian {
		return unhex(t, g.be)
	}
	return unhex(t, g.le)
}

// The requests we send, as appendRouteDump and appendNeigh must build them.
var (
	// goldenRouteDump: appendRouteDump(nil, 1), "ip -6 route show table all".
	goldenRouteDump = nlGolden{le: `
		1c000000          // nlmsghdr: len 28
		1a00              //   type RTM_GETROUTE (26)
		0103              //   flags NLM_F_REQUEST|NLM_F_DUMP (0x301)
		01000000          //   seq 1
		00000000          //   pid 0: the kernel
		0a                // rtmsg: family AF_INET6
		00 00 00          //   dst_len, src_len, tos
		00 00 00 00       //   table, protocol, scope, type: unspecified
		00000000          //   flags
	`, be: `
		0000001c          // nlmsghdr: len 28
		001a              //   type RTM_GETROUTE (26)
		0301              //   flags NLM_F_REQUEST|NLM_F_DUMP (0x301)
		00000001          //   seq 1
		00000000          //   pid 0: the kernel
		0a                // rtmsg: family AF_INET6
		00 00 00          //   dst_len, src_len, tos
		00 00 00 00       //   table, protocol, scope, type: unspecified
		00000000          //   flags
	`}

	// goldenNewNeigh: pinning the gateway, "ip -6 neigh replace
	// fe80::ff:fe00:1 lladdr 02:00:00:00:00:01 dev eth0 nud noarp".
	goldenNewNeigh = nlGolden{le: `
		3c000000          // nlmsghdr: len 60
		1c00              //   type RTM_NEWNEIGH (28)
		0505              //   flags NLM_F_REQUEST|NLM_F_ACK|NLM_F_REPLACE|NLM_F_CREATE (0x505)
		02000000          //   seq 2
		00000000          //   pid 0
		0a 00 0000        // ndmsg: family AF_INET6, pad1, pad2
		02000000          //   ifindex 2
		4000              //   state NUD_NOARP (0x40)
		00 00             //   flags, type
		1400 0100         // rtattr: len 20, NDA_DST
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1
		0a00 0200         // rtattr: len 10, NDA_LLADDR
		020000000001      //   02:00:00:00:00:01
		0000              //   padding to RTA_ALIGN(10) = 12
	`, be: `
		0000003c          // nlmsghdr: len 60
		001c              //   type RTM_NEWNEIGH (28)
		0505              //   flags NLM_F_REQUEST|NLM_F_ACK|NLM_F_REPLACE|NLM_F_CREATE (0x505)
		00000002          //   seq 2
		00000000          //   pid 0
		0a 00 0000        // ndmsg: family AF_INET6, pad1, pad2
		00000002          //   ifindex 2
		0040              //   state NUD_NOARP (0x40)
		00 00             //   flags, type
		0014 0001         // rtattr: len 20, NDA_DST
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1
		000a 0002         // rtattr: len 10, NDA_LLADDR
		020000000001      //   02:00:00:00:00:01
		0000              //   padding to RTA_ALIGN(10) = 12
	`}

	// goldenDelNeigh: unpinning, "ip -6 neigh del fe80::ff:fe00:1 dev eth0".
	goldenDelNeigh = nlGolden{le: `
		30000000          // nlmsghdr: len 48
		1d00              //   type RTM_DELNEIGH (29)
		0500              //   flags NLM_F_REQUEST|NLM_F_ACK (0x5)
		03000000          //   seq 3
		00000000          //   pid 0
		0a 00 0000        // ndmsg: family AF_INET6, pad1, pad2
		02000000          //   ifindex 2
		0000              //   state: none
		00 00             //   flags, type
		1400 0100         // rtattr: len 20, NDA_DST
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1; no NDA_LLADDR
	`, be: `
		00000030          // nlmsghdr: len 48
		001d              //   type RTM_DELNEIGH (29)
		0005              //   flags NLM_F_REQUEST|NLM_F_ACK (0x5)
		00000003          //   seq 3
		00000000          //   pid 0
		0a 00 0000        // ndmsg: family AF_INET6, pad1, pad2
		00000002          //   ifindex 2
		0000              //   state: none
		00 00             //   flags, type
		0014 0001         // rtattr: len 20, NDA_DST
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1; no NDA_LLADDR
	`}

	// goldenGetNeigh: reading the gateway's entry, "ip -6 neigh get
	// fe80::ff:fe00:1 dev eth0".
	goldenGetNeigh = nlGolden{le: `
		30000000          // nlmsghdr: len 48
		1e00              //   type RTM_GETNEIGH (30)
		0100              //   flags NLM_F_REQUEST (0x1)
		04000000          //   seq 4
		00000000          //   pid 0
		0a 00 0000        // ndmsg: family AF_INET6, pad1, pad2
		02000000          //   ifindex 2
		0000              //   state: none
		00 00             //   flags, type
		1400 0100         // rtattr: len 20, NDA_DST
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1; no NDA_LLADDR
	`, be: `
		00000030          // nlmsghdr: len 48
		001e              //   type RTM_GETNEIGH (30)
		0001              //   flags NLM_F_REQUEST (0x1)
		00000004          //   seq 4
		00000000          //   pid 0
		0a 00 0000        // ndmsg: family AF_INET6, pad1, pad2
		00000002          //   ifindex 2
		0000              //   state: none
		00 00             //   flags, type
		0014 0001         // rtattr: len 20, NDA_DST
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1; no NDA_LLADDR
	`}
)

// The kernel's answers, written by hand after the layouts of Linux's
// rt6_fill_node, neigh_fill_info and netlink_ack (not captured), to our
// port id 0x1234. Each carries an attribute we do not read.
var (
	// goldenRouteDefault: "default via fe80::ff:fe00:1 dev eth0 proto ra
	// metric 1024 pref medium", one message of a route dump.
	goldenRouteDefault = nlGolden{le: `
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
	`, be: `
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

	// goldenRouteSubnet: "2001:db8:1:2::/64 dev eth0 proto kernel metric
	// 256", the on-link route of the uplink's address.
	goldenRouteSubnet = nlGolden{le: `
		48000000          // nlmsghdr: len 72
		1800              //   type RTM_NEWROUTE (24)
		0200              //   flags NLM_F_MULTI
		01000000          //   seq 1
		34120000          //   pid 0x1234
		0a                // rtmsg: family AF_INET6
		40 00 00          //   dst_len 64, src_len, tos
		fe                //   table RT_TABLE_MAIN (254)
		02                //   protocol RTPROT_KERNEL
		00                //   scope RT_SCOPE_UNIVERSE
		01                //   type RTN_UNICAST
		00000000          //   flags
		0800 0f00         // rtattr: len 8, RTA_TABLE
		fe000000          //   254
		1400 0100         // rtattr: len 20, RTA_DST
		20010db8000100020000000000000000 // 2001:db8:1:2::
		0800 0600         // rtattr: len 8, RTA_PRIORITY
		00010000          //   256
		0800 0400         // rtattr: len 8, RTA_OIF
		02000000          //   2
	`, be: `
		00000048          // nlmsghdr: len 72
		0018              //   type RTM_NEWROUTE (24)
		0002              //   flags NLM_F_MULTI
		00000001          //   seq 1
		00001234          //   pid 0x1234
		0a                // rtmsg: family AF_INET6
		40 00 00          //   dst_len 64, src_len, tos
		fe                //   table RT_TABLE_MAIN (254)
		02                //   protocol RTPROT_KERNEL
		00                //   scope RT_SCOPE_UNIVERSE
		01                //   type RTN_UNICAST
		00000000          //   flags
		0008 000f         // rtattr: len 8, RTA_TABLE
		000000fe          //   254
		0014 0001         // rtattr: len 20, RTA_DST
		20010db8000100020000000000000000 // 2001:db8:1:2::
		0008 0006         // rtattr: len 8, RTA_PRIORITY
		00000100          //   256
		0008 0004         // rtattr: len 8, RTA_OIF
		00000002          //   2
	`}

	// goldenNeighReachable answers goldenGetNeigh: "fe80::ff:fe00:1 dev
	// eth0 lladdr 02:00:00:00:00:01 router REACHABLE".
	goldenNeighReachable = nlGolden{le: `
		58000000          // nlmsghdr: len 88
		1c00              //   type RTM_NEWNEIGH (28)
		0000              //   flags
		04000000          //   seq 4
		34120000          //   pid 0x1234
		0a 00 0000        // ndmsg: family AF_INET6, pad1, pad2
		02000000          //   ifindex 2
		0200              //   state NUD_REACHABLE
		80                //   flags NTF_ROUTER
		01                //   type RTN_UNICAST
		1400 0100         // rtattr: len 20, NDA_DST
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1
		0a00 0200         // rtattr: len 10, NDA_LLADDR
		020000000001      //   02:00:00:00:00:01
		0000              //   padding
		1400 0300         // rtattr: len 20, NDA_CACHEINFO, skipped
		e8030000 e8030000 //   confirmed 1000, used 1000
		e8030000 01000000 //   updated 1000, refcnt 1
		0800 0400         // rtattr: len 8, NDA_PROBES, skipped
		00000000          //   0
	`, be: `
		00000058          // nlmsghdr: len 88
		001c              //   type RTM_NEWNEIGH (28)
		0000              //   flags
		00000004          //   seq 4
		00001234          //   pid 0x1234
		0a 00 0000        // ndmsg: family AF_INET6, pad1, pad2
		00000002          //   ifindex 2
		0002              //   state NUD_REACHABLE
		80                //   flags NTF_ROUTER
		01                //   type RTN_UNICAST
		0014 0001         // rtattr: len 20, NDA_DST
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1
		000a 0002         // rtattr: len 10, NDA_LLADDR
		020000000001      //   02:00:00:00:00:01
		0000              //   padding
		0014 0003         // rtattr: len 20, NDA_CACHEINFO, skipped
		000003e8 000003e8 //   confirmed 1000, used 1000
		000003e8 00000001 //   updated 1000, refcnt 1
		0008 0004         // rtattr: len 8, NDA_PROBES, skipped
		00000000          //   0
	`}

	// goldenFDBFlushed is what the kernel says when a bridge port goes and
	// takes its station's forwarding entry along, as captured from Linux
	// 6.18 ("Deleted 02:42:ac:11:00:02 dev p1 master br0"): an AF_BRIDGE
	// RTM_DELNEIGH whose state is REACHABLE, not the STALE of an aged entry.
	goldenFDBFlushed = nlGolden{le: `
		4c000000          // nlmsghdr: len 76
		1d00              //   type RTM_DELNEIGH (29)
		0000              //   flags
		00000000          //   seq 0: an event
		00000000          //   pid 0: the kernel
		07 00 0000        // ndmsg: family AF_BRIDGE, pad1, pad2
		03000000          //   ifindex 3: the port
		0200              //   state NUD_REACHABLE
		00                //   flags
		00                //   type
		0a00 0200         // rtattr: len 10, NDA_LLADDR
		0242ac110002      //   02:42:ac:11:00:02
		0000              //   padding
		0800 0900         // rtattr: len 8, NDA_MASTER
		02000000          //   2: the bridge
		0800 0f00         // rtattr: len 8, NDA_FLAGS_EXT, skipped
		00000000          //   0
		1400 0300         // rtattr: len 20, NDA_CACHEINFO, skipped
		00000000 6e000000 //   confirmed 0, used 110
		0a000000 00000000 //   updated 10, refcnt 0
	`, be: `
		0000004c          // nlmsghdr: len 76
		001d              //   type RTM_DELNEIGH (29)
		0000              //   flags
		00000000          //   seq 0: an event
		00000000          //   pid 0: the kernel
		07 00 0000        // ndmsg: family AF_BRIDGE, pad1, pad2
		00000003          //   ifindex 3: the port
		0002              //   state NUD_REACHABLE
		00                //   flags
		00                //   type
		000a 0002         // rtattr: len 10, NDA_LLADDR
		0242ac110002      //   02:42:ac:11:00:02
		0000              //   padding
		0008 0009         // rtattr: len 8, NDA_MASTER
		00000002          //   2: the bridge
		0008 000f         // rtattr: len 8, NDA_FLAGS_EXT, skipped
		00000000          //   0
		0014 0003         // rtattr: len 20, NDA_CACHEINFO, skipped
		00000000 0000006e //   confirmed 0, used 110
		0000000a 00000000 //   updated 10, refcnt 0
	`}

	// goldenNeighFailed: "fe80::ff:fe00:1 dev eth0 FAILED", an entry with
	// no link-layer address.
	goldenNeighFailed = nlGolden{le: `
		4c000000          // nlmsghdr: len 76
		1c00              //   type RTM_NEWNEIGH (28)
		0000              //   flags
		04000000          //   seq 4
		34120000          //   pid 0x1234
		0a 00 0000        // ndmsg: family AF_INET6, pad1, pad2
		02000000          //   ifindex 2
		2000              //   state NUD_FAILED
		00                //   flags
		01                //   type RTN_UNICAST
		1400 0100         // rtattr: len 20, NDA_DST
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1; no NDA_LLADDR
		1400 0300         // rtattr: len 20, NDA_CACHEINFO, skipped
		e8030000 e8030000 //   confirmed 1000, used 1000
		e8030000 00000000 //   updated 1000, refcnt 0
		0800 0400         // rtattr: len 8, NDA_PROBES, skipped
		03000000          //   3
	`, be: `
		0000004c          // nlmsghdr: len 76
		001c              //   type RTM_NEWNEIGH (28)
		0000              //   flags
		00000004          //   seq 4
		00001234          //   pid 0x1234
		0a 00 0000        // ndmsg: family AF_INET6, pad1, pad2
		00000002          //   ifindex 2
		0020              //   state NUD_FAILED
		00                //   flags
		01                //   type RTN_UNICAST
		0014 0001         // rtattr: len 20, NDA_DST
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1; no NDA_LLADDR
		0014 0003         // rtattr: len 20, NDA_CACHEINFO, skipped
		000003e8 000003e8 //   confirmed 1000, used 1000
		000003e8 00000000 //   updated 1000, refcnt 0
		0008 0004         // rtattr: len 8, NDA_PROBES, skipped
		00000003          //   3
	`}

	// goldenENOENT answers goldenDelNeigh when there is no entry: an error
	// carries the whole request back.
	goldenENOENT = nlGolden{le: `
		44000000          // nlmsghdr: len 68
		0200              //   type NLMSG_ERROR
		0000              //   flags
		03000000          //   seq 3
		34120000          //   pid 0x1234
		feffffff          // nlmsgerr: error -ENOENT (-2)
		30000000          //   request nlmsghdr: len 48
		1d00 0500         //     type RTM_DELNEIGH, flags NLM_F_REQUEST|NLM_F_ACK
		03000000 00000000 //     seq 3, pid 0
		0a 00 0000        //   request ndmsg: family, pad1, pad2
		02000000          //     ifindex 2
		0000 00 00        //     state, flags, type
		1400 0100         //   request rtattr: len 20, NDA_DST
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1
	`, be: `
		00000044          // nlmsghdr: len 68
		0002              //   type NLMSG_ERROR
		0000              //   flags
		00000003          //   seq 3
		00001234          //   pid 0x1234
		fffffffe          // nlmsgerr: error -ENOENT (-2)
		00000030          //   request nlmsghdr: len 48
		001d 0005         //     type RTM_DELNEIGH, flags NLM_F_REQUEST|NLM_F_ACK
		00000003 00000000 //     seq 3, pid 0
		0a 00 0000        //   request ndmsg: family, pad1, pad2
		00000002          //     ifindex 2
		0000 00 00        //     state, flags, type
		0014 0001         //   request rtattr: len 20, NDA_DST
		fe80000000000000000000fffe000001 // fe80::ff:fe00:1
	`}

	// goldenAck acknowledges goldenNewNeigh: error 0 and the request's
	// header only.
	goldenAck = nlGolden{le: `
		24000000          // nlmsghdr: len 36
		0200              //   type NLMSG_ERROR
		0001              //   flags NLM_F_CAPPED (0x100)
		02000000          //   seq 2
		34120000          //   pid 0x1234
		00000000          // nlmsgerr: error 0, an acknowledgement
		3c000000          //   request nlmsghdr: len 60
		1c00 0505         //     type RTM_NEWNEIGH, flags 0x505
		02000000 00000000 //     seq 2, pid 0
	`, be: `
		00000024          // nlmsghdr: len 36
		0002              //   type NLMSG_ERROR
		0100              //   flags NLM_F_CAPPED (0x100)
		00000002          //   seq 2
		00001234          //   pid 0x1234
		00000000          // nlmsgerr: error 0, an acknowledgement
		0000003c          //   request nlmsghdr: len 60
		001c 0505         //     type RTM_NEWNEIGH, flags 0x505
		00000002 00000000 //     seq 2, pid 0
	`}

	// goldenDatagram holds three messages, the first and last of lengths
	// that are not multiples of 4: padding follows the first, and the last
	// ends the datagram without any.
	goldenDatagram = nlGolden{le: `
		15000000          // nlmsghdr: len 21
		0100 0200         //   type NLMSG_NOOP, flags NLM_F_MULTI
		05000000 34120000 //   seq 5, pid 0x1234
		0102030405        // payload, 5 bytes
		000000            // padding to NLMSG_ALIGN(21) = 24
		14000000          // nlmsghdr: len 20
		0300 0200         //   type NLMSG_DONE, flags NLM_F_MULTI
		05000000 34120000 //   seq 5, pid 0x1234
		00000000          // payload: 0
		11000000          // nlmsghdr: len 17
		0100 0200         //   type NLMSG_NOOP, flags NLM_F_MULTI
		05000000 34120000 //   seq 5, pid 0x1234
		ff                // payload, 1 byte; the datagram ends unpadded
	`, be: `
		00000015          // nlmsghdr: len 21
		0001 0002         //   type NLMSG_NOOP, flags NLM_F_MULTI
		00000005 00001234 //   seq 5, pid 0x1234
		0102030405        // payload, 5 bytes
		000000            // padding to NLMSG_ALIGN(21) = 24
		00000014          // nlmsghdr: len 20
		0003 0002         //   type NLMSG_DONE, flags NLM_F_MULTI
		00000005 00001234 //   seq 5, pid 0x1234
		00000000          // payload: 0
		00000011          // nlmsghdr: len 17
		0001 0002         //   type NLMSG_NOOP, flags NLM_F_MULTI
		00000005 00001234 //   seq 5, pid 0x1234
		ff                // payload, 1 byte; the datagram ends unpadded
	`}
)

var allNLGoldens = map[string]nlGolden{
	"route dump": goldenRouteDump, "new neigh": goldenNewNeigh, "del neigh": goldenDelNeigh,
	"get neigh": goldenGetNeigh, "default route": goldenRouteDefault, "subnet route": goldenRouteSubnet,
	"reachable neigh": goldenNeighReachable, "failed neigh": goldenNeighFailed, "ENOENT": goldenENOENT,
	"ack": goldenAck, "datagram": goldenDatagram, "link under qemu": goldenLinkQemu,
	"bridge entry flushed": goldenFDBFlushed,
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

// TestNetlinkGoldenOrders checks each big-endian golden against its
// little-endian twin: the same words, with each 2- and 4-byte integer
// reversed and every byte string as it is.
func TestNetlinkGoldenOrders(t *testing.T) {
	for name, g := range allNLGoldens {
		t.Run(name, func(t *testing.T) {
			le, be := goldenWords(g.le), goldenWords(g.be)
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
			n := len(unhex(t, g.le))
			if got := int(binary.LittleEndian.Uint32(unhex(t, g.le))); name != "datagram" && got != n {
				t.Errorf("nlmsg_len %d, message of %d bytes", got, n)
			}
		})
	}
}

// onLinkPrefix is the uplink's on-link /64; routerLL is the gateway.
var onLinkPrefix = netip.MustParsePrefix("2001:db8:1:2::/64")

func TestAppendRouteDumpGolden(t *testing.T) {
	got := rtnl.AppendRouteDump(nil, 1)
	if want := goldenRouteDump.host(t); !bytes.Equal(got, want) {
		t.Errorf("appendRouteDump(nil, 1) = %x\nwant                        %x", got, want)
	}
}

func TestAppendNeighGolden(t *testing.T) {
	tests := []struct {
		name   string
		typ    uint16
		flags  uint16
		seq    uint32
		state  uint16
		m      mac
		golden nlGolden
	}{
		{"RTM_NEWNEIGH noarp", rtnl.RtmNewNeigh, rtnl.NlmFRequest | rtnl.NlmFAck | rtnl.NlmFCreate | rtnl.NlmFReplace, 2, rtnl.NudNoARP, routerMAC, goldenNewNeigh},
		{"RTM_DELNEIGH", rtnl.RtmDelNeigh, rtnl.NlmFRequest | rtnl.NlmFAck, 3, 0, mac{}, goldenDelNeigh},
		// A MAC given with state 0 is left out.
		{"RTM_DELNEIGH with a MAC", rtnl.RtmDelNeigh, rtnl.NlmFRequest | rtnl.NlmFAck, 3, 0, routerMAC, goldenDelNeigh},
		{"RTM_GETNEIGH", rtnl.RtmGetNeigh, rtnl.NlmFRequest, 4, 0, mac{}, goldenGetNeigh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rtnl.AppendNeigh(nil, tt.typ, tt.flags, tt.seq, 2, routerLL, tt.state, tt.m)
			if want := tt.golden.host(t); !bytes.Equal(got, want) {
				t.Errorf("appendNeigh(nil, %d, %#x, %d, 2, %v, %#x, %v) = %x\nwant %x",
					tt.typ, tt.flags, tt.seq, routerLL, tt.state, tt.m, got, want)
			}
		})
	}
}

// Hand-built pieces in host order, for the inputs the goldens do not cover.

func hostU16(v uint16) []byte { return binary.NativeEndian.AppendUint16(nil, v) }
func hostU32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// nlhdrOf is an nlmsghdr claiming length n.
func nlhdrOf(n uint32, typ uint16) []byte {
	return slices.Concat(hostU32(n), hostU16(typ), hostU16(0), hostU32(1), hostU32(0))
}

// rtaOf is a route attribute with its true length, padded.
func rtaOf(typ uint16, payload []byte) []byte {
	b := slices.Concat(hostU16(uint16(rtnl.RtaHdrLen+len(payload))), hostU16(typ), payload)
	for len(b)%rtnl.RtaAlignTo != 0 {
		b = append(b, 0)
	}
	return b
}

// rtmsgOf is a struct rtmsg followed by attributes.
func rtmsgOf(family, dstLen, table, typ byte, attrs ...[]byte) []byte {
	b := []byte{family, dstLen, 0, 0, table, 0, 0, typ, 0, 0, 0, 0}
	return slices.Concat(append([][]byte{b}, attrs...)...)
}

// msgHeader is what parseNetlink reads of a message, without its data.
type msgHeader struct {
	Type, Flags uint16
	Seq, Pid    uint32
}

func TestParseNetlink(t *testing.T) {
	dgram := goldenDatagram.host(t)
	wantDgram := []rtnl.Msg{
		{Type: rtnl.NlmsgNoop, Flags: rtnl.NlmFMulti, Seq: 5, Pid: 0x1234, Data: []byte{1, 2, 3, 4, 5}},
		{Type: rtnl.NlmsgDone, Flags: rtnl.NlmFMulti, Seq: 5, Pid: 0x1234, Data: []byte{0, 0, 0, 0}},
		{Type: rtnl.NlmsgNoop, Flags: rtnl.NlmFMulti, Seq: 5, Pid: 0x1234, Data: []byte{0xff}},
	}
	tests := []struct {
		name    string
		in      []byte
		want    []rtnl.Msg // the messages before any error
		wantErr error
	}{
		{"empty", nil, nil, nil},
		{"three messages, padded between", dgram, wantDgram, nil},
		{"one header, no data", nlhdrOf(16, rtnl.NlmsgDone), []rtnl.Msg{{Type: rtnl.NlmsgDone, Seq: 1, Data: []byte{}}}, nil},
		{"truncated header", dgram[:10], nil, rtnl.ErrNetlinkShort},
		{"15 bytes", dgram[:15], nil, rtnl.ErrNetlinkShort},
		{"truncated header after three messages", append(slices.Clone(dgram), 0, 0, 0, 0), wantDgram, rtnl.ErrNetlinkShort},
		{"length 0", nlhdrOf(0, rtnl.NlmsgDone), nil, rtnl.ErrNetlinkShort},
		{"length 15, shorter than the header", nlhdrOf(15, rtnl.NlmsgDone), nil, rtnl.ErrNetlinkShort},
		{"length 1", nlhdrOf(1, rtnl.NlmsgDone), nil, rtnl.ErrNetlinkShort},
		{"length 17, past the end", nlhdrOf(17, rtnl.NlmsgDone), nil, rtnl.ErrNetlinkShort},
		{"length 0xffffffff", nlhdrOf(0xffffffff, rtnl.NlmsgDone), nil, rtnl.ErrNetlinkShort},
		{"length past the end, after a good message", slices.Concat(nlhdrOf(16, rtnl.NlmsgNoop), nlhdrOf(100, rtnl.NlmsgDone)),
			[]rtnl.Msg{{Type: rtnl.NlmsgNoop, Seq: 1, Data: []byte{}}}, rtnl.ErrNetlinkShort},
		{"golden cut in its last message", dgram[:len(dgram)-1], wantDgram[:2], rtnl.ErrNetlinkShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rtnl.ParseNetlink(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("parseNetlink(%x) = %v, want %v", tt.in, err, tt.wantErr)
			}
			if !sameMsgs(got, tt.want) {
				t.Errorf("parseNetlink(%x) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func sameMsgs(a, b []rtnl.Msg) bool {
	return slices.EqualFunc(a, b, func(x, y rtnl.Msg) bool {
		return msgHeader{x.Type, x.Flags, x.Seq, x.Pid} == msgHeader{y.Type, y.Flags, y.Seq, y.Pid} && bytes.Equal(x.Data, y.Data)
	})
}

// parseOne parses a golden holding one message and checks its header.
func parseOne(t *testing.T, b []byte, want msgHeader) []byte {
	t.Helper()
	msgs, err := rtnl.ParseNetlink(b)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("parseNetlink(%x) = %d messages, %v; want 1", b, len(msgs), err)
	}
	m := msgs[0]
	if got := (msgHeader{m.Type, m.Flags, m.Seq, m.Pid}); got != want {
		t.Errorf("parseNetlink(%x) header = %+v, want %+v", b, got, want)
	}
	return m.Data
}

func TestNlError(t *testing.T) {
	t.Run("golden ENOENT", func(t *testing.T) {
		b := goldenENOENT.host(t)
		data := parseOne(t, b, msgHeader{rtnl.NlmsgError, 0, 3, 0x1234})
		err := rtnl.NlError(data)
		if !errors.Is(err, syscall.ENOENT) {
			t.Errorf("nlError(%x) = %v, want %v", data, err, syscall.ENOENT)
		}
		// The request comes back with the error.
		if req := data[4:]; !bytes.Equal(req, goldenDelNeigh.host(t)) {
			t.Errorf("request in the error = %x, want %x", req, goldenDelNeigh.host(t))
		}
	})
	t.Run("golden ack", func(t *testing.T) {
		b := goldenAck.host(t)
		data := parseOne(t, b, msgHeader{rtnl.NlmsgError, 0x100, 2, 0x1234})
		if err := rtnl.NlError(data); err != nil {
			t.Errorf("nlError(%x) = %v, want nil", data, err)
		}
	})
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"0", hostU32(0), nil},
		{"0 with the request", slices.Concat(hostU32(0), nlhdrOf(16, rtnl.RtmNewNeigh)), nil},
		{"-ENOENT", hostU32(uint32(0xfffffffe)), syscall.ENOENT},
		{"-EPERM", hostU32(uint32(0xffffffff)), syscall.EPERM},
		{"-EINVAL", hostU32(^uint32(syscall.EINVAL) + 1), syscall.EINVAL},
		{"empty", nil, rtnl.ErrNetlinkShort},
		{"3 bytes", []byte{0, 0, 0}, rtnl.ErrNetlinkShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := rtnl.NlError(tt.in)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("nlError(%x) = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

type attrSeen struct {
	typ  uint16
	data string // hex
}

func TestParseAttrs(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    []attrSeen
		wantErr error
	}{
		{"none", nil, nil, nil},
		{"empty payload", rtaOf(7, nil), []attrSeen{{7, ""}}, nil},
		{"two, padded between", slices.Concat(rtaOf(1, []byte{0xaa}), rtaOf(2, []byte{1, 2, 3, 4})),
			[]attrSeen{{1, "aa"}, {2, "01020304"}}, nil},
		{"last one unpadded", slices.Concat(hostU16(5), hostU16(3), []byte{0xbb}), []attrSeen{{3, "bb"}}, nil},
		{"zero length", slices.Concat(hostU16(0), hostU16(1), hostU32(0)), nil, rtnl.ErrNetlinkShort},
		{"zero length after a good one", slices.Concat(rtaOf(1, nil), hostU16(0), hostU16(1)),
			[]attrSeen{{1, ""}}, rtnl.ErrNetlinkShort},
		{"length 3", slices.Concat(hostU16(3), hostU16(1), hostU32(0)), nil, rtnl.ErrNetlinkShort},
		{"past the end", slices.Concat(hostU16(20), hostU16(1), hostU32(0)), nil, rtnl.ErrNetlinkShort},
		{"length 0xffff", slices.Concat(hostU16(0xffff), hostU16(1), hostU32(0)), nil, rtnl.ErrNetlinkShort},
		{"2 stray bytes", slices.Concat(rtaOf(1, nil), []byte{4, 0}), []attrSeen{{1, ""}}, rtnl.ErrNetlinkShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []attrSeen
			err := rtnl.ParseAttrs(tt.in, func(typ uint16, data []byte) {
				got = append(got, attrSeen{typ, hex.EncodeToString(data)})
			})
			if !errors.Is(err, tt.wantErr) || !slices.Equal(got, tt.want) {
				t.Errorf("parseAttrs(%x) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseRouteGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden nlGolden
		want   rtnl.Route
	}{
		{"default", goldenRouteDefault, rtnl.Route{Dst: netip.MustParsePrefix("::/0"), Gateway: routerLL, OIF: 2,
			Table: rtnl.RtTableMain, Type: rtnl.RtnUnicast, Priority: 1024}},
		{"on-link /64", goldenRouteSubnet, rtnl.Route{Dst: onLinkPrefix, OIF: 2, Table: rtnl.RtTableMain, Type: rtnl.RtnUnicast, Priority: 256}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := parseOne(t, tt.golden.host(t), msgHeader{rtnl.RtmNewRoute, rtnl.NlmFMulti, 1, 0x1234})
			if got, err := rtnl.ParseRoute(data); err != nil || got != tt.want {
				t.Errorf("parseRoute(%x) = %+v, %v; want %+v", data, got, err, tt.want)
			}
		})
	}
}

func TestParseRoute(t *testing.T) {
	gw := routerLL.As16()
	dst := onLinkPrefix.Addr().As16()
	tests := []struct {
		name string
		in   []byte
		want rtnl.Route
		ok   bool
	}{
		{"no attributes", rtmsgOf(rtnl.AfInet6, 0, rtnl.RtTableMain, rtnl.RtnUnicast), rtnl.Route{Dst: netip.MustParsePrefix("::/0"),
			Table: rtnl.RtTableMain, Type: rtnl.RtnUnicast}, true},
		{"RTA_TABLE beyond 255", rtmsgOf(rtnl.AfInet6, 0, 252, rtnl.RtnUnicast, rtaOf(rtnl.RtaTable, hostU32(1000)), rtaOf(rtnl.RtaGateway, gw[:])),
			rtnl.Route{Dst: netip.MustParsePrefix("::/0"), Gateway: routerLL, Table: 1000, Type: rtnl.RtnUnicast}, true},
		{"a gateway of 4 bytes is skipped", rtmsgOf(rtnl.AfInet6, 0, rtnl.RtTableMain, rtnl.RtnUnicast, rtaOf(rtnl.RtaGateway, []byte{192, 0, 2, 1})),
			rtnl.Route{Dst: netip.MustParsePrefix("::/0"), Table: rtnl.RtTableMain, Type: rtnl.RtnUnicast}, true},
		{"a /128", rtmsgOf(rtnl.AfInet6, 128, rtnl.RtTableMain, rtnl.RtnUnicast, rtaOf(rtnl.RtaDst, dst[:]), rtaOf(rtnl.RtaOIF, hostU32(7))),
			rtnl.Route{Dst: netip.MustParsePrefix("2001:db8:1:2::/128"), OIF: 7, Table: rtnl.RtTableMain, Type: rtnl.RtnUnicast}, true},
		{"IPv4", rtmsgOf(2, 0, rtnl.RtTableMain, rtnl.RtnUnicast, rtaOf(rtnl.RtaGateway, []byte{192, 0, 2, 1})), rtnl.Route{}, false},
		{"dst_len 129", rtmsgOf(rtnl.AfInet6, 129, rtnl.RtTableMain, rtnl.RtnUnicast), rtnl.Route{}, false},
		{"short", rtmsgOf(rtnl.AfInet6, 0, rtnl.RtTableMain, rtnl.RtnUnicast)[:rtnl.RtmsgLen-1], rtnl.Route{}, false},
		{"empty", nil, rtnl.Route{}, false},
		{"zero-length attribute", rtmsgOf(rtnl.AfInet6, 0, rtnl.RtTableMain, rtnl.RtnUnicast, slices.Concat(hostU16(0), hostU16(rtnl.RtaGateway))), rtnl.Route{}, false},
		{"attribute past the end", rtmsgOf(rtnl.AfInet6, 0, rtnl.RtTableMain, rtnl.RtnUnicast, rtaOf(rtnl.RtaGateway, gw[:])[:12]), rtnl.Route{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rtnl.ParseRoute(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseRoute(%x) = %+v, %v; want %+v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestParseNeighGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden nlGolden
		hdr    msgHeader
		want   rtnl.Neigh
	}{
		{"reachable", goldenNeighReachable, msgHeader{rtnl.RtmNewNeigh, 0, 4, 0x1234},
			rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: 2, State: rtnl.NudReachable, Flags: 0x80, Addr: routerLL, MAC: routerMAC, HasMAC: true}},
		{"failed, no lladdr", goldenNeighFailed, msgHeader{rtnl.RtmNewNeigh, 0, 4, 0x1234},
			rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: 2, State: rtnl.NudFailed, Addr: routerLL}},
		{"bridge forwarding entry flushed", goldenFDBFlushed, msgHeader{rtnl.RtmDelNeigh, 0, 0, 0},
			rtnl.Neigh{Family: rtnl.AfBridge, Ifindex: 3, Master: 2, State: rtnl.NudReachable, MAC: mac{0x02, 0x42, 0xac, 0x11, 0, 0x02}, HasMAC: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := parseOne(t, tt.golden.host(t), tt.hdr)
			if got, err := rtnl.ParseNeigh(data); err != nil || got != tt.want {
				t.Errorf("parseNeigh(%x) = %+v, %v; want %+v", data, got, err, tt.want)
			}
		})
	}
}

func TestParseNeigh(t *testing.T) {
	// Our own requests parse back as what they ask for.
	for _, tt := range []struct {
		name   string
		golden nlGolden
		want   rtnl.Neigh
	}{
		{"our RTM_NEWNEIGH", goldenNewNeigh, rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: 2, State: rtnl.NudNoARP, Addr: routerLL, MAC: routerMAC, HasMAC: true}},
		{"our RTM_DELNEIGH", goldenDelNeigh, rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: 2, Addr: routerLL}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.golden.host(t)[rtnl.NlmsgHdrLen:]
			if got, err := rtnl.ParseNeigh(data); err != nil || got != tt.want {
				t.Errorf("parseNeigh(%x) = %+v, %v; want %+v", data, got, err, tt.want)
			}
		})
	}
	ndmsg := func(ifindex int32, state uint16) []byte {
		return slices.Concat([]byte{rtnl.AfInet6, 0, 0, 0}, hostU32(uint32(ifindex)), hostU16(state), []byte{0, 0})
	}
	a := routerLL.As16()
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"short", ndmsg(2, rtnl.NudReachable)[:rtnl.NdmsgLen-1]},
		{"empty", nil},
		{"zero-length attribute", slices.Concat(ndmsg(2, rtnl.NudReachable), hostU16(0), hostU16(rtnl.NdaDst))},
		{"attribute past the end", slices.Concat(ndmsg(2, rtnl.NudReachable), rtaOf(rtnl.NdaDst, a[:])[:19])},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := rtnl.ParseNeigh(tt.in); err == nil {
				t.Errorf("parseNeigh(%x) = %+v, nil; want an error", tt.in, got)
			}
		})
	}
	t.Run("lladdr of 8 bytes is skipped", func(t *testing.T) {
		in := slices.Concat(ndmsg(-1, rtnl.NudStale), rtaOf(rtnl.NdaDst, a[:]), rtaOf(rtnl.NdaLLAddr, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
		want := rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: -1, State: rtnl.NudStale, Addr: routerLL}
		if got, err := rtnl.ParseNeigh(in); err != nil || got != want {
			t.Errorf("parseNeigh(%x) = %+v, %v; want %+v", in, got, err, want)
		}
	})
}

func TestDefaultGateway(t *testing.T) {
	const oif = 2
	def := netip.MustParsePrefix("::/0")
	gw1, gw2, gw3 := routerLL, netip.MustParseAddr("fe80::2"), netip.MustParseAddr("fe80::3")
	r := func(dst netip.Prefix, gw netip.Addr, oif int, table uint32, typ uint8, prio uint32) rtnl.Route {
		return rtnl.Route{Dst: dst, Gateway: gw, OIF: oif, Table: table, Type: typ, Priority: prio}
	}
	good := r(def, gw1, oif, rtnl.RtTableMain, rtnl.RtnUnicast, 1024)
	tests := []struct {
		name   string
		routes []rtnl.Route
		want   netip.Addr // invalid: none
	}{
		{"no routes", nil, netip.Addr{}},
		{"one", []rtnl.Route{good}, gw1},
		{"lowest priority", []rtnl.Route{good, r(def, gw2, oif, rtnl.RtTableMain, rtnl.RtnUnicast, 100), r(def, gw3, oif, rtnl.RtTableMain, rtnl.RtnUnicast, 2048)}, gw2},
		{"other tables", []rtnl.Route{r(def, gw2, oif, 255, rtnl.RtnUnicast, 1), good, r(def, gw3, oif, 100, rtnl.RtnUnicast, 1)}, gw1},
		{"only another table", []rtnl.Route{r(def, gw2, oif, 100, rtnl.RtnUnicast, 1)}, netip.Addr{}},
		{"other interface", []rtnl.Route{r(def, gw2, 3, rtnl.RtTableMain, rtnl.RtnUnicast, 1), good}, gw1},
		{"only another interface", []rtnl.Route{r(def, gw2, 3, rtnl.RtTableMain, rtnl.RtnUnicast, 1)}, netip.Addr{}},
		{"without gateway", []rtnl.Route{r(def, netip.Addr{}, oif, rtnl.RtTableMain, rtnl.RtnUnicast, 1), good}, gw1},
		{"only without gateway", []rtnl.Route{r(def, netip.Addr{}, oif, rtnl.RtTableMain, rtnl.RtnUnicast, 1)}, netip.Addr{}},
		{"unreachable", []rtnl.Route{r(def, gw2, oif, rtnl.RtTableMain, 7, 1), good}, gw1}, // RTN_UNREACHABLE
		{"blackhole", []rtnl.Route{r(def, gw2, oif, rtnl.RtTableMain, 6, 1), good}, gw1},   // RTN_BLACKHOLE
		{"only non-unicast", []rtnl.Route{r(def, gw2, oif, rtnl.RtTableMain, 6, 1)}, netip.Addr{}},
		{"not a default route", []rtnl.Route{r(onLinkPrefix, gw2, oif, rtnl.RtTableMain, rtnl.RtnUnicast, 1), good}, gw1},
		{"only a /64", []rtnl.Route{r(onLinkPrefix, gw2, oif, rtnl.RtTableMain, rtnl.RtnUnicast, 1)}, netip.Addr{}},
		{"unset prefix", []rtnl.Route{r(netip.Prefix{}, gw2, oif, rtnl.RtTableMain, rtnl.RtnUnicast, 1), good}, gw1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := rtnl.DefaultGateway(tt.routes, oif)
			if got != tt.want || ok != tt.want.IsValid() {
				t.Errorf("defaultGateway(%+v, %d) = %v, %v; want %v, %v", tt.routes, oif, got, ok, tt.want, tt.want.IsValid())
			}
		})
	}
	// The routes parsed from the goldens: the /64 has no gateway.
	var routes []rtnl.Route
	for _, g := range []nlGolden{goldenRouteSubnet, goldenRouteDefault} {
		msgs, err := rtnl.ParseNetlink(g.host(t))
		if err != nil || len(msgs) != 1 {
			t.Fatalf("parseNetlink(golden) = %v, %v", msgs, err)
		}
		rt, err := rtnl.ParseRoute(msgs[0].Data)
		if err != nil {
			t.Fatalf("parseRoute(%x) = %v", msgs[0].Data, err)
		}
		routes = append(routes, rt)
	}
	if got, ok := rtnl.DefaultGateway(routes, 2); !ok || got != routerLL {
		t.Errorf("defaultGateway(golden routes, 2) = %v, %v; want %v, true", got, ok, routerLL)
	}
	if got, ok := rtnl.DefaultGateway(routes, 3); ok {
		t.Errorf("defaultGateway(golden routes, 3) = %v, true; want none", got)
	}
}

func TestNudString(t *testing.T) {
	tests := []struct {
		in   uint16
		want string
	}{
		{0, "NONE"},
		{rtnl.NudIncomplete, "INCOMPLETE"},
		{rtnl.NudReachable, "REACHABLE"},
		{rtnl.NudStale, "STALE"},
		{rtnl.NudDelay, "DELAY"},
		{rtnl.NudProbe, "PROBE"},
		{rtnl.NudFailed, "FAILED"},
		{rtnl.NudNoARP, "NOARP"},
		{rtnl.NudPermanent, "PERMANENT"},
		{rtnl.NudPermanent | rtnl.NudNoARP, "PERMANENT"},
		{rtnl.NudNoARP | rtnl.NudReachable, "NOARP"},
		{rtnl.NudFailed | rtnl.NudIncomplete, "FAILED"},
		{0x100, "NONE"},
	}
	for _, tt := range tests {
		if got := rtnl.NUDString(tt.in); got != tt.want {
			t.Errorf("nudString(%#x) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzParseNetlink: no datagram panics the parsers, and a neighbour entry
// read from one survives a round trip through appendNeigh.
func FuzzParseNetlink(f *testing.F) {
	countCuts(f)
	for _, g := range allNLGoldens {
		f.Add(unhex(f, g.le))
		f.Add(unhex(f, g.be))
	}
	f.Add(nlhdrOf(0, rtnl.NlmsgDone))
	f.Add(slices.Concat(nlhdrOf(16+rtnl.RtmsgLen+4, rtnl.RtmNewRoute), rtmsgOf(rtnl.AfInet6, 0, rtnl.RtTableMain, rtnl.RtnUnicast), hostU16(0), hostU16(rtnl.RtaGateway)))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _ := rtnl.ParseNetlink(b)
		for _, m := range msgs {
			if len(m.Data) > len(b) {
				t.Fatalf("parseNetlink(%x): %d bytes of data in %d", b, len(m.Data), len(b))
			}
			_ = rtnl.NlError(m.Data)
			// A message cut short is kept only with what the daemon needs.
			// (A zero MAC is a MAC: the loopback interface has one.)
			if l, err := rtnl.ParseLink(m.Data); err == nil && len(m.Data) >= rtnl.IfinfomsgLen {
				hasMAC := false
				cut := rtnl.ParseAttrs(m.Data[rtnl.IfinfomsgLen:], func(typ uint16, v []byte) {
					hasMAC = hasMAC || typ == rtnl.IflaAddress && len(v) == 6
				}) != nil
				if cut && (l.Name == "" || !hasMAC) {
					t.Fatalf("parseLink(%x) = %+v, cut short and kept", m.Data, l)
				}
			}
			if a, err := rtnl.ParseAddr(m.Data); err == nil && a.Addr.IsValid() && !a.Addr.Is6() {
				t.Fatalf("parseAddr(%x) = %+v", m.Data, a)
			}
			if r, err := rtnl.ParseRoute(m.Data); err == nil && (r.Dst.Bits() < 0 || r.Dst.Bits() > 128) {
				t.Fatalf("parseRoute(%x) = %+v", m.Data, r)
			}
			e, err := rtnl.ParseNeigh(m.Data)
			if err == nil && !e.Addr.IsValid() && rtnl.ParseAttrs(m.Data[rtnl.NdmsgLen:], func(uint16, []byte) {}) != nil {
				t.Fatalf("parseNeigh(%x) = %+v, cut short and kept without its address", m.Data, e)
			}
			if err != nil || !e.Addr.IsValid() {
				continue
			}
			req := rtnl.AppendNeigh(nil, rtnl.RtmNewNeigh, rtnl.NlmFRequest, 1, e.Ifindex, e.Addr, e.State, e.MAC)
			again, err := rtnl.ParseNetlink(req)
			if err != nil || len(again) != 1 || again[0].Type != rtnl.RtmNewNeigh {
				t.Fatalf("parseNetlink(appendNeigh(%+v)) = %+v, %v", e, again, err)
			}
			e2, err := rtnl.ParseNeigh(again[0].Data)
			want := rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: e.Ifindex, State: e.State, Addr: e.Addr}
			if e.State != 0 {
				// appendNeigh sends the MAC with any state but none.
				want.MAC, want.HasMAC = e.MAC, true
			}
			if err != nil || e2 != want {
				t.Fatalf("parseNeigh(appendNeigh(parseNeigh(%x))) = %+v, %v; want %+v", m.Data, e2, err, want)
			}
		}
	})
}

// TestAppendAfterBytes: the encoders append, leaving what b held alone and
// giving the new message its own length.
func TestAppendAfterBytes(t *testing.T) {
	prefix := []byte{0xaa, 0xbb, 0xcc, 0xdd}
	for name, got := range map[string][]byte{
		"route dump": rtnl.AppendRouteDump(append([]byte(nil), prefix...), 1),
		"neighbour":  rtnl.AppendNeigh(append([]byte(nil), prefix...), rtnl.RtmNewNeigh, rtnl.NlmFRequest, 1, 2, routerLL, rtnl.NudNoARP, routerMAC),
	} {
		if !bytes.Equal(got[:4], prefix) {
			t.Errorf("%s: the bytes before the message became %x", name, got[:4])
		}
		msgs, err := rtnl.ParseNetlink(got[4:])
		if err != nil || len(msgs) != 1 || rtnl.NlmsgHdrLen+len(msgs[0].Data) != len(got)-4 {
			t.Errorf("%s: parseNetlink(%x) = %d messages, %v; want one of %d bytes", name, got[4:], len(msgs), err, len(got)-4)
		}
	}
}
