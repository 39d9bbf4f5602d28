package main

// The command line, read into a config value. Plain Go: tests drive it.

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"ndpresponder/internal/docker"
	"ndpresponder/internal/rtnl"
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

	learn        []string // bridges whose neighbour tables say which addresses are alive
	docker       []string // Docker networks whose containers' addresses are alive
	dockerHost   string   // DOCKER_HOST
	rate         int64    // NAs per second, all targets; 0: unlimited
	rateTarget   int64    // NAs per second for one target; 0: unlimited
	announceRate int64    // addresses announced per second
	maxPerMAC    int64    // addresses learned behind one MAC
	auto         bool     // -auto: addresses the kernel routes elsewhere than the uplink are alive
	table        int64    // the routing table -auto reads (main: 254)
	from         []netip.Prefix
	announce     []netip.Addr
	pinGateway   bool
	user         string // -user: whom to run as, with just the two capabilities
	keepalive    time.Duration

	metrics string // -metrics: the Prometheus textfile, rewritten every 15 s and on SIGUSR1

	file      string // the configuration file, re-read on SIGHUP
	checkOnly bool   // -check-config: check, say so, and exit
	unpin     bool   // -unpin: remove the gateway pins a run left, and exit

	check       bool          // -check: the self-check
	checkListen time.Duration // how long -check listens for solicitations
}

// liveOnly says whether only live addresses are answered (inside the
// ranges), rather than the ranges whole.
func (c *config) liveOnly() bool { return len(c.learn) > 0 || len(c.docker) > 0 || c.auto }

// checkIfaceName refuses what cannot be a Linux interface name
// (dev_valid_name: empty, longer than 15 bytes, ".", "..", or holding a
// slash, a colon or white space) and, though the kernel allows them,
// control characters, which no one means to type.
func checkIfaceName(name string) error {
	bad := name == "" || len(name) > 15 || name == "." || name == ".."
	for _, c := range []byte(name) {
		bad = bad || c <= ' ' || c == 0x7f || c == '/' || c == ':'
	}
	if bad {
		return errf("%q is not a valid interface name", name)
	}
	return nil
}

// Bounds of the intervals: a keepalive more often than a second would be
// a flood of its own, and the answer window of a probe is a second.
const (
	minKeepalive = time.Second
	maxInterval  = 24 * time.Hour
)

// maxConfigFile bounds the configuration file read: a few hundred lines
// are a large one.
const maxConfigFile = 64 << 10

// fileActions are options that do something rather than set something;
// in a configuration file they would do it at every start.
var fileActions = []string{"c", "check", "check-config", "unpin", "version", "h", "help"}

// widestRange is the widest range answered for even with -allow-wide: a
// provider's whole allocation, more than any on-link prefix.
const widestRange = 32

// checkRange refuses a range that is not global unicast from end to end:
// link-local, multicast, loopback and the unspecified address are the
// kernel's to answer or nobody's; and one wider than /64 without
// -allow-wide, or wider than /32 at all.
func checkRange(p netip.Prefix, allowWide bool) error {
	first, last := p.Masked().Addr(), lastAddr(p)
	if !globalUnicast(first) || !globalUnicast(last) {
		return errf("range %v is not global unicast: only global addresses are answered for (not link-local, multicast, loopback or unspecified ones)", p)
	}
	if p.Bits() < widestRange {
		return errf("range %v is wider than /%d, wider than any on-link prefix", p, widestRange)
	}
	if p.Bits() < 64 && !allowWide {
		return errf("range %v is wider than /64; a wide static range invites neighbour-cache exhaustion upstream (pass -allow-wide to accept it)", p)
	}
	return nil
}

// globalUnicast says whether a may be answered or announced for: an IPv6
// global unicast address (unique local ones included), not IPv4-mapped,
// without a zone.
func globalUnicast(a netip.Addr) bool {
	return a.Is6() && !a.Is4In6() && a.Zone() == "" && a.IsGlobalUnicast()
}

// errVersion and errHelp end the program with status 0: main prints
// the version to standard output; the usage is already printed.
var errVersion = errors.New("version requested")

// addrList is a repeatable option of IPv6 addresses.
type addrList []netip.Addr

func (l *addrList) Set(v string) error {
	a, err := netip.ParseAddr(strings.TrimSpace(v))
	if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" || !a.IsGlobalUnicast() || a.IsLinkLocalUnicast() {
		return errf("%q is not a global IPv6 address", v)
	}
	*l = append(*l, a)
	return nil
}

// prefixList is a repeatable option of IPv6 prefixes.
type prefixList []netip.Prefix

func (l *prefixList) Set(v string) error {
	p, err := netip.ParsePrefix(strings.TrimSpace(v))
	if err != nil {
		return errf("not a prefix: %w", err)
	}
	if !p.Addr().Is6() || p.Addr().Is4In6() {
		return errf("%s is not an IPv6 prefix", v)
	}
	if p.Addr().Zone() != "" {
		return errf("%s: a prefix has no zone", v)
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

// options is one pass of flag parsing into a fresh config.
type options struct {
	fs          *optionSet
	cfg         *config
	announce    addrList
	from        prefixList
	ranges      prefixList
	source      string
	level       string
	file        string
	showVersion bool
	checkOnly   bool
	unpin       bool
}

func newOptions(getenv func(string) string, out io.Writer) *options {
	o := &options{
		fs:     newOptionSet(out),
		cfg:    &config{level: levelInfo, pinGateway: true},
		source: "target",
		level:  getenv("NDPRESPONDER_LOG"),
	}
	fs, cfg := o.fs, o.cfg
	fs.usage = func() {
		io.WriteString(fs.out, usageText)
		fs.printDefaults()
	}
	// The original ndpresponder's long names stay as aliases.
	setIface := func(v string) error {
		if err := checkIfaceName(v); err != nil {
			return err
		}
		cfg.iface = v
		return nil
	}
	fs.funcVar("i", "uplink `interface`", setIface)
	fs.funcVar("ifname", "same as -i", setIface)
	fs.funcVar("n", "IPv6 `prefix` to answer for, repeatable", o.ranges.Set)
	fs.funcVar("subnet", "same as -n", o.ranges.Set)
	fs.stringVar(&o.source, "source", o.source, "IPv6 source of the NAs: target, link-local, or an `address`")
	fs.boolVar(&cfg.router, "router", false, "set the Router flag in the NAs")
	fs.stringVar(&o.level, "log", o.level, "log `level`: debug, info, warn or error (also NDPRESPONDER_LOG)")
	fs.boolVar(&cfg.allowWide, "allow-wide", false, "allow ranges wider than /64")
	fs.int64Var(&cfg.rate, "rate", 1000, "send at most `N` NAs per second in all (0: unlimited)")
	fs.int64Var(&cfg.rateTarget, "rate-target", 10, "send at most `N` NAs per second for one target (0: unlimited)")
	fs.funcVar("learn", "answer only addresses the kernel sees alive on this bridge `interface` (inside -n ranges), repeatable", func(v string) error {
		if err := checkIfaceName(v); err != nil {
			return err
		}
		cfg.learn = append(cfg.learn, v)
		return nil
	})
	for _, name := range []string{"N", "docker-network"} {
		fs.funcVar(name, "answer only addresses of containers connected to this Docker `network`, repeatable (alias -docker-network)", func(v string) error {
			if err := docker.CheckName(v); err != nil {
				return err
			}
			cfg.docker = append(cfg.docker, v)
			return nil
		})
	}
	cfg.dockerHost = getenv("DOCKER_HOST")
	fs.boolVar(&cfg.auto, "auto", false, "answer the addresses of the -n ranges that the kernel routes by another interface than the uplink (tun, WireGuard, routed NICs)")
	fs.int64Var(&cfg.table, "table", rtnl.RtTableMain, "the routing `table` -auto follows")
	fs.int64Var(&cfg.announceRate, "announce-rate", 20, "announce at most `N` addresses per second; more wait their turn")
	fs.int64Var(&cfg.maxPerMAC, "max-per-mac", 16, "learn at most `N` addresses behind one MAC with -learn")
	fs.funcVar("from", "answer only solicitations from this IPv6 `prefix` (the gateway's, say), repeatable", o.from.Set)
	fs.funcVar("a", "announce this `address` at start (inside a -n range), repeatable", o.announce.Set)
	fs.boolVar(&cfg.pinGateway, "pin-gateway", true, "pin the kernel's neighbour entry for the default gateway, and unpin it on exit")
	fs.durationVar(&cfg.keepalive, "keepalive", 0, "solicit the gateway every `interval` from our addresses, following a MAC change (0: off)")
	fs.stringVar(&cfg.metrics, "metrics", "", "write the counters for Prometheus (node_exporter's textfile collector) to `file` every 15s and on SIGUSR1")
	fs.stringVar(&cfg.user, "user", "", "run as this `user` (a name in /etc/passwd, or UID[:GID]) holding only CAP_NET_RAW and CAP_NET_ADMIN; started as root, the daemon keeps only those two whatever this says")
	fs.stringVar(&o.file, "c", "", "read options from `file`, one per line (\"n 2001:db8::/112\"), # comments; SIGHUP re-reads it")
	fs.boolVar(&o.showVersion, "version", false, "print the version and exit")
	fs.boolVar(&o.checkOnly, "check-config", false, "check the command line and configuration file, and exit (status 0: good)")
	fs.boolVar(&o.unpin, "unpin", false, "remove the gateway pins that a run which died left on -i's interface (every interface without -i), and exit")
	fs.boolVar(&cfg.check, "check", false, "check this host's setup, one line per finding with what to do, and exit (status 0: nothing wrong)")
	fs.durationVar(&cfg.checkListen, "check-listen", 5*time.Second, "how long -check listens for the router's solicitations")
	return o
}

// readFile reads at most max bytes of a file. Unlike os.ReadFile it does
// not stat the file, which would link time's formatting and time zone
// loading into the binary (os.FileInfo carries a time.Time), about 40 kB
// that on small boxes is resident memory.
func readFile(name string, max int) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 0, min(max, 4096))
	for len(b) < max {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):min(cap(b), max)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// parseFile applies a configuration file: each line holds one option as
// on the command line, with or without its dash, the value after a space
// or an equals sign; # starts a comment.
func (o *options) parseFile(name string, lenient bool) error {
	b, err := readFile(name, maxConfigFile+1)
	if err != nil {
		return err
	}
	if len(b) > maxConfigFile {
		return errf("%s: longer than %d bytes; not a configuration file", name, maxConfigFile)
	}
	out := o.fs.out
	o.fs.out = io.Discard // no usage text for a line of a file
	defer func() { o.fs.out = out }()
	for i, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		// The name ends at white space or "=", and "name = value" is
		// read as "name=value" too.
		key, value := line, ""
		hasValue := false
		if j := strings.IndexFunc(line, func(r rune) bool { return r == '=' || unicode.IsSpace(r) }); j >= 0 {
			key, value, hasValue = line[:j], strings.TrimSpace(line[j+1:]), true
			if line[j] != '=' {
				value = strings.TrimSpace(strings.TrimPrefix(value, "="))
			}
		}
		opt := strings.TrimLeft(key, "-")
		if slices.Contains(fileActions, opt) {
			if lenient {
				continue
			}
			return errf("%s:%d: -%s is an action of the command line, not a setting of a configuration file", name, i+1, opt)
		}
		arg := "-" + opt
		if hasValue {
			arg += "=" + value
		}
		if err := o.fs.parse([]string{arg}); err != nil && !lenient {
			return errf("%s:%d: %v", name, i+1, err)
		}
	}
	return nil
}

// parseArgs reads the command line, and the configuration file it names
// with -c: the file first, then the command line, whose options add to
// the file's lists and win over its single values. getenv supplies
// NDPRESPONDER_LOG; -log wins over it. Usage and errors go to out.
func parseArgs(args []string, getenv func(string) string, out io.Writer) (*config, error) {
	o := newOptions(getenv, out)
	if err := o.fs.parse(args); err != nil {
		return nil, err
	}
	if o.showVersion {
		return nil, errVersion
	}
	if len(o.fs.args) > 0 {
		return nil, errf("unexpected argument %q", o.fs.args[0])
	}
	if file := o.file; file != "" {
		unpin := o.unpin
		o = newOptions(getenv, out)
		o.file = file
		// -unpin cleans up after a run that died, maybe because of the
		// file: it needs the interface alone, so a line it cannot read
		// is passed over rather than leave the pin in place.
		if err := o.parseFile(file, unpin); err != nil {
			return nil, err
		}
		if err := o.fs.parse(args); err != nil {
			return nil, err
		}
		cfg, err := o.finish()
		if err != nil {
			return nil, errf("%s: %w", file, err)
		}
		// Without an interface -unpin clears every one: a file whose i
		// line is missing or broken must not widen it to the pins of
		// other instances.
		if cfg.unpin && cfg.iface == "" {
			return nil, errf("%s: no uplink for -unpin: the file has no readable i line, and there is no -i", file)
		}
		return cfg, nil
	}
	return o.finish()
}

// finish checks the options as a whole and completes the config.
func (o *options) finish() (*config, error) {
	cfg, ranges, announce := o.cfg, o.ranges, o.announce
	cfg.file, cfg.checkOnly, cfg.unpin = o.file, o.checkOnly, o.unpin
	var err error
	if cfg.level, err = parseLevel(o.level); err != nil {
		return nil, err
	}
	if cfg.unpin {
		return cfg, nil // cleaning up needs no more than the interface
	}
	if cfg.iface == "" {
		return nil, errors.New("no uplink: -i IFACE is required")
	}
	if len(ranges) == 0 && !cfg.check && len(cfg.docker) == 0 {
		return nil, errors.New("no range to answer for: -n PREFIX is required")
	}
	for _, p := range ranges {
		if err := checkRange(p, cfg.allowWide); err != nil {
			return nil, err
		}
	}
	cfg.ranges = ranges
	for _, a := range announce {
		if !contains(ranges, a) {
			return nil, errf("-a %v is outside every -n range", a)
		}
	}
	cfg.announce = announce
	cfg.from = o.from
	if len(cfg.learn) > 0 && len(ranges) == 0 {
		return nil, errors.New("-learn needs -n: the ranges bound what may be learned")
	}
	if cfg.auto && len(ranges) == 0 {
		return nil, errors.New("-auto needs -n: the ranges bound what may be answered")
	}
	if cfg.table < 1 || cfg.table > 1<<32-1 {
		return nil, errf("-table %d: want a routing table from 1 to %d", cfg.table, int64(1<<32-1))
	}
	if len(cfg.docker) > 0 {
		if _, err := docker.Socket(cfg.dockerHost); err != nil {
			return nil, err
		}
	}
	if cfg.rate < 0 || cfg.rateTarget < 0 || cfg.rate > maxRate || cfg.rateTarget > maxRate {
		return nil, errf("-rate and -rate-target want a number of NAs per second up to %d, or 0 for unlimited", int64(maxRate))
	}
	if cfg.announceRate < 1 || cfg.announceRate > 1000 {
		return nil, errf("-announce-rate %d: want 1 to 1000 addresses per second", cfg.announceRate)
	}
	if cfg.maxPerMAC < 1 || cfg.maxPerMAC > maxLearned {
		return nil, errf("-max-per-mac %d: want 1 to %d", cfg.maxPerMAC, maxLearned)
	}
	if cfg.keepalive != 0 && (cfg.keepalive < minKeepalive || cfg.keepalive > maxInterval) {
		return nil, errf("-keepalive %v: want %v to %v, or 0 for off", cfg.keepalive, minKeepalive, maxInterval)
	}
	if cfg.checkListen < 0 || cfg.checkListen > maxInterval {
		return nil, errf("-check-listen %v: want 0 to %v", cfg.checkListen, maxInterval)
	}
	source := o.source
	switch source {
	case "target":
		cfg.source = sourceTarget
	case "link-local":
		cfg.source = sourceLinkLocal
	default:
		a, err := netip.ParseAddr(source)
		if err != nil || !a.Is6() || a.Is4In6() || a.IsMulticast() || a.IsUnspecified() || a.Zone() != "" {
			return nil, errf("-source %q: want target, link-local or a unicast IPv6 address", source)
		}
		cfg.source, cfg.fixed = sourceFixed, a
	}
	return cfg, nil
}
