//go:build !nonetns

package main

// -N with a real Docker engine: dockerd runs inside the VPS namespace
// (entered with nsenter, as ip netns exec hides the cgroup mounts dockerd
// needs) with its own data root, no iptables and no default bridge; the
// image is imported from a tarball of busybox-static.

import (
	"bytes"
	"debug/elf"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	dockerRange   = "2001:db8:1:2:646f:636b:6573::/112"
	dockerNetName = "ndpr6"
)

var (
	dockerC1 = netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:c1")
	dockerC2 = netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:c2")
	dockerC3 = netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:c3")
)

// dockerd is an engine running in the test network's VPS.
type dockerd struct {
	n    *testNet
	dir  string
	sock string
	cmd  *exec.Cmd
	log  bytes.Buffer
}

func (n *testNet) startDockerd() *dockerd {
	n.t.Helper()
	for _, tool := range []string{"dockerd", "docker", "nsenter"} {
		needTool(n.t, tool)
	}
	// The image holds nothing but /bin/busybox: it must be the static one.
	if f, err := elf.Open("/bin/busybox"); err != nil {
		n.t.Fatalf("the Docker test needs busybox-static (.ci/run installs it): %v", err)
	} else {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				n.t.Fatalf("/bin/busybox is dynamically linked; the Docker test needs busybox-static (.ci/run installs it)")
			}
		}
		f.Close()
	}
	dir, err := os.MkdirTemp("", "ndpr-docker")
	if err != nil {
		n.t.Fatal(err)
	}
	e := &dockerd{n: n, dir: dir, sock: filepath.Join(dir, "docker.sock")}
	n.t.Cleanup(func() {
		e.stop()
		// Containers' mounts live under the data root until dockerd is gone.
		exec.Command("sh", "-c", "umount -R "+dir+"/root/* 2>/dev/null; rm -rf "+dir).Run()
	})
	e.start()
	return e
}

func (e *dockerd) start() {
	t := e.n.t
	t.Helper()
	e.cmd = exec.Command("nsenter", "--net=/run/netns/"+e.n.ns("vps"), "dockerd",
		"--data-root", filepath.Join(e.dir, "root"), "--exec-root", filepath.Join(e.dir, "exec"),
		"--pidfile", filepath.Join(e.dir, "docker.pid"), "-H", "unix://"+e.sock,
		"--iptables=false", "--ip-masq=false", "--bridge=none",
		"--containerd-namespace", "ndpr-"+e.n.suffix, "--containerd-plugins-namespace", "ndpr-p-"+e.n.suffix)
	e.cmd.Stdout, e.cmd.Stderr = &e.log, &e.log
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := e.docker("version"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockerd did not start:\n%s", e.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (e *dockerd) stop() {
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	e.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		e.cmd.Process.Kill()
		<-done
	}
	e.cmd = nil
}

func (e *dockerd) docker(args ...string) (string, error) {
	cmd := exec.Command("docker", append([]string{"-H", "unix://" + e.sock}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (e *dockerd) must(args ...string) string {
	e.n.t.Helper()
	out, err := e.docker(args...)
	if err != nil {
		e.n.t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// importBusybox makes the image bb:local from /bin/busybox: a root
// filesystem of the static binary and a few applet links.
func (e *dockerd) importBusybox() {
	t := e.n.t
	t.Helper()
	root := filepath.Join(e.dir, "image")
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "/bin/busybox", filepath.Join(root, "bin", "busybox")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	for _, applet := range []string{"sh", "sleep", "ping", "ip"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", "-c", "tar -C "+root+" -c . | docker -H unix://"+e.sock+" import - bb:local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker import: %v\n%s", err, out)
	}
}

func (e *dockerd) runContainer(name string, addr netip.Addr) {
	e.n.t.Helper()
	e.must("run", "-d", "--name", name, "--network", dockerNetName, "--ip6", addr.String(), "bb:local", "/bin/sleep", "3600")
}

// reachable reports whether the router's ping to a gets a reply within d.
func (n *testNet) reachable(a netip.Addr, d time.Duration) bool {
	return n.pingsFrom("rt", a, d)
}

// pingsFrom reports whether a ping from namespace ns to a gets a reply
// within d, one ping of a second at a time.
func (n *testNet) pingsFrom(ns string, a netip.Addr, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		if _, err := n.tryIn(ns, "ping", "-n", "-c", "1", "-W", "1", a.String()); err == nil {
			return true
		}
	}
	return false
}

func TestDockerNetwork(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvAnnounce})
	e := n.startDockerd()
	e.importBusybox()
	e.must("network", "create", "--ipv6", "--subnet", dockerRange, "--subnet", "172.31.0.0/24",
		"-o", "com.docker.network.bridge.name=br-ndpr", dockerNetName)
	e.runContainer("c1", dockerC1)

	n.daemonEnv = []string{"DOCKER_HOST=unix://" + e.sock}
	d := n.startDaemon("-i", "eth0", "-N", dockerNetName, "-n", dockerRange)
	if !n.reachable(dockerC1, 8*time.Second) {
		t.Fatalf("router cannot reach a container connected before the daemon started\n%s", d.logText())
	}

	e.runContainer("c2", dockerC2)
	if !n.reachable(dockerC2, 8*time.Second) {
		t.Fatalf("router cannot reach a container started after the daemon\n%s", d.logText())
	}

	e.must("network", "disconnect", dockerNetName, "c2")
	w := n.openWire("rt", "rt0")
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.drain()
		w.send(appendNS(nil, w.mac, multicastMAC(solicitedNode(dockerC2)), routerLL, solicitedNode(dockerC2), dockerC2, [6]byte{}))
		if len(w.nas(dockerC2, 500*time.Millisecond, 1)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a disconnected container's address is still answered\n%s", d.logText())
		}
	}

	// The engine restarts; a container started as it comes back, while
	// the daemon is still reconnecting, is picked up by the fresh listing.
	e.stop()
	if !d.waitLog("docker: ", 1, 5*time.Second) {
		t.Fatalf("the daemon did not notice the engine going:\n%s", d.logText())
	}
	e.start()
	e.must("rm", "-f", "c1", "c2")
	e.runContainer("c3", dockerC3)
	if !n.reachable(dockerC3, 15*time.Second) {
		t.Fatalf("router cannot reach a container started while the engine was restarting\n%s", d.logText())
	}
	if !strings.Contains(d.logText(), "connected to") {
		t.Errorf("the daemon did not say it reconnected:\n%s", d.logText())
	}
	d.stop()
}

// TestContainerImage builds the FROM-scratch image with the real engine and
// runs the daemon from it with --network host and only the two
// capabilities: it answers for the VPS's containers like the bare binary.
func TestContainerImage(t *testing.T) {
	n := newTestNet(t, true)
	e := n.startDockerd()
	ctx := t.TempDir()
	// The image holds the binary alone: a static one, even when the other
	// tests run the daemon under the race detector (which needs cgo).
	static := daemonBinary(t)
	if os.Getenv("NDPR_TEST_RACE") != "" {
		static = filepath.Join(t.TempDir(), "ndpresponder")
		cmd := exec.Command("go", "build", "-o", static, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	bin, err := os.ReadFile(static)
	if err != nil {
		t.Fatal(err)
	}
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ctx, "ndpresponder"), bin, 0o755)
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), df, 0o644)
	e.must("build", "-q", "-t", "ndpresponder:test", ctx)
	if out := e.must("run", "--rm", "ndpresponder:test", "-version"); !strings.HasPrefix(out, "ndpresponder ") {
		t.Errorf("the image's -version says %q", out)
	}
	e.must("run", "-d", "--name", "ndpr", "--network", "host", "--cap-drop", "ALL", "--cap-add", "NET_RAW", "--cap-add", "NET_ADMIN",
		"--cap-add", "SETUID", "--cap-add", "SETGID", "--cap-add", "SETPCAP", "ndpresponder:test", "-i", "eth0", "-n", rangeArg)
	defer e.docker("rm", "-f", "ndpr")
	deadline := time.Now().Add(10 * time.Second)
	for {
		logs, _ := e.docker("logs", "ndpr")
		if strings.Contains(logs, "answering on eth0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon in the container is not answering:\n%s", logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !n.ping(container) {
		logs, _ := e.docker("logs", "ndpr")
		t.Errorf("router cannot reach the container through the daemon in its image:\n%s", logs)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(e.must("inspect", "-f", "{{.State.Pid}}", "ndpr")))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the daemon in its image: %s", requireLeastPrivilege(t, pid, 65534))

	// Run with the two capabilities alone, as -user 0 it stays root with
	// them; with -user as the image has it, it says what it lacks.
	e.must("run", "-d", "--name", "ndpr-root", "--network", "host", "--cap-drop", "ALL", "--cap-add", "NET_RAW", "--cap-add", "NET_ADMIN",
		"ndpresponder:test", "-i", "eth0", "-n", rangeArg, "-pin-gateway=false", "-user", "0")
	defer e.docker("rm", "-f", "ndpr-root")
	deadline = time.Now().Add(10 * time.Second)
	for logs, _ := e.docker("logs", "ndpr-root"); !strings.Contains(logs, "answering on eth0"); logs, _ = e.docker("logs", "ndpr-root") {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon in the container with -user 0 is not answering:\n%s", logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	pid, err = strconv.Atoi(strings.TrimSpace(e.must("inspect", "-f", "{{.State.Pid}}", "ndpr-root")))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the daemon in its image, -user 0: %s", requireLeastPrivilege(t, pid, 0))
	out, err := e.docker("run", "--rm", "--network", "host", "--cap-drop", "ALL", "--cap-add", "NET_RAW", "--cap-add", "NET_ADMIN",
		"ndpresponder:test", "-i", "eth0", "-n", rangeArg)
	if err == nil || !strings.Contains(out, "needs CAP_SETUID and CAP_SETGID") {
		t.Errorf("the image without SETUID and SETGID: %v, %q; want an error naming them", err, out)
	}
}

// vmHWM reads the daemon's peak resident memory, in kB.
func (d *daemonProc) vmHWM() int {
	d.t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(d.cmd.Process.Pid) + "/status")
	if err != nil {
		d.t.Fatalf("reading the daemon's status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	d.t.Fatalf("no VmHWM in the daemon's status:\n%s", b)
	return 0
}

// answered reports whether an NS for a from the router gets an NA within
// d, trying every half second.
func (w *wire) answered(a netip.Addr, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		w.drain()
		w.send(appendNS(nil, w.mac, multicastMAC(solicitedNode(a)), routerLL, solicitedNode(a), a, [6]byte{}))
		if len(w.nas(a, 500*time.Millisecond, 1)) > 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// TestDockerHungEngine: with an engine that accepts and never answers, the
// daemon still stops at once on SIGTERM, and removes its gateway pin.
func TestDockerHungEngine(t *testing.T) {
	e := startFakeEngine(t, func(path string, c net.Conn, _ <-chan struct{}) { io.Copy(io.Discard, c) })
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	// Under the race detector (NDPR_TEST_RACE), the runtime sleeps a second
	// before exiting unless told not to.
	n.daemonEnv = []string{"DOCKER_HOST=unix://" + e.sock, "GORACE=atexit_sleep_ms=0"}
	d := n.startDaemon("-i", "eth0", "-N", dockerNetName, "-n", dockerRange)
	n.requirePinned()
	if !e.wait(t, "/events", 5*time.Second) {
		t.Fatalf("the daemon did not ask for the engine's events:\n%s", d.logText())
	}
	time.Sleep(300 * time.Millisecond) // blocked on the answer's head
	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("the daemon still runs 5 s after SIGTERM:\n%s", d.logText())
	}
	took := time.Since(start)
	t.Logf("SIGTERM to exit: %v", took)
	if took > time.Second {
		t.Errorf("the daemon took %v to exit after SIGTERM, want at most 1 s", took)
	}
	if d.err != nil {
		t.Errorf("daemon exit after SIGTERM: %v, want status 0\n%s", d.err, d.logText())
	}
	if e := n.gatewayEntry(); strings.Contains(e, "NOARP") {
		t.Errorf("the gateway's pin is left behind: %q", e)
	}
}

// TestDockerChunked: an engine (or a proxy in front of it) that answers in
// chunks, as HTTP/1.1 allows, with sizes in hex.
func TestDockerChunked(t *testing.T) {
	var mu sync.Mutex
	listed := []netip.Addr{dockerC1}
	events := make(chan string, 10)
	e := startFakeEngine(t, func(path string, c net.Conn, done <-chan struct{}) {
		if strings.HasPrefix(path, "/events") {
			c.Write([]byte(chunkedHead))
			for {
				select {
				case ev := <-events: // one event over two chunks
					c.Write([]byte(chunk(ev[:40]) + chunk(ev[40:])))
				case <-done:
					return
				}
			}
		}
		mu.Lock()
		l := fakeListing(listed...)
		mu.Unlock()
		c.Write([]byte(chunkedHead + chunk(l[:len(l)/2]) + chunk(l[len(l)/2:]) + "0\r\n\r\n"))
	})
	n := newTestNet(t, true)
	n.daemonEnv = []string{"DOCKER_HOST=unix://" + e.sock}
	d := n.startDaemon("-i", "eth0", "-N", dockerNetName, "-n", dockerRange)
	w := n.openWire("rt", "rt0")
	if !w.answered(dockerC1, 5*time.Second) {
		t.Fatalf("a container listed in chunks is not answered:\n%s", d.logText())
	}
	mu.Lock()
	listed = []netip.Addr{dockerC2}
	mu.Unlock()
	events <- fakeEvent("disconnect")
	if !w.answered(dockerC2, 5*time.Second) {
		t.Fatalf("after a chunked event, the new listing is not answered:\n%s", d.logText())
	}
	if w.answered(dockerC1, 0) {
		t.Errorf("a container gone from the listing is still answered:\n%s", d.logText())
	}
	if log := d.stop(); strings.Contains(log, "warn: docker") {
		t.Errorf("the daemon warned about the engine:\n%s", log)
	}
}

// TestDockerHostileBody: a listing of 4 MiB made to cost a tree-building
// decoder the most memory costs the daemon none, however often it comes,
// and the log says what was wrong with it.
func TestDockerHostileBody(t *testing.T) {
	hostile := `{"Id":"x","Containers":{},"Junk":[` + strings.Repeat("1,", 2<<20) + "1}"
	var mu sync.Mutex
	bad := 0 // listings left to answer with the hostile body
	events := make(chan string, 10)
	e := startFakeEngine(t, func(path string, c net.Conn, done <-chan struct{}) {
		if strings.HasPrefix(path, "/events") {
			c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n"))
			for {
				select {
				case ev := <-events:
					c.Write([]byte(ev))
				case <-done:
					return
				}
			}
		}
		mu.Lock()
		body := fakeListing(dockerC1)
		if bad > 0 {
			body, bad = hostile, bad-1
		}
		mu.Unlock()
		c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body))
	})
	n := newTestNet(t, true)
	n.daemonEnv = []string{"DOCKER_HOST=unix://" + e.sock}
	d := n.startDaemon("-i", "eth0", "-N", dockerNetName, "-n", dockerRange)
	w := n.openWire("rt", "rt0")
	if !w.answered(dockerC1, 5*time.Second) {
		t.Fatalf("the container is not answered:\n%s", d.logText())
	}
	before := d.vmHWM()
	mu.Lock()
	bad = 3 // the listing after the event, and the two after reconnecting
	mu.Unlock()
	events <- fakeEvent("connect")
	want := "warn: docker: network ndpr6: malformed JSON at byte " + strconv.Itoa(len(hostile)) + "; keeping the known addresses, reconnecting"
	if !d.waitLog(want, 1, 5*time.Second) {
		t.Fatalf("the log does not say %q:\n%s", want, d.logText())
	}
	if !d.waitLog("docker: connected to", 1, 15*time.Second) {
		t.Fatalf("the daemon did not connect again after the hostile listings:\n%s", d.logText())
	}
	after := d.vmHWM()
	t.Logf("VmHWM %d kB before the hostile listings, %d kB after three of them", before, after)
	// The race detector's shadow memory grows with any work: allow it 1 MB.
	growth := 256
	if os.Getenv("NDPR_TEST_RACE") != "" {
		growth = 1 << 10
	}
	if after-before > growth {
		t.Errorf("VmHWM grew from %d kB to %d kB with three hostile listings, want at most %d kB more", before, after, growth)
	}
	d.checkAnonBudget()
	if !w.answered(dockerC1, 5*time.Second) {
		t.Errorf("the container is not answered after the hostile listings:\n%s", d.logText())
	}
	d.stop()
}

// TestDockerClosedMidBody: an engine that closes the connection in the
// middle of a listing; the log says so, and the daemon reconnects.
func TestDockerClosedMidBody(t *testing.T) {
	var mu sync.Mutex
	cut := 1
	e := startFakeEngine(t, func(path string, c net.Conn, done <-chan struct{}) {
		if strings.HasPrefix(path, "/events") {
			c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n"))
			<-done
			return
		}
		body := fakeListing(dockerC1)
		mu.Lock()
		defer mu.Unlock()
		if cut > 0 {
			cut--
			c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body[:len(body)/2]))
			return
		}
		c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body))
	})
	n := newTestNet(t, true)
	n.daemonEnv = []string{"DOCKER_HOST=unix://" + e.sock}
	d := n.startDaemon("-i", "eth0", "-N", dockerNetName, "-n", dockerRange)
	want := "warn: docker: network ndpr6: the engine closed the connection mid-answer; keeping the known addresses, reconnecting"
	if !d.waitLog(want, 1, 5*time.Second) {
		t.Fatalf("the log does not say %q:\n%s", want, d.logText())
	}
	if !d.waitLog("docker: connected to "+e.sock+" again", 1, 5*time.Second) {
		t.Fatalf("the daemon did not reconnect:\n%s", d.logText())
	}
	w := n.openWire("rt", "rt0")
	if !w.answered(dockerC1, 5*time.Second) {
		t.Errorf("after reconnecting, the container is not answered:\n%s", d.logText())
	}
	d.stop()
}

// podman is Podman's Docker-compatible service running in the test
// network's VPS, with its own storage, runtime directories, CNI
// configuration and event log.
type podman struct {
	n    *testNet
	dir  string
	sock string
	cmd  *exec.Cmd
	log  bytes.Buffer
}

func (n *testNet) startPodman() *podman {
	n.t.Helper()
	for _, tool := range []string{"podman", "nsenter", "iptables"} {
		needTool(n.t, tool)
	}
	dir, err := os.MkdirTemp("", "ndpr-podman")
	if err != nil {
		n.t.Fatal(err)
	}
	p := &podman{n: n, dir: dir, sock: filepath.Join(dir, "podman.sock")}
	conf := "[network]\nnetwork_backend = \"" + podmanBackend(n.t) + "\"\nnetwork_config_dir = \"" + dir + "/cni\"\n" +
		"[engine]\nevents_logger = \"file\"\nevents_logfile_path = \"" + dir + "/events.log\"\n"
	if err := os.MkdirAll(filepath.Join(dir, "cni"), 0o755); err != nil {
		n.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "containers.conf"), []byte(conf), 0o644); err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() {
		p.podman("rm", "-f", "-a", "-t", "0")
		if p.cmd != nil {
			p.cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { p.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				p.cmd.Process.Kill()
				<-done
			}
		}
		exec.Command("sh", "-c", "umount -R "+dir+"/root/* "+dir+"/run/* 2>/dev/null; rm -rf "+dir).Run()
	})
	p.cmd = p.command("system", "service", "--time=0", "unix://"+p.sock)
	p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
	if err := p.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", p.sock); err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("podman system service did not start:\n%s", p.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// podmanBackend is the network backend this host's podman has: netavark
// where it is installed (podman 5 has nothing else), else the CNI plugins
// (podman 4 as Debian 12 ships it). scripts/need.sh's need_podman_network
// installs one of them.
func podmanBackend(t *testing.T) string {
	t.Helper()
	for _, dir := range []string{"/usr/libexec/podman", "/usr/lib/podman"} {
		if _, err := os.Stat(filepath.Join(dir, "netavark")); err == nil {
			return "netavark"
		}
	}
	for _, dir := range []string{"/usr/lib/cni", "/usr/libexec/cni", "/opt/cni/bin"} {
		if _, err := os.Stat(filepath.Join(dir, "bridge")); err == nil {
			return "cni"
		}
	}
	t.Fatal("podman has no network backend: neither netavark nor the CNI plugins (.ci/run installs one)")
	return ""
}

// command is podman with this instance's storage, in the VPS.
func (p *podman) command(args ...string) *exec.Cmd {
	cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + p.n.ns("vps"), "podman",
		"--root", filepath.Join(p.dir, "root"), "--runroot", filepath.Join(p.dir, "run"), "--tmpdir", filepath.Join(p.dir, "tmp"),
		"--cgroup-manager", "cgroupfs"}, args...)...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+filepath.Join(p.dir, "containers.conf"))
	return cmd
}

func (p *podman) podman(args ...string) (string, error) {
	out, err := p.command(args...).CombinedOutput()
	return string(out), err
}

func (p *podman) must(args ...string) string {
	p.n.t.Helper()
	out, err := p.podman(args...)
	if err != nil {
		p.n.t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// runContainer starts a container of the busybox image on the network. The
// limits are given because Podman otherwise raises them beyond this
// machine's hard limits, which a container cannot do.
func (p *podman) runContainer(name string, addr netip.Addr) {
	p.n.t.Helper()
	p.must("run", "-d", "--name", name, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
		"--network", dockerNetName, "--ip6", addr.String(), "bb:local", "/bin/sleep", "3600")
}

// TestPodman: -N through Podman's Docker-compatible service, which frames,
// names and announces things its own way: containers connected before the
// daemon started and after are answered, and a removed one no longer is.
func TestPodman(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvAnnounce})
	p := n.startPodman()
	root := filepath.Join(p.dir, "image")
	os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	if out, err := exec.Command("cp", "/bin/busybox", filepath.Join(root, "bin", "busybox")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	os.Symlink("busybox", filepath.Join(root, "bin", "sleep"))
	if out, err := exec.Command("tar", "-C", root, "-cf", filepath.Join(p.dir, "image.tar"), ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	p.must("import", filepath.Join(p.dir, "image.tar"), "bb:local")
	// Podman refuses a range inside the prefix of an address of the host,
	// as the /112 is inside the uplink's /64: the uplink's address is a
	// /128, and its /64 an on-link route.
	n.in("vps", "ip", "-6", "addr", "del", vpsAddr.String()+"/64", "dev", "eth0")
	n.in("vps", "ip", "-6", "addr", "add", vpsAddr.String()+"/128", "dev", "eth0")
	n.in("vps", "ip", "-6", "route", "add", vpsPrefix.String(), "dev", "eth0")
	n.in("vps", "ip", "-6", "route", "replace", "default", "via", routerLL.String(), "dev", "eth0")
	p.must("network", "create", "--ipv6", "--subnet", dockerRange, "--subnet", "172.31.0.0/24", dockerNetName)
	p.runContainer("c1", dockerC1)

	n.daemonEnv = []string{"DOCKER_HOST=unix://" + p.sock}
	d := n.startDaemon("-i", "eth0", "-N", dockerNetName, "-n", dockerRange)
	if !n.reachable(dockerC1, 8*time.Second) {
		t.Fatalf("router cannot reach a container started before the daemon\n%s", d.logText())
	}
	p.runContainer("c2", dockerC2)
	if !n.reachable(dockerC2, 8*time.Second) {
		t.Fatalf("router cannot reach a container started after the daemon\n%s", d.logText())
	}
	p.must("rm", "-f", "-t", "0", "c2")
	w := n.openWire("rt", "rt0")
	deadline := time.Now().Add(5 * time.Second)
	for w.answered(dockerC2, 0) {
		if time.Now().After(deadline) {
			t.Fatalf("a removed container's address is still answered\n%s", d.logText())
		}
	}
	if log := d.stop(); strings.Contains(log, "warn: docker") {
		t.Errorf("the daemon warned about the engine:\n%s", log)
	}
}
