package main

import (
	"net/netip"
	"os"

	"ndpresponder/internal/rtnl"

	"golang.org/x/sys/unix"
)

// neighProber asks the kernel to resolve targets (appendNeighProbe) over
// a netlink socket of its own, without waiting for an answer and without
// allocating: the request goes without NLM_F_ACK, and only a refusal
// comes back, which refused reads later.
type neighProber struct {
	fd  int
	seq uint32
	req []byte
	buf [4096]byte
}

func openNeighProber() (*neighProber, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, errf("opening rtnetlink socket: %w", os.NewSyscallError("socket", err))
	}
	// Connected to the kernel, so that write needs no address.
	if err := unix.Connect(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, errf("connecting rtnetlink socket: %w", os.NewSyscallError("connect", err))
	}
	return &neighProber{fd: fd, req: make([]byte, 0, 64)}, nil
}

// probe asks the kernel to resolve addr on ifindex.
func (p *neighProber) probe(ifindex int, addr netip.Addr) error {
	p.seq++
	p.req = appendNeighProbe(p.req[:0], p.seq, ifindex, addr)
	if _, err := unix.Write(p.fd, p.req); err != nil {
		return os.NewSyscallError("write", err)
	}
	return nil
}

// refused reads what the kernel sent back, without waiting: the first of
// its refusals, if any.
func (p *neighProber) refused() error {
	var first error
	for {
		n, err := unix.Read(p.fd, p.buf[:])
		if err != nil || n < rtnl.NlmsgHdrLen {
			return first
		}
		if ne.Uint16(p.buf[4:]) == rtnl.NlmsgError && first == nil {
			first = rtnl.NlError(p.buf[rtnl.NlmsgHdrLen:n])
		}
	}
}

func (p *neighProber) Close() error { return unix.Close(p.fd) }
