package main

// rtnetlink by raw syscalls.

import (
	"fmt"
	"os"
	"syscall"

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
		return nil, fmt.Errorf("opening rtnetlink socket: %w", os.NewSyscallError("socket", err))
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("subscribing to rtnetlink events: %w", os.NewSyscallError("bind", err))
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
// announce. An overrun of the socket buffer (ENOBUFS) counts as an event,
// since the state may have changed without a message.
func (e *rtnlEvents) wait() error {
	var rerr error
	err := e.rc.Read(func(fd uintptr) bool {
		got := false
		for {
			_, _, rerr = unix.Recvfrom(int(fd), e.buf, unix.MSG_DONTWAIT)
			switch rerr {
			case nil, unix.ENOBUFS:
				got = true
				continue
			case unix.EAGAIN:
				rerr = nil
				return got
			}
			return true
		}
	})
	if err != nil {
		return closedErr(err)
	}
	if rerr != nil {
		return os.NewSyscallError("recvfrom", rerr)
	}
	return nil
}

func (e *rtnlEvents) Close() error { return e.f.Close() }
