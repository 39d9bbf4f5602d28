package main

// The uplink's state as the kernel reports it, read over rtnetlink.

import (
	"golang.org/x/sys/unix"
)

// uplinkEvents are the rtnetlink groups whose messages may change the
// uplink's snapshot: links, IPv6 addresses and IPv6 routes.
const uplinkEvents = unix.RTMGRP_LINK | unix.RTMGRP_IPV6_IFADDR | unix.RTMGRP_IPV6_ROUTE

// readUplink reads the interface's MAC, IPv6 addresses and default
// gateway. Its errors are errGone, or errNetlink around what failed.
func readUplink(nl *rtnlConn, index int) (*uplink, error) {
	links, err := nl.links()
	if err != nil {
		return nil, errf("%w: %v", errNetlink, err)
	}
	addrs, err := nl.addrs(index)
	if err != nil {
		return nil, errf("%w: %v", errNetlink, err)
	}
	routes, err := nl.routes()
	if err != nil {
		return nil, errf("%w: %v", errNetlink, err)
	}
	u, ok := makeUplink(index, links, addrs, routes)
	if !ok {
		return nil, errGone
	}
	return u, nil
}
