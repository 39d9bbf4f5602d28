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
	"sync"
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
	t.Helper()
	if _, err := os.Stat(openrcRootCache); err == nil {
		return openrcRootCache
	}
	needTool(t, "debootstrap")
	dir := filepath.Dir(openrcRootCache)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := os.MkdirTemp(dir, "root-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	cmd := exec.Command("timeout", "900", "debootstrap", "--variant=minbase", "--include=openrc", "bookworm", root, "http://deb.debian.org/debian")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("debootstrap: %v\n%s", err, tail(out, 2000))
	}
	tmp := openrcRootCache + ".part"
	if out, err := exec.Command("tar", "-C", root, "-cf", tmp, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, openrcRootCache); err != nil {
		t.Fatal(err)
	}
	return openrcRootCache
}

// staticDaemon is the daemon built without cgo, for roots that are not
// this host's: a BusyBox root has no C library at all.
var (
	staticOnce sync.Once
	staticBin  string
	staticErr  error
)

func staticDaemon(t *testing.T) string {
	t.Helper()
	staticOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ndpresponder-static")
		if err != nil {
			staticErr = err
			return
		}
		staticBin = filepath.Join(dir, "ndpresponder")
		build := exec.Command("go", "build", "-o", staticBin, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			staticErr = err
			staticBin = string(out)
		}
	})
	if staticErr != nil {
		t.Fatalf("go build (static): %v\n%s", staticErr, staticBin)
	}
	return staticBin
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
