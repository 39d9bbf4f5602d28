package rtnl

// The rtnetlink transport by raw syscalls: a socket for requests and
// dumps (links, addresses, routes), and one subscribed to events.

import (
	"errors"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"ndpresponder/internal/errs"
	"ndpresponder/internal/rawio"

	"golang.org/x/sys/unix"
)

// rtnlEvents is a netlink socket subscribed to multicast groups of
// NETLINK_ROUTE, on Go's runtime poller so that Close unblocks wait.
type Events struct {
	file   *os.File
	rc     syscall.RawConn
	closed rawio.CloseFlag
	buf    []byte
	msgs   []Msg

	// What next hands the poller and what it reports, kept here so that
	// waiting for events allocates nothing.
	readFn  func(fd uintptr) bool
	f       func(Msg)
	overrun bool
	rerr    error
}

func OpenEvents(groups uint32) (*Events, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, errs.Wrap("opening rtnetlink socket", os.NewSyscallError("socket", err))
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return nil, errs.Wrap("subscribing to rtnetlink events", os.NewSyscallError("bind", err))
	}
	e := &Events{file: os.NewFile(uintptr(fd), "rtnetlink"), buf: make([]byte, 16<<10)}
	if e.rc, err = e.file.SyscallConn(); err != nil {
		e.file.Close()
		return nil, err
	}
	e.readFn = e.read
	return e, nil
}

// SetReadDeadline bounds Next's wait, as os.File's does.
func (e *Events) SetReadDeadline(t time.Time) error { return e.file.SetReadDeadline(t) }

func (e *Events) Close() error { return e.closed.Close(e.file) }

// rtnlConn is a netlink socket for requests to the kernel, one at a time.
// It is non-blocking, on Go's runtime poller, and its reads and writes are
// raw syscalls, as the packet socket's are: a blocking read the kernel
// took a while to fill held a thread in a system call, and the runtime
// then handed the daemon's one P to another thread, waking or starting
// one. Container churn cost the daemon 25-52 ticks of CPU per 300 starts
// and stops that way, 17-28 since (bench.sh with CHURN=300).
type Conn struct {
	mu   sync.Mutex
	file *os.File
	rc   syscall.RawConn
	fd   int
	pid  uint32 // our port id, assigned by the kernel at bind
	seq  uint32
	req  []byte // the request being sent
	buf  []byte // the datagram being read
	msgs []Msg  // its messages

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

func Open() (*Conn, error) {
	return OpenNetlink(unix.NETLINK_ROUTE, uint32(time.Now().Unix()))
}

// openNetlink opens a request socket of a netlink protocol (rtnetlink, or
// nfnetlink for -check's look at nftables).
func OpenNetlink(proto int, seq uint32) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, errs.Wrap("opening netlink socket", os.NewSyscallError("socket", err))
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, errs.Wrap("binding netlink socket", os.NewSyscallError("bind", err))
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
	c := &Conn{file: os.NewFile(uintptr(fd), "netlink"), fd: fd, pid: nl.Pid, seq: seq, buf: make([]byte, 32<<10)}
	if c.rc, err = c.file.SyscallConn(); err != nil {
		c.file.Close()
		return nil, err
	}
	c.readFn = c.read
	return c, nil
}

func (c *Conn) Close() error { return c.file.Close() }

// read is what request hands the poller: one datagram, or false to wait.
func (c *Conn) read(fd uintptr) bool {
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
func (c *Conn) Request(build func(b []byte, seq uint32) []byte, f func(Msg)) error {
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
	if _, err := rawio.Write(uintptr(c.fd), c.req); err != nil {
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
			case NlmsgError:
				return NlError(m.Data)
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
func (c *Conn) RequestAll(build func(b []byte, seq uint32) []byte) ([]Msg, error) {
	var out []Msg
	err := c.Request(build, func(m Msg) {
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
func dumpEach[T any](c *Conn, what string, typ uint16, build func([]byte, uint32) []byte, parse func([]byte) (T, error), f func(T)) error {
	err := c.Request(build, func(m Msg) {
		if m.Type != typ {
			return
		}
		if v, err := parse(m.Data); err == nil {
			f(v)
		}
	})
	if err != nil {
		return errs.Wrap("dumping "+what, err)
	}
	return nil
}

// dump is dumpEach collecting the answers.
func Dump[T any](c *Conn, what string, typ uint16, build func([]byte, uint32) []byte, parse func([]byte) (T, error)) ([]T, error) {
	var out []T
	err := dumpEach(c, what, typ, build, parse, func(v T) { out = append(out, v) })
	return out, err
}

func LinkDump(b []byte, seq uint32) []byte { return AppendDump(b, rtmGetLink, seq, IfinfomsgLen, 0) }
func addrDump(b []byte, seq uint32) []byte {
	return AppendDump(b, rtmGetAddr, seq, IfaddrmsgLen, AfInet6)
}

// links dumps the kernel's network interfaces.
func (c *Conn) Links() ([]Link, error) {
	return Dump(c, "links", RtmNewLink, LinkDump, ParseLink)
}

// linkByName finds an interface by name; ok is false when there is none.
func (c *Conn) LinkByName(name string) (l Link, ok bool, err error) {
	err = dumpEach(c, "links", RtmNewLink, LinkDump, ParseLink, func(v Link) {
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
func (c *Conn) LinkByIndex(index int) (l Link, ok bool, err error) {
	err = c.Request(func(b []byte, seq uint32) []byte { return appendLinkGet(b, seq, index) }, func(m Msg) {
		if m.Type == RtmNewLink {
			var perr error
			if l, perr = ParseLink(m.Data); perr == nil && l.Index == index {
				ok = true
			}
		}
	})
	if errors.Is(err, unix.ENODEV) {
		return l, false, nil
	}
	if err != nil {
		return l, false, errs.Wrap("reading link "+strconv.Itoa(index), err)
	}
	return l, ok, nil
}

// eachAddr dumps the kernel's IPv6 addresses, calling f with each.
func (c *Conn) EachAddr(f func(IfAddr)) error {
	return dumpEach(c, "addresses", RtmNewAddr, addrDump, ParseAddr, f)
}

// eachRoute dumps the kernel's IPv6 routes, calling f with each.
func (c *Conn) EachRoute(f func(Route)) error {
	return dumpEach(c, "routes", RtmNewRoute, AppendRouteDump, ParseRoute, f)
}

// routeTo asks the kernel which route it would use to reach dst.
func (c *Conn) RouteTo(dst netip.Addr) (Route, error) {
	var (
		r    Route
		perr = errors.New("route to " + dst.String() + ": no answer")
	)
	err := c.Request(func(b []byte, seq uint32) []byte { return AppendRouteGet(b, seq, dst) }, func(m Msg) {
		if m.Type == RtmNewRoute && perr != nil {
			r, perr = ParseRoute(m.Data)
		}
	})
	if err != nil {
		return Route{}, errs.Wrap("route to "+dst.String(), err)
	}
	return r, perr
}

// routes dumps the kernel's IPv6 routes.
func (c *Conn) Routes() ([]Route, error) {
	return Dump(c, "routes", RtmNewRoute, AppendRouteDump, ParseRoute)
}

// next blocks until messages arrive and calls f for each one queued.
// overrun reports that the kernel dropped messages (ENOBUFS): the caller
// must read the whole state again.
func (e *Events) Next(f func(Msg)) (overrun bool, err error) {
	e.f, e.overrun, e.rerr = f, false, nil
	err = e.rc.Read(e.readFn)
	e.f = nil
	if err != nil {
		return e.overrun, e.closed.Err(err)
	}
	if e.rerr != nil {
		return e.overrun, os.NewSyscallError("recvfrom", e.rerr)
	}
	return e.overrun, nil
}

// read is what next hands the poller: it reads every datagram queued and
// reports whether there was any.
func (e *Events) read(fd uintptr) bool {
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
