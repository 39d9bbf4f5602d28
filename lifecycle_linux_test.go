//go:build !nonetns

package main

// The daemon's lifecycle when things go wrong around it: the uplink goes
// between the look and the bind, the event reader fails, a reload names a
// metrics file. The daemon runs in a namespace of its own with the real
// kernel as its peer: in this process, on a thread in the namespace, where
// it opens no socket on another thread; in a child process inside the
// namespace where it does; as the binary where the test is its start.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ndpresponder/internal/rtnl"
	"ndpresponder/internal/scope"

	"golang.org/x/sys/unix"
)

// bareNetns makes a namespace holding only lo and, with uplink, a dummy
// eth0 (a veth, its peer beside it); it goes when the test ends.
func bareNetns(t *testing.T, uplink bool) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (a network namespace); run as root, as .ci/run does")
	}
	netSeq.Lock()
	netSeq.n++
	ns := fmt.Sprintf("ndpr-life-%d-%d", os.Getpid()%100000, netSeq.n)
	netSeq.Unlock()
	n := &testNet{t: t}
	n.run("ip", "netns", "add", ns)
	t.Cleanup(func() { n.try("ip", "netns", "del", ns) })
	n.run("ip", "-n", ns, "link", "set", "lo", "up")
	if uplink {
		n.run("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer")
		n.run("ip", "-n", ns, "link", "set", "eth0", "up")
		n.run("ip", "-n", ns, "link", "set", "eth0-peer", "up")
	}
	return ns
}

// runIn runs d.run(sc) on a thread in namespace ns and reports its result.
// The thread stays locked, and so dies with the goroutine.
func runIn(ns string, d *daemon, sc *scope.Scope) <-chan error {
	res := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			res <- err
			return
		}
		err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
		f.Close()
		if err != nil {
			res <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		res <- d.run(sc)
	}()
	return res
}

func testDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	cfg, err := parseArgs(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	d := newDaemon(cfg)
	d.args = args
	return d
}

// TestUplinkGoneBeforeBind: the whole daemon, when its uplink goes
// between the look and the bind, waits for it and serves it once it is
// back. The test runs again as a child process inside a namespace of its
// own, so that every socket the daemon opens, on whatever thread, is in
// that namespace.
func TestUplinkGoneBeforeBind(t *testing.T) {
	if os.Getenv("NDPR_LIFE_CHILD") == "" {
		ns := bareNetns(t, true)
		cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestUplinkGoneBeforeBind$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "NDPR_LIFE_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestUplinkGoneBeforeBind") {
			t.Errorf("in namespace %s: %v\n%s", ns, err, out)
		}
		return
	}
	d := testDaemon(t, "-i", "eth0", "-n", rangeArg)
	n := &testNet{t: t}
	var deleted atomic.Bool
	beforeBind = func() {
		if !deleted.Load() {
			n.run("ip", "link", "del", "eth0")
			deleted.Store(true)
		}
	}
	sc := scope.New()
	done := make(chan error, 1)
	go func() { done <- d.run(sc) }()
	for deadline := time.Now().Add(5 * time.Second); !deleted.Load(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the daemon did not come to bind its socket within 5 s")
		}
	}
	time.Sleep(200 * time.Millisecond) // it has failed to bind, one way or the other
	select {
	case err := <-done:
		t.Fatalf("run = %v after the uplink went before the bind; want it to wait for the uplink", err)
	default:
	}
	if d.sock.Load() != nil {
		t.Fatal("the daemon serves an uplink that was deleted before the bind")
	}
	n.run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer")
	n.run("ip", "link", "set", "eth0", "up")
	n.run("ip", "link", "set", "eth0-peer", "up")
	for deadline := time.Now().Add(5 * time.Second); d.sock.Load() == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the daemon does not serve its uplink 5 s after it came back")
		}
	}
	sc.End()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run = %v, want nil after its scope ended", err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("run still running 10 s after its scope ended")
	}
}

// failingEvents is the uplink's event subscription whose reads fail.
type failingEvents struct{ uplinkEventReader }

func (failingEvents) Next(func(rtnl.Msg)) (bool, error) {
	return false, errors.New("injected: the event socket failed")
}

// TestEventReaderFailureIsFatal: when the uplink's events can no longer be
// read, run returns an error, so that the daemon exits with a non-zero
// status, which systemd's Restart=on-failure restarts.
func TestEventReaderFailureIsFatal(t *testing.T) {
	ns := bareNetns(t, false)
	d := testDaemon(t, "-i", "eth0", "-n", rangeArg)
	openUplinkEvents = func() (uplinkEventReader, error) {
		ev, err := rtnl.OpenEvents(uplinkEvents)
		if err != nil {
			return nil, err
		}
		return failingEvents{ev}, nil
	}
	defer func() {
		openUplinkEvents = func() (uplinkEventReader, error) { return rtnl.OpenEvents(uplinkEvents) }
	}()
	sc := scope.New()
	defer sc.End()
	select {
	case err := <-runIn(ns, d, sc):
		if err == nil || !strings.Contains(err.Error(), "injected") {
			t.Errorf("run after its event reader failed = %v, want the reader's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run still running 10 s after its event reader failed")
	}
}

// TestMetricsAddedByReload: a -metrics that a reload adds is written at
// once and then periodically, as one given at start.
func TestMetricsAddedByReload(t *testing.T) {
	ns := bareNetns(t, false)
	dir := t.TempDir()
	conf, prom := filepath.Join(dir, "ndpresponder.conf"), filepath.Join(dir, "ndpresponder.prom")
	write := func(text string) {
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("i eth0\nn " + rangeArg + "\n")
	d := testDaemon(t, "-c", conf)
	d.metricsEvery = 100 * time.Millisecond
	hup := make(chan os.Signal, 1)
	d.hup = hup
	sc := scope.New()
	done := runIn(ns, d, sc)
	defer func() {
		sc.End()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run = %v, want nil after its scope ended", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("run still running 10 s after its scope ended")
		}
	}()
	write("i eth0\nn " + rangeArg + "\nmetrics " + prom + "\n")
	hup <- unix.SIGHUP
	// appears waits up to timeout for the metrics file to exist.
	appears := func(timeout time.Duration) bool {
		for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(prom); err == nil {
				return true
			}
		}
		return false
	}
	if !appears(5 * time.Second) {
		t.Fatalf("no metrics file 5 s after a reload named it")
	}
	for i := range 3 {
		if err := os.Remove(prom); err != nil {
			t.Fatal(err)
		}
		if !appears(2 * time.Second) {
			t.Fatalf("metrics file not written again within 2 s (rewrite %d, every %v)", i+1, d.metricsEvery)
		}
	}
}

// TestSignalsAtStart: SIGHUP and SIGUSR1 sent while the daemon starts do
// not end it, in the program it starts as and in the one it re-executes
// for one P (lean); a reload asked for before it is ready is done once it
// runs. Its configuration file is a named pipe, so that the test knows
// when the daemon is reading it: inside main, before any handler of the
// old daemon, and again after the re-exec.
func TestSignalsAtStart(t *testing.T) {
	ns := bareNetns(t, false)
	dir := t.TempDir()
	conf := filepath.Join(dir, "ndpresponder.conf")
	if err := unix.Mkfifo(conf, 0o600); err != nil {
		t.Fatal(err)
	}
	text := []byte("i eth0\nn " + rangeArg + "\n")
	d := &daemonProc{t: t, done: make(chan struct{})}
	d.cmd = exec.Command("ip", "netns", "exec", ns, daemonBinary(t), "-c", conf)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMAXPROCS=") { // so that lean re-executes
			d.cmd.Env = append(d.cmd.Env, kv)
		}
	}
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.mu.Lock()
			d.log.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
		}
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		<-d.done
	})
	exited := func() bool {
		select {
		case <-d.done:
			return true
		default:
			return false
		}
	}
	// feed waits until ready says the reader of the last text is gone and
	// the daemon opens the configuration file, sends it signals while it
	// waits for the file's text if asked, then gives it.
	feed := func(what string, signals bool, ready func() bool) {
		t.Helper()
		var fd int
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			if !ready() {
				err = unix.ENXIO
			} else if fd, err = unix.Open(conf, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
				break
			}
			if err != unix.ENXIO { // ENXIO: no reader yet
				t.Fatal(err)
			}
			if exited() || time.Now().After(deadline) {
				t.Fatalf("%s: the daemon did not read its configuration (exited: %v, %v):\n%s", what, exited(), d.err, d.logText())
			}
		}
		if signals {
			for range 20 {
				d.cmd.Process.Signal(unix.SIGHUP)
				d.cmd.Process.Signal(unix.SIGUSR1)
				time.Sleep(time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond) // every signal delivered
		}
		unix.Write(fd, text)
		unix.Close(fd)
		if signals {
			time.Sleep(50 * time.Millisecond)
			if exited() {
				<-d.done
				t.Fatalf("%s: the daemon died of SIGHUP or SIGUSR1 while it started: %v\n%s", what, d.err, d.logText())
			}
		}
	}
	reexecuted := func() bool { // the program lean started
		env, _ := os.ReadFile("/proc/" + strconv.Itoa(d.cmd.Process.Pid) + "/environ")
		return strings.Contains("\x00"+string(env), "\x00GOMAXPROCS=1\x00")
	}
	running := func() bool { return strings.Contains(d.logText(), "does not exist; waiting for it") }
	feed("the first program", true, func() bool { return true })
	feed("after the re-exec", true, reexecuted)
	feed("the reload asked for while it started", false, running)
	// From now on a reload reads a plain file.
	plain := filepath.Join(dir, "plain.conf")
	if err := os.WriteFile(plain, text, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(plain, conf); err != nil {
		t.Fatal(err)
	}
	if !d.waitLog("reload: answering for", 1, 5*time.Second) || !d.waitLog("does not exist; waiting for it", 1, 5*time.Second) {
		t.Fatalf("the daemon did not reload once running, as asked while it started:\n%s", d.logText())
	}
	d.stop()
}

// TestClosedUnderRead: a read waiting on the packet socket or the event
// subscription when the daemon closes it returns os.ErrClosed, which ends
// the packet loop and the event reader quietly, and no other error.
func TestClosedUnderRead(t *testing.T) {
	ns := bareNetns(t, false)
	inNetns(t, ns, func() error {
		sock, err := openPacketSocket(1, ndFilterProgram) // lo
		if err != nil {
			return err
		}
		ev, err := rtnl.OpenEvents(uplinkEvents)
		if err != nil {
			sock.Close()
			return err
		}
		for name, c := range map[string]struct {
			read  func() error
			close func() error
		}{
			"packet socket": {func() error { _, err := sock.read(); return err }, sock.Close},
			"events":        {func() error { _, err := ev.Next(func(rtnl.Msg) {}); return err }, ev.Close},
		} {
			res := make(chan error, 1)
			go func() { res <- c.read() }()
			time.Sleep(50 * time.Millisecond) // the read waits on the poller
			c.close()
			select {
			case err := <-res:
				if err != os.ErrClosed {
					return fmt.Errorf("%s: a read waiting when it was closed = %v, want os.ErrClosed", name, err)
				}
			case <-time.After(5 * time.Second):
				return fmt.Errorf("%s: a read still waiting 5 s after it was closed", name)
			}
		}
		return nil
	})
}
