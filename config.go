package main

// The command line, read into a config value. Plain Go: tests drive it.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// version is stamped by build.sh with -ldflags "-X main.version=...".
var version = "devel"

type config struct {
	iface     string
	ranges    []netip.Prefix
	source    sourceMode
	fixed     netip.Addr
	router    bool
	level     logLevel
	allowWide bool

	rate       int64 // NAs per second, all targets; 0: unlimited
	rateTarget int64 // NAs per second for one target; 0: unlimited
	from       []netip.Prefix
	announce   []netip.Addr
	pinGateway bool
	keepalive  time.Duration
}

// checkIfaceName refuses what cannot be a Linux interface name
// (dev_valid_name): empty, longer than 15 bytes, ".", "..", or holding a
// slash, a colon or white space.
func checkIfaceName(name string) error {
	if name == "" || len(name) > 15 || name == "." || name == ".." || strings.ContainsAny(name, "/: \t\n") {
		return fmt.Errorf("uplink %q is not a valid interface name", name)
	}
	return nil
}

// errVersion and flag.ErrHelp end the program with status 0: main prints
// the version to standard output; the usage is already printed.
var errVersion = errors.New("version requested")

// addrList is a repeatable flag of IPv6 addresses.
type addrList []netip.Addr

func (l *addrList) String() string {
	s := make([]string, len(*l))
	for i, a := range *l {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

func (l *addrList) Set(v string) error {
	a, err := netip.ParseAddr(strings.TrimSpace(v))
	if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" || !a.IsGlobalUnicast() || a.IsLinkLocalUnicast() {
		return fmt.Errorf("%q is not a global IPv6 address", v)
	}
	*l = append(*l, a)
	return nil
}

// prefixList is a repeatable flag of IPv6 prefixes.
type prefixList []netip.Prefix

func (l *prefixList) String() string {
	s := make([]string, len(*l))
	for i, p := range *l {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (l *prefixList) Set(v string) error {
	p, err := netip.ParsePrefix(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("not a prefix: %w", err)
	}
	if !p.Addr().Is6() || p.Addr().Is4In6() {
		return fmt.Errorf("%s is not an IPv6 prefix", v)
	}
	if p.Addr().Zone() != "" {
		return fmt.Errorf("%s: a prefix has no zone", v)
	}
	*l = append(*l, p.Masked())
	return nil
}

const usageText = `ndpresponder answers IPv6 Neighbor Solicitations on an uplink for addresses
in the given ranges, sending each Neighbor Advertisement as a whole Ethernet
frame whose IPv6 source is the target address, so that hypervisor filters
that drop link-local sources let it through.

Usage:
  ndpresponder -i IFACE -n PREFIX [-n PREFIX ...] [options]

Examples:
  # containers behind a bridge, addresses from the VPS's on-link /64
  ndpresponder -i eth0 -n 2001:db8:1:2:646f:636b:6572::/112

  # a LAN whose hosts accept NDP only from link-local addresses
  ndpresponder -i eth0 -n 2001:db8:1:2::/64 -source link-local

  # a router that learns an address only once the VPS announces it, and a
  # gateway whose neighbour entry must stay fresh
  ndpresponder -i eth0 -n 2001:db8:1:2::/112 -a 2001:db8:1:2::10 -keepalive 30s

  # see every decision (or set NDPRESPONDER_LOG=debug)
  ndpresponder -i eth0 -n 2001:db8:1:2::/112 -log debug

Options:
`

// parseArgs reads the command line. getenv supplies NDPRESPONDER_LOG; the
// -log flag wins over it. Usage and errors go to out.
func parseArgs(args []string, getenv func(string) string, out io.Writer) (*config, error) {
	cfg := &config{level: levelInfo, pinGateway: true}
	fs := flag.NewFlagSet("ndpresponder", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usageText)
		fs.PrintDefaults()
	}
	var (
		announce    addrList
		from        prefixList
		ranges      prefixList
		source      = "target"
		level       = getenv("NDPRESPONDER_LOG")
		showVersion bool
	)
	// The original ndpresponder's long names stay as aliases.
	fs.StringVar(&cfg.iface, "i", "", "uplink `interface`")
	fs.StringVar(&cfg.iface, "ifname", "", "same as -i")
	fs.Var(&ranges, "n", "IPv6 `prefix` to answer for, repeatable")
	fs.Var(&ranges, "subnet", "same as -n")
	fs.StringVar(&source, "source", source, "IPv6 source of the NAs: target, link-local, or an `address`")
	fs.BoolVar(&cfg.router, "router", false, "set the Router flag in the NAs")
	fs.StringVar(&level, "log", level, "log `level`: debug, info, warn or error (also NDPRESPONDER_LOG)")
	fs.BoolVar(&cfg.allowWide, "allow-wide", false, "allow ranges wider than /64")
	fs.Int64Var(&cfg.rate, "rate", 1000, "send at most `N` NAs per second in all (0: unlimited)")
	fs.Int64Var(&cfg.rateTarget, "rate-target", 10, "send at most `N` NAs per second for one target (0: unlimited)")
	fs.Var(&from, "from", "answer only solicitations from this IPv6 `prefix` (the gateway's, say), repeatable")
	fs.Var(&announce, "a", "announce this `address` at start (inside a -n range), repeatable")
	fs.BoolVar(&cfg.pinGateway, "pin-gateway", true, "pin the kernel's neighbour entry for the default gateway, and unpin it on exit")
	fs.DurationVar(&cfg.keepalive, "keepalive", 0, "solicit the gateway every `interval` from our addresses, following a MAC change (0: off)")
	fs.BoolVar(&showVersion, "version", false, "print the version and exit")

	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if showVersion {
		return nil, errVersion
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.level, err = parseLevel(level); err != nil {
		return nil, err
	}
	if cfg.iface == "" {
		return nil, errors.New("no uplink: -i IFACE is required")
	}
	if len(ranges) == 0 {
		return nil, errors.New("no range to answer for: -n PREFIX is required")
	}
	for _, p := range ranges {
		if p.Bits() < 64 && !cfg.allowWide {
			return nil, fmt.Errorf("range %v is wider than /64; a wide static range invites neighbour-cache exhaustion upstream (pass -allow-wide to accept it)", p)
		}
	}
	cfg.ranges = ranges
	for _, a := range announce {
		if !contains(ranges, a) {
			return nil, fmt.Errorf("-a %v is outside every -n range", a)
		}
	}
	cfg.announce = announce
	cfg.from = from
	if cfg.rate < 0 || cfg.rateTarget < 0 {
		return nil, errors.New("-rate and -rate-target want a number of NAs per second, or 0 for unlimited")
	}
	if cfg.keepalive < 0 {
		return nil, fmt.Errorf("-keepalive %v: want a positive interval, or 0 for off", cfg.keepalive)
	}
	switch source {
	case "target":
		cfg.source = sourceTarget
	case "link-local":
		cfg.source = sourceLinkLocal
	default:
		a, err := netip.ParseAddr(source)
		if err != nil || !a.Is6() || a.Is4In6() || a.IsMulticast() || a.IsUnspecified() || a.Zone() != "" {
			return nil, fmt.Errorf("-source %q: want target, link-local or a unicast IPv6 address", source)
		}
		cfg.source, cfg.fixed = sourceFixed, a
	}
	return cfg, nil
}
