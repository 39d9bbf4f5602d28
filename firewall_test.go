package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"ndpresponder/internal/rtnl"
	"ndpresponder/internal/rtnl/rtnltest"
)

// goldenNftChain is the kernel's answer to appendNftChainDump for the chain
// Docker's ip6tables-nft makes, captured in a namespace after
//
//	nft add table ip6 filter
//	nft 'add chain ip6 filter FORWARD { type filter hook forward priority 0; policy drop; }'
//
// The netlink headers are in host order; nftables' values are big-endian,
// written byte by byte so that no order is read into them.
var goldenNftChain = rtnltest.Golden{LE: `
	70000000          // nlmsghdr: len 112
	030a              //   type NFNL_SUBSYS_NFTABLES<<8 | NFT_MSG_NEWCHAIN
	0200              //   flags NLM_F_MULTI
	01000000          //   seq 1
	bf080000          //   pid 2239
	0a 00 0000        // nfgenmsg: family NFPROTO_IPV6, version 0, res_id 0
	0b00 0100         // NFTA_CHAIN_TABLE
	66696c74657200 00 //   "filter", padding
	0c00 0300         // NFTA_CHAIN_NAME
	464f525741524400  //   "FORWARD"
	0c00 0200         // NFTA_CHAIN_HANDLE
	0000000000000001  //   1
	1400 0400         // NFTA_CHAIN_HOOK
	0800 0100         //   NFTA_HOOK_HOOKNUM
	00 00 00 02       //     NF_INET_FORWARD
	0800 0200         //   NFTA_HOOK_PRIORITY
	00 00 00 00       //     0
	0800 0500         // NFTA_CHAIN_POLICY
	00 00 00 00       //   NF_DROP
	0b00 0700         // NFTA_CHAIN_TYPE
	66696c74657200 00 //   "filter", padding
	0800 0a00         // NFTA_CHAIN_FLAGS
	00 00 00 01       //   NFT_CHAIN_BASE
	0800 0600         // NFTA_CHAIN_USE
	00 00 00 00       //   0
`, BE: `
	00000070          // nlmsghdr: len 112
	0a03              //   type NFNL_SUBSYS_NFTABLES<<8 | NFT_MSG_NEWCHAIN
	0002              //   flags NLM_F_MULTI
	00000001          //   seq 1
	000008bf          //   pid 2239
	0a 00 0000        // nfgenmsg: family NFPROTO_IPV6, version 0, res_id 0
	000b 0001         // NFTA_CHAIN_TABLE
	66696c74657200 00 //   "filter", padding
	000c 0003         // NFTA_CHAIN_NAME
	464f525741524400  //   "FORWARD"
	000c 0002         // NFTA_CHAIN_HANDLE
	0000000000000001  //   1
	0014 0004         // NFTA_CHAIN_HOOK
	0008 0001         //   NFTA_HOOK_HOOKNUM
	00 00 00 02       //     NF_INET_FORWARD
	0008 0002         //   NFTA_HOOK_PRIORITY
	00 00 00 00       //     0
	0008 0005         // NFTA_CHAIN_POLICY
	00 00 00 00       //   NF_DROP
	000b 0007         // NFTA_CHAIN_TYPE
	66696c74657200 00 //   "filter", padding
	0008 000a         // NFTA_CHAIN_FLAGS
	00 00 00 01       //   NFT_CHAIN_BASE
	0008 0006         // NFTA_CHAIN_USE
	00 00 00 00       //   0
`}

func TestParseNftChainGolden(t *testing.T) {
	msgs, err := rtnl.ParseNetlink(goldenNftChain.Host(t))
	if err != nil || len(msgs) != 1 || msgs[0].Type != nfnlSubsysNftables<<8|nftMsgNewChain {
		t.Fatalf("parseNetlink = %+v, %v", msgs, err)
	}
	c, err := parseNftChain(msgs[0].Data)
	want := nftChain{Family: nfprotoIPv6, Table: "filter", Name: "FORWARD", Hook: nfInetFwd, Policy: nfDrop, HasPolicy: true}
	if err != nil || c != want {
		t.Errorf("parseNftChain = %+v, %v; want %+v", c, err, want)
	}
	if !c.dropsForward() || c.name() != "nftables chain ip6 filter FORWARD" {
		t.Errorf("%v: dropsForward = %v, want true", c, c.dropsForward())
	}
}

func TestNftChainDropsForward(t *testing.T) {
	base := nftChain{Family: nfprotoInet, Table: "t", Name: "c", Hook: nfInetFwd, Policy: nfDrop, HasPolicy: true}
	for _, tt := range []struct {
		name string
		edit func(c *nftChain)
		want bool
	}{
		{"inet forward drop", func(*nftChain) {}, true},
		{"accept", func(c *nftChain) { c.Policy = 1 }, false},
		{"input", func(c *nftChain) { c.Hook = 1 }, false},
		{"not a base chain", func(c *nftChain) { c.Hook, c.HasPolicy = -1, false }, false},
		{"ip (IPv4 only)", func(c *nftChain) { c.Family = 2 }, false},
		{"bridge", func(c *nftChain) { c.Family = 7 }, false},
	} {
		c := base
		tt.edit(&c)
		if got := c.dropsForward(); got != tt.want {
			t.Errorf("%s: dropsForward(%+v) = %v, want %v", tt.name, c, got, tt.want)
		}
	}
}

func TestAppendNftChainDump(t *testing.T) {
	got := appendNftChainDump(nil, 7)
	want := slicesConcat(rtnltest.U32(20), rtnltest.U16(0x0a04), rtnltest.U16(rtnl.NlmFRequest|rtnl.NlmFDump), rtnltest.U32(7), rtnltest.U32(0), []byte{0, 0, 0, 0})
	if !bytes.Equal(got, want) {
		t.Errorf("appendNftChainDump(nil, 7) = %x, want %x", got, want)
	}
}

func slicesConcat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// goldenIP6tInfo is IP6T_SO_GET_INFO's answer for the filter table of
// ip6tables-legacy, captured on x86-64 after "ip6tables-legacy -P FORWARD
// DROP" in a new namespace: hooks INPUT, FORWARD, OUTPUT; the FORWARD
// policy at 208 (0xd0); four entries, 856 bytes.
const goldenIP6tInfo = `
	66696c746572 0000000000000000000000000000000000000000000000000000 // name[32] "filter"
	0e000000                                   // valid_hooks: INPUT, FORWARD, OUTPUT
	ffffffff 00000000 d0000000 a0010000 ffffffff // hook_entry[5]
	ffffffff 00000000 d0000000 a0010000 ffffffff // underflow[5]
	04000000                                   // num_entries
	58030000                                   // size 856
`

// hostOrder swaps the 32-bit little-endian words at the given offsets of
// b, and the 16-bit ones, on a big-endian host.
func hostOrder(b []byte, u32s, u16s []int) []byte {
	if !rtnltest.BigEndian {
		return b
	}
	for _, o := range u32s {
		binary.BigEndian.PutUint32(b[o:], binary.LittleEndian.Uint32(b[o:]))
	}
	for _, o := range u16s {
		binary.BigEndian.PutUint16(b[o:], binary.LittleEndian.Uint16(b[o:]))
	}
	return b
}

// ip6tEntries reads the captured entries of the filter table (after the
// header of IP6T_SO_GET_ENTRIES's answer), in host order.
func ip6tEntries(t testing.TB) []byte {
	t.Helper()
	text, err := os.ReadFile("testdata/ip6tables-filter-forward-drop.hex")
	if err != nil {
		t.Fatal(err)
	}
	var hexText strings.Builder
	for _, line := range strings.Split(string(text), "\n") {
		if !strings.HasPrefix(line, "#") {
			hexText.WriteString(line)
		}
	}
	b := rtnltest.Unhex(t, hexText.String())
	// Each policy entry's target_offset, and each standard target's
	// verdict, at 168 + 32 bytes into it.
	return hostOrder(b, []int{200, 408, 616}, []int{140, 348, 556})
}

func TestIP6tablesGolden(t *testing.T) {
	info := hostOrder(rtnltest.Unhex(t, goldenIP6tInfo), []int{32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 76, 80}, nil)
	under, size, ok, err := parseIP6tInfo(info)
	if err != nil || !ok || under != 208 || size != 856 {
		t.Fatalf("parseIP6tInfo = %d, %d, %v, %v; want 208, 856, true", under, size, ok, err)
	}
	entries := ip6tEntries(t)
	if len(entries) != int(size) {
		t.Fatalf("%d bytes of entries, want %d", len(entries), size)
	}
	for _, c := range []struct {
		name string
		off  uint32
		want bool
	}{{"INPUT (ACCEPT)", 0, false}, {"FORWARD (DROP)", 208, true}, {"OUTPUT (ACCEPT)", 416, false}} {
		if got, err := ip6tDrops(entries, c.off); err != nil || got != c.want {
			t.Errorf("%s: ip6tDrops(entries, %d) = %v, %v; want %v", c.name, c.off, got, err, c.want)
		}
	}
	for _, off := range []uint32{856, 800, 1 << 31, 0xffffffff} {
		if _, err := ip6tDrops(entries, off); err == nil {
			t.Errorf("ip6tDrops(entries, %d) past the end: no error", off)
		}
	}
	if _, _, _, err := parseIP6tInfo(info[:83]); err == nil {
		t.Errorf("parseIP6tInfo of 83 bytes: no error")
	}
	// A table without a forward chain.
	ne.PutUint32(info[ip6tInfoOffValid:], 1<<0|1<<3) // INPUT, LOCAL_OUT
	if _, _, ok, _ := parseIP6tInfo(info); ok {
		t.Errorf("parseIP6tInfo: a forward chain in a table without one")
	}
}

func FuzzParseNftChain(f *testing.F) {
	msgs, _ := rtnl.ParseNetlink(goldenNftChain.Host(f))
	f.Add(msgs[0].Data)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseNftChain(b)
		if err == nil && len(b) < nfgenmsgLen {
			t.Fatalf("parseNftChain(%x) = %+v from less than a header", b, c)
		}
	})
}

func FuzzIP6tables(f *testing.F) {
	f.Add(rtnltest.Unhex(f, goldenIP6tInfo), ip6tEntries(f)[:300], uint32(208))
	f.Fuzz(func(t *testing.T, info, entries []byte, off uint32) {
		parseIP6tInfo(info)
		if _, err := ip6tDrops(entries, off); err == nil && uint64(off)+ip6tEntryOffTarget+2 > uint64(len(entries)) {
			t.Fatalf("ip6tDrops read past %d bytes at %d", len(entries), off)
		}
	})
}

// TestNetlinkGoldenOrders checks the daemon's own netlink goldens in both
// byte orders, as package rtnl's test checks its.
func TestNetlinkGoldenOrders(t *testing.T) {
	rtnltest.CheckOrders(t, map[string]rtnltest.Golden{"nftables chain": goldenNftChain, "neigh probe": goldenNeighProbe})
}
