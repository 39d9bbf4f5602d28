// Package rawio is the daemon's sockets' plumbing below the runtime poller:
// read(2) and write(2) on a non-blocking descriptor as raw syscalls, and the
// flag that tells a file closed on purpose from one that failed.
//
// It owns no descriptor: its callers (the packet socket in package main,
// the netlink sockets in internal/rtnl) open, poll and close their own. It
// must not know what the bytes mean.
package rawio
