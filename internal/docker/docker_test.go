package docker

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// maxLearned is the daemon's bound on live addresses (learn.go), which it
// hands Network as max.
const maxLearned = 4096

// splitAnswer splits a recorded HTTP answer into its head and a reader of its
// body.
func splitAnswer(t *testing.T, raw []byte) (httpHead, *httpBody) {
	t.Helper()
	r := bufio.NewReaderSize(bytes.NewReader(raw), HTTPMaxLine)
	h, err := readHTTPHead(r)
	if err != nil {
		t.Fatalf("readHTTPHead(%.40q) = %v", raw, err)
	}
	return h, newHTTPBody(r, h, 1<<20)
}

func readBody(b io.ByteReader) ([]byte, error) {
	var out []byte
	for {
		c, err := b.ReadByte()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}

func TestParseDockerNetwork(t *testing.T) {
	docker, err := os.ReadFile("testdata/docker/network-inspect.json")
	if err != nil {
		t.Fatal(err)
	}
	podmanRaw, err := os.ReadFile("testdata/docker/podman-network-inspect.http")
	if err != nil {
		t.Fatal(err)
	}
	_, podmanBody := splitAnswer(t, podmanRaw)
	podman, err := readBody(podmanBody)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, id string
		body     []byte
		want     []netip.Addr
	}{
		{"docker", "911140e2dffe3429493e343c632b2d02a7eec5b07e2149837ef793d641473f45", docker,
			[]netip.Addr{netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:2"), netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:c2")}},
		{"podman", "8d2cad143f5df7f926e6299a878d7b27c1ea98f85048a474fe6312f20aa6937b", podman,
			[]netip.Addr{netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:c1")}},
	} {
		id, addrs, more, err := parseDockerNetwork(bytes.NewReader(c.body), maxLearned)
		slices.SortFunc(addrs, netip.Addr.Compare)
		if err != nil || id != c.id || more != 0 || !slices.Equal(addrs, c.want) {
			t.Errorf("parseDockerNetwork(%s) = %q, %v, %d, %v; want %v", c.name, id, addrs, more, err, c.want)
		}
		if _, addrs, more, err := parseDockerNetwork(bytes.NewReader(c.body), 0); err != nil || len(addrs) != 0 || more != len(c.want) {
			t.Errorf("parseDockerNetwork(%s, max 0) = %v, %d more, %v; want none and %d more", c.name, addrs, more, err, len(c.want))
		}
		// Every cut of the recorded answer is an error.
		for i := range len(bytes.TrimSpace(c.body)) {
			if _, got, _, err := parseDockerNetwork(bytes.NewReader(c.body[:i]), maxLearned); err == nil {
				t.Fatalf("parseDockerNetwork(%s cut at %d) = %v, no error", c.name, i, got)
			}
		}
	}
	for _, bad := range []string{"", "null", "[]", `{"Id":""}`, `{"Id":1}`, `{"Id":"` + strings.Repeat("a", 300) + `"}`} {
		if _, addrs, _, err := parseDockerNetwork(strings.NewReader(bad), maxLearned); err == nil {
			t.Errorf("parseDockerNetwork(%.40q) = %v, no error", bad, addrs)
		}
	}
	for _, odd := range []string{`{"Id":"x","Containers":{"a":{"IPv6Address":"not an address"}}}`, `{"Id":"x","Containers":null}`,
		`{"Id":"x","Containers":{"a":{"IPv6Address":"172.31.0.2/24"}}}`, `{"Id":"x","Containers":[1,2]}`, `{"Id":"x","Containers":{"a":{"IPv6Address":5}}}`} {
		if id, addrs, _, err := parseDockerNetwork(strings.NewReader(odd), maxLearned); err != nil || id != "x" || len(addrs) != 0 {
			t.Errorf("parseDockerNetwork(%q) = %q, %v, %v; want x and no address", odd, id, addrs, err)
		}
	}
}

func TestParseDockerEvents(t *testing.T) {
	const (
		dockerNet = "911140e2dffe3429493e343c632b2d02a7eec5b07e2149837ef793d641473f45"
		c2        = "7aa2f7512e47d168a83f25d12e917f93c032552148d7bb73f3ecb4c1dd1be7a9"
	)
	for _, c := range []struct {
		file    string
		chunked bool
		want    []string // Type Action Actor Name Driver, and whether it concerns ndpr6
	}{
		{"events-http.raw", false, []string{
			"network connect " + dockerNet + " ndpr6 bridge true",
			"network connect " + dockerNet + " ndpr6 bridge true",
			"network disconnect " + dockerNet + " ndpr6 bridge true",
			"network disconnect " + dockerNet + " ndpr6 bridge true",
		}},
		// Podman answers an HTTP/1.1 request in chunks; its network events
		// name the container, and it says nothing of the network when a
		// container starts on it.
		{"podman-events-http11.raw", true, []string{
			"container create 8a220b7c91d224a74c0964011c37e28d0bd65d8eb7163dc69633526ca840b695 c1  false",
			"container init 8a220b7c91d224a74c0964011c37e28d0bd65d8eb7163dc69633526ca840b695 c1  false",
			"container start 8a220b7c91d224a74c0964011c37e28d0bd65d8eb7163dc69633526ca840b695 c1  true",
			"container create " + c2 + " c2  false",
			"container init " + c2 + " c2  false",
			"container start " + c2 + " c2  true",
			"network disconnect " + c2 + " c2  true",
			"network connect " + c2 + " c2  true",
			"container stop " + c2 + " c2  false",
			"container die " + c2 + " c2  true",
			"container remove " + c2 + " c2  false",
		}},
	} {
		raw, err := os.ReadFile("testdata/docker/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		h, body := splitAnswer(t, raw)
		if h.code != 200 || h.chunked != c.chunked {
			t.Errorf("%s: head = %+v, want 200, chunked %v", c.file, h, c.chunked)
		}
		d := newJSONDecoder(body)
		var got []string
		for {
			more, err := d.more()
			if err != nil && !errors.Is(err, errCutShort) {
				t.Fatalf("%s: after %d events: %v", c.file, len(got), err)
			}
			if !more {
				break
			}
			e, err := parseDockerEvent(d)
			if err != nil {
				t.Fatalf("%s: event %d: %v", c.file, len(got), err)
			}
			concerns := e.Concerns([]string{"ndpr6"}, map[string]bool{})
			got = append(got, strings.Join([]string{e.Type, e.Action, e.Actor, e.Name, e.Driver, map[bool]string{true: "true", false: "false"}[concerns]}, " "))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: events\n%s\nwant\n%s", c.file, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
	for _, bad := range []string{"", "{", `{"Type":"network"`, "\x00", `{"Type":"network","Actor":{"ID":[}}`} {
		if _, err := parseDockerEvent(newJSONDecoder(strings.NewReader(bad))); err == nil {
			t.Errorf("parseDockerEvent(%q): no error", bad)
		}
	}
}

func TestDockerEventConcerns(t *testing.T) {
	ids := map[string]bool{"abc": true}
	for _, c := range []struct {
		e    Event
		want bool
	}{
		{Event{Type: "network", Action: "connect", Actor: "abc", Name: "renamed", Driver: "bridge"}, true},
		{Event{Type: "network", Action: "connect", Actor: "def", Name: "ndpr6", Driver: "bridge"}, true},
		{Event{Type: "network", Action: "connect", Actor: "ndpr6", Name: "x", Driver: "bridge"}, true},
		{Event{Type: "network", Action: "connect", Actor: "def", Name: "other", Driver: "bridge"}, false},
		{Event{Type: "network", Action: "connect", Actor: "def", Name: "c1"}, true}, // Podman's
		{Event{Type: "container", Action: "start"}, true},
		{Event{Type: "container", Action: "die"}, true},
		{Event{Type: "container", Action: "exec_start"}, false},
		{Event{Type: "image", Action: "pull"}, false},
	} {
		if got := c.e.Concerns([]string{"ndpr6"}, ids); got != c.want {
			t.Errorf("%+v.concerns = %v, want %v", c.e, got, c.want)
		}
	}
}

func TestReadHTTPHead(t *testing.T) {
	raw, err := os.ReadFile("testdata/docker/network-404.http")
	if err != nil {
		t.Fatal(err)
	}
	if h, body := splitAnswer(t, raw); h.code != 404 || h.length != 39 || h.chunked {
		t.Errorf("readHTTPHead(recorded 404) = %+v", h)
	} else if b, err := readBody(body); err != nil || string(b) != `{"message":"network nosuch not found"}`+"\n" {
		t.Errorf("body of the recorded 404 = %q, %v", b, err)
	}
	for in, want := range map[string]httpHead{
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nContent-Length: 5\r\n\r\n": {200, true, 5},
		"HTTP/1.0 200 OK\ncontent-length:  12 \n\n":                                  {200, false, 12},
		"HTTP/1.1 204 No Content\r\nContent-Encoding: identity\r\n\r\n":              {204, false, -1},
	} {
		if got, err := readHTTPHead(bufio.NewReader(strings.NewReader(in))); got != want || err != nil {
			t.Errorf("readHTTPHead(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "SSH-2.0-x\r\n\r\n", "HTTP/1.0 abc OK\r\n\r\n", "HTTP/1.0 2000 OK\r\n\r\n", "HTTP/1.0 200 OK\r\nServer: x\r\n",
		"HTTP/1.0 200 OK\r\n" + strings.Repeat("X: y\r\n", 65) + "\r\n",
		"HTTP/1.0 200 OK\r\nX: " + strings.Repeat("y", HTTPMaxLine) + "\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	} {
		if h, err := readHTTPHead(bufio.NewReaderSize(strings.NewReader(bad), HTTPMaxLine)); err == nil {
			t.Errorf("readHTTPHead(%.60q) = %+v, no error", bad, h)
		}
	}
}

func TestHTTPBody(t *testing.T) {
	const (
		chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		length  = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
		closed  = "HTTP/1.0 200 OK\r\n\r\n"
	)
	long := strings.Repeat("x", 0x3f)
	for _, c := range []struct {
		in, want string
		err      error // nil: any error will do when want is "!"
	}{
		// Sizes are hex: 3f is 63 bytes, not 3.
		{chunked + "3f\r\n" + long + "\r\n0\r\n\r\n", long, nil},
		{chunked + "3F;name=value\r\n" + long + "\r\n1\r\n!\r\n0\r\nTrailer: x\r\n\r\n", long + "!", nil},
		{chunked + "a\nabcdefghij\n0\n\n", "abcdefghij", nil},
		{chunked + "5\r\nab", "!", errCutShort},
		{chunked + "5\r\nabcde\r\n", "!", errCutShort},
		{chunked + "5\r\nabcdeXY3\r\nabc\r\n0\r\n\r\n", "!", nil},
		{chunked + "g\r\nabc\r\n", "!", nil},
		{chunked + "-1\r\nabc\r\n", "!", nil},
		{chunked + "ffffffffffffffffff\r\n", "!", nil},
		{chunked + "0\r\n" + strings.Repeat("X: y\r\n", 65) + "\r\n", "!", nil},
		{length + "abcdefgh", "abcde", nil},
		{length + "abc", "!", errCutShort},
		{closed + "abc", "abc", nil},
		{chunked + "400\r\n" + strings.Repeat("y", 0x400) + "\r\n0\r\n\r\n", "!", errTooLong},
	} {
		r := bufio.NewReaderSize(strings.NewReader(c.in), HTTPMaxLine)
		h, err := readHTTPHead(r)
		if err != nil {
			t.Fatalf("readHTTPHead(%.40q) = %v", c.in, err)
		}
		got, err := readBody(newHTTPBody(r, h, 1000))
		switch {
		case c.want != "!" && (err != nil || string(got) != c.want):
			t.Errorf("body of %.50q = %.20q, %v; want %.20q", c.in, got, err, c.want)
		case c.want == "!" && (err == nil || c.err != nil && !errors.Is(err, c.err)):
			t.Errorf("body of %.50q = %.20q, %v; want error %v", c.in, got, err, c.err)
		}
	}
}

// TestDockerHostileBodies: a listing of 4 MiB built to cost the most memory
// in a decoder that builds a tree (the one this replaced allocated 200 MB
// for "numbers") costs the streaming decoder next to nothing: what it keeps
// is bounded, and what it skips it does not store.
func TestDockerHostileBodies(t *testing.T) {
	const size = 4 << 20
	fill := func(head, unit, tail string) []byte {
		b := []byte(head)
		for len(b) < size {
			b = append(b, unit...)
		}
		return append(b, tail...)
	}
	addr := `{"IPv6Address":"2001:db8::1/64"}`
	for _, c := range []struct {
		name    string
		body    []byte
		wantErr bool
	}{
		{"numbers", fill(`{"Id":"x","Junk":[`, "1,", "1]}"), false},
		{"empty objects", fill(`{"Id":"x","Junk":[`, "{},", "{}]}"), false},
		{"keys", fill(`{"Id":"x","Junk":{`, `"k":1,`, `"k":1}}`), false},
		{"one long string", fill(`{"Id":"`, "a", `"}`), true},
		{"containers", fill(`{"Id":"x","Containers":{`, `"c":`+addr+`,`, `"c":`+addr+`}}`), false},
		{"unclosed", fill(`{"Id":"x","Containers":{"c":`, "[", ""), true},
		{"never ends", fill(`{"Id":"x","Junk":[`, "1,", ""), true},
	} {
		r := bytes.NewReader(c.body)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, addrs, more, err := parseDockerNetwork(r, maxLearned)
		runtime.ReadMemStats(&after)
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d bytes in, %d allocated, %d addresses kept, %d more, %v", c.name, len(c.body), allocated, len(addrs), more, err)
		if (err != nil) != c.wantErr {
			t.Errorf("%s: err = %v, want an error: %v", c.name, err, c.wantErr)
		}
		if len(addrs) > maxLearned {
			t.Errorf("%s: %d addresses kept, more than %d", c.name, len(addrs), maxLearned)
		}
		// What is skipped costs nothing; each address kept, its parsing.
		if budget := 64<<10 + 128*uint64(len(addrs)); allocated > budget {
			t.Errorf("%s: decoding %d bytes allocated %d bytes, want at most %d", c.name, len(c.body), allocated, budget)
		}
	}
}
