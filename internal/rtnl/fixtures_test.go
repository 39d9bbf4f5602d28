package rtnl

import "net/netip"

// The test network's router and VPS, as the daemon's tests name them.
var (
	routerMAC = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	vpsMAC    = [6]byte{0x02, 0, 0, 0, 0, 0x02}
	routerLL  = netip.MustParseAddr("fe80::ff:fe00:1")
)
