//go:build !nonetns

package main

// The OpenRC script as shipped, under a real OpenRC: a minimal Debian root
// with Debian's openrc package, made once by debootstrap and kept in
// openrcRootCache, booted by podman with /sbin/openrc-init as PID 1 in the
// test network's VPS namespace. The script, the daemon and the
// configuration go where a user puts them, and rc-service and rc-update
// drive them.

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openrcRootCache is the Debian root with OpenRC, as a tar podman imports.
const openrcRootCache = "/var/cache/ndpresponder-test/bookworm-openrc.tar"

// openrcRoot returns the cached root, making it first if it is missing.
// minbase with openrc has no provider of the "net" service: it is a
// Debian system with nothing of ifupdown's, as a container's or a VPS's
// whose network is configured otherwise.
func openrcRoot(t *testing.T) string {
	return cachedRoot(t, openrcRootCache, "openrc")
}

// staticDaemon builds the daemon without cgo, for roots that are not this
// host's (a BusyBox root has no C library at all), into a directory of the
// test's.
func staticDaemon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ndpresponder")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build (static): %v\n%s", err, out)
	}
	return bin
}

// newBox prepares a podman of the test's own (its storage, its
// configuration) for a system booted in the VPS's namespace, and removes
// the container and everything of it when the test ends.
func (n *testNet) newBox(kind string) *sysbox {
	n.t.Helper()
	needTool(n.t, "podman")
	dir, err := os.MkdirTemp("", "ndpr-"+kind)
	if err != nil {
		n.t.Fatal(err)
	}
	s := &sysbox{n: n, dir: dir, name: "ndpr-" + kind + "-" + n.suffix}
	// As for systemd: no sysctls or ulimits podman would set in a
	// namespace it did not make.
	conf := "[containers]\ndefault_sysctls = []\ndefault_ulimits = []\n[engine]\nevents_logger = \"file\"\nevents_logfile_path = \"" + dir + "/events.log\"\n"
	if err := os.WriteFile(filepath.Join(dir, "containers.conf"), []byte(conf), 0o644); err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() {
		s.podman("rm", "-f", "-t", "0", s.name)
		exec.Command("sh", "-c", "umount -R "+dir+"/root/* "+dir+"/run/* 2>/dev/null; rm -rf "+dir).Run()
	})
	return s
}

// put writes a file into the container, readable by all.
func (s *sysbox) put(path, text string) {
	s.n.t.Helper()
	f := filepath.Join(s.dir, "put")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		s.n.t.Fatal(err)
	}
	s.must("cp", f, s.name+":"+path)
	s.mustExec("chmod", "644", path)
}

// file reads a file of the container; "" when it cannot.
func (s *sysbox) file(path string) string {
	out, err := s.exec("cat", path)
	if err != nil {
		return ""
	}
	return out
}

// waitFile waits up to d for the container's file to contain want n times.
func (s *sysbox) waitFile(path, want string, n int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for strings.Count(s.file(path), want) < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
	return true
}

// running says whether the container is up.
func (s *sysbox) running() bool {
	out, err := s.podman("inspect", "-f", "{{.State.Running}}", s.name)
	return err == nil && strings.TrimSpace(out) == "true"
}

// waitExit waits up to d for the container to stop.
func (s *sysbox) waitExit(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for s.running() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
	return true
}

// pid1 is the command line of the container's PID 1.
func (s *sysbox) pid1() string {
	s.n.t.Helper()
	return strings.TrimSpace(strings.ReplaceAll(s.mustExec("cat", "/proc/1/cmdline"), "\x00", " "))
}

// daemons are the PIDs, in the container, of the daemons run with
// configuration conf (the supervisors, whose argv[0] is theirs, are not).
func (s *sysbox) daemons(conf string) []int {
	s.n.t.Helper()
	const list = `for p in /proc/[0-9]*; do
	c=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
	case $c in "/usr/local/bin/ndpresponder -c $1 "*) echo "${p#/proc/}" ;; esac
done`
	var pids []int
	for _, f := range strings.Fields(s.mustExec("sh", "-c", list, "sh", conf)) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

// daemon is the one daemon run with conf, waiting up to d for it; 0 when
// there is none or more than one.
func (s *sysbox) daemon(conf string, d time.Duration) int {
	s.n.t.Helper()
	deadline := time.Now().Add(d)
	for {
		pids := s.daemons(conf)
		if len(pids) == 1 {
			return pids[0]
		}
		if time.Now().After(deadline) {
			s.n.t.Errorf("daemons with %s: %v, want one", conf, pids)
			return 0
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// requireLeastPrivilegeIn checks, in the container, that the daemon runs
// as nobody with only its two capabilities and no new privileges.
func (s *sysbox) requireLeastPrivilegeIn(pid int) {
	s.n.t.Helper()
	status := s.mustExec("cat", "/proc/"+strconv.Itoa(pid)+"/status")
	for _, want := range []string{"Uid:\t65534\t65534\t65534\t65534", "CapEff:\t0000000000003000", "CapBnd:\t0000000000003000", "NoNewPrivs:\t1"} {
		if !strings.Contains(status, want) {
			s.n.t.Errorf("the daemon's status lacks %q:\n%s", want, status)
		}
	}
}

// bootOpenRC boots the Debian root with openrc-init as PID 1 in the VPS's
// namespace, waits for its default runlevel, and installs the daemon as
// /usr/local/bin/ndpresponder and the script as shipped as
// /etc/init.d/ndpresponder.
func (n *testNet) bootOpenRC() *sysbox {
	n.t.Helper()
	tarball := openrcRoot(n.t)
	s := n.newBox("openrc")
	s.must("import", tarball, "ndpr-debian:openrc")
	s.must("run", "-d", "--name", s.name, "--privileged", "--network", "ns:/run/netns/"+n.ns("vps"),
		"ndpr-debian:openrc", "/sbin/openrc-init")
	s.waitOpenRC()
	if got := s.pid1(); got != "/sbin/openrc-init" {
		n.t.Fatalf("PID 1 is %q, want /sbin/openrc-init", got)
	}
	s.must("cp", staticDaemon(n.t), s.name+":/usr/local/bin/ndpresponder")
	s.must("cp", "init/ndpresponder.openrc", s.name+":/etc/init.d/ndpresponder")
	s.mustExec("chmod", "755", "/usr/local/bin/ndpresponder", "/etc/init.d/ndpresponder")
	return s
}

// waitOpenRC waits until openrc-init has brought the default runlevel up.
func (s *sysbox) waitOpenRC() {
	s.n.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if level, err := s.exec("cat", "/run/openrc/softlevel"); err == nil && strings.TrimSpace(level) == "default" {
			return
		}
		if time.Now().After(deadline) {
			logs, _ := s.podman("logs", s.name)
			s.n.t.Fatalf("OpenRC has not reached its default runlevel after 60 s:\n%s", tail([]byte(logs), 3000))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// rc runs rc-service with args in the container and fails the test if it
// fails.
func (s *sysbox) rc(args ...string) string {
	s.n.t.Helper()
	return s.mustExec(append([]string{"rc-service"}, args...)...)
}

// TestOpenRCScript: init/ndpresponder.openrc as /etc/init.d/ndpresponder
// under OpenRC with openrc-init as PID 1. rc-service start: the router's
// kernel reaches the container through the VPS, the gateway is pinned,
// the daemon runs as nobody with its two capabilities; rc-service reload
// applies a changed /etc/ndpresponder.conf; a SIGKILL is restarted by
// supervise-daemon and the pin made again; rc-service stop stops it
// cleanly and leaves no pin; and after the daemon and its supervisor were
// both killed, rc-service stop still takes away the pin the killed run
// left (the script's -unpin).
func TestOpenRCScript(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	s := n.bootOpenRC()
	const conf, log = "/etc/ndpresponder.conf", "/var/log/ndpresponder.log"
	s.put(conf, "i eth0\nn "+rangeArg+"\n")
	logText := func() string { return s.file(log) }

	s.rc("ndpresponder", "start")
	if !s.waitFile(log, "responder: answering on eth0", 1, 10*time.Second) {
		t.Fatalf("the service did not start answering:\n%s\n%s", logText(), s.file("/var/log/rc.log"))
	}
	if out := s.rc("ndpresponder", "status"); !strings.Contains(out, "started") {
		t.Errorf("rc-service ndpresponder status = %q, want started", out)
	}
	pid := s.daemon(conf, 5*time.Second)
	s.requireLeastPrivilegeIn(pid)
	n.requirePinned()
	if !n.reachable(container, 10*time.Second) {
		t.Errorf("the router cannot reach the container; log:\n%s", logText())
	}
	if e := n.routerNeigh(container); !strings.Contains(e, "lladdr "+vpsMAC.String()) {
		t.Errorf("the router's entry for the container is %q, want the VPS's MAC %v", e, vpsMAC)
	}

	// reload: a new -a is announced to the router.
	announced := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:a0")
	s.put(conf, "i eth0\nn "+rangeArg+"\na "+announced.String()+"\n")
	s.rc("ndpresponder", "reload")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(n.routerNeigh(announced), "lladdr "+vpsMAC.String()) {
		if time.Now().After(deadline) {
			t.Errorf("after rc-service reload the router has %q for %v, want the VPS's MAC; log:\n%s", n.routerNeigh(announced), announced, logText())
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := s.daemons(conf); len(got) != 1 || got[0] != pid {
		t.Errorf("after reload the daemons are %v, want the same %d", got, pid)
	}

	// A crash: supervise-daemon starts a new one, which pins again.
	s.mustExec("sh", "-c", "kill -KILL "+strconv.Itoa(pid))
	if !s.waitFile(log, "responder: answering on eth0", 2, 15*time.Second) {
		t.Fatalf("the daemon was not restarted after SIGKILL:\n%s", logText())
	}
	if again := s.daemon(conf, 5*time.Second); again == pid || again == 0 {
		t.Errorf("after SIGKILL the daemon is %d, was %d", again, pid)
	}
	n.requirePinned()
	if !n.reachable(container, 10*time.Second) {
		t.Errorf("after the restart the router cannot reach the container; log:\n%s", logText())
	}

	// stop: a clean exit, no pin.
	s.rc("ndpresponder", "stop")
	if got := s.daemons(conf); len(got) != 0 {
		t.Errorf("after rc-service stop the daemons %v still run", got)
	}
	if e := n.gatewayEntry(); strings.Contains(e, "NOARP") {
		t.Errorf("after rc-service stop the gateway's entry is %q, want no pin", e)
	}
	if !strings.Contains(logText(), "counters:") {
		t.Errorf("the daemon did not stop cleanly (no counters in its log):\n%s", logText())
	}

	// The daemon and its supervisor both killed: the pin stays, and
	// rc-service stop takes it away.
	s.rc("ndpresponder", "start")
	if !s.waitFile(log, "responder: answering on eth0", 3, 10*time.Second) {
		t.Fatalf("the service did not start again:\n%s", logText())
	}
	n.requirePinned()
	supervisor := strings.TrimSpace(s.file("/run/supervise-ndpresponder.pid"))
	pid = s.daemon(conf, 5*time.Second)
	if supervisor == "" || pid == 0 {
		t.Fatalf("no supervisor (%q) or daemon (%d) to kill", supervisor, pid)
	}
	s.mustExec("sh", "-c", "kill -KILL "+supervisor+" "+strconv.Itoa(pid))
	time.Sleep(500 * time.Millisecond)
	if e := n.gatewayEntry(); !strings.Contains(e, "NOARP") {
		t.Fatalf("the killed run left no pin (%q): the stop would prove nothing", e)
	}
	out, err := s.exec("rc-service", "ndpresponder", "stop")
	t.Logf("rc-service ndpresponder stop after both were killed: %v\n%s", err, out)
	if e := n.gatewayEntry(); strings.Contains(e, "NOARP") {
		t.Errorf("after rc-service stop the pin of the killed run is still there: %q", e)
	}
}

// TestOpenRCInstances: two uplinks, each served by an instance of the
// OpenRC script linked under its uplink's name (ndpresponder.eth0 and
// ndpresponder.eth0.100, reading /etc/ndpresponder/eth0.conf and
// /etc/ndpresponder/eth0.100.conf), both in the default runlevel and
// started by openrc-init at boot. The second uplink stands for a VLAN on
// the first. This kernel has no 802.1Q (CONFIG_VLAN_8021Q is not set and
// there are no modules: "ip link add link X name X.100 type vlan id 100"
// says "Unknown device type"), so eth0.100 is a macvlan on eth0: like a
// VLAN it is an interface of its own stacked on the uplink, with its own
// MAC, its own prefix and its own default route, on the same wire. The
// hypervisor filters nothing here, since its rule knows the VPS's first
// /64 only. Each instance answers for its own uplink and pins its own
// gateway entry; a reload and a stop of one leave the other alone; the
// stop of one whose daemon and supervisor were killed removes that
// instance's pin and not the other's; the poweroff stops both, leaving no
// pin.
func TestOpenRCInstances(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvOpen})
	vlanMAC := "02:00:00:00:01:00"
	vlanPrefix := netip.MustParsePrefix("2001:db8:1:3::/64")
	vlanRange := "2001:db8:1:3:646f:636b:6572::/112"
	vlanBridge := netip.MustParseAddr("2001:db8:1:3:646f:636b:6572:1")
	c2 := netip.MustParseAddr("2001:db8:1:3:646f:636b:6572:c2")
	n.in("vps", "ip", "link", "add", "link", "eth0", "name", "eth0.100", "address", vlanMAC, "type", "macvlan", "mode", "bridge")
	n.in("vps", "ip", "link", "set", "eth0.100", "up")
	n.in("vps", "ip", "-6", "addr", "add", "2001:db8:1:3::2/64", "dev", "eth0.100")
	n.in("vps", "ip", "-6", "route", "add", "default", "via", routerLL.String(), "dev", "eth0.100", "metric", "2048")
	n.in("rt", "ip", "-6", "route", "add", vlanPrefix.String(), "dev", "rt0")
	// The second uplink's container, behind the same bridge.
	n.in("vps", "ip", "-6", "addr", "add", vlanBridge.String()+"/112", "dev", "br0")
	n.run("ip", "netns", "add", n.ns("c2"))
	t.Cleanup(func() { n.try("ip", "netns", "del", n.ns("c2")) })
	n.in("c2", "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	n.run("ip", "link", "add", "vps-c2", "netns", n.ns("vps"), "type", "veth", "peer", "name", "eth0", "netns", n.ns("c2"))
	n.in("vps", "ip", "link", "set", "vps-c2", "master", "br0", "up")
	n.in("c2", "ip", "link", "set", "eth0", "up")
	n.in("c2", "ip", "-6", "addr", "add", c2.String()+"/112", "dev", "eth0")
	n.in("c2", "ip", "-6", "route", "add", "default", "via", vlanBridge.String())
	vlanGateway := func() string {
		return strings.TrimSpace(n.in("vps", "ip", "-6", "neigh", "show", routerLL.String(), "dev", "eth0.100", "nud", "all"))
	}
	waitVlanPin := func(want bool) string {
		deadline := time.Now().Add(5 * time.Second)
		e := vlanGateway()
		for strings.Contains(e, "NOARP") != want && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			e = vlanGateway()
		}
		return e
	}

	s := n.bootOpenRC()
	const eth0Conf, vlanConf = "/etc/ndpresponder/eth0.conf", "/etc/ndpresponder/eth0.100.conf"
	const eth0Log, vlanLog = "/var/log/ndpresponder.eth0.log", "/var/log/ndpresponder.eth0.100.log"
	s.mustExec("mkdir", "-p", "/etc/ndpresponder")
	s.put(eth0Conf, "i eth0\nn "+rangeArg+"\n")
	s.put(vlanConf, "i eth0.100\nn "+vlanRange+"\n")
	for _, uplink := range []string{"eth0", "eth0.100"} {
		s.mustExec("ln", "-s", "ndpresponder", "/etc/init.d/ndpresponder."+uplink)
		s.mustExec("rc-update", "add", "ndpresponder."+uplink, "default")
	}
	// Reboot, so that openrc-init starts them as at any boot.
	s.mustExec("openrc-shutdown", "--reboot", "now")
	if !s.waitExit(30 * time.Second) {
		t.Fatalf("openrc-shutdown --reboot: the container still runs after 30 s")
	}
	s.must("start", s.name)
	s.waitOpenRC()
	logs := func() string {
		return eth0Log + ":\n" + s.file(eth0Log) + vlanLog + ":\n" + s.file(vlanLog) + "rc.log:\n" + s.file("/var/log/rc.log")
	}
	if !s.waitFile(eth0Log, "responder: answering on eth0 (", 1, 10*time.Second) ||
		!s.waitFile(vlanLog, "responder: answering on eth0.100 (", 1, 10*time.Second) {
		t.Fatalf("the instances did not start answering at boot:\n%s", logs())
	}
	eth0PID, vlanPID := s.daemon(eth0Conf, 5*time.Second), s.daemon(vlanConf, 5*time.Second)
	if len(s.daemons("/etc/ndpresponder.conf")) != 0 {
		t.Errorf("an instance runs with the plain name's /etc/ndpresponder.conf")
	}
	n.requirePinned()
	if e := waitVlanPin(true); !strings.Contains(e, "NOARP") {
		t.Errorf("the eth0.100 instance did not pin its gateway: %q\n%s", e, logs())
	}
	if !n.reachable(container, 10*time.Second) {
		t.Errorf("the router cannot reach the eth0 container\n%s", logs())
	}
	if !n.reachable(c2, 10*time.Second) {
		t.Errorf("the router cannot reach the eth0.100 container\n%s", logs())
	}
	if e := n.routerNeigh(c2); !strings.Contains(e, "lladdr "+vlanMAC) {
		t.Errorf("the router has %q for %v, want eth0.100's MAC %s", e, c2, vlanMAC)
	}

	// A reload of one instance is that instance's.
	announced := netip.MustParseAddr("2001:db8:1:3:646f:636b:6572:a0")
	s.put(vlanConf, "i eth0.100\nn "+vlanRange+"\na "+announced.String()+"\n")
	s.rc("ndpresponder.eth0.100", "reload")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(n.routerNeigh(announced), "lladdr "+vlanMAC) {
		if time.Now().After(deadline) {
			t.Errorf("after the reload of ndpresponder.eth0.100 the router has %q for %v, want eth0.100's MAC\n%s", n.routerNeigh(announced), announced, logs())
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if strings.Contains(s.file(eth0Log), "reload:") {
		t.Errorf("the eth0 instance reloaded too:\n%s", logs())
	}

	// Stopping one leaves the other serving, and pinned.
	s.rc("ndpresponder.eth0.100", "stop")
	if e := waitVlanPin(false); strings.Contains(e, "NOARP") {
		t.Errorf("after stopping ndpresponder.eth0.100 its gateway entry is %q, want no pin", e)
	}
	if got := s.daemons(eth0Conf); len(got) != 1 || got[0] != eth0PID {
		t.Errorf("after stopping ndpresponder.eth0.100 the eth0 daemons are %v, want %d", got, eth0PID)
	}
	if e := n.gatewayEntry(); !strings.Contains(e, "NOARP") {
		t.Errorf("stopping ndpresponder.eth0.100 took eth0's pin: %q", e)
	}
	n.flushRouterNeigh()
	if !n.reachable(container, 10*time.Second) {
		t.Errorf("after stopping ndpresponder.eth0.100 the router cannot reach the eth0 container\n%s", logs())
	}

	// Killed with its supervisor, then stopped: its own pin goes, with
	// its own configuration, and eth0's stays.
	s.rc("ndpresponder.eth0.100", "start")
	if !s.waitFile(vlanLog, "responder: answering on eth0.100 (", 2, 10*time.Second) {
		t.Fatalf("ndpresponder.eth0.100 did not start again:\n%s", logs())
	}
	if e := waitVlanPin(true); !strings.Contains(e, "NOARP") {
		t.Fatalf("ndpresponder.eth0.100 did not pin again: %q\n%s", e, logs())
	}
	supervisor := strings.TrimSpace(s.file("/run/supervise-ndpresponder.eth0.100.pid"))
	vlanPID = s.daemon(vlanConf, 5*time.Second)
	if supervisor == "" || vlanPID == 0 {
		t.Fatalf("no supervisor (%q) or daemon (%d) of ndpresponder.eth0.100 to kill", supervisor, vlanPID)
	}
	s.mustExec("sh", "-c", "kill -KILL "+supervisor+" "+strconv.Itoa(vlanPID))
	time.Sleep(500 * time.Millisecond)
	if e := vlanGateway(); !strings.Contains(e, "NOARP") {
		t.Fatalf("the killed eth0.100 run left no pin (%q): the stop would prove nothing", e)
	}
	s.exec("rc-service", "ndpresponder.eth0.100", "stop")
	if e := vlanGateway(); strings.Contains(e, "NOARP") {
		t.Errorf("after rc-service ndpresponder.eth0.100 stop the pin of its killed run is still there: %q", e)
	}
	if e := n.gatewayEntry(); !strings.Contains(e, "NOARP") {
		t.Errorf("stopping the killed ndpresponder.eth0.100 took eth0's pin: %q", e)
	}

	// The poweroff stops the rest: no pin on either uplink.
	s.rc("ndpresponder.eth0.100", "start")
	if !s.waitFile(vlanLog, "responder: answering on eth0.100 (", 3, 10*time.Second) {
		t.Fatalf("ndpresponder.eth0.100 did not start again:\n%s", logs())
	}
	waitVlanPin(true)
	s.mustExec("openrc-shutdown", "--poweroff", "now")
	if !s.waitExit(30 * time.Second) {
		t.Fatalf("openrc-shutdown --poweroff: the container still runs after 30 s")
	}
	if e := n.gatewayEntry(); strings.Contains(e, "NOARP") {
		t.Errorf("after the poweroff eth0's gateway entry is %q, want no pin", e)
	}
	if e := vlanGateway(); strings.Contains(e, "NOARP") {
		t.Errorf("after the poweroff eth0.100's gateway entry is %q, want no pin", e)
	}
}
