package main

// The uplink's state as the kernel reports it, read over rtnetlink.

import (
	"golang.org/x/sys/unix"
)

// readUplink reads the interface's MAC and IPv6 addresses.
func readUplink(nl *rtnlConn, index int) (*uplink, error) {
	links, err := nl.links()
	if err != nil {
		return nil, err
	}
	u := &uplink{}
	found := false
	for _, l := range links {
		if l.Index == index {
			u.MAC, found = l.MAC, true
		}
	}
	if !found {
		return nil, errf("interface %d is gone", index)
	}
	addrs, err := nl.addrs(index)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		u.Addrs = append(u.Addrs, a.Addr)
		if a.usable() {
			if a.Addr.IsLinkLocalUnicast() {
				if !u.LinkLocal.IsValid() {
					u.LinkLocal = a.Addr
				}
			} else if a.Addr.IsGlobalUnicast() {
				u.Global = append(u.Global, a.Addr)
			}
		}
	}
	return u, nil
}

const uplinkEvents = unix.RTMGRP_LINK | unix.RTMGRP_IPV6_IFADDR | unix.RTMGRP_IPV6_ROUTE
