//go:build !nonetns

package main

// A test network of namespaces, veth pairs and bridges, with the real
// kernel as every peer:
//
//	rt (router) rt0 ── hv-rt [hvbr in hv, the hypervisor] hv-vps ── eth0 (vps) br0 ── eth0 (c1)
//
// The router's rt0 has only a link-local address, so its solicitations come
// from fe80::, as a provider's router's do. The hypervisor bridges router and
// VPS, and its nftables bridge rule drops IPv6 frames from the VPS whose
// source is outside the VPS's /64. The VPS forwards between its uplink eth0
// and the container bridge br0. Every address is from 2001:db8::/32 or
// fe80::/10, and every namespace goes away when the test ends.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ndpresponder/internal/rtnl"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Addresses of the test network.
var (
	vpsPrefix      = netip.MustParsePrefix("2001:db8:1:2::/64")
	vpsAddr        = netip.MustParseAddr("2001:db8:1:2::2")
	containerRange = netip.MustParsePrefix("2001:db8:1:2:646f:636b:6572::/112")
	bridgeAddr     = netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:1")
	outsideAddr    = netip.MustParseAddr("2001:db8:ffff::1") // the router's, on its loopback
)

// testBinary is the daemon built once for all integration tests.
var (
	testBinaryOnce sync.Once
	testBinary     string
	testBinaryErr  error
)

// NDPR_TEST_DAEMON names a binary to test instead, such as build.sh's
// stripped one, for measurements.
func daemonBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NDPR_TEST_DAEMON"); p != "" {
		return p
	}
	testBinaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ndpresponder-test")
		if err != nil {
			testBinaryErr = err
			return
		}
		// Readable by the unprivileged user of the least-privilege test.
		if err := os.Chmod(dir, 0o755); err != nil {
			testBinaryErr = err
			return
		}
		testBinary = filepath.Join(dir, "ndpresponder")
		args := []string{"build", "-o", testBinary}
		if os.Getenv("NDPR_TEST_RACE") != "" {
			args = append(args, "-race") // the daemon under the race detector
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			testBinaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if testBinaryErr != nil {
		t.Fatal(testBinaryErr)
	}
	return testBinary
}

// requireRoot fails, never skips, a test that needs root: CI runs as root,
// and an integration test that quietly did not run is a defect.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("integration tests need root (network namespaces); run as root, as .ci/run does")
	}
	for _, tool := range []string{"ip", "nft", "ping"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("integration tests need %s: %v (.ci/run installs it)", tool, err)
		}
	}
}

// testNet is one instance of the test network.
type testNet struct {
	t         *testing.T
	suffix    string
	daemonEnv []string // added to the daemon's environment
}

var netSeq struct {
	sync.Mutex
	n int
}

func (n *testNet) ns(name string) string { return "ndpr-" + name + "-" + n.suffix }

// run runs a command and fails the test if it fails.
func (n *testNet) run(args ...string) string {
	n.t.Helper()
	out, err := n.try(args...)
	if err != nil {
		n.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (n *testNet) try(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	return string(out), err
}

// in runs a command inside namespace ns.
func (n *testNet) in(ns string, args ...string) string {
	n.t.Helper()
	return n.run(append([]string{"ip", "netns", "exec", n.ns(ns)}, args...)...)
}

func (n *testNet) tryIn(ns string, args ...string) (string, error) {
	return n.try(append([]string{"ip", "netns", "exec", n.ns(ns)}, args...)...)
}

// newTestNet builds the network; with filter, the hypervisor's rule that
// drops VPS frames from outside its /64 is in place. The VPS's entry for
// its gateway is pinned by hand.
func newTestNet(t *testing.T, filter bool) *testNet {
	t.Helper()
	hv := hvOpen
	if filter {
		hv = hvSpoof
	}
	return newTestNetWith(t, netOpts{hypervisor: hv, handPin: true})
}

// hypervisor filters.
const (
	hvOpen     = iota // a plain bridge
	hvSpoof           // drops VPS frames from outside its /64
	hvAnnounce        // hvSpoof, and forwards toward the VPS only addresses it has seen the VPS send from
)

type netOpts struct {
	hypervisor int
	handPin    bool // pin the VPS's gateway entry by hand
	noUplink   bool // leave the VPS's eth0 out, for addUplink later
}

func newTestNetWith(t *testing.T, o netOpts) *testNet {
	t.Helper()
	requireRoot(t)
	netSeq.Lock()
	netSeq.n++
	n := &testNet{t: t, suffix: fmt.Sprintf("%d-%d", os.Getpid()%100000, netSeq.n)}
	netSeq.Unlock()
	for _, ns := range []string{"rt", "hv", "vps", "c1"} {
		n.run("ip", "netns", "add", n.ns(ns))
		t.Cleanup(func() { n.try("ip", "netns", "del", n.ns(ns)) })
		// No DAD delay: addresses are usable at once.
		n.in(ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
		n.in(ns, "ip", "link", "set", "lo", "up")
	}
	// The router is a router: it forwards, so it sends no Router
	// Solicitations, whose source link-layer option would teach the VPS
	// its MAC behind the tests' backs.
	n.in("rt", "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
	// The hypervisor is a plain bridge with no addresses of its own.
	n.in("hv", "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	n.run("ip", "link", "add", "rt0", "netns", n.ns("rt"), "address", routerMAC.String(), "type", "veth", "peer", "name", "hv-rt", "netns", n.ns("hv"))
	n.run("ip", "link", "add", "vps-c1", "netns", n.ns("vps"), "type", "veth", "peer", "name", "eth0", "netns", n.ns("c1"))
	n.in("hv", "ip", "link", "add", "hvbr", "type", "bridge", "mcast_snooping", "0")
	n.in("hv", "ip", "link", "set", "hv-rt", "master", "hvbr", "up")
	n.in("hv", "ip", "link", "set", "hvbr", "up")
	n.setHypervisor(o.hypervisor)

	// The router: link-local only on the VPS side; a global address on its
	// loopback to ping from; the VPS's /64 on-link.
	n.in("rt", "ip", "link", "set", "rt0", "up")
	n.in("rt", "ip", "-6", "addr", "add", outsideAddr.String()+"/128", "dev", "lo")
	n.in("rt", "ip", "-6", "route", "add", vpsPrefix.String(), "dev", "rt0")

	// The VPS: the container range on br0, forwarding on.
	n.in("vps", "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
	// Its MAC set, as Docker and LXC set theirs: a bridge's MAC is
	// otherwise its ports' lowest, and a port that goes would change it
	// and make the kernel flush every neighbour entry on the bridge.
	n.in("vps", "ip", "link", "add", "br0", "address", "02:00:00:00:0b:00", "type", "bridge", "mcast_snooping", "0")
	n.in("vps", "ip", "link", "set", "vps-c1", "master", "br0", "up")
	n.in("vps", "ip", "link", "set", "br0", "up")
	n.in("vps", "ip", "-6", "addr", "add", bridgeAddr.String()+"/112", "dev", "br0")
	if !o.noUplink {
		n.addUplink()
		n.configureUplink(o.handPin)
	}

	// The container.
	n.in("c1", "ip", "link", "set", "eth0", "up")
	n.in("c1", "ip", "-6", "addr", "add", container.String()+"/112", "dev", "eth0")
	n.in("c1", "ip", "-6", "route", "add", "default", "via", bridgeAddr.String())
	return n
}

// addUplink plugs the VPS into the hypervisor's bridge: a new eth0.
func (n *testNet) addUplink() {
	n.t.Helper()
	n.run("ip", "link", "add", "eth0", "netns", n.ns("vps"), "address", vpsMAC.String(), "type", "veth", "peer", "name", "hv-vps", "netns", n.ns("hv"))
	n.in("hv", "ip", "link", "set", "hv-vps", "master", "hvbr", "up")
	n.in("vps", "ip", "link", "set", "eth0", "up")
}

// configureUplink does what the VPS's network configuration does when eth0
// comes up: its own address, the default route via the router's link-local
// address, and with handPin the gateway's entry pinned by hand (resolving
// it would take an NS from the VPS's link-local address, which the
// hypervisor drops; otherwise the daemon's gateway keeper pins it).
func (n *testNet) configureUplink(handPin bool) {
	n.t.Helper()
	n.in("vps", "ip", "-6", "addr", "replace", vpsAddr.String()+"/64", "dev", "eth0")
	n.in("vps", "ip", "-6", "route", "replace", "default", "via", routerLL.String(), "dev", "eth0")
	if handPin {
		n.in("vps", "ip", "-6", "neigh", "replace", routerLL.String(), "lladdr", routerMAC.String(), "dev", "eth0", "nud", "permanent")
	}
}

// setFilter puts the hypervisor's anti-spoofing rule in place, or takes it
// away.
func (n *testNet) setFilter(on bool) {
	n.t.Helper()
	if on {
		n.setHypervisor(hvSpoof)
	} else {
		n.setHypervisor(hvOpen)
	}
}

// setHypervisor sets the hypervisor's filter. Under hvAnnounce, an address
// of the VPS's /64 gets nothing, NS for it included, until the VPS has sent
// a frame from it: the dynamic set learns sources, and the NS's target is
// matched as raw payload (@th,64,128), as nft 1.0.6 has no NS-target match.
func (n *testNet) setHypervisor(kind int) {
	n.t.Helper()
	n.tryIn("hv", "nft", "delete", "table", "bridge", "hv")
	if kind == hvOpen {
		return
	}
	announce := ""
	if kind == hvAnnounce {
		announce = `
		iifname "hv-vps" ether type ip6 update @learned { @nh,64,128 }
		oifname "hv-vps" ether type ip6 icmpv6 type nd-neighbor-solicit @th,64,128 != @learned counter drop comment "unannounced NS"
		oifname "hv-vps" ether type ip6 ip6 daddr %[1]s @nh,192,128 != @learned counter drop comment "unannounced"`
	}
	rules := fmt.Sprintf(`table bridge hv {
	set learned {
		typeof @nh,64,128
		size 1024
		flags dynamic
	}
	chain forwarding {
		type filter hook forward priority 0; policy accept;
		iifname "hv-vps" ether type ip6 ip6 saddr != %[1]s icmpv6 type nd-neighbor-advert counter drop comment "spoofed NA"
		iifname "hv-vps" ether type ip6 ip6 saddr != %[1]s counter drop comment "spoofed"`+announce+`
	}
}
`, vpsPrefix)
	cmd := exec.Command("ip", "netns", "exec", n.ns("hv"), "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		n.t.Fatalf("nft -f: %v\n%s", err, out)
	}
}

var nftCounter = regexp.MustCompile(`counter packets (\d+) bytes \d+ drop comment "spoofed NA"`)

// drops reads how many NAs from the VPS the hypervisor dropped.
func (n *testNet) drops() int {
	n.t.Helper()
	out := n.in("hv", "nft", "list", "chain", "bridge", "hv", "forwarding")
	m := nftCounter.FindStringSubmatch(out)
	if m == nil {
		n.t.Fatalf("no counter in the hypervisor's rules:\n%s", out)
	}
	v, _ := strconv.Atoi(m[1])
	return v
}

// ping pings dst from the router and reports whether any reply came back.
func (n *testNet) ping(dst netip.Addr) bool {
	_, err := n.tryIn("rt", "ping", "-n", "-c", "3", "-i", "0.3", "-w", "4", dst.String())
	return err == nil
}

// speak has container name ping the VPS's bridge address until a reply
// comes, at most 4 s: the container's first packet, so that -learn sees it.
// One ping of one second was not enough while a port just plugged into the
// bridge came up on a loaded machine (the container's NS went out before it
// forwarded, and the next NS is a second later).
func (n *testNet) speak(name string) {
	n.t.Helper()
	n.in(name, "ping", "-n", "-c", "1", "-i", "0.2", "-w", "4", bridgeAddr.String())
}

// routerNeigh is the router's neighbour entry for a, as ip prints it.
func (n *testNet) routerNeigh(a netip.Addr) string {
	n.t.Helper()
	return strings.TrimSpace(n.in("rt", "ip", "-6", "neigh", "show", a.String(), "dev", "rt0"))
}

// flushRouterNeigh makes the router forget what it learned.
func (n *testNet) flushRouterNeigh() {
	n.t.Helper()
	n.in("rt", "ip", "-6", "neigh", "flush", "dev", "rt0")
}

// daemonProc is a running ndpresponder inside the VPS namespace.
type daemonProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{}
	err  error
}

// startDaemon runs the daemon in the VPS with the given arguments and waits
// until it says it is answering.
func (n *testNet) startDaemon(args ...string) *daemonProc {
	n.t.Helper()
	return n.startDaemonUntil("responder: answering on", args...)
}

// startDaemonWaiting starts the daemon on an uplink that does not exist
// yet, and waits until it says it is waiting.
func (n *testNet) startDaemonWaiting(args ...string) *daemonProc {
	n.t.Helper()
	return n.startDaemonUntil("does not exist; waiting for it", args...)
}

func (n *testNet) startDaemonUntil(ready string, args ...string) *daemonProc {
	n.t.Helper()
	d := &daemonProc{t: n.t, done: make(chan struct{})}
	d.cmd = exec.Command("ip", append([]string{"netns", "exec", n.ns("vps"), daemonBinary(n.t)}, args...)...)
	d.cmd.Env = append(os.Environ(), n.daemonEnv...)
	d.start(n, ready)
	return d
}

// start starts d.cmd and waits until its log says ready.
func (d *daemonProc) start(n *testNet, ready string) {
	n.t.Helper()
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		n.t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	readyc := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			d.mu.Lock()
			d.log.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
			if strings.Contains(sc.Text(), ready) {
				once.Do(func() { close(readyc) })
			}
		}
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	n.t.Cleanup(func() {
		d.cmd.Process.Kill()
		<-d.done
		if n.t.Failed() {
			n.t.Logf("daemon log:\n%s", d.logText())
		}
	})
	select {
	case <-readyc:
	case <-d.done:
		n.t.Fatalf("daemon exited before answering: %v\n%s", d.err, d.logText())
	case <-time.After(10 * time.Second):
		n.t.Fatalf("daemon has not said %q after 10 s:\n%s", ready, d.logText())
	}
}

func (d *daemonProc) logText() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

// stop sends SIGTERM and waits for a clean exit; it returns the log.
func (d *daemonProc) stop() string {
	d.t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		d.t.Fatalf("daemon still running 10 s after SIGTERM")
	}
	if d.err != nil {
		d.t.Errorf("daemon exit after SIGTERM: %v, want status 0\n%s", d.err, d.logText())
	}
	return d.logText()
}

// counter reads one counter from the line the daemon logs when it stops.
func counter(log, name string) int {
	m := regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `=(\d+)`).FindStringSubmatch(log)
	if m == nil {
		return 0
	}
	v, _ := strconv.Atoi(m[1])
	return v
}

// inNetns runs f on a thread that has entered namespace ns. Sockets made by
// f stay in ns.
func inNetns(t *testing.T, ns string, f func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is left locked and so dies with the goroutine: it
		// never goes back to the pool in the wrong namespace.
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- f()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// naFilter passes ICMPv6 Neighbor Advertisements.
func naFilter() []bpf.RawInstruction {
	prog, err := bpf.Assemble(icmp6Filter(icmp6TypeNA, icmp6TypeNA))
	if err != nil {
		panic(err)
	}
	return prog
}

// wire is a packet socket on an interface of some namespace, for a test to
// send crafted frames and see the answers.
type wire struct {
	t    *testing.T
	sock *packetSocket
	mac  mac
}

// openWire opens a packet socket on ifname in namespace ns that receives
// Neighbor Advertisements.
func (n *testNet) openWire(ns, ifname string) *wire {
	n.t.Helper()
	w := &wire{t: n.t}
	inNetns(n.t, n.ns(ns), func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		copy(w.mac[:], ifi.HardwareAddr)
		w.sock, err = openPacketSocket(ifi.Index, naFilter())
		return err
	})
	n.t.Cleanup(func() { w.sock.Close() })
	return w
}

func (w *wire) send(frame []byte) {
	w.t.Helper()
	if err := w.sock.write(frame); err != nil {
		w.t.Fatalf("sending %x: %v", frame, err)
	}
}

// nas collects the valid NAs for target that arrive within d, returning
// early once it has max of them.
func (w *wire) nas(target netip.Addr, d time.Duration, max int) []neighborAdvertisement {
	w.t.Helper()
	var got []neighborAdvertisement
	w.sock.f.SetReadDeadline(time.Now().Add(d))
	defer w.sock.f.SetReadDeadline(time.Time{})
	for {
		b, err := w.sock.read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return got
		}
		if err != nil {
			w.t.Fatalf("reading NAs: %v", err)
		}
		var na neighborAdvertisement
		if parseNA(b, &na) == nil && na.Target == target {
			if got = append(got, na); len(got) >= max {
				return got
			}
		}
	}
}

// drain discards what is queued.
func (w *wire) drain() { w.nas(netip.Addr{}, 50*time.Millisecond, 1) }

// solicit sends the router's multicast NS for target, from its link-local
// address, after discarding what is queued, and says how many NAs for
// target came within wait (at most one is waited for).
func (w *wire) solicit(target netip.Addr, wait time.Duration) int {
	w.drain()
	g := solicitedNode(target)
	w.send(appendNS(nil, w.mac, multicastMAC(g), routerLL, g, target, [6]byte{}))
	return len(w.nas(target, wait, 1))
}

// withVPSRtnl runs f in the VPS's namespace with our rtnetlink transport
// open there and the VPS's uplink eth0 looked up.
func (n *testNet) withVPSRtnl(f func(nl *rtnlConn, eth0 rtnl.Link) error) {
	n.t.Helper()
	inNetns(n.t, n.ns("vps"), func() error {
		nl, err := openRtnl()
		if err != nil {
			return err
		}
		defer nl.Close()
		eth0, ok, err := nl.LinkByName("eth0")
		if err != nil || !ok {
			return fmt.Errorf("linkByName(eth0) = %+v, %v, %v; want the VPS's uplink", eth0, ok, err)
		}
		return f(nl, eth0)
	})
}
