package main

// The packet socket: AF_PACKET by raw syscalls, on Go's runtime poller so
// that Close unblocks a read.

import (
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"sync"
	"syscall"

	"ndpresponder/internal/rawio"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// rcvBufSize is the receive buffer asked of the kernel, so that a burst of
// solicitations waits in the kernel instead of being dropped.
const rcvBufSize = 4 << 20

type packetSocket struct {
	f      *os.File
	rc     syscall.RawConn
	closed rawio.CloseFlag

	// The closures handed to the poller and what they report, made once
	// so that a read or a write allocates nothing.
	wmu     sync.Mutex // the packet loop and the gateway keeper both write
	rbuf    []byte
	rn      int
	rerr    error
	readFn  func(fd uintptr) bool
	wbuf    []byte
	werr    error
	writeFn func(fd uintptr) bool

	groups []mac // the multicast memberships we hold
	all    bool
	// noGroups: the socket refuses memberships (qemu-user passes no
	// SOL_PACKET option through), so the daemon goes on without.
	noGroups bool
}

// htons converts a 16-bit value to network byte order as the kernel reads
// it from memory: a swap on little-endian hosts, nothing on big-endian ones.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// openPacketSocket opens a packet socket on the interface that passes
// only what filter accepts. The socket is opened with protocol 0, so it
// queues nothing until bind, and the filter is attached before bind: no
// unfiltered frame is ever queued.
//
// Nor is any frame the host sends, ours or the kernel's, on any kernel: the
// socket is bound to ETH_P_IPV6, and the kernel hands outgoing frames only
// to taps bound to ETH_P_ALL (dev_queue_xmit_nit) and drops its looped-back
// multicast before packet sockets (PACKET_LOOPBACK). So it needs no
// PACKET_IGNORE_OUTGOING, which Linux before 4.20 and qemu-user refuse.
// TestOwnFramesKernel holds the kernel to this.
func openPacketSocket(ifindex int, prog []bpf.RawInstruction) (*packetSocket, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, errf("opening packet socket: %w", os.NewSyscallError("socket", err))
	}
	if err := setupPacketSocket(fd, ifindex, prog); err != nil {
		unix.Close(fd)
		return nil, err
	}
	s := &packetSocket{f: os.NewFile(uintptr(fd), "packet"), rbuf: make([]byte, nsSnapLen+1)}
	if s.rc, err = s.f.SyscallConn(); err != nil {
		s.f.Close()
		return nil, err
	}
	s.readFn = func(fd uintptr) bool {
		s.rn, s.rerr = rawio.Read(fd, s.rbuf)
		return s.rerr != unix.EAGAIN
	}
	s.writeFn = func(fd uintptr) bool {
		_, s.werr = rawio.Write(fd, s.wbuf)
		return s.werr != unix.EAGAIN
	}
	return s, nil
}

func setupPacketSocket(fd, ifindex int, prog []bpf.RawInstruction) error {
	filter := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return errf("attaching socket filter: %w", os.NewSyscallError("setsockopt", err))
	}
	// A larger buffer than net.core.rmem_max needs CAP_NET_ADMIN; fall
	// back to what the limit allows.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBufSize); err != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBufSize)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IPV6), Ifindex: ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		return errf("binding packet socket: %w", os.NewSyscallError("bind", err))
	}
	return nil
}

// setGroups makes sure the interface delivers the given Ethernet multicast
// groups, or every multicast frame when all is set, joining what is new
// before leaving what is no longer wanted. A veth passes every group
// anyway; a real NIC filters. The memberships end with the socket.
//
// Where the socket refuses memberships as unknown (ENOPROTOOPT: qemu-user,
// which passes no SOL_PACKET option through; every Linux knows them), it
// says so once and goes on: the interface may pass the groups anyway.
func (s *packetSocket) setGroups(ifindex int, groups []mac, all bool) error {
	if s.noGroups {
		return nil
	}
	member := func(fd uintptr, op int, typ uint16, g mac) error {
		mr := unix.PacketMreq{Ifindex: int32(ifindex), Type: typ}
		if typ == unix.PACKET_MR_MULTICAST {
			mr.Alen = 6
			copy(mr.Address[:], g[:])
		}
		return unix.SetsockoptPacketMreq(int(fd), unix.SOL_PACKET, op, &mr)
	}
	var err error
	cerr := s.rc.Control(func(fd uintptr) {
		if all && !s.all {
			if err = member(fd, unix.PACKET_ADD_MEMBERSHIP, unix.PACKET_MR_ALLMULTI, mac{}); err != nil {
				return
			}
			s.all = true
		}
		var keep []mac
		for _, g := range groups {
			if !slices.Contains(s.groups, g) {
				if err = member(fd, unix.PACKET_ADD_MEMBERSHIP, unix.PACKET_MR_MULTICAST, g); err != nil {
					return
				}
			}
			keep = append(keep, g)
		}
		for _, g := range s.groups {
			if !slices.Contains(groups, g) {
				err = errors.Join(err, member(fd, unix.PACKET_DROP_MEMBERSHIP, unix.PACKET_MR_MULTICAST, g))
			}
		}
		s.groups = keep
		if !all && s.all {
			err = errors.Join(err, member(fd, unix.PACKET_DROP_MEMBERSHIP, unix.PACKET_MR_ALLMULTI, mac{}))
			s.all = false
		}
	})
	if errors.Is(err, unix.ENOPROTOOPT) && len(s.groups) == 0 && !s.all {
		s.noGroups = true
		warnf("responder: joining multicast groups: %v; going on without them: solicitations arrive only if the interface passes their groups anyway (as a veth or bridge does)",
			os.NewSyscallError("setsockopt", err))
		return cerr
	}
	if err = errors.Join(cerr, err); err != nil {
		return errf("joining multicast groups: %w", os.NewSyscallError("setsockopt", err))
	}
	return nil
}

// read waits for the next frame and returns it; the slice is valid until
// the next read.
func (s *packetSocket) read() ([]byte, error) {
	if err := s.rc.Read(s.readFn); err != nil {
		return nil, s.closed.Err(err)
	}
	if s.rerr != nil {
		return nil, os.NewSyscallError("read", s.rerr)
	}
	return s.rbuf[:s.rn], nil
}

// write sends one whole Ethernet frame out of the bound interface.
func (s *packetSocket) write(frame []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.wbuf = frame
	err := s.rc.Write(s.writeFn)
	s.wbuf = nil
	if err != nil {
		return s.closed.Err(err)
	}
	if s.werr != nil {
		return os.NewSyscallError("write", s.werr)
	}
	return nil
}

func (s *packetSocket) Close() error { return s.closed.Close(s.f) }

// linkSocket reports ENETDOWN, which a packet socket returns once when
// its interface goes down, as errLinkDown.
type linkSocket struct{ *packetSocket }

func (s linkSocket) read() ([]byte, error) {
	b, err := s.packetSocket.read()
	if errors.Is(err, unix.ENETDOWN) {
		return nil, errf("%w: %v", errLinkDown, err)
	}
	return b, err
}
