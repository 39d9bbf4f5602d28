package main

import (
	"bufio"
	"bytes"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseDockerNetwork(t *testing.T) {
	body, err := os.ReadFile("testdata/docker/network-inspect.json")
	if err != nil {
		t.Fatal(err)
	}
	id, addrs, err := parseDockerNetwork(body)
	slices.SortFunc(addrs, netip.Addr.Compare)
	want := []netip.Addr{netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:2"), netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:c2")}
	if err != nil || id != "911140e2dffe3429493e343c632b2d02a7eec5b07e2149837ef793d641473f45" || !slices.Equal(addrs, want) {
		t.Errorf("parseDockerNetwork(recorded) = %q, %v, %v; want %v", id, addrs, err, want)
	}
	// Every cut of the recorded answer is an error or a subset, never a panic.
	for i := range body {
		if _, got, err := parseDockerNetwork(body[:i]); err == nil && len(got) > len(want) {
			t.Fatalf("parseDockerNetwork(cut at %d) = %v", i, got)
		}
	}
	for _, bad := range []string{"", "null", "[]", `{"Id":""}`, `{"Id":"x","Containers":{"a":{"IPv6Address":"not an address"}}}`,
		`{"Id":"x","Containers":{"a":{"IPv6Address":"172.31.0.2/24"}}}`, `{"Id":"x","Containers":[1,2]}`} {
		_, addrs, err := parseDockerNetwork([]byte(bad))
		if err == nil && len(addrs) != 0 {
			t.Errorf("parseDockerNetwork(%q) = %v, want no address", bad, addrs)
		}
	}
}

func TestParseDockerEvents(t *testing.T) {
	raw, err := os.ReadFile("testdata/docker/events-http.raw")
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(bytes.NewReader(raw))
	if code, err := readHTTPHead(r); code != 200 || err != nil {
		t.Fatalf("readHTTPHead(recorded events) = %d, %v", code, err)
	}
	var actions []string
	for {
		line, err := r.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			break
		}
		e, err := parseDockerEvent(line)
		if err != nil {
			t.Fatalf("parseDockerEvent(%s) = %v", line, err)
		}
		if e.NetworkName != "ndpr6" || e.NetworkID != "911140e2dffe3429493e343c632b2d02a7eec5b07e2149837ef793d641473f45" {
			t.Errorf("parseDockerEvent(%s) = %+v", line, e)
		}
		actions = append(actions, e.Action)
	}
	if want := []string{"connect", "connect", "disconnect", "disconnect"}; !slices.Equal(actions, want) {
		t.Errorf("actions = %v, want %v", actions, want)
	}
	for _, bad := range []string{"", "{", `{"Type":"container","Action":"start"}`, `{"Type":"network"`, "\x00"} {
		if _, err := parseDockerEvent([]byte(bad)); err == nil {
			t.Errorf("parseDockerEvent(%q): no error", bad)
		}
	}
}

func TestReadHTTPHead(t *testing.T) {
	raw, err := os.ReadFile("testdata/docker/network-404.http")
	if err != nil {
		t.Fatal(err)
	}
	if code, err := readHTTPHead(bufio.NewReader(bytes.NewReader(raw))); code != 404 || err != nil {
		t.Errorf("readHTTPHead(recorded 404) = %d, %v", code, err)
	}
	for _, bad := range []string{"", "SSH-2.0-x\r\n\r\n", "HTTP/1.0 abc OK\r\n\r\n", "HTTP/1.0 200 OK\r\nServer: x\r\n", "HTTP/1.0 200 OK\r\n" + strings.Repeat("X: y\r\n", 200) + "\r\n"} {
		if _, err := readHTTPHead(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("readHTTPHead(%.40q): no error", bad)
		}
	}
}

func TestDockerConfig(t *testing.T) {
	for host, want := range map[string]string{"": defaultDockerSocket, "unix:///run/user/1000/docker.sock": "/run/user/1000/docker.sock"} {
		if got, err := dockerSocket(host); got != want || err != nil {
			t.Errorf("dockerSocket(%q) = %q, %v; want %q", host, got, err, want)
		}
	}
	for _, host := range []string{"tcp://127.0.0.1:2375", "unix://", "ssh://x"} {
		if _, err := dockerSocket(host); err == nil {
			t.Errorf("dockerSocket(%q): no error", host)
		}
	}
	for _, name := range []string{"ndpr6", "my_net.v6-1", "0abc"} {
		if err := checkDockerName(name); err != nil {
			t.Errorf("checkDockerName(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"", "-x", "a/b", "a b", "a?b", "../x"} {
		if err := checkDockerName(name); err == nil {
			t.Errorf("checkDockerName(%q): no error", name)
		}
	}
}
