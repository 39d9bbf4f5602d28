package rtnl

// rtnetlink messages, built and parsed by hand (linux/netlink.h,
// linux/rtnetlink.h, linux/neighbour.h). Netlink speaks the host's byte
// order: big-endian MIPS routers read these fields the other way round from
// x86, so every multi-byte field goes through binary.NativeEndian.

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
)

var ne = binary.NativeEndian

// Netlink (linux/netlink.h).
const (
	NlmsgHdrLen  = 16 // struct nlmsghdr: len, type, flags, seq, pid
	nlmsgAlignTo = 4  // NLMSG_ALIGNTO
	rtaHdrLen    = 4  // struct rtattr: len, type
	rtaAlignTo   = 4  // RTA_ALIGNTO

	nlmsgNoop  = 0x1 // NLMSG_NOOP
	NlmsgError = 0x2 // NLMSG_ERROR
	nlmsgDone  = 0x3 // NLMSG_DONE

	NlmFRequest = 0x1   // NLM_F_REQUEST
	nlmFMulti   = 0x2   // NLM_F_MULTI
	NlmFAck     = 0x4   // NLM_F_ACK
	NlmFDump    = 0x300 // NLM_F_ROOT|NLM_F_MATCH
	NlmFReplace = 0x100 // NLM_F_REPLACE (for NEW requests)
	NlmFCreate  = 0x400 // NLM_F_CREATE
)

// rtnetlink (linux/rtnetlink.h, linux/neighbour.h).
const (
	RtmNewRoute = 24 // RTM_NEWROUTE
	rtmGetRoute = 26 // RTM_GETROUTE
	RtmNewNeigh = 28 // RTM_NEWNEIGH
	RtmDelNeigh = 29 // RTM_DELNEIGH
	RtmGetNeigh = 30 // RTM_GETNEIGH

	RtmsgLen       = 12 // struct rtmsg
	RtaDst         = 1  // RTA_DST
	RtaOIF         = 4  // RTA_OIF
	rtaGateway     = 5  // RTA_GATEWAY
	RtaPriority    = 6  // RTA_PRIORITY
	rtaTable       = 15 // RTA_TABLE
	RtTableMain    = 254
	RtnUnicast     = 1 // RTN_UNICAST
	AfInet6        = 10
	AfBridge       = 7  // AF_BRIDGE: an entry of a bridge's forwarding table
	NdmsgLen       = 12 // struct ndmsg
	ndaDst         = 1  // NDA_DST
	ndaLLAddr      = 2  // NDA_LLADDR
	ndaMaster      = 9  // NDA_MASTER: the bridge of a forwarding entry
	ndaProtocol    = 12 // NDA_PROTOCOL (Linux 5.0): who made the entry, a u8
	NudIncomplete  = 0x01
	NudReachable   = 0x02
	NudStale       = 0x04
	NudDelay       = 0x08
	NudProbe       = 0x10
	NudFailed      = 0x20
	NudNoARP       = 0x40
	NudPermanent   = 0x80
	nudValidStates = NudPermanent | NudNoARP | NudReachable | NudStale | NudDelay | NudProbe
)

var ErrNetlinkShort = errors.New("netlink: message too short")

func nlmsgAlign(n int) int { return (n + nlmsgAlignTo - 1) &^ (nlmsgAlignTo - 1) } // NLMSG_ALIGN
func rtaAlign(n int) int   { return (n + rtaAlignTo - 1) &^ (rtaAlignTo - 1) }     // RTA_ALIGN

// nlMsg is one netlink message: its header fields and its payload.
type Msg struct {
	Type, Flags uint16
	Seq, Pid    uint32
	Data        []byte
}

// parseNetlink splits a datagram into messages. A header whose length runs
// past the datagram or is shorter than a header is an error.
func ParseNetlink(b []byte) ([]Msg, error) { return appendNetlink(nil, b) }

// appendNetlink is parseNetlink appending to msgs, so that a reader that
// keeps its slice splits datagrams without allocating.
func appendNetlink(msgs []Msg, b []byte) ([]Msg, error) {
	for len(b) > 0 {
		if len(b) < NlmsgHdrLen {
			return msgs, ErrNetlinkShort
		}
		n := int(ne.Uint32(b))
		if n < NlmsgHdrLen || n > len(b) {
			return msgs, ErrNetlinkShort
		}
		msgs = append(msgs, Msg{
			Type:  ne.Uint16(b[4:]),
			Flags: ne.Uint16(b[6:]),
			Seq:   ne.Uint32(b[8:]),
			Pid:   ne.Uint32(b[12:]),
			Data:  b[NlmsgHdrLen:n],
		})
		b = b[min(nlmsgAlign(n), len(b)):]
	}
	return msgs, nil
}

// nlError reads an NLMSG_ERROR payload: nil for an acknowledgement, the
// kernel's errno otherwise, as a syscall.Errno (which is unix.Errno), so
// that errors.Is(err, unix.ENOENT) works.
func NlError(data []byte) error {
	if len(data) < 4 {
		return ErrNetlinkShort
	}
	if code := int32(ne.Uint32(data)); code != 0 {
		return syscall.Errno(-code)
	}
	return nil
}

// parseAttrs calls f for each route attribute in b, and stops with an
// error at the first it cannot walk.
func ParseAttrs(b []byte, f func(typ uint16, data []byte)) error {
	for len(b) > 0 {
		if len(b) < rtaHdrLen {
			return ErrNetlinkShort
		}
		n := int(ne.Uint16(b))
		if n < rtaHdrLen || n > len(b) {
			return ErrNetlinkShort
		}
		f(ne.Uint16(b[2:]), b[rtaHdrLen:n])
		b = b[min(rtaAlign(n), len(b)):]
	}
	return nil
}

// Cut counts the messages whose attributes could not all be walked (see
// keepCut). The parsers count them, as the daemon is one per process.
var Cut atomic.Uint64

// keepCut judges a message whose attribute walk ended in err: a walk cut
// short is counted, and what was read before is kept when it holds the
// fields the daemon needs (complete). qemu-user, for one, leaves a newer
// kernel's last attribute in the host's byte order, which a big-endian
// program cannot walk; a real kernel never sends such a message.
func keepCut(err error, complete bool) error {
	if err == nil {
		return nil
	}
	Cut.Add(1)
	if complete {
		return nil
	}
	return err
}

// appendNlmsg starts a message at the end of b; finishNlmsg sets its
// length once the payload is appended, given where it started.
func appendNlmsg(b []byte, typ, flags uint16, seq uint32) []byte {
	b = ne.AppendUint32(b, 0)
	b = ne.AppendUint16(b, typ)
	b = ne.AppendUint16(b, flags)
	b = ne.AppendUint32(b, seq)
	return ne.AppendUint32(b, 0) // pid 0: the kernel
}

func finishNlmsg(b []byte, start int) []byte {
	ne.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

func AppendAttr(b []byte, typ uint16, data []byte) []byte {
	b = ne.AppendUint16(b, uint16(rtaHdrLen+len(data)))
	b = ne.AppendUint16(b, typ)
	b = append(b, data...)
	for range rtaAlign(len(data)) - len(data) {
		b = append(b, 0)
	}
	return b
}

// route is what we read of an RTM_NEWROUTE message.
type Route struct {
	Dst      netip.Prefix
	Gateway  netip.Addr
	OIF      int
	Table    uint32
	Type     uint8
	Priority uint32
}

// appendRouteDump appends a request to dump the IPv6 routes.
func AppendRouteDump(b []byte, seq uint32) []byte {
	return AppendDump(b, rtmGetRoute, seq, RtmsgLen, AfInet6)
}

// parseRoute reads an IPv6 route message.
func ParseRoute(data []byte) (Route, error) {
	if len(data) < RtmsgLen {
		return Route{}, ErrNetlinkShort
	}
	// struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope,
	// type, flags (u32).
	r := Route{Table: uint32(data[4]), Type: data[7]}
	dstLen := int(data[1])
	if data[0] != AfInet6 || dstLen > 128 {
		return Route{}, errors.New("netlink: not an IPv6 route")
	}
	var dst netip.Addr = netip.IPv6Unspecified()
	hasDst, hasPriority := false, false
	err := ParseAttrs(data[RtmsgLen:], func(typ uint16, v []byte) {
		switch {
		case typ == RtaDst && len(v) == 16:
			dst, hasDst = netip.AddrFrom16([16]byte(v)), true
		case typ == rtaGateway && len(v) == 16:
			r.Gateway = netip.AddrFrom16([16]byte(v))
		case typ == RtaOIF && len(v) == 4:
			r.OIF = int(ne.Uint32(v))
		case typ == rtaTable && len(v) == 4:
			r.Table = ne.Uint32(v)
		case typ == RtaPriority && len(v) == 4:
			r.Priority, hasPriority = ne.Uint32(v), true
		}
	})
	// A route cut short is kept with its destination, interface and
	// metric: without them it could pass for a better default route.
	if err := keepCut(err, (dstLen == 0 || hasDst) && r.OIF != 0 && hasPriority); err != nil {
		return Route{}, err
	}
	r.Dst = netip.PrefixFrom(dst, dstLen)
	return r, nil
}

// defaultGateway picks the IPv6 default route's gateway through the
// interface: the main table, a unicast route to ::/0, the lowest metric.
func DefaultGateway(routes []Route, oif int) (netip.Addr, bool) {
	var best *Route
	for i := range routes {
		r := &routes[i]
		if r.Dst.Bits() != 0 || r.Table != RtTableMain || r.Type != RtnUnicast || r.OIF != oif || !r.Gateway.IsValid() {
			continue
		}
		if best == nil || r.Priority < best.Priority {
			best = r
		}
	}
	if best == nil {
		return netip.Addr{}, false
	}
	return best.Gateway, true
}

// neighEntry is what we read of an RTM_NEWNEIGH message.
type Neigh struct {
	Family  byte // afInet6, or afBridge for a bridge's forwarding entry
	Ifindex int  // for afBridge, the port
	Master  int  // for afBridge, the bridge
	State   uint16
	Flags   uint8
	Proto   uint8 // NDA_PROTOCOL; pinProtocol on the pins we make
	Addr    netip.Addr
	MAC     [6]byte
	HasMAC  bool
}

// appendNeigh appends a neighbour message of type typ (RTM_NEWNEIGH,
// RTM_DELNEIGH, RTM_GETNEIGH) for addr on ifindex; the MAC is included when
// state is not zero.
func AppendNeigh(b []byte, typ, flags uint16, seq uint32, ifindex int, addr netip.Addr, state uint16, m [6]byte) []byte {
	return AppendNeighProto(b, typ, flags, seq, ifindex, addr, state, m, 0)
}

// appendNeighProto is appendNeigh with an NDA_PROTOCOL attribute saying
// who made the entry, when proto is not zero. Kernels before 5.0 ignore it.
func AppendNeighProto(b []byte, typ, flags uint16, seq uint32, ifindex int, addr netip.Addr, state uint16, m [6]byte, proto uint8) []byte {
	start := len(b)
	b = appendNlmsg(b, typ, flags, seq)
	// struct ndmsg: family, pad1, pad2 (u16), ifindex (s32), state (u16),
	// flags, type.
	var nd [NdmsgLen]byte
	nd[0] = AfInet6
	ne.PutUint32(nd[4:], uint32(int32(ifindex)))
	ne.PutUint16(nd[8:], state)
	b = append(b, nd[:]...)
	a := addr.As16()
	b = AppendAttr(b, ndaDst, a[:])
	if state != 0 {
		b = AppendAttr(b, ndaLLAddr, m[:])
	}
	if proto != 0 {
		b = AppendAttr(b, ndaProtocol, []byte{proto})
	}
	return finishNlmsg(b, start)
}

// parseNeigh reads a neighbour message.
func ParseNeigh(data []byte) (Neigh, error) {
	if len(data) < NdmsgLen {
		return Neigh{}, ErrNetlinkShort
	}
	e := Neigh{
		Family:  data[0],
		Ifindex: int(int32(ne.Uint32(data[4:]))),
		State:   ne.Uint16(data[8:]),
		Flags:   data[10],
	}
	err := ParseAttrs(data[NdmsgLen:], func(typ uint16, v []byte) {
		switch {
		case typ == ndaDst && len(v) == 16:
			e.Addr = netip.AddrFrom16([16]byte(v))
		case typ == ndaLLAddr && len(v) == 6:
			e.MAC, e.HasMAC = [6]byte(v), true
		case typ == ndaMaster && len(v) == 4:
			e.Master = int(int32(ne.Uint32(v)))
		case typ == ndaProtocol && len(v) == 1:
			e.Proto = v[0]
		}
	})
	// An entry cut short is kept with its address, and its MAC when its
	// state says it has one.
	return e, keepCut(err, e.Addr.IsValid() && (e.HasMAC || e.State&nudValidStates == 0))
}

// nudString names a neighbour state as ip(8) does.
func NUDString(s uint16) string {
	for _, n := range []struct {
		bit  uint16
		name string
	}{{NudPermanent, "PERMANENT"}, {NudNoARP, "NOARP"}, {NudReachable, "REACHABLE"}, {NudStale, "STALE"},
		{NudDelay, "DELAY"}, {NudProbe, "PROBE"}, {NudFailed, "FAILED"}, {NudIncomplete, "INCOMPLETE"}} {
		if s&n.bit != 0 {
			return n.name
		}
	}
	return "NONE"
}

// Links and addresses (linux/if_link.h, linux/if_addr.h).
const (
	RtmNewLink     = 16  // RTM_NEWLINK
	RtmDelLink     = 17  // RTM_DELLINK
	rtmGetLink     = 18  // RTM_GETLINK
	RtmNewAddr     = 20  // RTM_NEWADDR
	RtmDelAddr     = 21  // RTM_DELADDR
	rtmGetAddr     = 22  // RTM_GETADDR
	IfinfomsgLen   = 16  // struct ifinfomsg
	IffUp          = 0x1 // IFF_UP, in ifi_flags
	IfaddrmsgLen   = 8   // struct ifaddrmsg
	IflaAddress    = 1   // IFLA_ADDRESS
	IflaIfname     = 3   // IFLA_IFNAME
	IfaAddress     = 1   // IFA_ADDRESS
	ifaLocal       = 2   // IFA_LOCAL
	ifaFlags       = 8   // IFA_FLAGS
	ifaFDadFailed  = 0x08
	IfaFDeprecated = 0x20
	IfaFTentative  = 0x40
)

// link is what we read of an RTM_NEWLINK message.
type Link struct {
	Index int
	Name  string
	MAC   [6]byte
}

// ifAddr is what we read of an RTM_NEWADDR message.
type IfAddr struct {
	Index int
	Addr  netip.Addr
	Flags uint32
}

// usable says whether the address may be a source: not tentative, not
// deprecated, not failed DAD.
func (a IfAddr) Usable() bool {
	return a.Flags&(IfaFTentative|IfaFDeprecated|ifaFDadFailed) == 0
}

// appendDump appends a dump request of type typ with a zeroed header of
// hdrLen bytes whose first byte, the family, is family.
func AppendDump(b []byte, typ uint16, seq uint32, hdrLen int, family byte) []byte {
	start := len(b)
	b = appendNlmsg(b, typ, NlmFRequest|NlmFDump, seq)
	b = append(b, make([]byte, hdrLen)...)
	b[start+NlmsgHdrLen] = family
	return finishNlmsg(b, start)
}

// appendLinkGet appends a request for the interface index.
func appendLinkGet(b []byte, seq uint32, index int) []byte {
	start := len(b)
	b = appendNlmsg(b, rtmGetLink, NlmFRequest, seq)
	var ifi [IfinfomsgLen]byte
	ne.PutUint32(ifi[4:], uint32(int32(index)))
	return finishNlmsg(append(b, ifi[:]...), start)
}

// parseLink reads a link message.
func ParseLink(data []byte) (Link, error) {
	if len(data) < IfinfomsgLen {
		return Link{}, ErrNetlinkShort
	}
	// struct ifinfomsg: family, pad, type (u16), index (s32), flags, change.
	l := Link{Index: int(int32(ne.Uint32(data[4:])))}
	hasMAC := false
	err := ParseAttrs(data[IfinfomsgLen:], func(typ uint16, v []byte) {
		switch {
		case typ == IflaAddress && len(v) == 6:
			l.MAC, hasMAC = [6]byte(v), true
		case typ == IflaIfname:
			name, _, _ := strings.Cut(string(v), "\x00")
			l.Name = name
		}
	})
	// A link cut short is kept with its name and MAC.
	return l, keepCut(err, l.Name != "" && hasMAC)
}

// parseAddr reads an IPv6 address message.
func ParseAddr(data []byte) (IfAddr, error) {
	if len(data) < IfaddrmsgLen {
		return IfAddr{}, ErrNetlinkShort
	}
	// struct ifaddrmsg: family, prefixlen, flags, scope, index (u32).
	if data[0] != AfInet6 {
		return IfAddr{}, errors.New("netlink: not an IPv6 address")
	}
	a := IfAddr{Index: int(ne.Uint32(data[4:])), Flags: uint32(data[2])}
	var local netip.Addr
	err := ParseAttrs(data[IfaddrmsgLen:], func(typ uint16, v []byte) {
		switch {
		case typ == IfaAddress && len(v) == 16:
			a.Addr = netip.AddrFrom16([16]byte(v))
		case typ == ifaLocal && len(v) == 16:
			local = netip.AddrFrom16([16]byte(v))
		case typ == ifaFlags && len(v) == 4:
			a.Flags = ne.Uint32(v)
		}
	})
	if local.IsValid() {
		a.Addr = local // on point-to-point links IFA_ADDRESS is the peer
	}
	// An address cut short is kept with its address: the flags that
	// usable reads are in the header's too.
	return a, keepCut(err, a.Addr.IsValid())
}

// appendRouteGet appends a request for the route the kernel would use to
// reach dst.
func AppendRouteGet(b []byte, seq uint32, dst netip.Addr) []byte {
	start := len(b)
	b = appendNlmsg(b, rtmGetRoute, NlmFRequest, seq)
	var rtm [RtmsgLen]byte
	rtm[0], rtm[1] = AfInet6, 128
	b = append(b, rtm[:]...)
	a := dst.As16()
	return finishNlmsg(AppendAttr(b, RtaDst, a[:]), start)
}
