package main

// The uplink's state as the kernel reports it, kept current from
// rtnetlink events.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// readUplink reads the interface's MAC and IPv6 addresses.
func readUplink(index int) (*uplink, error) {
	ifi, err := net.InterfaceByIndex(index)
	if err != nil {
		return nil, err
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil, fmt.Errorf("reading addresses of %s: %w", ifi.Name, err)
	}
	u := &uplink{}
	copy(u.MAC[:], ifi.HardwareAddr)
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.To4() != nil {
			continue
		}
		ip, _ := netip.AddrFromSlice(ipn.IP)
		u.Addrs = append(u.Addrs, ip)
		if ip.IsLinkLocalUnicast() && !u.LinkLocal.IsValid() {
			u.LinkLocal = ip
		}
	}
	return u, nil
}

// followUplink keeps r's snapshot of the uplink current until ctx ends: it
// re-reads the interface whenever the kernel announces a change of a link
// or an IPv6 address.
func followUplink(ctx context.Context, ev *rtnlEvents, r *responder, index int, changed func()) {
	for {
		if err := ev.wait(); err != nil {
			if ctx.Err() == nil && !errors.Is(err, os.ErrClosed) {
				errorf("uplink: following changes: %v", err)
			}
			return
		}
		u, err := readUplink(index)
		if err != nil {
			warnf("uplink: %v", err)
			continue
		}
		if old := r.link.Load(); old.MAC != u.MAC {
			infof("uplink: MAC changed from %v to %v", old.MAC, u.MAC)
		}
		r.link.Store(u)
		changed()
	}
}

const uplinkEvents = unix.RTMGRP_LINK | unix.RTMGRP_IPV6_IFADDR | unix.RTMGRP_IPV6_ROUTE
