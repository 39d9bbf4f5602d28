package docker

// -N: Docker network mode. What the Docker Engine API's answers mean, and
// how HTTP/1.x frames them, as plain Go; client_linux.go talks to the
// engine over its unix socket. Every answer is read as a stream with
// bounds on each line and each body, and decoded as it is read: nothing an
// engine (or a proxy in front of it) sends can hold more than a few
// kilobytes of memory.

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

const (
	defaultDockerSocket = "/var/run/docker.sock"

	HTTPMaxLine    = 4 << 10  // a header or chunk-size line; also the reader's buffer
	httpMaxHeaders = 64       // header lines of one answer
	MaxListing     = 16 << 20 // bytes of one network's listing (4,096 containers take about 2 MB)
	dockerMaxEvent = 64 << 10 // bytes of one event (the engine's are under 1 kB)
)

var (
	errCutShort = errors.New("the engine closed the connection mid-answer")
	errTooLong  = errors.New("answer longer than allowed")
)

// dockerSocket is the engine's unix socket, from DOCKER_HOST
// (unix:///path) or the default.
func Socket(dockerHost string) (string, error) {
	if dockerHost == "" {
		return defaultDockerSocket, nil
	}
	path, ok := strings.CutPrefix(dockerHost, "unix://")
	if !ok || path == "" {
		return "", errors.New("DOCKER_HOST=" + dockerHost + ": only unix:// engines are supported")
	}
	return path, nil
}

// checkDockerName accepts what Docker accepts as a network name or ID:
// [a-zA-Z0-9][a-zA-Z0-9_.-]*, which needs no escaping in a path.
func CheckName(name string) error {
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && (c == '_' || c == '.' || c == '-')
		if !ok {
			return errors.New(strconv.Quote(name) + " is not a Docker network name")
		}
	}
	if name == "" {
		return errors.New("empty Docker network name")
	}
	return nil
}

// dockerNetworkPath is the API path that inspects a network.
func dockerNetworkPath(name string) string { return "/networks/" + name }

// dockerEventsPath streams the engine's network and container events:
// {"type":["network","container"]}.
const EventsPath = `/events?filters=%7B%22type%22%3A%5B%22network%22%2C%22container%22%5D%7D`

// parseDockerNetwork reads GET /networks/NAME: the network's ID and the
// IPv6 addresses of its connected containers, at most max of them; more
// counts those left out.
func parseDockerNetwork(r io.ByteReader, max int) (id string, addrs []netip.Addr, more int, err error) {
	d := newJSONDecoder(r)
	err = d.object(func(key []byte) error {
		switch string(key) {
		case "Id":
			s, ok, err := d.str()
			if ok {
				id = string(s)
			}
			return err
		case "Containers":
			return d.object(func([]byte) error {
				return d.object(func(key []byte) error {
					if string(key) != "IPv6Address" {
						return d.skip()
					}
					s, ok, err := d.str()
					if err != nil || !ok || len(s) == 0 {
						return err
					}
					if len(addrs) >= max {
						more++ // not parsed: parsing allocates
						return nil
					}
					p, perr := netip.ParsePrefix(string(s))
					if perr != nil || !p.Addr().Is6() {
						return nil
					}
					addrs = append(addrs, p.Addr())
					return nil
				})
			})
		}
		return d.skip()
	})
	if err != nil {
		return "", nil, 0, d.end(err)
	}
	if id == "" {
		return "", nil, 0, errors.New("no Id")
	}
	return id, addrs, more, nil
}

// dockerEvent is what matters of one event of GET /events.
type Event struct {
	Type   string
	Action string // connect, disconnect, create, destroy...
	Actor  string // Actor.ID
	Name   string // Actor.Attributes.name
	Driver string // Actor.Attributes.type
}

// parseDockerEvent reads the next event of a stream.
func parseDockerEvent(d *jsonDecoder) (Event, error) {
	var e Event
	str := func(p *string) error {
		s, ok, err := d.str()
		if ok {
			*p = string(s)
		}
		return err
	}
	err := d.object(func(key []byte) error {
		switch string(key) {
		case "Type":
			return str(&e.Type)
		case "Action":
			return str(&e.Action)
		case "Actor":
			return d.object(func(key []byte) error {
				switch string(key) {
				case "ID":
					return str(&e.Actor)
				case "Attributes":
					return d.object(func(key []byte) error {
						switch string(key) {
						case "name":
							return str(&e.Name)
						case "type":
							return str(&e.Driver)
						}
						return d.skip()
					})
				}
				return d.skip()
			})
		}
		return d.skip()
	})
	return e, err
}

// concerns reports whether the event may change the listing of the
// networks (names or IDs, as -N gives them) whose IDs are in ids. Docker's
// network events name the network as their Actor, with its driver as an
// attribute. Podman's (4.3) name the container instead and say nothing of
// the network, so each may concern ours; and Podman sends no network
// event when a container starts on a network or dies, so a container's
// start and death may concern ours too.
func (e Event) Concerns(networks []string, ids map[string]bool) bool {
	switch {
	case e.Type == "container":
		return e.Action == "start" || e.Action == "die"
	case e.Type != "network":
		return false
	case e.Driver == "" || ids[e.Actor]:
		return true
	}
	for _, n := range networks {
		if e.Name == n || e.Actor == n {
			return true
		}
	}
	return false
}

// httpHead is what matters of an answer's status line and headers.
type httpHead struct {
	code    int
	chunked bool  // Transfer-Encoding: chunked
	length  int64 // Content-Length; -1: the body ends when the connection does
}

// readHTTPHead reads an HTTP/1.x status line and headers (RFC 9112). A
// line longer than r's buffer is refused, and so are more than
// httpMaxHeaders lines and transfer codings other than chunked.
func readHTTPHead(r *bufio.Reader) (httpHead, error) {
	h := httpHead{length: -1}
	line, err := httpLine(r)
	if err != nil {
		return h, err
	}
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return h, errors.New("not an HTTP answer: " + strconv.Quote(line))
	}
	if h.code, err = strconv.Atoi(f[1]); err != nil || len(f[1]) != 3 {
		return h, errors.New("bad status " + strconv.Quote(f[1]))
	}
	for n := 0; ; n++ {
		line, err := httpLine(r)
		if err != nil {
			return h, err
		}
		if line == "" {
			return h, nil
		}
		if n >= httpMaxHeaders {
			return h, errors.New("more than 64 header lines")
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "transfer-encoding":
			if !strings.EqualFold(value, "chunked") {
				return h, errors.New("transfer coding " + strconv.Quote(value) + " is not supported")
			}
			h.chunked = true
		case "content-length":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 || h.length >= 0 && h.length != n {
				return h, errors.New("bad Content-Length " + strconv.Quote(value))
			}
			h.length = n
		case "content-encoding":
			if !strings.EqualFold(value, "identity") {
				return h, errors.New("content coding " + strconv.Quote(value) + " is not supported")
			}
		}
	}
}

// httpLine reads a line of the head or of chunked framing, without its
// CRLF; it must fit in r's buffer.
func httpLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", errors.New("a line of the answer is longer than " + strconv.Itoa(r.Size()) + " bytes")
	case err == io.EOF:
		return "", errCutShort
	case err != nil:
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// httpBody reads an answer's body as its head frames it: chunked
// (RFC 9112 §7.1), Content-Length bytes, or up to the end of the
// connection; never more than its limit.
type httpBody struct {
	r       *bufio.Reader
	chunked bool
	left    int64 // bytes left of this chunk or of Content-Length; -1: until the connection ends
	limit   int64 // bytes the body may still hold
	started bool  // a chunk was read, so a CRLF comes before the next size
	err     error // sticky
}

func newHTTPBody(r *bufio.Reader, h httpHead, limit int64) *httpBody {
	b := &httpBody{r: r, chunked: h.chunked, left: h.length, limit: limit}
	if h.chunked {
		b.left = 0
	}
	return b
}

// ReadByte returns the next byte of the body, io.EOF at its end.
func (b *httpBody) ReadByte() (byte, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.left == 0 {
		if !b.chunked {
			b.err = io.EOF
			return 0, io.EOF
		}
		if b.err = b.nextChunk(); b.err != nil {
			return 0, b.err
		}
	}
	if b.limit <= 0 {
		b.err = errTooLong
		return 0, b.err
	}
	c, err := b.r.ReadByte()
	if err != nil {
		if err == io.EOF && b.left > 0 {
			err = errCutShort // Content-Length or a chunk said there was more
		}
		b.err = err
		return 0, err
	}
	b.limit--
	if b.left > 0 {
		b.left--
	}
	return c, nil
}

// nextChunk reads the framing up to the next chunk's data, or through the
// trailer after the last chunk (io.EOF).
func (b *httpBody) nextChunk() error {
	if b.started {
		if line, err := httpLine(b.r); err != nil {
			return err
		} else if line != "" {
			return errors.New("chunk not followed by CRLF")
		}
	}
	b.started = true
	line, err := httpLine(b.r)
	if err != nil {
		return err
	}
	size, _, _ := strings.Cut(line, ";") // chunk extensions are ignored
	n, err := strconv.ParseUint(strings.TrimSpace(size), 16, 63)
	if err != nil {
		return errors.New("bad chunk size " + strconv.Quote(line))
	}
	if n > 0 {
		b.left = int64(n)
		return nil
	}
	for range httpMaxHeaders {
		if line, err := httpLine(b.r); err != nil {
			return err
		} else if line == "" {
			return io.EOF
		}
	}
	return errors.New("more than 64 trailer lines")
}
