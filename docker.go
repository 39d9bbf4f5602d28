package main

// -N: Docker network mode. What the Docker Engine API's answers mean, as
// plain Go; docker_linux.go talks to the engine over its unix socket with
// HTTP/1.0.

import (
	"bufio"
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

const defaultDockerSocket = "/var/run/docker.sock"

// dockerSocket is the engine's unix socket, from DOCKER_HOST
// (unix:///path) or the default.
func dockerSocket(dockerHost string) (string, error) {
	if dockerHost == "" {
		return defaultDockerSocket, nil
	}
	path, ok := strings.CutPrefix(dockerHost, "unix://")
	if !ok || path == "" {
		return "", errf("DOCKER_HOST=%s: only unix:// engines are supported", dockerHost)
	}
	return path, nil
}

// checkDockerName accepts what Docker accepts as a network name or ID:
// [a-zA-Z0-9][a-zA-Z0-9_.-]*, which needs no escaping in a path.
func checkDockerName(name string) error {
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && (c == '_' || c == '.' || c == '-')
		if !ok {
			return errf("%q is not a Docker network name", name)
		}
	}
	if name == "" {
		return errors.New("empty Docker network name")
	}
	return nil
}

// dockerNetworkPath is the API path that inspects a network.
func dockerNetworkPath(name string) string { return "/networks/" + name }

// dockerEventsPath streams the engine's network events.
const dockerEventsPath = `/events?filters=%7B%22type%22%3A%5B%22network%22%5D%7D`

// parseDockerNetwork reads GET /networks/NAME: the network's ID and the
// IPv6 addresses of its connected containers.
func parseDockerNetwork(body []byte) (id string, addrs []netip.Addr, err error) {
	v, _, err := parseJSON(body)
	if err != nil {
		return "", nil, errf("docker: network: %w", err)
	}
	id, _ = jsonPath(v, "Id").(string)
	if id == "" {
		return "", nil, errors.New("docker: network: no Id")
	}
	containers, _ := jsonPath(v, "Containers").(map[string]any)
	for _, c := range containers {
		s, _ := jsonPath(c, "IPv6Address").(string)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is6() {
			continue
		}
		addrs = append(addrs, p.Addr())
	}
	return id, addrs, nil
}

// dockerEvent is what matters of one event of GET /events.
type dockerEvent struct {
	Action      string // connect, disconnect, create, destroy...
	NetworkID   string
	NetworkName string
}

// parseDockerEvent reads one network event.
func parseDockerEvent(line []byte) (dockerEvent, error) {
	v, _, err := parseJSON(line)
	if err != nil {
		return dockerEvent{}, errf("docker: event: %w", err)
	}
	if t, _ := jsonPath(v, "Type").(string); t != "network" {
		return dockerEvent{}, errors.New("docker: event: not a network event")
	}
	var e dockerEvent
	e.Action, _ = jsonPath(v, "Action").(string)
	e.NetworkID, _ = jsonPath(v, "Actor", "ID").(string)
	e.NetworkName, _ = jsonPath(v, "Actor", "Attributes", "name").(string)
	return e, nil
}

// readHTTPHead reads an HTTP/1.x status line and headers, and returns the
// status code.
func readHTTPHead(r *bufio.Reader) (int, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, errf("docker: reading the answer: %w", err)
	}
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return 0, errf("docker: not an HTTP answer: %q", strings.TrimSpace(line))
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, errf("docker: bad status %q", f[1])
	}
	for n := 0; ; n++ {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, errf("docker: reading headers: %w", err)
		}
		if strings.TrimRight(line, "\r\n") == "" {
			return code, nil
		}
		if n > 100 {
			return 0, errors.New("docker: too many headers")
		}
	}
}
