package rtnl

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"slices"
	"syscall"
	"testing"

	"ndpresponder/internal/rtnl/rtnltest"
)

// The requests we send, as appendRouteDump and appendNeigh must build them.
var (
	// goldenRouteDump: appendRouteDump(nil, 1), "ip -6 route show table all".
	goldenRouteDump = rtnltest.Golden{LE: `
		1c000000          // nlmsghdr: len 28
		1a00              //   type RTM_GETROUTE (26)
		0103              //   flags NLM_F_REQUEST|NLM_F_DUMP (0x301)
		01000000          //   seq 1
		00000000          //   pid 0: the kernel
		0a                // rtmsg: family AF_INET6
		00 00 00          //   dst_len, src_len, tos
		00 00 00 00       //   table, protocol, scope, type: unspecified
		00000000          //   flags
	`, BE: `
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
	goldenNewNeigh = rtnltest.Golden{LE: `
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
	`, BE: `
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
	goldenDelNeigh = rtnltest.Golden{LE: `
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
	`, BE: `
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
	goldenGetNeigh = rtnltest.Golden{LE: `
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
	`, BE: `
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

	// goldenRouteSubnet: "2001:db8:1:2::/64 dev eth0 proto kernel metric
	// 256", the on-link route of the uplink's address.
	goldenRouteSubnet = rtnltest.Golden{LE: `
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
	`, BE: `
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
	goldenNeighReachable = rtnltest.Golden{LE: `
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
	`, BE: `
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
	goldenFDBFlushed = rtnltest.Golden{LE: `
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
	`, BE: `
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
	goldenNeighFailed = rtnltest.Golden{LE: `
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
	`, BE: `
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
	goldenENOENT = rtnltest.Golden{LE: `
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
	`, BE: `
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
	goldenAck = rtnltest.Golden{LE: `
		24000000          // nlmsghdr: len 36
		0200              //   type NLMSG_ERROR
		0001              //   flags NLM_F_CAPPED (0x100)
		02000000          //   seq 2
		34120000          //   pid 0x1234
		00000000          // nlmsgerr: error 0, an acknowledgement
		3c000000          //   request nlmsghdr: len 60
		1c00 0505         //     type RTM_NEWNEIGH, flags 0x505
		02000000 00000000 //     seq 2, pid 0
	`, BE: `
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
	goldenDatagram = rtnltest.Golden{LE: `
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
	`, BE: `
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

var allNLGoldens = map[string]rtnltest.Golden{
	"route dump": goldenRouteDump, "new neigh": goldenNewNeigh, "del neigh": goldenDelNeigh,
	"get neigh": goldenGetNeigh, "default route": rtnltest.RouteDefault, "subnet route": goldenRouteSubnet,
	"reachable neigh": goldenNeighReachable, "failed neigh": goldenNeighFailed, "ENOENT": goldenENOENT,
	"ack": goldenAck, "datagram": goldenDatagram, "link under qemu": rtnltest.LinkQemu,
	"bridge entry flushed": goldenFDBFlushed,
}

// TestNetlinkGoldenOrders checks each big-endian golden against its
// little-endian twin.
func TestNetlinkGoldenOrders(t *testing.T) { rtnltest.CheckOrders(t, allNLGoldens) }

// onLinkPrefix is the uplink's on-link /64; routerLL is the gateway.
var onLinkPrefix = netip.MustParsePrefix("2001:db8:1:2::/64")

func TestAppendRouteDumpGolden(t *testing.T) {
	got := AppendRouteDump(nil, 1)
	if want := goldenRouteDump.Host(t); !bytes.Equal(got, want) {
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
		m      [6]byte
		golden rtnltest.Golden
	}{
		{"RTM_NEWNEIGH noarp", RtmNewNeigh, NlmFRequest | NlmFAck | NlmFCreate | NlmFReplace, 2, NudNoARP, routerMAC, goldenNewNeigh},
		{"RTM_DELNEIGH", RtmDelNeigh, NlmFRequest | NlmFAck, 3, 0, [6]byte{}, goldenDelNeigh},
		// A MAC given with state 0 is left out.
		{"RTM_DELNEIGH with a MAC", RtmDelNeigh, NlmFRequest | NlmFAck, 3, 0, routerMAC, goldenDelNeigh},
		{"RTM_GETNEIGH", RtmGetNeigh, NlmFRequest, 4, 0, [6]byte{}, goldenGetNeigh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendNeigh(nil, tt.typ, tt.flags, tt.seq, 2, routerLL, tt.state, tt.m)
			if want := tt.golden.Host(t); !bytes.Equal(got, want) {
				t.Errorf("appendNeigh(nil, %d, %#x, %d, 2, %v, %#x, %v) = %x\nwant %x",
					tt.typ, tt.flags, tt.seq, routerLL, tt.state, tt.m, got, want)
			}
		})
	}
}

// Hand-built pieces in host order, for the inputs the goldens do not cover.

// nlhdrOf is an nlmsghdr claiming length n.
func nlhdrOf(n uint32, typ uint16) []byte {
	return slices.Concat(rtnltest.U32(n), rtnltest.U16(typ), rtnltest.U16(0), rtnltest.U32(1), rtnltest.U32(0))
}

// msgHeader is what parseNetlink reads of a message, without its data.
type msgHeader struct {
	Type, Flags uint16
	Seq, Pid    uint32
}

func TestParseNetlink(t *testing.T) {
	dgram := goldenDatagram.Host(t)
	wantDgram := []Msg{
		{Type: nlmsgNoop, Flags: nlmFMulti, Seq: 5, Pid: 0x1234, Data: []byte{1, 2, 3, 4, 5}},
		{Type: nlmsgDone, Flags: nlmFMulti, Seq: 5, Pid: 0x1234, Data: []byte{0, 0, 0, 0}},
		{Type: nlmsgNoop, Flags: nlmFMulti, Seq: 5, Pid: 0x1234, Data: []byte{0xff}},
	}
	tests := []struct {
		name    string
		in      []byte
		want    []Msg // the messages before any error
		wantErr error
	}{
		{"empty", nil, nil, nil},
		{"three messages, padded between", dgram, wantDgram, nil},
		{"one header, no data", nlhdrOf(16, nlmsgDone), []Msg{{Type: nlmsgDone, Seq: 1, Data: []byte{}}}, nil},
		{"truncated header", dgram[:10], nil, ErrNetlinkShort},
		{"15 bytes", dgram[:15], nil, ErrNetlinkShort},
		{"truncated header after three messages", append(slices.Clone(dgram), 0, 0, 0, 0), wantDgram, ErrNetlinkShort},
		{"length 0", nlhdrOf(0, nlmsgDone), nil, ErrNetlinkShort},
		{"length 15, shorter than the header", nlhdrOf(15, nlmsgDone), nil, ErrNetlinkShort},
		{"length 1", nlhdrOf(1, nlmsgDone), nil, ErrNetlinkShort},
		{"length 17, past the end", nlhdrOf(17, nlmsgDone), nil, ErrNetlinkShort},
		{"length 0xffffffff", nlhdrOf(0xffffffff, nlmsgDone), nil, ErrNetlinkShort},
		{"length past the end, after a good message", slices.Concat(nlhdrOf(16, nlmsgNoop), nlhdrOf(100, nlmsgDone)),
			[]Msg{{Type: nlmsgNoop, Seq: 1, Data: []byte{}}}, ErrNetlinkShort},
		{"golden cut in its last message", dgram[:len(dgram)-1], wantDgram[:2], ErrNetlinkShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNetlink(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("parseNetlink(%x) = %v, want %v", tt.in, err, tt.wantErr)
			}
			if !sameMsgs(got, tt.want) {
				t.Errorf("parseNetlink(%x) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func sameMsgs(a, b []Msg) bool {
	return slices.EqualFunc(a, b, func(x, y Msg) bool {
		return msgHeader{x.Type, x.Flags, x.Seq, x.Pid} == msgHeader{y.Type, y.Flags, y.Seq, y.Pid} && bytes.Equal(x.Data, y.Data)
	})
}

// parseOne parses a golden holding one message and checks its header.
func parseOne(t *testing.T, b []byte, want msgHeader) []byte {
	t.Helper()
	msgs, err := ParseNetlink(b)
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
		b := goldenENOENT.Host(t)
		data := parseOne(t, b, msgHeader{NlmsgError, 0, 3, 0x1234})
		err := NlError(data)
		if !errors.Is(err, syscall.ENOENT) {
			t.Errorf("nlError(%x) = %v, want %v", data, err, syscall.ENOENT)
		}
		// The request comes back with the error.
		if req := data[4:]; !bytes.Equal(req, goldenDelNeigh.Host(t)) {
			t.Errorf("request in the error = %x, want %x", req, goldenDelNeigh.Host(t))
		}
	})
	t.Run("golden ack", func(t *testing.T) {
		b := goldenAck.Host(t)
		data := parseOne(t, b, msgHeader{NlmsgError, 0x100, 2, 0x1234})
		if err := NlError(data); err != nil {
			t.Errorf("nlError(%x) = %v, want nil", data, err)
		}
	})
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"0", rtnltest.U32(0), nil},
		{"0 with the request", slices.Concat(rtnltest.U32(0), nlhdrOf(16, RtmNewNeigh)), nil},
		{"-ENOENT", rtnltest.U32(uint32(0xfffffffe)), syscall.ENOENT},
		{"-EPERM", rtnltest.U32(uint32(0xffffffff)), syscall.EPERM},
		{"-EINVAL", rtnltest.U32(^uint32(syscall.EINVAL) + 1), syscall.EINVAL},
		{"empty", nil, ErrNetlinkShort},
		{"3 bytes", []byte{0, 0, 0}, ErrNetlinkShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NlError(tt.in)
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
		{"empty payload", rtnltest.Attr(7, nil), []attrSeen{{7, ""}}, nil},
		{"two, padded between", slices.Concat(rtnltest.Attr(1, []byte{0xaa}), rtnltest.Attr(2, []byte{1, 2, 3, 4})),
			[]attrSeen{{1, "aa"}, {2, "01020304"}}, nil},
		{"last one unpadded", slices.Concat(rtnltest.U16(5), rtnltest.U16(3), []byte{0xbb}), []attrSeen{{3, "bb"}}, nil},
		{"zero length", slices.Concat(rtnltest.U16(0), rtnltest.U16(1), rtnltest.U32(0)), nil, ErrNetlinkShort},
		{"zero length after a good one", slices.Concat(rtnltest.Attr(1, nil), rtnltest.U16(0), rtnltest.U16(1)),
			[]attrSeen{{1, ""}}, ErrNetlinkShort},
		{"length 3", slices.Concat(rtnltest.U16(3), rtnltest.U16(1), rtnltest.U32(0)), nil, ErrNetlinkShort},
		{"past the end", slices.Concat(rtnltest.U16(20), rtnltest.U16(1), rtnltest.U32(0)), nil, ErrNetlinkShort},
		{"length 0xffff", slices.Concat(rtnltest.U16(0xffff), rtnltest.U16(1), rtnltest.U32(0)), nil, ErrNetlinkShort},
		{"2 stray bytes", slices.Concat(rtnltest.Attr(1, nil), []byte{4, 0}), []attrSeen{{1, ""}}, ErrNetlinkShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []attrSeen
			err := ParseAttrs(tt.in, func(typ uint16, data []byte) {
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
		golden rtnltest.Golden
		want   Route
	}{
		{"default", rtnltest.RouteDefault, Route{Dst: netip.MustParsePrefix("::/0"), Gateway: routerLL, OIF: 2,
			Table: RtTableMain, Type: RtnUnicast, Priority: 1024}},
		{"on-link /64", goldenRouteSubnet, Route{Dst: onLinkPrefix, OIF: 2, Table: RtTableMain, Type: RtnUnicast, Priority: 256}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := parseOne(t, tt.golden.Host(t), msgHeader{RtmNewRoute, nlmFMulti, 1, 0x1234})
			if got, err := ParseRoute(data); err != nil || got != tt.want {
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
		want Route
		ok   bool
	}{
		{"no attributes", rtnltest.Rtmsg(AfInet6, 0, RtTableMain, RtnUnicast), Route{Dst: netip.MustParsePrefix("::/0"),
			Table: RtTableMain, Type: RtnUnicast}, true},
		{"RTA_TABLE beyond 255", rtnltest.Rtmsg(AfInet6, 0, 252, RtnUnicast, rtnltest.Attr(rtaTable, rtnltest.U32(1000)), rtnltest.Attr(rtaGateway, gw[:])),
			Route{Dst: netip.MustParsePrefix("::/0"), Gateway: routerLL, Table: 1000, Type: RtnUnicast}, true},
		{"a gateway of 4 bytes is skipped", rtnltest.Rtmsg(AfInet6, 0, RtTableMain, RtnUnicast, rtnltest.Attr(rtaGateway, []byte{192, 0, 2, 1})),
			Route{Dst: netip.MustParsePrefix("::/0"), Table: RtTableMain, Type: RtnUnicast}, true},
		{"a /128", rtnltest.Rtmsg(AfInet6, 128, RtTableMain, RtnUnicast, rtnltest.Attr(RtaDst, dst[:]), rtnltest.Attr(RtaOIF, rtnltest.U32(7))),
			Route{Dst: netip.MustParsePrefix("2001:db8:1:2::/128"), OIF: 7, Table: RtTableMain, Type: RtnUnicast}, true},
		{"IPv4", rtnltest.Rtmsg(2, 0, RtTableMain, RtnUnicast, rtnltest.Attr(rtaGateway, []byte{192, 0, 2, 1})), Route{}, false},
		{"dst_len 129", rtnltest.Rtmsg(AfInet6, 129, RtTableMain, RtnUnicast), Route{}, false},
		{"short", rtnltest.Rtmsg(AfInet6, 0, RtTableMain, RtnUnicast)[:RtmsgLen-1], Route{}, false},
		{"empty", nil, Route{}, false},
		{"zero-length attribute", rtnltest.Rtmsg(AfInet6, 0, RtTableMain, RtnUnicast, slices.Concat(rtnltest.U16(0), rtnltest.U16(rtaGateway))), Route{}, false},
		{"attribute past the end", rtnltest.Rtmsg(AfInet6, 0, RtTableMain, RtnUnicast, rtnltest.Attr(rtaGateway, gw[:])[:12]), Route{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRoute(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseRoute(%x) = %+v, %v; want %+v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestParseNeighGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden rtnltest.Golden
		hdr    msgHeader
		want   Neigh
	}{
		{"reachable", goldenNeighReachable, msgHeader{RtmNewNeigh, 0, 4, 0x1234},
			Neigh{Family: AfInet6, Ifindex: 2, State: NudReachable, Flags: 0x80, Addr: routerLL, MAC: routerMAC, HasMAC: true}},
		{"failed, no lladdr", goldenNeighFailed, msgHeader{RtmNewNeigh, 0, 4, 0x1234},
			Neigh{Family: AfInet6, Ifindex: 2, State: NudFailed, Addr: routerLL}},
		{"bridge forwarding entry flushed", goldenFDBFlushed, msgHeader{RtmDelNeigh, 0, 0, 0},
			Neigh{Family: AfBridge, Ifindex: 3, Master: 2, State: NudReachable, MAC: [6]byte{0x02, 0x42, 0xac, 0x11, 0, 0x02}, HasMAC: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := parseOne(t, tt.golden.Host(t), tt.hdr)
			if got, err := ParseNeigh(data); err != nil || got != tt.want {
				t.Errorf("parseNeigh(%x) = %+v, %v; want %+v", data, got, err, tt.want)
			}
		})
	}
}

func TestParseNeigh(t *testing.T) {
	// Our own requests parse back as what they ask for.
	for _, tt := range []struct {
		name   string
		golden rtnltest.Golden
		want   Neigh
	}{
		{"our RTM_NEWNEIGH", goldenNewNeigh, Neigh{Family: AfInet6, Ifindex: 2, State: NudNoARP, Addr: routerLL, MAC: routerMAC, HasMAC: true}},
		{"our RTM_DELNEIGH", goldenDelNeigh, Neigh{Family: AfInet6, Ifindex: 2, Addr: routerLL}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.golden.Host(t)[NlmsgHdrLen:]
			if got, err := ParseNeigh(data); err != nil || got != tt.want {
				t.Errorf("parseNeigh(%x) = %+v, %v; want %+v", data, got, err, tt.want)
			}
		})
	}
	ndmsg := func(ifindex int32, state uint16) []byte {
		return slices.Concat([]byte{AfInet6, 0, 0, 0}, rtnltest.U32(uint32(ifindex)), rtnltest.U16(state), []byte{0, 0})
	}
	a := routerLL.As16()
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"short", ndmsg(2, NudReachable)[:NdmsgLen-1]},
		{"empty", nil},
		{"zero-length attribute", slices.Concat(ndmsg(2, NudReachable), rtnltest.U16(0), rtnltest.U16(ndaDst))},
		{"attribute past the end", slices.Concat(ndmsg(2, NudReachable), rtnltest.Attr(ndaDst, a[:])[:19])},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := ParseNeigh(tt.in); err == nil {
				t.Errorf("parseNeigh(%x) = %+v, nil; want an error", tt.in, got)
			}
		})
	}
	t.Run("lladdr of 8 bytes is skipped", func(t *testing.T) {
		in := slices.Concat(ndmsg(-1, NudStale), rtnltest.Attr(ndaDst, a[:]), rtnltest.Attr(ndaLLAddr, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
		want := Neigh{Family: AfInet6, Ifindex: -1, State: NudStale, Addr: routerLL}
		if got, err := ParseNeigh(in); err != nil || got != want {
			t.Errorf("parseNeigh(%x) = %+v, %v; want %+v", in, got, err, want)
		}
	})
}

func TestDefaultGateway(t *testing.T) {
	const oif = 2
	def := netip.MustParsePrefix("::/0")
	gw1, gw2, gw3 := routerLL, netip.MustParseAddr("fe80::2"), netip.MustParseAddr("fe80::3")
	r := func(dst netip.Prefix, gw netip.Addr, oif int, table uint32, typ uint8, prio uint32) Route {
		return Route{Dst: dst, Gateway: gw, OIF: oif, Table: table, Type: typ, Priority: prio}
	}
	good := r(def, gw1, oif, RtTableMain, RtnUnicast, 1024)
	tests := []struct {
		name   string
		routes []Route
		want   netip.Addr // invalid: none
	}{
		{"no routes", nil, netip.Addr{}},
		{"one", []Route{good}, gw1},
		{"lowest priority", []Route{good, r(def, gw2, oif, RtTableMain, RtnUnicast, 100), r(def, gw3, oif, RtTableMain, RtnUnicast, 2048)}, gw2},
		{"other tables", []Route{r(def, gw2, oif, 255, RtnUnicast, 1), good, r(def, gw3, oif, 100, RtnUnicast, 1)}, gw1},
		{"only another table", []Route{r(def, gw2, oif, 100, RtnUnicast, 1)}, netip.Addr{}},
		{"other interface", []Route{r(def, gw2, 3, RtTableMain, RtnUnicast, 1), good}, gw1},
		{"only another interface", []Route{r(def, gw2, 3, RtTableMain, RtnUnicast, 1)}, netip.Addr{}},
		{"without gateway", []Route{r(def, netip.Addr{}, oif, RtTableMain, RtnUnicast, 1), good}, gw1},
		{"only without gateway", []Route{r(def, netip.Addr{}, oif, RtTableMain, RtnUnicast, 1)}, netip.Addr{}},
		{"unreachable", []Route{r(def, gw2, oif, RtTableMain, 7, 1), good}, gw1}, // RTN_UNREACHABLE
		{"blackhole", []Route{r(def, gw2, oif, RtTableMain, 6, 1), good}, gw1},   // RTN_BLACKHOLE
		{"only non-unicast", []Route{r(def, gw2, oif, RtTableMain, 6, 1)}, netip.Addr{}},
		{"not a default route", []Route{r(onLinkPrefix, gw2, oif, RtTableMain, RtnUnicast, 1), good}, gw1},
		{"only a /64", []Route{r(onLinkPrefix, gw2, oif, RtTableMain, RtnUnicast, 1)}, netip.Addr{}},
		{"unset prefix", []Route{r(netip.Prefix{}, gw2, oif, RtTableMain, RtnUnicast, 1), good}, gw1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := DefaultGateway(tt.routes, oif)
			if got != tt.want || ok != tt.want.IsValid() {
				t.Errorf("defaultGateway(%+v, %d) = %v, %v; want %v, %v", tt.routes, oif, got, ok, tt.want, tt.want.IsValid())
			}
		})
	}
	// The routes parsed from the goldens: the /64 has no gateway.
	var routes []Route
	for _, g := range []rtnltest.Golden{goldenRouteSubnet, rtnltest.RouteDefault} {
		msgs, err := ParseNetlink(g.Host(t))
		if err != nil || len(msgs) != 1 {
			t.Fatalf("parseNetlink(golden) = %v, %v", msgs, err)
		}
		rt, err := ParseRoute(msgs[0].Data)
		if err != nil {
			t.Fatalf("parseRoute(%x) = %v", msgs[0].Data, err)
		}
		routes = append(routes, rt)
	}
	if got, ok := DefaultGateway(routes, 2); !ok || got != routerLL {
		t.Errorf("defaultGateway(golden routes, 2) = %v, %v; want %v, true", got, ok, routerLL)
	}
	if got, ok := DefaultGateway(routes, 3); ok {
		t.Errorf("defaultGateway(golden routes, 3) = %v, true; want none", got)
	}
}

func TestNudString(t *testing.T) {
	tests := []struct {
		in   uint16
		want string
	}{
		{0, "NONE"},
		{NudIncomplete, "INCOMPLETE"},
		{NudReachable, "REACHABLE"},
		{NudStale, "STALE"},
		{NudDelay, "DELAY"},
		{NudProbe, "PROBE"},
		{NudFailed, "FAILED"},
		{NudNoARP, "NOARP"},
		{NudPermanent, "PERMANENT"},
		{NudPermanent | NudNoARP, "PERMANENT"},
		{NudNoARP | NudReachable, "NOARP"},
		{NudFailed | NudIncomplete, "FAILED"},
		{0x100, "NONE"},
	}
	for _, tt := range tests {
		if got := NUDString(tt.in); got != tt.want {
			t.Errorf("nudString(%#x) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzParseNetlink: no datagram panics the parsers, and a neighbour entry
// read from one survives a round trip through appendNeigh.
func FuzzParseNetlink(f *testing.F) {
	countCuts(f)
	for _, g := range allNLGoldens {
		f.Add(rtnltest.Unhex(f, g.LE))
		f.Add(rtnltest.Unhex(f, g.BE))
	}
	f.Add(nlhdrOf(0, nlmsgDone))
	f.Add(slices.Concat(nlhdrOf(16+RtmsgLen+4, RtmNewRoute), rtnltest.Rtmsg(AfInet6, 0, RtTableMain, RtnUnicast), rtnltest.U16(0), rtnltest.U16(rtaGateway)))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _ := ParseNetlink(b)
		for _, m := range msgs {
			if len(m.Data) > len(b) {
				t.Fatalf("parseNetlink(%x): %d bytes of data in %d", b, len(m.Data), len(b))
			}
			_ = NlError(m.Data)
			// A message cut short is kept only with what the daemon needs.
			// (A zero MAC is a MAC: the loopback interface has one.)
			if l, err := ParseLink(m.Data); err == nil && len(m.Data) >= IfinfomsgLen {
				hasMAC := false
				cut := ParseAttrs(m.Data[IfinfomsgLen:], func(typ uint16, v []byte) {
					hasMAC = hasMAC || typ == IflaAddress && len(v) == 6
				}) != nil
				if cut && (l.Name == "" || !hasMAC) {
					t.Fatalf("parseLink(%x) = %+v, cut short and kept", m.Data, l)
				}
			}
			if a, err := ParseAddr(m.Data); err == nil && a.Addr.IsValid() && !a.Addr.Is6() {
				t.Fatalf("parseAddr(%x) = %+v", m.Data, a)
			}
			if r, err := ParseRoute(m.Data); err == nil && (r.Dst.Bits() < 0 || r.Dst.Bits() > 128) {
				t.Fatalf("parseRoute(%x) = %+v", m.Data, r)
			}
			e, err := ParseNeigh(m.Data)
			if err == nil && !e.Addr.IsValid() && ParseAttrs(m.Data[NdmsgLen:], func(uint16, []byte) {}) != nil {
				t.Fatalf("parseNeigh(%x) = %+v, cut short and kept without its address", m.Data, e)
			}
			if err != nil || !e.Addr.IsValid() {
				continue
			}
			req := AppendNeigh(nil, RtmNewNeigh, NlmFRequest, 1, e.Ifindex, e.Addr, e.State, e.MAC)
			again, err := ParseNetlink(req)
			if err != nil || len(again) != 1 || again[0].Type != RtmNewNeigh {
				t.Fatalf("parseNetlink(appendNeigh(%+v)) = %+v, %v", e, again, err)
			}
			e2, err := ParseNeigh(again[0].Data)
			want := Neigh{Family: AfInet6, Ifindex: e.Ifindex, State: e.State, Addr: e.Addr}
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
		"route dump": AppendRouteDump(append([]byte(nil), prefix...), 1),
		"neighbour":  AppendNeigh(append([]byte(nil), prefix...), RtmNewNeigh, NlmFRequest, 1, 2, routerLL, NudNoARP, routerMAC),
	} {
		if !bytes.Equal(got[:4], prefix) {
			t.Errorf("%s: the bytes before the message became %x", name, got[:4])
		}
		msgs, err := ParseNetlink(got[4:])
		if err != nil || len(msgs) != 1 || NlmsgHdrLen+len(msgs[0].Data) != len(got)-4 {
			t.Errorf("%s: parseNetlink(%x) = %d messages, %v; want one of %d bytes", name, got[4:], len(msgs), err, len(got)-4)
		}
	}
}
