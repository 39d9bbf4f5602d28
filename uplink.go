package main

// The uplink as the responder and the gateway keeper see it: a snapshot of
// the interface's MAC, its addresses and its default gateway, made from
// what rtnetlink reports (uplink_linux.go reads it).

import (
	"net/netip"
	"slices"

	"ndpresponder/internal/rtnl"
)

// uplink is a snapshot of what the daemon knows of its interface.
type uplink struct {
	MAC       mac
	Addrs     []netip.Addr // the interface's own addresses; the kernel answers for these
	LinkLocal netip.Addr   // first usable link-local address, if any
	Global    []netip.Addr // usable global addresses, to solicit from
	Gateway   netip.Addr   // the default route's gateway through it, if any
	// OnLink are the uplink's global on-link prefixes, from the main
	// table's routes through it without a gateway: without -n, the live
	// addresses answered and announced are those inside them.
	OnLink []netip.Prefix
}

// maxOnLink bounds the on-link prefixes kept of the uplink.
const maxOnLink = 16

// onLink says whether a is inside one of the uplink's on-link prefixes.
func (u *uplink) onLink(a netip.Addr) bool { return contains(u.OnLink, a) }

func (u *uplink) owns(a netip.Addr) bool {
	for _, o := range u.Addrs {
		if o == a {
			return true
		}
	}
	return false
}

// uplinkState is what the daemon keeps of its interface between snapshots:
// read once, then kept up to date from the rtnetlink events that concern
// it. An event for another interface costs nothing (a container's start or
// stop brings a dozen), and one for the uplink's link, or a change or
// deletion of its addresses, is applied as it is; what an event cannot say
// is marked for reading again.
type uplinkState struct {
	name   string // the interface followed
	index  int    // 0 until it is found
	mac    mac
	addrs  []rtnl.IfAddr // its IPv6 addresses
	routes []rtnl.Route  // the main table's IPv6 default and on-link routes through it

	stale       bool // an event was lost, unreadable or a new address: read everything again
	routesStale bool // a default route changed: read the routes again
	gone        bool // deleted, or its name now belongs to another interface
	changed     bool // since the last snapshot
}

// follow starts following the interface name, not found yet.
func (s *uplinkState) follow(name string) {
	*s = uplinkState{name: name, addrs: s.addrs[:0], routes: s.routes[:0]}
}

// addRoute keeps r if it is a default route of the main table through the
// interface, the only routes that defaultGateway picks from, or one of its
// on-link prefixes (at most maxOnLink).
func (s *uplinkState) addRoute(r rtnl.Route) {
	switch {
	case r.Dst.Bits() == 0 && r.Table == rtnl.RtTableMain && r.OIF == s.index:
		s.routes = append(s.routes, r)
	case s.onLinkRoute(r):
		n := 0
		for _, o := range s.routes {
			if o.Dst.Bits() != 0 {
				n++
			}
		}
		if n < maxOnLink {
			s.routes = append(s.routes, r)
		}
	}
}

// onLinkRoute says whether r puts a global prefix on the interface's link:
// a unicast route of the main table through it, without a gateway, no
// wider than any on-link prefix (widestRange), and not a host route (those
// of routed containers come and go with them).
func (s *uplinkState) onLinkRoute(r rtnl.Route) bool {
	return r.Dst.Bits() >= widestRange && r.Dst.Bits() < 128 && r.Table == rtnl.RtTableMain && r.Type == rtnl.RtnUnicast && r.OIF == s.index &&
		!r.Gateway.IsValid() && globalUnicast(r.Dst.Addr())
}

// event applies one rtnetlink message (a link, an IPv6 address or an IPv6
// route) and reports whether it concerned the interface followed: whether
// the state changed or needs reading again. Before the interface is found,
// only a link taking its name concerns it. Applying events costs no
// allocation except for the uplink's own link messages.
func (s *uplinkState) event(m rtnl.Msg) bool {
	switch m.Type {
	case rtnl.RtmNewLink, rtnl.RtmDelLink:
		if len(m.Data) < rtnl.IfinfomsgLen {
			return false
		}
		if index := int(int32(ne.Uint32(m.Data[4:]))); s.index == 0 || index != s.index {
			// Another interface matters only if it takes the name.
			if _, name, ok := linkName(m.Data); m.Type != rtnl.RtmNewLink || !ok || string(name) != s.name {
				return false
			}
			s.gone = s.index != 0
			return true
		}
		if m.Type == rtnl.RtmDelLink {
			s.gone = true
			return true
		}
		l, err := rtnl.ParseLink(m.Data)
		switch {
		case err != nil:
			s.stale = true
		case l.Name != s.name:
			s.gone = true // renamed
		case l.MAC != s.mac:
			s.mac, s.changed = l.MAC, true
		default:
			return false
		}
		return true
	case rtnl.RtmNewAddr, rtnl.RtmDelAddr:
		a, err := rtnl.ParseAddr(m.Data)
		if err != nil || s.index == 0 || a.Index != s.index {
			return false
		}
		i := slices.IndexFunc(s.addrs, func(o rtnl.IfAddr) bool { return o.Addr == a.Addr })
		switch {
		case m.Type == rtnl.RtmDelAddr && i < 0:
			return false
		case m.Type == rtnl.RtmDelAddr:
			s.addrs = slices.Delete(s.addrs, i, i+1)
		case i < 0:
			// The kernel lists a new address among the others by its
			// scope and age, and the first global one is the source we
			// solicit from: read them as the kernel lists them.
			s.stale = true
			return true
		case s.addrs[i] == a:
			return false
		default:
			s.addrs[i] = a
		}
		s.changed = true
		return true
	case rtnl.RtmNewRoute, rtmDelRoute:
		// A default route (struct rtmsg: family, dst_len) may be replaced
		// or grouped with others without an event for each; read them all
		// again, as for a change of an on-link prefix. Other routes (a
		// container brings a few) do not matter.
		if s.index == 0 || len(m.Data) < rtnl.RtmsgLen || m.Data[0] != rtnl.AfInet6 {
			return false
		}
		if m.Data[1] != 0 {
			if r, err := rtnl.ParseRoute(m.Data); err != nil || !s.onLinkRoute(r) {
				return false
			}
		}
		s.routesStale = true
		return true
	}
	return false
}

// snapshot makes the uplink's snapshot from the state and clears changed.
func (s *uplinkState) snapshot() *uplink {
	s.changed = false
	u := &uplink{MAC: s.mac}
	for _, a := range s.addrs {
		u.Addrs = append(u.Addrs, a.Addr)
		if !a.Usable() {
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
	u.Gateway, _ = rtnl.DefaultGateway(s.routes, s.index)
	for _, r := range s.routes {
		if r.Dst.Bits() != 0 && len(u.OnLink) < maxOnLink && !slices.Contains(u.OnLink, r.Dst.Masked()) {
			u.OnLink = append(u.OnLink, r.Dst.Masked())
		}
	}
	return u
}

// equal says whether two snapshots say the same.
func (u *uplink) equal(o *uplink) bool {
	return u.MAC == o.MAC && u.LinkLocal == o.LinkLocal && u.Gateway == o.Gateway &&
		slices.Equal(u.Addrs, o.Addrs) && slices.Equal(u.Global, o.Global) && slices.Equal(u.OnLink, o.OnLink)
}
