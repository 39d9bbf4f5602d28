package main

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"unsafe"

	"ndpresponder/internal/rtnl"

	"golang.org/x/sys/unix"
)

// ip6tables-legacy's socket options (linux/netfilter_ipv6/ip6_tables.h).
const (
	ip6tSoGetInfo    = 64 // IP6T_SO_GET_INFO
	ip6tSoGetEntries = 65 // IP6T_SO_GET_ENTRIES
)

// forwardDrops names the firewall chains whose policy drops forwarded
// IPv6: nftables' (iptables-nft's among them) and the FORWARD chain of
// ip6tables-legacy's filter table. What cannot be read is left out.
func forwardDrops() []string {
	var out []string
	if c, err := rtnl.OpenNetlink(unix.NETLINK_NETFILTER, 1); err == nil {
		chains, _ := rtnl.Dump(c, "nftables chains", nfnlSubsysNftables<<8|nftMsgNewChain, appendNftChainDump, parseNftChain)
		for _, ch := range chains {
			if ch.dropsForward() {
				out = append(out, ch.name())
			}
		}
		c.Close()
	}
	// Only a table the kernel has loaded: asking for another would load it.
	if b, err := readFile("/proc/net/ip6_tables_names", 64<<10); err == nil && slices.Contains(strings.Fields(string(b)), "filter") {
		if drops, err := ip6tablesForwardDrops(); err == nil && drops {
			out = append(out, "ip6tables filter FORWARD")
		}
	}
	return out
}

// ip6tablesForwardDrops reads the policy of ip6tables-legacy's FORWARD
// chain, as ip6tables-legacy -S does: the table's layout, then its
// entries.
func ip6tablesForwardDrops() (bool, error) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return false, os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	info := make([]byte, ip6tInfoLen)
	copy(info, "filter")
	if err := getsockopt(fd, ip6tSoGetInfo, info); err != nil {
		return false, err
	}
	under, size, ok, err := parseIP6tInfo(info)
	if err != nil || !ok || size > 64<<20 {
		return false, err
	}
	// struct ip6t_get_entries: name[32], size, then the entries,
	// aligned for their 64-bit counters: at 40, or 36 where a 64-bit
	// integer needs only 4 (i386).
	hdr := 40
	if runtime.GOARCH == "386" {
		hdr = 36
	}
	b := make([]byte, hdr+int(size))
	copy(b, "filter")
	ne.PutUint32(b[32:], size)
	if err := getsockopt(fd, ip6tSoGetEntries, b); err != nil {
		return false, err
	}
	return ip6tDrops(b[hdr:], under)
}

// getsockopt reads an IPv6 socket option of any length into b.
func getsockopt(fd, opt int, b []byte) error {
	n := uint32(len(b))
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_IPV6, uintptr(opt),
		uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&n)), 0)
	if errno != 0 {
		return os.NewSyscallError("getsockopt", errno)
	}
	return nil
}
