package main

import (
	"net/netip"
	"os"

	"ndpresponder/internal/scope"

	"golang.org/x/sys/unix"
)

// mldSockets joins and leaves groups on one interface through IPv6 UDP
// sockets, opened as they are needed; closing them leaves every group.
type mldSockets struct {
	ifindex int
	fds     []int
}

func (s *mldSockets) membership(sock int, g netip.Addr, opt int) error {
	for len(s.fds) <= sock {
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return os.NewSyscallError("socket", err)
		}
		s.fds = append(s.fds, fd)
	}
	mreq := &unix.IPv6Mreq{Multiaddr: g.As16(), Interface: uint32(s.ifindex)}
	return os.NewSyscallError("setsockopt", unix.SetsockoptIPv6Mreq(s.fds[sock], unix.IPPROTO_IPV6, opt, mreq))
}

func (s *mldSockets) join(sock int, g netip.Addr) error {
	return s.membership(sock, g, unix.IPV6_JOIN_GROUP)
}

func (s *mldSockets) leave(sock int, g netip.Addr) error {
	return s.membership(sock, g, unix.IPV6_LEAVE_GROUP)
}

func (s *mldSockets) close() {
	for _, fd := range s.fds {
		unix.Close(fd)
	}
	s.fds = nil
}

// joinGroups holds the solicited-node groups of the addresses answered one
// by one on the uplink ifindex until sc ends, following the live
// addresses and the configuration; then it leaves them all.
func (d *daemon) joinGroups(sc *scope.Scope, ifindex int, cfg *config, configs <-chan *config) {
	live := d.live.follow(followMLD)
	s := &mldSockets{ifindex: ifindex}
	defer s.close()
	m := newMLDMembers(s)
	l := d.r.live.Load()
	var plan mldPlan
	for {
		groups, over := plan.groups(cfg, l)
		if n, err := m.update(groups); err != nil {
			warnf("mld: %d groups not joined or left on %s: %v", n, d.cfg.Load().iface, err)
		}
		if over > 0 && d.mldOverSaid.CompareAndSwap(false, true) {
			warnf("mld: %d solicited-node groups are not joined (the most joined one by one is %d): where a switch or hypervisor snoops MLD, the router's solicitations for their addresses will not arrive; -learn, -N and -auto join each live address's group", over, maxMLDGroups)
		}
		select {
		case <-sc.Done():
			return
		case l = <-live:
		case cfg = <-configs:
		}
	}
}
