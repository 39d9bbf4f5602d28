package main

// MLD: a switch or a hypervisor's bridge that snoops MLD (RFC 4541)
// delivers a multicast group only to the ports that reported it, and the
// router's solicitation for an address goes to the address's
// solicited-node group. The packet socket's link-layer memberships send no
// report; so for each address answered one by one (-a, the live addresses
// of -learn, -N and -auto, and the addresses of static ranges small enough)
// the daemon joins its solicited-node group through an IPv6 socket on the
// uplink, the kernel reports it and answers the queries, as it does for the
// groups of proxy_ndp's entries; and it leaves the group when the address
// goes. Plain Go: which groups, held through which socket; mld_linux.go
// joins and leaves.

import (
	"net/netip"
	"slices"
)

const (
	// maxMLDGroups bounds the groups joined: the kernel keeps an entry
	// for each, and answers every query with a record for each (a static
	// /112 would be 65,536 groups). Past it, a switch that snoops MLD
	// does not deliver the solicitations for the rest.
	maxMLDGroups = 1024
	// mldGroupsPerSocket groups are joined through one socket: a
	// socket's memberships count against net.core.optmem_max, 20 kB
	// (about 360 memberships) on kernels before 6.8.
	mldGroupsPerSocket = 256
)

// mldGroups returns the solicited-node groups to join, most wanted first
// (those of -a, of the live addresses, of the ranges answered whole), at
// most maxMLDGroups, and how many more are wanted. The ranges answered
// whole (cfg's without a source of live addresses, and -auto's live
// prefixes inside them) count only if all of their groups fit.
func mldGroups(cfg *config, live *liveAddrs) (groups []netip.Addr, over int) {
	var p mldPlan
	return p.groups(cfg, live)
}

// mldPlan is mldGroups with its working memory kept from one change of the
// live addresses to the next, so that a container's start or stop leaves
// no garbage here. What groups returns is valid until its next call.
type mldPlan struct {
	seen  map[netip.Addr]bool
	out   []netip.Addr
	addrs []netip.Addr
	whole []netip.Prefix
}

func (p *mldPlan) groups(cfg *config, live *liveAddrs) (groups []netip.Addr, over int) {
	if p.seen == nil {
		p.seen = map[netip.Addr]bool{}
	}
	clear(p.seen)
	p.out = p.out[:0]
	add := func(a netip.Addr) {
		if g := solicitedNode(a); !p.seen[g] {
			p.seen[g] = true
			p.out = append(p.out, g)
		}
	}
	for _, a := range cfg.announce {
		add(a)
	}
	p.whole = p.whole[:0]
	if !cfg.liveOnly() {
		p.whole = append(p.whole, cfg.ranges...)
	}
	if live != nil {
		p.addrs = p.addrs[:0]
		live.Range(func(a netip.Addr) bool {
			p.addrs = append(p.addrs, a)
			return true
		})
		slices.SortFunc(p.addrs, netip.Addr.Compare)
		for _, a := range p.addrs {
			add(a)
		}
		live.RangeLivePrefixes(func(dst netip.Prefix) bool {
			p.whole = append(p.whole, within(dst, cfg.ranges)...)
			return true
		})
	}
	if len(p.out) > maxMLDGroups {
		return p.out[:maxMLDGroups], len(p.out) - maxMLDGroups
	}
	n := 0
	for _, r := range p.whole {
		n += groupsIn(r)
	}
	if len(p.out)+n > maxMLDGroups {
		return p.out, n // some of them may be among the groups already
	}
	for _, r := range p.whole {
		for a := r.Masked().Addr(); a.IsValid() && r.Contains(a); a = a.Next() {
			add(a)
		}
	}
	return p.out, 0
}

// groupsIn is how many solicited-node groups the addresses of p have; a
// group keeps an address's low 24 bits.
func groupsIn(p netip.Prefix) int {
	return 1 << min(128-p.Bits(), 24)
}

// within returns the part of p inside the ranges: p itself where a range
// holds it, the ranges p holds.
func within(p netip.Prefix, ranges []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, r := range ranges {
		switch {
		case r.Bits() <= p.Bits() && r.Contains(p.Addr()):
			return []netip.Prefix{p}
		case p.Bits() < r.Bits() && p.Contains(r.Addr()):
			out = append(out, r)
		}
	}
	return out
}

// groupJoiner joins and leaves groups on the uplink, through the socket
// numbered sock (a new number opens a new socket).
type groupJoiner interface {
	join(sock int, g netip.Addr) error
	leave(sock int, g netip.Addr) error
}

// mldMembers are the groups held, each through one of the sockets.
type mldMembers struct {
	out   groupJoiner
	held  map[netip.Addr]int // group: socket
	count []int              // groups held through each socket
}

func newMLDMembers(out groupJoiner) *mldMembers {
	return &mldMembers{out: out, held: map[netip.Addr]int{}}
}

// update leaves the groups held and not wanted, then joins those wanted
// and not held, each through a socket with room; it says how many failed,
// and the first error.
func (m *mldMembers) update(want []netip.Addr) (failed int, err error) {
	note := func(e error) {
		if failed++; err == nil {
			err = e
		}
	}
	for g, s := range m.held {
		if !slices.Contains(want, g) {
			if e := m.out.leave(s, g); e != nil {
				note(e)
			}
			delete(m.held, g)
			m.count[s]--
		}
	}
	for _, g := range want {
		if _, ok := m.held[g]; ok {
			continue
		}
		s := 0
		for s < len(m.count) && m.count[s] >= mldGroupsPerSocket {
			s++
		}
		if s == len(m.count) {
			m.count = append(m.count, 0)
		}
		if e := m.out.join(s, g); e != nil {
			note(e)
			continue
		}
		m.held[g] = s
		m.count[s]++
	}
	return failed, err
}
