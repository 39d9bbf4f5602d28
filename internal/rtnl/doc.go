// Package rtnl speaks netlink to the kernel: the rtnetlink transport (a
// socket for requests and dumps, one subscribed to events, both on the
// runtime poller) and the codecs of the messages the daemon reads and
// writes (links, addresses, routes, neighbour entries), in the host's byte
// order, checked by sequence and port id, with kernel errors returned as
// plain unix.Errno.
//
// It owns the sockets, the wire layout and the count of messages whose
// attributes could not all be walked (Cut). It must not know what the
// daemon makes of a message: which interface is the uplink, which
// addresses are live, when a neighbour entry is pinned. Those rooms
// (uplink.go, learn.go, auto.go, neigh_linux.go in package main) call it.
//
// Everything that builds or parses a message is plain Go, testable on any
// OS without root; only the *_linux.go files open sockets.
package rtnl
