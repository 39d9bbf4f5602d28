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
	"unsafe"

	"golang.org/x/sys/unix"
)

// rtnlEvents is a netlink socket subscribed to multicast groups of
// NETLINK_ROUTE, on Go's runtime poller so that Close unblocks wait.
type rtnlEvents struct {
	file   *os.File
	rc     syscall.RawConn
	closed closeFlag
	buf    []byte
	msgs   []nlMsg

	// What next hands the poller and what it reports, kept here so that
	// waiting for events allocates nothing.
	readFn  func(fd uintptr) bool
	f       func(nlMsg)
	overrun bool
	rerr    error
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
	e := &rtnlEvents{file: os.NewFile(uintptr(fd), "rtnetlink"), buf: make([]byte, 16<<10)}
	if e.rc, err = e.file.SyscallConn(); err != nil {
		e.file.Close()
		return nil, err
	}
	e.readFn = e.read
	return e, nil
}

func (e *rtnlEvents) Close() error { return e.closed.close(e.file) }

// rtnlConn is a netlink socket for requests to the kernel, one at a time.
// It is non-blocking, on Go's runtime poller, and its reads and writes are
// raw syscalls, as the packet socket's are: a blocking read the kernel
// took a while to fill held a thread in a system call, and the runtime
// then handed the daemon's one P to another thread, waking or starting
// one. Container churn cost the daemon 25-52 ticks of CPU per 300 starts
// and stops that way, 17-28 since (bench.sh with CHURN=300).
type rtnlConn struct {
	mu   sync.Mutex
	file *os.File
	rc   syscall.RawConn
	fd   int
	pid  uint32 // our port id, assigned by the kernel at bind
	seq  uint32
	req  []byte  // the request being sent
	buf  []byte  // the datagram being read
	msgs []nlMsg // its messages

	// What request hands the poller and what it reports, kept here so
	// that a request allocates nothing.
	readFn func(fd uintptr) bool
	n      int
	from   uint32
	rerr   error
}

// rtnlTimeout bounds the wait for the kernel's answer to a request: a
// reply that never comes must not hang the daemon.
const rtnlTimeout = 5 * time.Second

func openRtnl() (*rtnlConn, error) {
	return openNetlink(unix.NETLINK_ROUTE, uint32(time.Now().Unix()))
}

// openNetlink opens a request socket of a netlink protocol (rtnetlink, or
// nfnetlink for -check's look at nftables).
func openNetlink(proto int, seq uint32) (*rtnlConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, errf("opening netlink socket: %w", os.NewSyscallError("socket", err))
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, errf("binding netlink socket: %w", os.NewSyscallError("bind", err))
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("getsockname", err)
	}
	nl, ok := sa.(*unix.SockaddrNetlink)
	if !ok {
		unix.Close(fd)
		return nil, errors.New("netlink socket has no netlink address")
	}
	c := &rtnlConn{file: os.NewFile(uintptr(fd), "netlink"), fd: fd, pid: nl.Pid, seq: seq, buf: make([]byte, 32<<10)}
	if c.rc, err = c.file.SyscallConn(); err != nil {
		c.file.Close()
		return nil, err
	}
	c.readFn = c.read
	return c, nil
}

func (c *rtnlConn) Close() error { return c.file.Close() }

// read is what request hands the poller: one datagram, or false to wait.
func (c *rtnlConn) read(fd uintptr) bool {
	c.n, c.from, c.rerr = recvNetlink(int(fd), c.buf, unix.MSG_DONTWAIT)
	return c.rerr != unix.EAGAIN
}

// request sends one request built by build with the next sequence number
// and calls f, if not nil, with each message of the kernel's answer: the
// messages of a dump, or none for an acknowledgement. A message's bytes are
// valid only during the call: the next read overwrites them. Replies are
// matched by sequence number and port id; a kernel error comes back as a
// unix.Errno. The request and the replies go through buffers the connection
// keeps, so a request makes no garbage of its own.
func (c *rtnlConn) request(build func(b []byte, seq uint32) []byte, f func(nlMsg)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	seq := c.seq
	c.req = build(c.req[:0], seq)
	if err := c.file.SetReadDeadline(time.Now().Add(rtnlTimeout)); err != nil {
		return err
	}
	// With no address, a netlink socket sends to the kernel, which handles
	// the request before the call returns; a full receive buffer is
	// ENOBUFS or EAGAIN, not a wait.
	if _, err := rawWrite(uintptr(c.fd), c.req); err != nil {
		return os.NewSyscallError("sendto", err)
	}
	for {
		if err := c.rc.Read(c.readFn); err != nil {
			return os.NewSyscallError("recvfrom", err)
		}
		if c.rerr != nil {
			return os.NewSyscallError("recvfrom", c.rerr)
		}
		if c.from != 0 {
			continue // not from the kernel
		}
		var err error
		c.msgs, err = appendNetlink(c.msgs[:0], c.buf[:c.n])
		if err != nil {
			return err
		}
		for _, m := range c.msgs {
			if m.Seq != seq || m.Pid != c.pid {
				continue // a late answer to an earlier request
			}
			switch m.Type {
			case nlmsgError:
				return nlError(m.Data)
			case nlmsgDone:
				return nil
			case nlmsgNoop:
				continue
			}
			if f != nil {
				f(m)
			}
			if m.Flags&nlmFMulti == 0 {
				return nil
			}
		}
	}
}

// requestAll is request collecting copies of the messages, for a caller
// that reads them more than once (-check).
func (c *rtnlConn) requestAll(build func(b []byte, seq uint32) []byte) ([]nlMsg, error) {
	var out []nlMsg
	err := c.request(build, func(m nlMsg) {
		m.Data = append([]byte(nil), m.Data...)
		out = append(out, m)
	})
	return out, err
}

// recvNetlink reads one datagram into b and returns its length and the
// sender's port id (0: the kernel), without the allocations of
// unix.Recvfrom. It is a raw syscall: callers pass MSG_DONTWAIT on a
// non-blocking socket, so it never waits.
func recvNetlink(fd int, b []byte, flags int) (n int, from uint32, err error) {
	var sa unix.RawSockaddrNetlink
	salen := uint32(unix.SizeofSockaddrNetlink)
	r, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		uintptr(flags), uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&salen)))
	if errno != 0 {
		return 0, 0, errno
	}
	return int(r), sa.Pid, nil
}

// dumpEach sends a dump request and calls f with each answer of type typ
// that parses; answers that do not parse are left out.
func dumpEach[T any](c *rtnlConn, what string, typ uint16, build func([]byte, uint32) []byte, parse func([]byte) (T, error), f func(T)) error {
	err := c.request(build, func(m nlMsg) {
		if m.Type != typ {
			return
		}
		if v, err := parse(m.Data); err == nil {
			f(v)
		}
	})
	if err != nil {
		return errf("dumping %s: %w", what, err)
	}
	return nil
}

// dump is dumpEach collecting the answers.
func dump[T any](c *rtnlConn, what string, typ uint16, build func([]byte, uint32) []byte, parse func([]byte) (T, error)) ([]T, error) {
	var out []T
	err := dumpEach(c, what, typ, build, parse, func(v T) { out = append(out, v) })
	return out, err
}

func linkDump(b []byte, seq uint32) []byte { return appendDump(b, rtmGetLink, seq, ifinfomsgLen, 0) }
func addrDump(b []byte, seq uint32) []byte {
	return appendDump(b, rtmGetAddr, seq, ifaddrmsgLen, afInet6)
}

// links dumps the kernel's network interfaces.
func (c *rtnlConn) links() ([]link, error) {
	return dump(c, "links", rtmNewLink, linkDump, parseLink)
}

// linkByName finds an interface by name; ok is false when there is none.
func (c *rtnlConn) linkByName(name string) (l link, ok bool, err error) {
	err = dumpEach(c, "links", rtmNewLink, linkDump, parseLink, func(v link) {
		if v.Name == name {
			l, ok = v, true
		}
	})
	if ok {
		err = nil
	}
	return l, ok, err
}

// linkByIndex reads one interface; ok is false when there is none.
func (c *rtnlConn) linkByIndex(index int) (l link, ok bool, err error) {
	err = c.request(func(b []byte, seq uint32) []byte { return appendLinkGet(b, seq, index) }, func(m nlMsg) {
		if m.Type == rtmNewLink {
			var perr error
			if l, perr = parseLink(m.Data); perr == nil && l.Index == index {
				ok = true
			}
		}
	})
	if errors.Is(err, unix.ENODEV) {
		return l, false, nil
	}
	if err != nil {
		return l, false, errf("reading link %d: %w", index, err)
	}
	return l, ok, nil
}

// eachAddr dumps the kernel's IPv6 addresses, calling f with each.
func (c *rtnlConn) eachAddr(f func(ifAddr)) error {
	return dumpEach(c, "addresses", rtmNewAddr, addrDump, parseAddr, f)
}

// eachRoute dumps the kernel's IPv6 routes, calling f with each.
func (c *rtnlConn) eachRoute(f func(route)) error {
	return dumpEach(c, "routes", rtmNewRoute, appendRouteDump, parseRoute, f)
}

// routeTo asks the kernel which route it would use to reach dst.
func (c *rtnlConn) routeTo(dst netip.Addr) (route, error) {
	var (
		r    route
		perr = errf("route to %v: no answer", dst)
	)
	err := c.request(func(b []byte, seq uint32) []byte { return appendRouteGet(b, seq, dst) }, func(m nlMsg) {
		if m.Type == rtmNewRoute && perr != nil {
			r, perr = parseRoute(m.Data)
		}
	})
	if err != nil {
		return route{}, errf("route to %v: %w", dst, err)
	}
	return r, perr
}

// routes dumps the kernel's IPv6 routes.
func (c *rtnlConn) routes() ([]route, error) {
	return dump(c, "routes", rtmNewRoute, appendRouteDump, parseRoute)
}

// next blocks until messages arrive and calls f for each one queued.
// overrun reports that the kernel dropped messages (ENOBUFS): the caller
// must read the whole state again.
func (e *rtnlEvents) next(f func(nlMsg)) (overrun bool, err error) {
	e.f, e.overrun, e.rerr = f, false, nil
	err = e.rc.Read(e.readFn)
	e.f = nil
	if err != nil {
		return e.overrun, e.closed.err(err)
	}
	if e.rerr != nil {
		return e.overrun, os.NewSyscallError("recvfrom", e.rerr)
	}
	return e.overrun, nil
}

// read is what next hands the poller: it reads every datagram queued and
// reports whether there was any.
func (e *rtnlEvents) read(fd uintptr) bool {
	got := false
	for {
		n, _, err := recvNetlink(int(fd), e.buf, unix.MSG_DONTWAIT)
		switch err {
		case nil:
			got = true
			e.msgs, _ = appendNetlink(e.msgs[:0], e.buf[:n])
			for _, m := range e.msgs {
				e.f(m)
			}
			continue
		case unix.ENOBUFS:
			got, e.overrun = true, true
			continue
		case unix.EAGAIN:
			return got
		}
		e.rerr = err
		return true
	}
}
