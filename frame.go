package main

// Wire formats: Ethernet II, IPv6 and the two ICMPv6 Neighbor Discovery
// messages we read and write (RFC 4861 §4.3, §4.4). Everything here decodes
// into memory the caller owns and encodes into a buffer the caller owns, so
// the per-packet path allocates nothing.

import (
	"encoding/binary"
	"net/netip"
	"slices"
)

// Ethernet II.
const (
	ethHdrLen   = 14
	ethOffDst   = 0
	ethOffSrc   = 6
	ethOffType  = 12
	ethTypeIPv6 = 0x86dd
)

// IPv6 fixed header (RFC 8200 §3).
const (
	ip6HdrLen        = 40
	ip6OffVersion    = 0
	ip6OffPayloadLen = 4
	ip6OffNextHeader = 6
	ip6OffHopLimit   = 7
	ip6OffSrc        = 8
	ip6OffDst        = 24
	ip6Version       = 6
	protoICMPv6      = 58
)

// ICMPv6 Neighbor Discovery (RFC 4861).
const (
	icmp6OffType     = 0
	icmp6OffCode     = 1
	icmp6OffChecksum = 2
	icmp6TypeNS      = 135
	icmp6TypeNA      = 136

	// ndHopLimit is the only hop limit a node accepts on ND messages:
	// "The IP Hop Limit field has a value of 255, i.e., the packet could
	// not possibly have been forwarded by a router." (RFC 4861 §7.1.1)
	ndHopLimit = 255

	// nsLen and naLen are the ICMPv6 lengths of NS and NA without options:
	// type, code, checksum, 4 bytes reserved or flags, 16 bytes target.
	nsLen        = 24
	naLen        = 24
	ndOffFlags   = 4
	ndOffTarget  = 8
	ndOffOptions = 24

	naFlagRouter    = 1 << 7
	naFlagSolicited = 1 << 6
	naFlagOverride  = 1 << 5

	ndOptSourceLLA = 1
	ndOptTargetLLA = 2
	ndOptNonce     = 14
	ndOptUnit      = 8 // option lengths count units of 8 bytes
	llaOptLen      = 8 // type, length, 6-byte Ethernet address

	// Frame offsets and lengths of what we send.
	ethIP6Len  = ethHdrLen + ip6HdrLen
	naFrameLen = ethIP6Len + naLen + llaOptLen
	nsFrameMin = ethIP6Len + nsLen
	nsFrameMax = ethIP6Len + nsLen + llaOptLen + nonceOptLen
	// nonceOptLen is the length of the Nonce option (RFC 3971 §5.3.2) that
	// Linux adds to its DAD probes: type, length, 6 bytes of nonce.
	nonceOptLen = 8
)

// mac is an Ethernet address.
type mac [6]byte

func (m mac) String() string { return string(m.AppendTo(make([]byte, 0, 17))) }

// AppendTo appends m as String writes it.
func (m mac) AppendTo(b []byte) []byte {
	const hex = "0123456789abcdef"
	for i, v := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[v>>4], hex[v&0xf])
	}
	return b
}

func (m mac) isMulticast() bool { return m[0]&1 != 0 }

// isUnicast says whether m can be one station's address: not a group
// (broadcast included) and not all zeros.
func (m mac) isUnicast() bool { return !m.isMulticast() && m != mac{} }

// multicastMAC is the Ethernet group address an IPv6 multicast address maps
// to: 33:33 followed by its last four bytes (RFC 2464 §7).
func multicastMAC(a netip.Addr) mac {
	b := a.As16()
	return mac{0x33, 0x33, b[12], b[13], b[14], b[15]}
}

// solicitedNode returns the solicited-node multicast address of a:
// ff02::1:ff00:0/104 with a's low 24 bits (RFC 4291 §2.7.1).
func solicitedNode(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom16([16]byte{0xff, 0x02, 10: 0, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
}

func isSolicitedNode(a netip.Addr) bool {
	b := a.As16()
	return b[0] == 0xff && b[1] == 0x02 && b[11] == 0x01 && b[12] == 0xff &&
		[9]byte(b[2:11]) == [9]byte{}
}

// neighborSolicitation is a validated NS as read off the wire. Addresses are
// IPv6; EthDst and EthSrc come from the Ethernet header.
type neighborSolicitation struct {
	EthDst, EthSrc mac
	HopLimit       uint8
	Src, Dst       netip.Addr
	Target         netip.Addr
	SourceLLA      mac
	HasSourceLLA   bool
}

// parseND checks the Ethernet and IPv6 headers of a frame carrying an ND
// message of type typ and what RFC 4861 §7.1.1 and §7.1.2 require of every
// NS and NA: hop limit 255, ICMP code 0, ICMP length of 24 or more, a valid
// checksum, a target that is not multicast, options of non-zero length. It
// returns the ICMPv6 message without padding, and the IPv6 addresses.
func parseND(b []byte, typ uint8) (icmp []byte, src, dst, target netip.Addr, err error) {
	if len(b) < nsFrameMin {
		return nil, src, dst, target, reasonTruncated
	}
	if binary.BigEndian.Uint16(b[ethOffType:]) != ethTypeIPv6 || b[ethHdrLen+ip6OffVersion]>>4 != ip6Version {
		return nil, src, dst, target, reasonWrongType
	}
	ip := b[ethHdrLen:]
	// An extension header before ICMPv6 counts as the wrong type: real
	// solicitations carry none.
	if ip[ip6OffNextHeader] != protoICMPv6 || ip[ip6HdrLen+icmp6OffType] != typ {
		return nil, src, dst, target, reasonWrongType
	}
	icmp = ip[ip6HdrLen:]
	plen := int(binary.BigEndian.Uint16(ip[ip6OffPayloadLen:]))
	if plen > len(icmp) {
		return nil, src, dst, target, reasonTruncated
	}
	icmp = icmp[:plen] // drop any Ethernet padding
	// "ICMP length (derived from the IP length) is 24 or more octets."
	if len(icmp) < nsLen {
		return nil, src, dst, target, reasonTruncated
	}
	if ip[ip6OffHopLimit] != ndHopLimit {
		return nil, src, dst, target, reasonHopLimit
	}
	if icmp[icmp6OffCode] != 0 {
		return nil, src, dst, target, reasonCode
	}
	src = netip.AddrFrom16([16]byte(ip[ip6OffSrc:]))
	dst = netip.AddrFrom16([16]byte(ip[ip6OffDst:]))
	if icmp6Checksum(src, dst, icmp) != 0 {
		return nil, src, dst, target, reasonChecksum
	}
	target = netip.AddrFrom16([16]byte(icmp[ndOffTarget:]))
	// "Target Address is not a multicast address."
	if target.IsMulticast() {
		return nil, src, dst, target, reasonMulticastTarget
	}
	if src.IsMulticast() {
		return nil, src, dst, target, reasonMulticastSource
	}
	// "All included options have a length that is greater than zero."
	for opts := icmp[ndOffOptions:]; len(opts) > 0; {
		if len(opts) < 2 {
			return nil, src, dst, target, reasonBadOption
		}
		n := int(opts[1]) * ndOptUnit
		if n == 0 || n > len(opts) {
			return nil, src, dst, target, reasonBadOption
		}
		opts = opts[n:]
	}
	return icmp, src, dst, target, nil
}

// findLLA returns the first link-layer address option of type typ among
// the options of an ND message that parseND accepted.
func findLLA(icmp []byte, typ uint8) (m mac, ok bool) {
	for opts := icmp[ndOffOptions:]; len(opts) > 0; {
		n := int(opts[1]) * ndOptUnit
		if opts[0] == typ && n >= llaOptLen {
			return mac(opts[2:]), true
		}
		opts = opts[n:]
	}
	return m, false
}

// parseNS decodes an Ethernet frame carrying an ICMPv6 Neighbor Solicitation
// into ns and checks what RFC 4861 §7.1.1 requires of a receiver. Errors are
// reasons, so callers can count them without allocating.
func parseNS(b []byte, ns *neighborSolicitation) error {
	icmp, src, dst, target, err := parseND(b, icmp6TypeNS)
	if err != nil {
		return err
	}
	*ns = neighborSolicitation{
		EthDst:   mac(b[ethOffDst:]),
		EthSrc:   mac(b[ethOffSrc:]),
		HopLimit: b[ethHdrLen+ip6OffHopLimit],
		Src:      src,
		Dst:      dst,
		Target:   target,
	}
	ns.SourceLLA, ns.HasSourceLLA = findLLA(icmp, ndOptSourceLLA)
	if src.IsUnspecified() {
		// "If the IP source address is the unspecified address, the IP
		// destination address is a solicited-node multicast address."
		if !isSolicitedNode(dst) {
			return reasonDADDestination
		}
		// "If the IP source address is the unspecified address, there is
		// no source link-layer address option in the message."
		if ns.HasSourceLLA {
			return reasonDADWithSLLA
		}
	}
	return nil
}

// neighborAdvertisement is a validated NA as read off the wire.
type neighborAdvertisement struct {
	EthDst, EthSrc mac
	Src, Dst       netip.Addr
	Flags          uint8
	Target         netip.Addr
	TargetLLA      mac
	HasTargetLLA   bool
}

// parseNA decodes an Ethernet frame carrying an ICMPv6 Neighbor
// Advertisement into na and checks what RFC 4861 §7.1.2 requires.
func parseNA(b []byte, na *neighborAdvertisement) error {
	icmp, src, dst, target, err := parseND(b, icmp6TypeNA)
	if err != nil {
		return err
	}
	*na = neighborAdvertisement{
		EthDst: mac(b[ethOffDst:]),
		EthSrc: mac(b[ethOffSrc:]),
		Src:    src,
		Dst:    dst,
		Flags:  icmp[ndOffFlags],
		Target: target,
	}
	na.TargetLLA, na.HasTargetLLA = findLLA(icmp, ndOptTargetLLA)
	// "If the IP Destination Address is a multicast address the
	// Solicited flag is zero."
	if dst.IsMulticast() && na.Flags&naFlagSolicited != 0 {
		return reasonSolicitedMulticast
	}
	return nil
}

// buildNA writes into f a solicited Neighbor Advertisement for target, sent
// from ethSrc/src to ethDst/dst, with the given flags and a Target Link-Layer
// Address option carrying tlla.
func buildNA(f *[naFrameLen]byte, ethSrc, ethDst mac, src, dst, target netip.Addr, flags uint8, tlla mac) {
	putEthIP6(f[:], ethSrc, ethDst, src, dst, naLen+llaOptLen)
	icmp := f[ethIP6Len:]
	icmp[icmp6OffType] = icmp6TypeNA
	icmp[icmp6OffCode] = 0
	icmp[icmp6OffChecksum], icmp[icmp6OffChecksum+1] = 0, 0
	icmp[ndOffFlags] = flags
	icmp[ndOffFlags+1], icmp[ndOffFlags+2], icmp[ndOffFlags+3] = 0, 0, 0
	t := target.As16()
	copy(icmp[ndOffTarget:], t[:])
	putLLAOption(icmp[ndOffOptions:], ndOptTargetLLA, tlla)
	binary.BigEndian.PutUint16(icmp[icmp6OffChecksum:], icmp6Checksum(src, dst, icmp[:naLen+llaOptLen]))
}

// appendNS appends to b a Neighbor Solicitation for target, sent from
// ethSrc/src to ethDst/dst. A Source Link-Layer Address option with ethSrc is
// added when src is specified (RFC 4861 §4.3 forbids it otherwise); a Nonce
// option is added when nonce is not zero, as Linux does on its DAD probes.
func appendNS(b []byte, ethSrc, ethDst mac, src, dst, target netip.Addr, nonce [6]byte) []byte {
	icmpLen := nsLen
	if !src.IsUnspecified() {
		icmpLen += llaOptLen
	}
	if nonce != ([6]byte{}) {
		icmpLen += nonceOptLen
	}
	start, n := len(b), ethIP6Len+icmpLen
	b = slices.Grow(b, n)[:start+n]
	f := b[start:]
	clear(f)
	putEthIP6(f, ethSrc, ethDst, src, dst, icmpLen)
	icmp := f[ethIP6Len:]
	icmp[icmp6OffType] = icmp6TypeNS
	t := target.As16()
	copy(icmp[ndOffTarget:], t[:])
	opts := icmp[ndOffOptions:]
	if !src.IsUnspecified() {
		putLLAOption(opts, ndOptSourceLLA, ethSrc)
		opts = opts[llaOptLen:]
	}
	if nonce != ([6]byte{}) {
		opts[0], opts[1] = ndOptNonce, nonceOptLen/ndOptUnit
		copy(opts[2:], nonce[:])
	}
	binary.BigEndian.PutUint16(icmp[icmp6OffChecksum:], icmp6Checksum(src, dst, icmp))
	return b
}

// putEthIP6 writes the Ethernet and IPv6 headers of an ND message with an
// ICMPv6 payload of plen bytes.
func putEthIP6(f []byte, ethSrc, ethDst mac, src, dst netip.Addr, plen int) {
	copy(f[ethOffDst:], ethDst[:])
	copy(f[ethOffSrc:], ethSrc[:])
	binary.BigEndian.PutUint16(f[ethOffType:], ethTypeIPv6)
	ip := f[ethHdrLen:]
	binary.BigEndian.PutUint32(ip[ip6OffVersion:], ip6Version<<28) // traffic class and flow label 0
	binary.BigEndian.PutUint16(ip[ip6OffPayloadLen:], uint16(plen))
	ip[ip6OffNextHeader] = protoICMPv6
	ip[ip6OffHopLimit] = ndHopLimit
	s, d := src.As16(), dst.As16()
	copy(ip[ip6OffSrc:], s[:])
	copy(ip[ip6OffDst:], d[:])
}

func putLLAOption(b []byte, typ uint8, m mac) {
	b[0], b[1] = typ, llaOptLen/ndOptUnit
	copy(b[2:], m[:])
}

// icmp6Checksum is the Internet checksum of an ICMPv6 message with the IPv6
// pseudo-header (RFC 8200 §8.1). Over a message whose checksum field is
// filled in, it is 0 when the checksum is right.
func icmp6Checksum(src, dst netip.Addr, icmp []byte) uint16 {
	s, d := src.As16(), dst.As16()
	sum := csumAdd(0, s[:])
	sum = csumAdd(sum, d[:])
	sum += uint32(len(icmp)>>16) + uint32(len(icmp)&0xffff) + protoICMPv6
	return csumFold(csumAdd(sum, icmp))
}

// csumAdd adds b as big-endian 16-bit words to sum; an odd last byte is
// padded with zero (RFC 1071).
func csumAdd(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

// csumFold folds the carries of sum into 16 bits and complements it.
func csumFold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
