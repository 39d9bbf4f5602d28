// Package docker is the client of the container engine (Docker, or
// Podman's compatible API) for -N: where its socket is (DOCKER_HOST), one
// GET over HTTP/1.0 on that unix socket at a time, the answer's head and
// body (chunked or not) read as a stream with a bound on every line and
// body, and the JSON reader that decodes a network's listing and the
// stream of events as they come, without encoding/json.
//
// It owns the connection and the wire formats. It must not know what the
// daemon does with an address: which are live, what is in scope, when to
// list again. The watcher in package main (docker_linux.go) decides that,
// and hands the addresses to the live publisher. The exchanges end with
// the scope they run under (internal/scope).
package docker
