package main

// The uplink as the responder and the gateway keeper see it: a snapshot of
// the interface's MAC, its addresses and its default gateway, made from
// what rtnetlink reports (uplink_linux.go reads it).

import "net/netip"

// uplink is a snapshot of what the daemon knows of its interface.
type uplink struct {
	MAC       mac
	Addrs     []netip.Addr // the interface's own addresses; the kernel answers for these
	LinkLocal netip.Addr   // first usable link-local address, if any
	Global    []netip.Addr // usable global addresses, to solicit from
	Gateway   netip.Addr   // the default route's gateway through it, if any
}

func (u *uplink) owns(a netip.Addr) bool {
	for _, o := range u.Addrs {
		if o == a {
			return true
		}
	}
	return false
}

// makeUplink builds the snapshot of interface index from dumps of the
// links, its addresses and the IPv6 routes; ok is false when the interface
// is not among the links.
func makeUplink(index int, links []link, addrs []ifAddr, routes []route) (u *uplink, ok bool) {
	u = &uplink{}
	for _, l := range links {
		if l.Index == index {
			u.MAC, ok = l.MAC, true
		}
	}
	if !ok {
		return nil, false
	}
	for _, a := range addrs {
		if a.Index != index {
			continue
		}
		u.Addrs = append(u.Addrs, a.Addr)
		if !a.usable() {
			continue
		}
		switch {
		case a.Addr.IsLinkLocalUnicast():
			if !u.LinkLocal.IsValid() {
				u.LinkLocal = a.Addr
			}
		case a.Addr.IsGlobalUnicast():
			u.Global = append(u.Global, a.Addr)
		}
	}
	u.Gateway, _ = defaultGateway(routes, index)
	return u, true
}
