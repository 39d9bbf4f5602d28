package main

// The Docker client against fake engines on unix sockets, in this process:
// no root needed. What the daemon does with them is in docker_linux_test.go.

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ndpresponder/internal/docker"
	"ndpresponder/internal/scope"
)

// fakeEngine serves each connection to its socket with serve, given the
// request's path and a channel closed when the test ends; the connection is
// closed when serve returns. The paths asked for arrive on requests.
type fakeEngine struct {
	sock     string
	requests chan string
	done     chan struct{} // closed when the test ends
}

func startFakeEngine(t *testing.T, serve func(path string, c net.Conn, done <-chan struct{})) *fakeEngine {
	t.Helper()
	e := &fakeEngine{sock: filepath.Join(t.TempDir(), "engine.sock"), requests: make(chan string, 1000), done: make(chan struct{})}
	ln, err := net.Listen("unix", e.sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{} // open ones only: a test may make thousands
	t.Cleanup(func() {
		close(e.done)
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					c.Close()
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
				}()
				r := bufio.NewReader(c)
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				for {
					h, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if strings.TrimSpace(h) == "" {
						break
					}
				}
				f := strings.Fields(line)
				if len(f) < 2 {
					return
				}
				select {
				case e.requests <- f[1]:
				default:
				}
				serve(f[1], c, e.done)
			}()
		}
	}()
	return e
}

// wait waits up to d for a request for a path that starts with prefix.
func (e *fakeEngine) wait(t *testing.T, prefix string, d time.Duration) bool {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case p := <-e.requests:
			if strings.HasPrefix(p, prefix) {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

// chunk frames s as one chunk of a chunked body.
func chunk(s string) string { return strconv.FormatInt(int64(len(s)), 16) + "\r\n" + s + "\r\n" }

const (
	fakeNetworkID = "5b1e0d9c6c4f3ad1c6b8a8e4e8f1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3"
	chunkedHead   = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)

// fakeListing is GET /networks/NAME's answer for containers with addrs.
func fakeListing(addrs ...netip.Addr) string {
	s := `{"Name":"ndpr6","Id":"` + fakeNetworkID + `","Driver":"bridge","EnableIPv6":true,"Containers":{`
	for i, a := range addrs {
		if i > 0 {
			s += ","
		}
		s += `"c` + strconv.Itoa(i) + `":{"Name":"c` + strconv.Itoa(i) + `","IPv6Address":"` + a.String() + `/112"}`
	}
	return s + `},"Options":{},"Labels":{}}`
}

// fakeEvent is a network event as Docker writes it.
func fakeEvent(action string) string {
	return `{"Type":"network","Action":"` + action + `","Actor":{"ID":"` + fakeNetworkID + `","Attributes":{"container":"c0","name":"ndpr6","type":"bridge"}},"scope":"local","time":1795770110,"timeNano":1795770110022057181}` + "\n"
}

func TestDockerClientDeadline(t *testing.T) {
	e := startFakeEngine(t, func(path string, c net.Conn, _ <-chan struct{}) { io.Copy(io.Discard, c) }) // never answers
	defer func(old time.Duration) { docker.Timeout = old }(docker.Timeout)
	docker.Timeout = 300 * time.Millisecond
	r := bufio.NewReaderSize(nil, docker.HTTPMaxLine)

	// An engine that accepts and never answers: the head's reading has a
	// deadline from the moment of connecting.
	start := time.Now()
	_, err := docker.Get(scope.New(), e.sock, "/events", r)
	if took := time.Since(start); err == nil || !strings.Contains(err.Error(), "no answer within 300ms") || took > 2*time.Second {
		t.Errorf("dockerGet(hung engine) = %v after %v; want no answer within 300ms", err, took)
	}

	// Cancelling interrupts the blocked read at once.
	docker.Timeout = time.Minute
	sc := scope.New()
	time.AfterFunc(200*time.Millisecond, sc.End)
	start = time.Now()
	_, _, _, _, err = docker.Network(sc, e.sock, "ndpr6", r, maxLearned)
	if took := time.Since(start); !errors.Is(err, scope.ErrEnded) || took > 700*time.Millisecond {
		t.Errorf("dockerNetwork(hung engine), its scope ended after 200ms = %v after %v; want errEnded at once", err, took)
	}
}

func TestDockerClientAnswers(t *testing.T) {
	a1, a2 := netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:c1"), netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:c2")
	listing := fakeListing(a1, a2)
	for _, c := range []struct {
		name, answer string
		want         string // an error it must contain; "" for the addresses
	}{
		{"content-length", "HTTP/1.0 200 OK\r\nContent-Length: " + strconv.Itoa(len(listing)) + "\r\n\r\n" + listing, ""},
		{"until close", "HTTP/1.0 200 OK\r\n\r\n" + listing, ""},
		{"chunked", chunkedHead + chunk(listing[:100]) + chunk(listing[100:]) + "0\r\n\r\n", ""},
		{"chunked one byte at a time", chunkedHead + func() string {
			s := ""
			for i := range len(listing) {
				s += chunk(listing[i : i+1])
			}
			return s + "0\r\n\r\n"
		}(), ""},
		{"404", "HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\n\r\n{}", "no network"},
		{"500", "HTTP/1.0 500 Internal Server Error\r\n\r\n{}", "network ndpr6: status 500"},
		{"closed mid-body", "HTTP/1.0 200 OK\r\nContent-Length: " + strconv.Itoa(len(listing)) + "\r\n\r\n" + listing[:100], "network ndpr6: the engine closed the connection mid-answer"},
		{"closed mid-chunk", chunkedHead + chunk(listing)[:200], "network ndpr6: the engine closed the connection mid-answer"},
		{"closed mid-head", "HTTP/1.0 200 OK\r\nContent-Le", "network ndpr6: the engine closed the connection mid-answer"},
		{"closed mid-JSON", "HTTP/1.0 200 OK\r\n\r\n" + listing[:100], "network ndpr6: the engine closed the connection mid-answer"},
		{"gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", `network ndpr6: transfer coding "gzip" is not supported`},
		{"too long", "HTTP/1.1 200 OK\r\nContent-Length: 20000000\r\n\r\n{\"Id\":\"x\",\"a\":\"" + strings.Repeat("a", docker.MaxListing) + `"}`, "network ndpr6: answer longer than 16777216 bytes"},
	} {
		e := startFakeEngine(t, func(path string, conn net.Conn, _ <-chan struct{}) { conn.Write([]byte(c.answer)) })
		_, addrs, _, ok, err := docker.Network(scope.New(), e.sock, "ndpr6", bufio.NewReaderSize(nil, docker.HTTPMaxLine), maxLearned)
		switch {
		case c.want == "no network":
			if ok || err != nil {
				t.Errorf("%s: dockerNetwork = %v, %v; want no network and no error", c.name, ok, err)
			}
		case c.want != "":
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: dockerNetwork = %v, %v; want the error %q", c.name, addrs, err, c.want)
			}
		case err != nil || !ok || len(addrs) != 2 || addrs[0] != a1 && addrs[1] != a1:
			t.Errorf("%s: dockerNetwork = %v, %v, %v; want %v and %v", c.name, addrs, ok, err, a1, a2)
		}
	}
}

// TestDockerNotGlobal: what the engine reports is a claim too. Addresses
// that are not global unicast (link-local, multicast, loopback) are not
// made live, and are counted; the global one is.
func TestDockerNotGlobal(t *testing.T) {
	global := netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:c1")
	listing := fakeListing(global, netip.MustParseAddr("fe80::c2"), netip.MustParseAddr("ff02::1"), netip.MustParseAddr("::1"))
	e := startFakeEngine(t, func(path string, c net.Conn, done <-chan struct{}) {
		if strings.HasPrefix(path, "/events") {
			c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n"))
			<-done // an event stream with nothing to say
			return
		}
		c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n" + listing))
	})
	d, _ := dockerTestDaemon(t, e.sock, "-n", "2001:db8:1:2::/64")
	for deadline := time.Now().Add(5 * time.Second); d.r.live.Load() == nil && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	l := d.r.live.Load()
	if l == nil || !l.Has(global) || len(l.m) != 1 {
		t.Fatalf("live after the listing = %v, want only %v", l, global)
	}
	if n := d.c.dockerNotGlobal.Load(); n != 3 {
		t.Errorf("docker-not-global = %d, want 3", n)
	}
}
