package main

// The rtnetlink transport by raw syscalls: a socket for requests and
// dumps (links, addresses, routes), and one subscribed to events.

import (
	"errors"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// rtnlEvents is a netlink socket subscribed to multicast groups of
// NETLINK_ROUTE, on Go's runtime poller so that Close unblocks wait.
type rtnlEvents struct {
	f   *os.File
	rc  syscall.RawConn
	buf []byte
}

func openRtnlEvents(groups uint32) (*rtnlEvents, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, errf("opening rtnetlink socket: %w", os.NewSyscallError("socket", err))
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return nil, errf("subscribing to rtnetlink events: %w", os.NewSyscallError("bind", err))
	}
	e := &rtnlEvents{f: os.NewFile(uintptr(fd), "rtnetlink"), buf: make([]byte, 16<<10)}
	if e.rc, err = e.f.SyscallConn(); err != nil {
		e.f.Close()
		return nil, err
	}
	return e, nil
}

// wait blocks until at least one event arrives and drains what is queued.
// The events themselves are not read: the caller re-reads the state they
// announce, which also covers an overrun of the socket buffer.
func (e *rtnlEvents) wait() error {
	_, err := e.next(func(nlMsg) {})
	return err
}

func (e *rtnlEvents) Close() error { return e.f.Close() }

// rtnlConn is a netlink socket for requests to the kernel, one at a time.
type rtnlConn struct {
	mu  sync.Mutex
	fd  int
	pid uint32 // our port id, assigned by the kernel at bind
	seq uint32
	buf []byte
}

func openRtnl() (*rtnlConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, errf("opening rtnetlink socket: %w", os.NewSyscallError("socket", err))
	}
	c := &rtnlConn{fd: fd, seq: uint32(time.Now().Unix()), buf: make([]byte, 32<<10)}
	if err := c.init(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return c, nil
}

func (c *rtnlConn) init() error {
	if err := unix.Bind(c.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return errf("binding rtnetlink socket: %w", os.NewSyscallError("bind", err))
	}
	sa, err := unix.Getsockname(c.fd)
	if err != nil {
		return os.NewSyscallError("getsockname", err)
	}
	nl, ok := sa.(*unix.SockaddrNetlink)
	if !ok {
		return errors.New("rtnetlink socket has no netlink address")
	}
	c.pid = nl.Pid
	// A reply that never comes must not hang the daemon.
	tv := unix.Timeval{Sec: 5}
	return os.NewSyscallError("setsockopt", unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv))
}

func (c *rtnlConn) Close() error { return unix.Close(c.fd) }

// request sends one request built by build with the next sequence number
// and returns the kernel's answer: the messages of a dump, or nil for an
// acknowledgement. Replies are matched by sequence number and port id; a
// kernel error comes back as a unix.Errno.
func (c *rtnlConn) request(build func(b []byte, seq uint32) []byte) ([]nlMsg, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	seq := c.seq
	req := build(nil, seq)
	if err := unix.Sendto(c.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, os.NewSyscallError("sendto", err)
	}
	var out []nlMsg
	for {
		n, from, err := unix.Recvfrom(c.fd, c.buf, 0)
		if err != nil {
			return nil, os.NewSyscallError("recvfrom", err)
		}
		if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 {
			continue // not from the kernel
		}
		msgs, err := parseNetlink(c.buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Seq != seq || m.Pid != c.pid {
				continue // a late answer to an earlier request
			}
			switch m.Type {
			case nlmsgError:
				return out, nlError(m.Data)
			case nlmsgDone:
				return out, nil
			case nlmsgNoop:
				continue
			}
			m.Data = append([]byte(nil), m.Data...)
			out = append(out, m)
			if m.Flags&nlmFMulti == 0 {
				return out, nil
			}
		}
	}
}

// dump sends a dump request and parses each answer of type typ; answers
// that do not parse are left out.
func dump[T any](c *rtnlConn, what string, typ uint16, build func([]byte, uint32) []byte, parse func([]byte) (T, error)) ([]T, error) {
	msgs, err := c.request(build)
	if err != nil {
		return nil, errf("dumping %s: %w", what, err)
	}
	var out []T
	for _, m := range msgs {
		if m.Type != typ {
			continue
		}
		if v, err := parse(m.Data); err == nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// links dumps the kernel's network interfaces.
func (c *rtnlConn) links() ([]link, error) {
	return dump(c, "links", rtmNewLink, func(b []byte, seq uint32) []byte {
		return appendDump(b, rtmGetLink, seq, ifinfomsgLen, 0)
	}, parseLink)
}

// linkByName finds an interface by name; ok is false when there is none.
func (c *rtnlConn) linkByName(name string) (l link, ok bool, err error) {
	links, err := c.links()
	for _, l := range links {
		if l.Name == name {
			return l, true, nil
		}
	}
	return l, false, err
}

// addrs dumps the IPv6 addresses of the interface index.
func (c *rtnlConn) addrs(index int) ([]ifAddr, error) {
	all, err := dump(c, "addresses", rtmNewAddr, func(b []byte, seq uint32) []byte {
		return appendDump(b, rtmGetAddr, seq, ifaddrmsgLen, afInet6)
	}, parseAddr)
	var addrs []ifAddr
	for _, a := range all {
		if a.Index == index {
			addrs = append(addrs, a)
		}
	}
	return addrs, err
}

// routeTo asks the kernel which route it would use to reach dst.
func (c *rtnlConn) routeTo(dst netip.Addr) (route, error) {
	msgs, err := c.request(func(b []byte, seq uint32) []byte { return appendRouteGet(b, seq, dst) })
	if err != nil {
		return route{}, errf("route to %v: %w", dst, err)
	}
	for _, m := range msgs {
		if m.Type == rtmNewRoute {
			return parseRoute(m.Data)
		}
	}
	return route{}, errf("route to %v: no answer", dst)
}

// routes dumps the kernel's IPv6 routes.
func (c *rtnlConn) routes() ([]route, error) {
	return dump(c, "routes", rtmNewRoute, appendRouteDump, parseRoute)
}

// next blocks until messages arrive and calls f for each one queued.
// overrun reports that the kernel dropped messages (ENOBUFS): the caller
// must read the whole state again.
func (e *rtnlEvents) next(f func(nlMsg)) (overrun bool, err error) {
	var rerr error
	err = e.rc.Read(func(fd uintptr) bool {
		got := false
		for {
			n, _, err := unix.Recvfrom(int(fd), e.buf, unix.MSG_DONTWAIT)
			switch err {
			case nil:
				got = true
				msgs, _ := parseNetlink(e.buf[:n])
				for _, m := range msgs {
					f(m)
				}
				continue
			case unix.ENOBUFS:
				got, overrun = true, true
				continue
			case unix.EAGAIN:
				return got
			}
			rerr = err
			return true
		}
	})
	if err != nil {
		return overrun, closedErr(err)
	}
	if rerr != nil {
		return overrun, os.NewSyscallError("recvfrom", rerr)
	}
	return overrun, nil
}
