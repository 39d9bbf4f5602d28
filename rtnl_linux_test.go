//go:build !nonetns

package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"ndpresponder/internal/rtnl"

	"golang.org/x/sys/unix"
)

// TestRtnlDumps reads the VPS of the test network over our rtnetlink
// transport: its links, addresses and routes as the kernel holds them, a
// route lookup, and a refusal as a plain errno.
func TestRtnlDumps(t *testing.T) {
	n := newTestNet(t, false)
	n.withVPSRtnl(func(nl *rtnlConn, eth0 rtnl.Link) error {
		if eth0.MAC != vpsMAC {
			return fmt.Errorf("linkByName(eth0) = %+v; want eth0 at %v", eth0, vpsMAC)
		}
		br0, ok, err := nl.LinkByName("br0")
		if err != nil || !ok {
			return fmt.Errorf("linkByName(br0) = %+v, %v, %v", br0, ok, err)
		}
		if _, ok, err := nl.LinkByName("nosuch0"); ok || err != nil {
			return fmt.Errorf("linkByName(nosuch0) = %v, %v; want not found", ok, err)
		}
		var got []netip.Addr
		err = nl.EachAddr(func(a rtnl.IfAddr) {
			if a.Index == eth0.Index {
				got = append(got, a.Addr)
			}
		})
		if err != nil {
			return err
		}
		if !slices.Contains(got, vpsAddr) || !slices.ContainsFunc(got, netip.Addr.IsLinkLocalUnicast) {
			return fmt.Errorf("eachAddr: eth0 has %v, want %v and a link-local address", got, vpsAddr)
		}
		routes, err := nl.Routes()
		if err != nil {
			return err
		}
		if gw, ok := rtnl.DefaultGateway(routes, eth0.Index); !ok || gw != routerLL {
			return fmt.Errorf("the default gateway through eth0 is %v, %v; want %v", gw, ok, routerLL)
		}
		r, err := nl.RouteTo(container)
		if err != nil || r.OIF != br0.Index {
			return fmt.Errorf("routeTo(%v) = %+v, %v; want out of br0 (%d)", container, r, err, br0.Index)
		}
		err = nl.delNeigh(eth0.Index, netip.MustParseAddr("2001:db8:1:2::dead"))
		if !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("deleting a neighbour entry that is not there = %v, want ENOENT", err)
		}
		// A request waits on the runtime poller with a deadline and
		// keeps its buffers: it makes no garbage.
		get := func(b []byte, seq uint32) []byte { return rtnl.AppendRouteGet(b, seq, container) }
		var rerr error
		if n := testing.AllocsPerRun(100, func() { rerr = nl.Request(get, nil) }); n != 0 || rerr != nil {
			return fmt.Errorf("a route lookup allocates %v times (error %v), want 0", n, rerr)
		}
		return nil
	})
}

// TestRtnlEvents: a subscriber wakes when a link is added, and Close
// unblocks it.
func TestRtnlEvents(t *testing.T) {
	n := newTestNet(t, false)
	var ev *rtnl.Events
	inNetns(t, n.ns("vps"), func() (err error) {
		ev, err = rtnl.OpenEvents(uplinkEvents)
		return err
	})
	woke := make(chan error, 1)
	go func() { _, err := ev.Next(func(rtnl.Msg) {}); woke <- err }()
	n.in("vps", "ip", "link", "add", "v9", "type", "veth", "peer", "name", "v9p")
	select {
	case err := <-woke:
		if err != nil {
			t.Fatalf("wait after a link was added = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not return within 5 s of a link being added")
	}
	ev.Close()
	// A subscriber to a group that stays quiet, closed while it waits
	// (or before: either way wait must end with os.ErrClosed).
	inNetns(t, n.ns("vps"), func() (err error) {
		ev, err = rtnl.OpenEvents(unix.RTMGRP_IPV6_PREFIX)
		return err
	})
	go func() { _, err := ev.Next(func(rtnl.Msg) {}); woke <- err }()
	ev.Close()
	select {
	case err := <-woke:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("wait after Close = %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock wait within 5 s")
	}
}
