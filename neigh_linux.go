package main

// The kernel's neighbour table over rtnetlink: read, pin and unpin an
// entry, and dump the table.

import (
	"errors"
	"net/netip"

	"golang.org/x/sys/unix"
)

// neigh reads the neighbour entry for addr on ifindex; ok is false when
// there is none.
func (c *rtnlConn) neigh(ifindex int, addr netip.Addr) (e neighEntry, ok bool, err error) {
	var perr error
	err = c.request(func(b []byte, seq uint32) []byte {
		return appendNeigh(b, rtmGetNeigh, nlmFRequest, seq, ifindex, addr, 0, mac{})
	}, func(m nlMsg) {
		if m.Type == rtmNewNeigh && !ok && perr == nil {
			e, perr = parseNeigh(m.Data)
			ok = perr == nil
		}
	})
	if errors.Is(err, unix.ENOENT) {
		return neighEntry{}, false, nil
	}
	if err != nil {
		return neighEntry{}, false, errf("reading the neighbour entry for %v: %w", addr, err)
	}
	return e, ok, perr
}

// setNeigh creates or replaces the neighbour entry for addr, marked as
// ours (pinProtocol), so that a later run can tell our pin from others'.
func (c *rtnlConn) setNeigh(ifindex int, addr netip.Addr, state uint16, m mac) error {
	err := c.request(func(b []byte, seq uint32) []byte {
		return appendNeighProto(b, rtmNewNeigh, nlmFRequest|nlmFAck|nlmFCreate|nlmFReplace, seq, ifindex, addr, state, m, pinProtocol)
	}, nil)
	if err != nil {
		return errf("setting the neighbour entry for %v: %w", addr, err)
	}
	return nil
}

// delNeigh removes the neighbour entry for addr.
func (c *rtnlConn) delNeigh(ifindex int, addr netip.Addr) error {
	err := c.request(func(b []byte, seq uint32) []byte {
		return appendNeigh(b, rtmDelNeigh, nlmFRequest|nlmFAck, seq, ifindex, addr, 0, mac{})
	}, nil)
	if err != nil {
		return errf("removing the neighbour entry for %v: %w", addr, err)
	}
	return nil
}

// neighs dumps the kernel's IPv6 neighbour entries.
func (c *rtnlConn) neighs() ([]neighEntry, error) {
	return dump(c, "neighbours", rtmNewNeigh, func(b []byte, seq uint32) []byte {
		return appendDump(b, rtmGetNeigh, seq, ndmsgLen, afInet6)
	}, parseNeigh)
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
		l, ok, err := nl.linkByName(iface)
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
