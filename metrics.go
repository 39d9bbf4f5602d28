package main

// -metrics: the counters and the gateway's state in the Prometheus text
// exposition format (version 0.0.4), for node_exporter's textfile collector,
// which reads every *.prom file of a directory at each scrape. No HTTP
// server: the daemon writes a file, atomically, and node_exporter serves it.

import (
	"strconv"
	"time"
)

// metricsEvery is how often the metrics file is rewritten; SIGUSR1 rewrites
// it at once. Prometheus scrapes every 15 to 60 s, so a file this fresh is
// as fresh as a scrape sees.
const metricsEvery = 15 * time.Second

// Label values of ndpresponder_solicitations_received_total's outcome.
const (
	outcomeAnswered = "answered" // an NA was sent
	outcomeInvalid  = "invalid"  // not a valid NS (RFC 4861 §7.1.1)
	outcomeIgnored  = "ignored"  // valid, but not ours to answer
)

// outcome sorts an unanswered solicitation's reason: reason.go lists the
// checks of the wire format first, from reasonTruncated on, and the
// decisions of the policy from reasonOwnFrame on.
func (r reason) outcome() string {
	if r < reasonOwnFrame {
		return outcomeInvalid
	}
	return outcomeIgnored
}

// appendMetrics appends every metric, each family with its HELP and TYPE
// lines. Counters end in _total and times are in seconds, as Prometheus's
// naming conventions ask; every label value that can occur is written from
// the start, zero or not, so that rate() sees a series begin at zero.
func appendMetrics(b []byte, c *counters) []byte {
	b = appendFamily(b, "ndpresponder_build_info", "gauge", "The running daemon's version, in the label; always 1.")
	b = appendSample(b, "ndpresponder_build_info", "version", version, "", "", 1)

	const received = "ndpresponder_solicitations_received_total"
	b = appendFamily(b, received, "counter", "Neighbor Solicitations received, by outcome; those not answered by the reason why.")
	b = appendSample(b, received, "outcome", outcomeAnswered, "", "", c.answered.Load())
	for r := reasonNone + 1; r < firstNAReason; r++ {
		b = appendSample(b, received, "outcome", r.outcome(), "reason", reasonNames[r], c.ignored[r].Load())
	}

	const refused = "ndpresponder_gateway_advertisements_refused_total"
	b = appendFamily(b, refused, "counter", "Neighbor Advertisements for the gateway not taken as its answer, by the reason why.")
	for r := firstNAReason; r < numReasons; r++ {
		b = appendSample(b, refused, "reason", reasonNames[r], "", "", c.naRefused[r].Load())
	}

	const live = "ndpresponder_live_addresses"
	b = appendFamily(b, live, "gauge", "Addresses answered for because they are alive, by where that is known from (-learn, -N, -auto).")
	b = appendSample(b, live, "source", "learn", "", "", c.learned.Load())
	b = appendSample(b, live, "source", "docker", "", "", c.docker.Load())
	b = appendSample(b, live, "source", "auto", "", "", c.auto.Load())

	for _, m := range [...]struct {
		name, typ, help string
		v               uint64
	}{
		{"ndpresponder_advertisements_sent_total", "counter", "Neighbor Advertisements sent in answer to a solicitation.", c.answered.Load()},
		{"ndpresponder_advertisements_received_total", "counter", "Neighbor Advertisements received (the gateway's answers among them).", c.nasSeen.Load()},
		{"ndpresponder_solicitations_sent_total", "counter", "Neighbor Solicitations sent to the gateway, from our addresses.", c.nsSent.Load()},
		{"ndpresponder_announcements_sent_total", "counter", "DAD-style Neighbor Solicitations sent to announce an address.", c.announced.Load()},
		{"ndpresponder_send_errors_total", "counter", "Frames the packet socket refused to send.", c.sendErrors.Load()},
		{"ndpresponder_probes_sent_total", "counter", "Targets the kernel was asked to resolve on a -learn bridge (silent containers).", c.probed.Load()},
		{"ndpresponder_learn_held_back_total", "counter", "Neighbour entries of the -learn bridges not learned, so not answered: a cap on the live addresses was reached.", c.learnHeldBack.Load()},
		{"ndpresponder_docker_held_back", "gauge", "Container addresses of the engine's latest listing not answered: over the cap on the live addresses.", c.dockerHeldBack.Load()},
		{"ndpresponder_live_out_of_scope_total", "counter", "Addresses a source said were live, not answered or announced: outside -n, or without it the uplink's on-link prefixes.", c.liveOutOfScope.Load()},
		{"ndpresponder_gateway_known", "gauge", "1 once the default gateway has answered our solicitation with its MAC.", bool01(c.gwKnown.Load())},
		{"ndpresponder_gateway_pinned", "gauge", "1 while the kernel's neighbour entry for the gateway is pinned, by us or PERMANENT by the administrator.", bool01(c.gwPinned.Load())},
	} {
		b = appendFamily(b, m.name, m.typ, m.help)
		b = appendSample(b, m.name, "", "", "", "", m.v)
	}

	const last = "ndpresponder_gateway_last_answer_timestamp_seconds"
	b = appendFamily(b, last, "gauge", "When the gateway last answered our solicitation, in seconds since the Unix epoch; 0: never.")
	b = append(b, last...)
	b = append(b, ' ')
	if ns := c.gwLastAnswer.Load(); ns != 0 {
		b = strconv.AppendFloat(b, float64(ns/int64(time.Millisecond))/1e3, 'f', 3, 64)
	} else {
		b = append(b, '0')
	}
	return append(b, '\n')
}

func bool01(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

// appendFamily appends a family's HELP and TYPE lines. help holds no
// backslash or newline, which the format would want escaped.
func appendFamily(b []byte, name, typ, help string) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, help...)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}

// appendSample appends one sample line with up to two labels; a label
// with an empty name is left out.
func appendSample(b []byte, name, l1, v1, l2, v2 string, v uint64) []byte {
	b = append(b, name...)
	if l1 != "" {
		b = append(b, '{')
		b = appendLabel(b, l1, v1)
		if l2 != "" {
			b = append(b, ',')
			b = appendLabel(b, l2, v2)
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = strconv.AppendUint(b, v, 10)
	return append(b, '\n')
}

// appendLabel appends name="value", the value escaped as the format
// requires: backslash, double quote and line feed.
func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=', '"')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// metricsWriter renders into a buffer it keeps, and keeps the file's path
// and its temporary's as the kernel takes them, so that rewriting the file
// allocates nothing: every 15 s all day, garbage would grow the heap until
// the collector ran, and the daemon's memory with it. It warns once when
// writing fails, not every time.
type metricsWriter struct {
	buf        []byte
	name       string
	namez, tmp []byte // name and name.tmp, NUL-terminated
	failed     bool
}

// write rewrites the metrics file; with no file named it does nothing.
func (w *metricsWriter) write(name string, c *counters) {
	if name == "" {
		return
	}
	if name != w.name {
		w.name = name
		w.namez = append(append(w.namez[:0], name...), 0)
		w.tmp = append(append(w.tmp[:0], name...), ".tmp\x00"...)
	}
	w.buf = appendMetrics(w.buf[:0], c)
	err := writeMetricsFile(w.namez, w.tmp, w.buf)
	switch {
	case err != nil && !w.failed:
		warnf("metrics: writing: %v", err)
	case err == nil && w.failed:
		infof("metrics: writing %s again", name)
	}
	w.failed = err != nil
}
