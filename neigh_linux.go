package main

// The kernel's neighbour table over rtnetlink: read, pin and unpin an
// entry, and dump the table.

import (
	"errors"
	"net/netip"

	"ndpresponder/internal/rtnl"

	"golang.org/x/sys/unix"
)

// rtnlConn is the rtnetlink connection of package rtnl with the
// neighbour table's requests, which are the daemon's: the pin, the
// probe's reads, -unpin.
type rtnlConn struct{ *rtnl.Conn }

func openRtnl() (*rtnlConn, error) {
	c, err := rtnl.Open()
	if err != nil {
		return nil, err
	}
	return &rtnlConn{c}, nil
}

// neigh reads the neighbour entry for addr on ifindex; ok is false when
// there is none.
func (c *rtnlConn) neigh(ifindex int, addr netip.Addr) (e rtnl.Neigh, ok bool, err error) {
	var perr error
	err = c.Request(func(b []byte, seq uint32) []byte {
		return rtnl.AppendNeigh(b, rtnl.RtmGetNeigh, rtnl.NlmFRequest, seq, ifindex, addr, 0, mac{})
	}, func(m rtnl.Msg) {
		if m.Type == rtnl.RtmNewNeigh && !ok && perr == nil {
			e, perr = rtnl.ParseNeigh(m.Data)
			ok = perr == nil
		}
	})
	if errors.Is(err, unix.ENOENT) {
		return rtnl.Neigh{}, false, nil
	}
	if err != nil {
		return rtnl.Neigh{}, false, errf("reading the neighbour entry for %v: %w", addr, err)
	}
	return e, ok, perr
}

// setNeigh creates or replaces the neighbour entry for addr, marked as
// ours (pinProtocol), so that a later run can tell our pin from others'.
func (c *rtnlConn) setNeigh(ifindex int, addr netip.Addr, state uint16, m mac) error {
	err := c.Request(func(b []byte, seq uint32) []byte {
		return rtnl.AppendNeighProto(b, rtnl.RtmNewNeigh, rtnl.NlmFRequest|rtnl.NlmFAck|rtnl.NlmFCreate|rtnl.NlmFReplace, seq, ifindex, addr, state, m, pinProtocol)
	}, nil)
	if err != nil {
		return errf("setting the neighbour entry for %v: %w", addr, err)
	}
	return nil
}

// delNeigh removes the neighbour entry for addr.
func (c *rtnlConn) delNeigh(ifindex int, addr netip.Addr) error {
	err := c.Request(func(b []byte, seq uint32) []byte {
		return rtnl.AppendNeigh(b, rtnl.RtmDelNeigh, rtnl.NlmFRequest|rtnl.NlmFAck, seq, ifindex, addr, 0, mac{})
	}, nil)
	if err != nil {
		return errf("removing the neighbour entry for %v: %w", addr, err)
	}
	return nil
}

// neighs dumps the kernel's IPv6 neighbour entries.
func (c *rtnlConn) neighs() ([]rtnl.Neigh, error) {
	return rtnl.Dump(c.Conn, "neighbours", rtnl.RtmNewNeigh, func(b []byte, seq uint32) []byte {
		return rtnl.AppendDump(b, rtnl.RtmGetNeigh, seq, rtnl.NdmsgLen, rtnl.AfInet6)
	}, rtnl.ParseNeigh)
}

// unpinLeft removes the gateway pins (leftPin) on the interface named
// iface, or on every interface when iface is empty, and says how many it
// removed: what a package's removal, or a service manager after a run that
// died, does to leave the host as it found it.
func unpinLeft(iface string) (int, error) {
	nl, err := openRtnl()
	if err != nil {
		return 0, err
	}
	defer nl.Close()
	ifindex := 0
	if iface != "" {
		l, ok, err := nl.LinkByName(iface)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, nil // gone, and its entries with it
		}
		ifindex = l.Index
	}
	entries, err := nl.neighs()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !leftPin(e, ifindex) {
			continue
		}
		if err := nl.delNeigh(e.Ifindex, e.Addr); err != nil && !errors.Is(err, unix.ENOENT) {
			return n, err
		}
		n++
	}
	return n, nil
}
