//go:build !nonetns

package main

// The binary's pages are the kernel's: the daemon leaves them in the page
// cache, so what it reads of them after start costs no disk read.

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNoMajorFaultsAfterStart starts the daemon from a binary just built
// (so in the page cache), has it answer, dump its counters and rewrite its
// metrics file, and counts the major faults it took meanwhile: each one is
// a read from the disk, which on a VPS is a network disk. A daemon that
// threw its binary's pages out of the page cache after start took 24–57.
func TestNoMajorFaultsAfterStart(t *testing.T) {
	n := newTestNet(t, true)
	// On the disk, as an installed binary is: its pages in the page cache
	// clean, which the kernel may drop (dirty ones it would have to write
	// first).
	bin, err := os.Open(daemonBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := bin.Sync(); err != nil {
		t.Fatal(err)
	}
	bin.Close()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	file := filepath.Join(dir, "ndpresponder.prom")
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-metrics", file)
	pid := d.cmd.Process.Pid
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(file); err == nil {
			break
		}
	}
	time.Sleep(200 * time.Millisecond) // done with starting
	before := majorFaults(t, pid)

	w := n.openWire("rt", "rt0")
	if got := w.solicit(netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c1"), time.Second); got != 1 {
		t.Fatalf("%d NA, want 1", got)
	}
	// Out of range: the path that logs why it ignored a solicitation.
	w.solicit(netip.MustParseAddr("2001:db8:1:2::99"), 100*time.Millisecond)
	os.Remove(file)
	d.cmd.Process.Signal(syscall.SIGUSR1)
	if !d.waitLog("counters:", 1, 2*time.Second) {
		t.Fatalf("no counters after SIGUSR1:\n%s", d.logText())
	}
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(file); err == nil {
			break
		}
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("the metrics file not rewritten after SIGUSR1: %v", err)
	}
	if got := majorFaults(t, pid) - before; got != 0 {
		t.Errorf("%d major faults (reads from the disk) after start, answering, a counters dump and a metrics write; want 0", got)
	}
	d.stop()
}

// majorFaults is majflt of /proc/PID/stat: the faults that read a page
// from its file.
func majorFaults(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command's closing parenthesis: state is the
	// first, majflt the tenth (field 12 of proc(5)).
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 10 {
		t.Fatalf("/proc/%d/stat: %q", pid, b)
	}
	v, err := strconv.Atoi(f[9])
	if err != nil {
		t.Fatalf("/proc/%d/stat majflt: %v", pid, err)
	}
	return v
}

// anonBudget is the daemon's memory budget in kB: what it owns, its
// RssAnon. The binary's pages are not in it: they are the page cache's.
const anonBudget = 1 << 10

// checkAnonBudget logs the daemon's RssAnon and fails the test past the
// budget; not under the race detector, whose shadow memory is anonymous
// too.
func (d *daemonProc) checkAnonBudget() {
	d.t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(d.cmd.Process.Pid) + "/status")
	if err != nil {
		d.t.Fatalf("reading the daemon's status: %v", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			d.t.Logf("the daemon's RssAnon: %d kB", kb)
			if kb > anonBudget && os.Getenv("NDPR_TEST_RACE") == "" {
				d.t.Errorf("RssAnon %d kB, over the budget of %d kB", kb, anonBudget)
			}
			return
		}
	}
	d.t.Fatalf("no RssAnon in the daemon's status:\n%s", b)
}
