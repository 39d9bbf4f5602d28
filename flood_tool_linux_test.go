//go:build floodtool && !nonetns

package main

// The solicitation flood of bench/bench.sh, built only with -tags floodtool
// so that it reuses the frame encoder and the packet socket. It is a load
// generator, not a test: it asserts nothing and prints what it measured.
//
//	go test -tags floodtool -c -o nsflood.test .
//	ip netns exec ROUTER ./nsflood.test -test.run TestFloodTool \
//	    -iface rt0 -range 2001:db8:1:2:646f:636b::/96 -count 100000 -rate 0

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

var (
	floodIface = flag.String("iface", "rt0", "interface to flood from")
	floodRange = flag.String("range", "2001:db8:1:2:646f:636b::/96", "targets are the first -count addresses of this prefix, after its first")
	floodCount = flag.Int("count", 100000, "solicitations to send, each for a distinct target")
	floodRate  = flag.Int("rate", 0, "solicitations per second, 0 for as fast as possible")
	floodWait  = flag.Duration("wait", 2*time.Second, "how long to wait for answers after the last send")
	floodSrc   = flag.String("src", "fe80::ff:fe00:1", "IPv6 source of the solicitations")
	floodFirst = flag.Int("first", 1, "the first target is this far into -range")
)

func TestFloodTool(t *testing.T) {
	prefix := netip.MustParsePrefix(*floodRange)
	src := netip.MustParseAddr(*floodSrc)
	ifi, err := net.InterfaceByName(*floodIface)
	if err != nil {
		t.Fatal(err)
	}
	sock, err := openPacketSocket(ifi.Index, naFilter())
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	var self mac
	copy(self[:], ifi.HardwareAddr)

	n := *floodCount
	target := func(i int) netip.Addr {
		a := prefix.Addr().As16()
		v := uint32(i + *floodFirst)
		a[12], a[13], a[14], a[15] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		return netip.AddrFrom16(a)
	}
	index := func(a netip.Addr) int {
		b := a.As16()
		return int(uint32(b[12])<<24|uint32(b[13])<<16|uint32(b[14])<<8|uint32(b[15])) - *floodFirst
	}
	sent := make([]time.Time, n)
	seen := make([]time.Duration, n) // 0 until answered
	var mu sync.Mutex
	answered, dups := 0, 0

	done := make(chan struct{})
	go func() {
		defer close(done)
		var na neighborAdvertisement
		for {
			b, err := sock.read()
			if err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, os.ErrClosed) {
					t.Error(err)
				}
				return
			}
			now := time.Now()
			if parseNA(b, &na) != nil || !prefix.Contains(na.Target) {
				continue
			}
			i := index(na.Target)
			if i < 0 || i >= n {
				continue
			}
			mu.Lock()
			if seen[i] == 0 && !sent[i].IsZero() {
				seen[i] = now.Sub(sent[i])
				answered++
			} else {
				dups++
			}
			mu.Unlock()
		}
	}()

	frame := make([]byte, 0, nsFrameMax)
	start := time.Now()
	var sendErrs int
	for i := 0; i < n; i++ {
		if *floodRate > 0 {
			if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(*floodRate))); d > 0 {
				time.Sleep(d)
			}
		}
		tg := target(i)
		frame = appendNS(frame[:0], self, multicastMAC(solicitedNode(tg)), src, solicitedNode(tg), tg, [6]byte{})
		mu.Lock()
		sent[i] = time.Now()
		mu.Unlock()
		if err := sock.write(frame); err != nil {
			sendErrs++
		}
	}
	sendTime := time.Since(start)
	sock.f.SetReadDeadline(time.Now().Add(*floodWait))
	<-done

	mu.Lock()
	defer mu.Unlock()
	var lat []time.Duration
	var last time.Time
	for i, d := range seen {
		if d > 0 {
			lat = append(lat, d)
			if at := sent[i].Add(d); at.After(last) {
				last = at
			}
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	answerTime := last.Sub(start)
	rate := 0.0
	if answerTime > 0 {
		rate = float64(answered) / answerTime.Seconds()
	}
	fmt.Printf("sent=%d send-errors=%d answered=%d duplicates=%d send-rate=%.0f/s na-rate=%.0f/s p50=%v p99=%v\n",
		n, sendErrs, answered, dups, float64(n)/sendTime.Seconds(), rate, pct(0.50), pct(0.99))
}
