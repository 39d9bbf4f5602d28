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
	msgs, err := c.request(func(b []byte, seq uint32) []byte {
		return appendNeigh(b, rtmGetNeigh, nlmFRequest, seq, ifindex, addr, 0, mac{})
	})
	if errors.Is(err, unix.ENOENT) {
		return e, false, nil
	}
	if err != nil {
		return e, false, errf("reading the neighbour entry for %v: %w", addr, err)
	}
	for _, m := range msgs {
		if m.Type == rtmNewNeigh {
			e, err := parseNeigh(m.Data)
			return e, err == nil, err
		}
	}
	return e, false, nil
}

// setNeigh creates or replaces the neighbour entry for addr.
func (c *rtnlConn) setNeigh(ifindex int, addr netip.Addr, state uint16, m mac) error {
	_, err := c.request(func(b []byte, seq uint32) []byte {
		return appendNeigh(b, rtmNewNeigh, nlmFRequest|nlmFAck|nlmFCreate|nlmFReplace, seq, ifindex, addr, state, m)
	})
	if err != nil {
		return errf("setting the neighbour entry for %v: %w", addr, err)
	}
	return nil
}

// delNeigh removes the neighbour entry for addr.
func (c *rtnlConn) delNeigh(ifindex int, addr netip.Addr) error {
	_, err := c.request(func(b []byte, seq uint32) []byte {
		return appendNeigh(b, rtmDelNeigh, nlmFRequest|nlmFAck, seq, ifindex, addr, 0, mac{})
	})
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
