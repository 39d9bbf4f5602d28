package main

// The uplink's state as the kernel reports it, kept current from
// rtnetlink events.

import (
	"fmt"
	"net"
	"net/netip"

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

const uplinkEvents = unix.RTMGRP_LINK | unix.RTMGRP_IPV6_IFADDR | unix.RTMGRP_IPV6_ROUTE
