//go:build !nonetns

package main

// The daemon lets go of its binary's pages once started, and keeps
// answering from what comes back.

import (
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestReleaseImage(t *testing.T) {
	n := newTestNet(t, true)
	d := n.startDaemon("-i", "eth0", "-n", rangeArg)
	m := regexp.MustCompile(`memory: (\d+) kB resident at start, (\d+) kB after letting go of the binary's pages \((\d+) kB mapped\)`).FindStringSubmatch(d.logText())
	if m == nil {
		t.Fatalf("no line about the binary's pages:\n%s", d.logText())
	}
	before, _ := strconv.Atoi(m[1])
	after, _ := strconv.Atoi(m[2])
	if after >= before {
		t.Errorf("resident %d kB after letting go of the binary's pages, %d kB before", after, before)
	}

	// It answers from the pages that come back.
	target := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c1")
	w := n.openWire("rt", "rt0")
	if got := w.solicit(target, time.Second); got != 1 {
		t.Fatalf("%d NA after the binary's pages were let go, want 1", got)
	}

	// What is resident of the binary's read-only data stays well below all
	// of it: only what was read since came back. (Without the release, a
	// kernel that keeps the file as large folios maps nearly all of it.)
	pid := strconv.Itoa(d.cmd.Process.Pid)
	exe, err := os.Readlink("/proc/" + pid + "/exe")
	if err != nil {
		t.Fatal(err)
	}
	maps, err := os.ReadFile("/proc/" + pid + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	ro := imageMappings(string(maps), exe)
	smaps, err := os.ReadFile("/proc/" + pid + "/smaps")
	if err != nil {
		t.Fatal(err)
	}
	size, rss := 0, 0
	for _, m := range ro {
		size += int(m.end-m.start) >> 10
		rss += smapsRss(string(smaps), m.start)
	}
	if size == 0 || rss > size*2/3 {
		t.Errorf("%d kB of the binary's %d kB of read-only data resident", rss, size)
	}
	t.Logf("%d kB of the binary's %d kB of read-only data resident", rss, size)
	d.stop()
}

// smapsRss is the Rss of the mapping that starts at start in smaps.
func smapsRss(smaps string, start uintptr) int {
	in := false
	for line := range strings.Lines(smaps) {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], "-") {
			lo, _, _ := strings.Cut(f[0], "-")
			s, ok := parseHex(lo)
			in = ok && s == start
			continue
		}
		if v, ok := strings.CutPrefix(line, "Rss:"); ok && in {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
