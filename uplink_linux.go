package main

// The uplink's state as the kernel reports it, read over rtnetlink.

import (
	"ndpresponder/internal/rtnl"

	"golang.org/x/sys/unix"
)

// uplinkEvents are the rtnetlink groups whose messages may change the
// uplink's snapshot: links, IPv6 addresses and IPv6 routes.
const uplinkEvents = unix.RTMGRP_LINK | unix.RTMGRP_IPV6_IFADDR | unix.RTMGRP_IPV6_ROUTE

// readUplink reads the interface's MAC, IPv6 addresses and default
// gateway. Its errors are errGone, or errNetlink around what failed.
func readUplink(nl *rtnlConn, index int) (*uplink, error) {
	s := uplinkState{index: index}
	if err := s.load(nl); err != nil {
		return nil, err
	}
	return s.snapshot(), nil
}

// load reads the whole state of the interface s.index: its link, its
// addresses and its default routes, keeping nothing else of the dumps. A
// link that is gone or renamed away from s.name (if set) is errGone.
func (s *uplinkState) load(nl *rtnlConn) error {
	l, ok, err := nl.LinkByIndex(s.index)
	if err != nil {
		return errf("%w: %v", errNetlink, err)
	}
	if !ok || (s.name != "" && l.Name != s.name) {
		return errGone
	}
	s.mac = l.MAC
	s.addrs = s.addrs[:0]
	err = nl.EachAddr(func(a rtnl.IfAddr) {
		if a.Index == s.index {
			s.addrs = append(s.addrs, a)
		}
	})
	if err != nil {
		return errf("%w: %v", errNetlink, err)
	}
	if err := s.loadRoutes(nl); err != nil {
		return err
	}
	s.stale, s.changed = false, true
	return nil
}

// loadRoutes reads the interface's default routes again.
func (s *uplinkState) loadRoutes(nl *rtnlConn) error {
	s.routes = s.routes[:0]
	if err := nl.EachRoute(s.addRoute); err != nil {
		return errf("%w: %v", errNetlink, err)
	}
	s.routesStale, s.changed = false, true
	return nil
}
