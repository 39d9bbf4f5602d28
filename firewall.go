package main

// What -check reads of the host's firewall: whether a forward chain drops
// what no rule accepts (Docker sets such a policy on the FORWARD chain of
// ip6tables since version 27, and containers on other bridges then get
// nothing). Plain Go parsers of what the kernel answers: nftables chains
// over netlink (linux/netfilter/nf_tables.h), which iptables-nft writes
// too, and the policies of a table of ip6tables-legacy
// (linux/netfilter_ipv6/ip6_tables.h); firewall_linux.go asks.

import (
	"encoding/binary"
	"errors"
	"strings"

	"ndpresponder/internal/rtnl"
)

// ne is the byte order of netlink messages: the host's.
var ne = binary.NativeEndian

// nftables over netlink.
const (
	nfnlSubsysNftables = 10 // NFNL_SUBSYS_NFTABLES
	nftMsgNewChain     = 3  // NFT_MSG_NEWCHAIN: a chain, in a dump
	nftMsgGetChain     = 4  // NFT_MSG_GETCHAIN
	nfgenmsgLen        = 4  // struct nfgenmsg: family, version, res_id (big-endian)
	nlaTypeMask        = 0x3fff

	nftaChainTable  = 1 // NFTA_CHAIN_TABLE, a string
	nftaChainName   = 3 // NFTA_CHAIN_NAME, a string
	nftaChainHook   = 4 // NFTA_CHAIN_HOOK, nested
	nftaChainPolicy = 5 // NFTA_CHAIN_POLICY, big-endian u32
	nftaHookHooknum = 1 // NFTA_HOOK_HOOKNUM, big-endian u32

	nfprotoInet = 1  // NFPROTO_INET: ip and ip6
	nfprotoIPv6 = 10 // NFPROTO_IPV6
	nfInetFwd   = 2  // NF_INET_FORWARD
	nfDrop      = 0  // NF_DROP
)

// nftChain is what -check reads of an nftables chain.
type nftChain struct {
	Family      uint8
	Table, Name string
	Hook        int32 // -1: not a base chain
	Policy      uint32
	HasPolicy   bool
}

// appendNftChainDump appends a request to dump every nftables chain.
func appendNftChainDump(b []byte, seq uint32) []byte {
	return rtnl.AppendDump(b, nfnlSubsysNftables<<8|nftMsgGetChain, seq, nfgenmsgLen, 0)
}

// parseNftChain reads a chain message (after its netlink header). Netlink
// lays out the attributes in the host's order; nftables' values are
// big-endian.
func parseNftChain(data []byte) (nftChain, error) {
	if len(data) < nfgenmsgLen {
		return nftChain{}, rtnl.ErrNetlinkShort
	}
	c := nftChain{Family: data[0], Hook: -1}
	var herr error
	err := rtnl.ParseAttrs(data[nfgenmsgLen:], func(typ uint16, v []byte) {
		switch typ & nlaTypeMask {
		case nftaChainTable:
			c.Table, _, _ = strings.Cut(string(v), "\x00")
		case nftaChainName:
			c.Name, _, _ = strings.Cut(string(v), "\x00")
		case nftaChainPolicy:
			if len(v) == 4 {
				c.Policy, c.HasPolicy = binary.BigEndian.Uint32(v), true
			}
		case nftaChainHook:
			herr = rtnl.ParseAttrs(v, func(typ uint16, v []byte) {
				if typ&nlaTypeMask == nftaHookHooknum && len(v) == 4 {
					c.Hook = int32(binary.BigEndian.Uint32(v))
				}
			})
		}
	})
	return c, errors.Join(err, herr)
}

// dropsForward says whether the chain is an IPv6 forward hook whose
// policy drops.
func (c nftChain) dropsForward() bool {
	return (c.Family == nfprotoIPv6 || c.Family == nfprotoInet) && c.Hook == nfInetFwd && c.HasPolicy && c.Policy == nfDrop
}

// name is how nft(8) names the chain.
func (c nftChain) name() string {
	family := "ip6 "
	if c.Family == nfprotoInet {
		family = "inet "
	}
	return "nftables chain " + family + c.Table + " " + c.Name
}

// ip6tables-legacy: struct ip6t_getinfo, and in the entries struct
// ip6t_entry and struct xt_standard_target.
const (
	ip6tInfoLen          = 84 // name[32], valid_hooks, hook_entry[5], underflow[5], num_entries, size
	ip6tInfoOffValid     = 32
	ip6tInfoOffUnderflow = 56
	ip6tInfoOffSize      = 80
	ip6tEntryOffTarget   = 140 // target_offset, after struct ip6t_ip6 (136) and nfcache
	xtTargetHdrLen       = 32  // struct xt_entry_target; the verdict follows
	ip6tVerdictDrop      = -nfDrop - 1
)

// errIP6tShort says the kernel's answer is shorter than its fields say.
var errIP6tShort = errors.New("ip6tables: answer too short")

// parseIP6tInfo reads IP6T_SO_GET_INFO's answer: where the forward
// chain's policy is in the entries (ok false: the table has no forward
// chain), and the entries' size.
func parseIP6tInfo(b []byte) (underflow, size uint32, ok bool, err error) {
	if len(b) < ip6tInfoLen {
		return 0, 0, false, errIP6tShort
	}
	ok = ne.Uint32(b[ip6tInfoOffValid:])&(1<<nfInetFwd) != 0
	return ne.Uint32(b[ip6tInfoOffUnderflow+4*nfInetFwd:]), ne.Uint32(b[ip6tInfoOffSize:]), ok, nil
}

// ip6tDrops reads the verdict of the policy entry at off in a table's
// entries (IP6T_SO_GET_ENTRIES's answer, after its header): whether it
// drops.
func ip6tDrops(entries []byte, off uint32) (bool, error) {
	if uint64(off)+ip6tEntryOffTarget+2 > uint64(len(entries)) {
		return false, errIP6tShort
	}
	v := uint64(off) + uint64(ne.Uint16(entries[off+ip6tEntryOffTarget:])) + xtTargetHdrLen
	if v+4 > uint64(len(entries)) {
		return false, errIP6tShort
	}
	return int32(ne.Uint32(entries[v:])) == ip6tVerdictDrop, nil
}
