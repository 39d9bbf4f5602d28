//go:build !nonetns

package main

// The daemon lets go of its binary's pages once started, and keeps
// answering from what comes back.

import (
	"net/netip"
	"os"
	"regexp"
	"strconv"
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
	w.send(appendNS(nil, w.mac, multicastMAC(solicitedNode(target)), routerLL, solicitedNode(target), target, [6]byte{}))
	if got := len(w.nas(target, time.Second, 1)); got != 1 {
		t.Fatalf("%d NA after the binary's pages were let go, want 1", got)
	}

	// What is mapped of the binary stays well below all of it: only what
	// ran since came back. (Without the release, a kernel that keeps the
	// file as large folios maps nearly all of it.)
	pid := strconv.Itoa(d.cmd.Process.Pid)
	exe, err := os.Readlink("/proc/" + pid + "/exe")
	if err != nil {
		t.Fatal(err)
	}
	maps, err := os.ReadFile("/proc/" + pid + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	image := 0
	for _, mp := range imageMappings(string(maps), exe) {
		image += int(mp.end-mp.start) >> 10
	}
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	file, ok := statusKB(string(status), "RssFile")
	if !ok || image == 0 || file > image*4/5 {
		t.Errorf("RssFile %d kB of a binary mapped in %d kB (%v)", file, image, ok)
	}
	d.stop()
}
