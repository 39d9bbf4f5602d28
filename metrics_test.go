package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goldenCounters sets every counter the metrics show to a value of its own,
// so that a figure written under the wrong name shows in the golden text.
func goldenCounters() *counters {
	c := &counters{}
	c.seen.Store(1000)
	c.answered.Store(901)
	c.sendErrors.Store(2)
	c.nasSeen.Store(33)
	c.nsSent.Store(44)
	c.announced.Store(55)
	c.learned.Store(6)
	c.docker.Store(7)
	c.auto.Store(8)
	c.probed.Store(9)
	c.learnHeldBack.Store(10)
	c.dockerHeldBack.Store(11)
	c.liveOutOfScope.Store(12)
	for r := reasonNone + 1; r < numReasons; r++ {
		c.ignored[r].Store(uint64(r))
	}
	c.setGateway(true, true, time.Unix(1700000000, 123456789))
	return c
}

var updateMetrics = flag.Bool("update-metrics", false, "rewrite testdata/metrics.prom (after adding a reason, say)")

// TestMetricsGolden renders known counters and compares them with
// testdata/metrics.prom, which .ci/run also hands to promtool. A new
// reason is a new series: go test -run TestMetricsGolden -update-metrics.
func TestMetricsGolden(t *testing.T) {
	got := appendMetrics(nil, goldenCounters())
	if *updateMetrics {
		if err := os.WriteFile("testdata/metrics.prom", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/metrics.prom")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("appendMetrics =\n%s\nwant (testdata/metrics.prom)\n%s", got, want)
	}
	checkExposition(t, string(got))
}

// TestMetricsZero: a daemon that has seen nothing writes every series at
// zero, and a gateway never heard from has a last answer of 0.
func TestMetricsZero(t *testing.T) {
	var c counters
	text := string(appendMetrics(nil, &c))
	samples := checkExposition(t, text)
	for series, v := range samples {
		want := 0.0
		if strings.HasPrefix(series, "ndpresponder_build_info{") {
			want = 1
		}
		if v != want {
			t.Errorf("%s = %v with zero counters, want %v", series, v, want)
		}
	}
	if got := samples[`ndpresponder_solicitations_received_total{outcome="ignored",reason="rate-limited"}`]; got != 0 {
		t.Errorf("rate-limited = %v", got)
	}
	if n := strings.Count(text, "ndpresponder_solicitations_received_total{"); n != int(firstNAReason) {
		t.Errorf("%d solicitation series, want %d: answered and one per reason", n, firstNAReason)
	}
	if n := strings.Count(text, "ndpresponder_gateway_advertisements_refused_total{"); n != int(numReasons-firstNAReason) {
		t.Errorf("%d refused-NA series, want %d: one per reason", n, numReasons-firstNAReason)
	}
}

func TestReasonOutcome(t *testing.T) {
	for r, want := range map[reason]string{
		reasonTruncated:          outcomeInvalid,
		reasonChecksum:           outcomeInvalid,
		reasonSolicitedMulticast: outcomeInvalid,
		reasonOwnFrame:           outcomeIgnored,
		reasonOutOfRange:         outcomeIgnored,
		reasonRateLimited:        outcomeIgnored,
		reasonNotLive:            outcomeIgnored,
	} {
		if got := r.outcome(); got != want {
			t.Errorf("%v.outcome() = %q, want %q", r, got, want)
		}
	}
}

func TestAppendLabel(t *testing.T) {
	for value, want := range map[string]string{
		"v1.2.3-4-gabcdef":  `version="v1.2.3-4-gabcdef"`,
		`a"b`:               `version="a\"b"`,
		`a\b`:               `version="a\\b"`,
		"a\nb":              `version="a\nb"`,
		"":                  `version=""`,
		"\\\"\n plain text": `version="\\\"\n plain text"`,
	} {
		if got := string(appendLabel(nil, "version", value)); got != want {
			t.Errorf("appendLabel(%q) = %s, want %s", value, got, want)
		}
	}
}

// TestMetricsAllocs: with a buffer that has grown once, rendering makes no
// garbage, so a daemon rewriting its file all day does not grow.
func TestMetricsAllocs(t *testing.T) {
	c := goldenCounters()
	buf := appendMetrics(nil, c)
	if n := testing.AllocsPerRun(100, func() { buf = appendMetrics(buf[:0], c) }); n != 0 {
		t.Errorf("appendMetrics allocates %v times per run, want 0", n)
	}
}

// writeFile is writeMetricsFile on Go strings.
func writeFile(name string, b []byte) error {
	return writeMetricsFile(append([]byte(name), 0), append([]byte(name), ".tmp\x00"...), b)
}

func TestWriteMetricsFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "ndpresponder.prom")
	for _, text := range []string{"first 1\n", "second, longer 2\n", "third 3\n"} {
		if err := writeFile(name, []byte(text)); err != nil {
			t.Fatalf("writeMetricsFile: %v", err)
		}
		got, err := os.ReadFile(name)
		if err != nil || string(got) != text {
			t.Errorf("file holds %q, %v; want %q", got, err, text)
		}
		fi, err := os.Stat(name)
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("file mode %v, %v; want 0644: node_exporter runs as another user", fi.Mode(), err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}

	// A directory that does not exist: an error naming the file, and
	// nothing written.
	missing := filepath.Join(dir, "none", "ndpresponder.prom")
	if err := writeFile(missing, []byte("x 1\n")); err == nil || !strings.Contains(err.Error(), missing+".tmp") {
		t.Errorf("writeMetricsFile(%s) = %v, want an error naming %s.tmp", missing, err, missing)
	}
	// A file that cannot be replaced (a directory stands in its place):
	// the error is returned, the temporary file removed.
	blocked := filepath.Join(dir, "blocked.prom")
	os.MkdirAll(filepath.Join(blocked, "x"), 0o755)
	if err := writeFile(blocked, []byte("x 1\n")); err == nil || !strings.HasPrefix(err.Error(), "rename ") {
		t.Errorf("writeMetricsFile over a directory = %v, want a rename error", err)
	}
	if _, err := os.Stat(blocked + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("%s.tmp left behind: %v", blocked, err)
	}
}

func TestMetricsWriter(t *testing.T) {
	dir := t.TempDir()
	var w metricsWriter
	c := goldenCounters()
	w.write("", c) // no file: nothing to do
	if w.failed || len(w.buf) != 0 {
		t.Errorf("write with no file rendered or failed")
	}
	w.write(filepath.Join(dir, "none", "x.prom"), c)
	if !w.failed {
		t.Errorf("write to a missing directory did not fail")
	}
	name := filepath.Join(dir, "x.prom")
	w.write(name, c)
	if w.failed {
		t.Errorf("write after a failure still failed")
	}
	got, _ := os.ReadFile(name)
	checkExposition(t, string(got))

	// Rewriting the file allocates nothing: it happens all day.
	if n := testing.AllocsPerRun(100, func() { w.write(name, c) }); n != 0 {
		t.Errorf("metricsWriter.write allocates %v times per run, want 0", n)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// The text format's rules, checked line by line by a reader that shares
// nothing with the writer: names and labels by their grammar, a family's
// HELP and TYPE before its samples and once, a family's samples together,
// no sample twice, values that parse, no timestamps (node_exporter refuses
// a file with them), counters named _total, our prefix on every name.
var (
	metricName  = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName   = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	sampleLine  = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$`)
	labelPair   = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"`)
	metricTypes = map[string]bool{"counter": true, "gauge": true, "histogram": true, "summary": true, "untyped": true}
)

// checkExposition fails t for each rule text breaks, and returns its
// samples, keyed by name and labels as written.
func checkExposition(t *testing.T, text string) map[string]float64 {
	t.Helper()
	samples, problems := readExposition(text)
	for _, p := range problems {
		t.Error(p)
	}
	return samples
}

// readExposition reads text by the rules above: its samples, and what
// breaks a rule.
func readExposition(text string) (samples map[string]float64, problems []string) {
	if text == "" || !strings.HasSuffix(text, "\n") {
		return nil, []string{"the text is empty or does not end in a line feed"}
	}
	help, typ := map[string]bool{}, map[string]string{}
	done := map[string]bool{} // families whose samples have ended
	samples = map[string]float64{}
	current := ""
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		bad := func(why string) {
			problems = append(problems, "line "+strconv.Itoa(i+1)+" "+strconv.Quote(line)+": "+why)
		}
		if strings.HasPrefix(line, "#") {
			f := strings.SplitN(line, " ", 4)
			if len(f) < 4 || (f[1] != "HELP" && f[1] != "TYPE") {
				bad("a comment that is neither HELP nor TYPE")
				continue
			}
			name := f[2]
			if !metricName.MatchString(name) {
				bad("not a metric name")
			}
			if done[name] || name == current {
				bad("HELP or TYPE after the family's samples")
			}
			switch f[1] {
			case "HELP":
				if help[name] {
					bad("a second HELP")
				}
				help[name] = true
				if strings.TrimSpace(f[3]) == "" {
					bad("an empty HELP")
				}
			case "TYPE":
				if typ[name] != "" {
					bad("a second TYPE")
				}
				if !metricTypes[f[3]] {
					bad("an unknown type")
				}
				typ[name] = f[3]
			}
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			bad("not a sample line")
			continue
		}
		name, labels, value := m[1], m[2], m[3]
		if !strings.HasPrefix(name, "ndpresponder_") {
			bad("the name lacks the ndpresponder_ prefix")
		}
		if name != current {
			if done[name] {
				bad("the family's samples are not together")
			}
			if current != "" {
				done[current] = true
			}
			current = name
		}
		if typ[name] == "" || !help[name] {
			bad("a sample before its family's HELP and TYPE")
		}
		if (typ[name] == "counter") != strings.HasSuffix(name, "_total") {
			bad("counters, and only counters, end in _total")
		}
		if labels != "" {
			rest := labels[1 : len(labels)-1]
			seen := map[string]bool{}
			for rest != "" {
				p := labelPair.FindStringSubmatch(rest)
				if p == nil || !labelName.MatchString(p[1]) {
					bad("a malformed label in " + labels)
					break
				}
				if seen[p[1]] {
					bad("label " + p[1] + " twice")
				}
				seen[p[1]] = true
				rest = strings.TrimPrefix(rest[len(p[0]):], ",")
			}
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			bad("the value does not parse (a timestamp after it?)")
		}
		if typ[name] == "counter" && v < 0 {
			bad("a negative counter")
		}
		key := name + labels
		if _, dup := samples[key]; dup {
			bad("the same series twice")
		}
		samples[key] = v
	}
	for name := range typ {
		if !done[name] && name != current {
			problems = append(problems, "family "+name+" has HELP and TYPE but no sample")
		}
	}
	return samples, problems
}

// TestReadExposition: the reader refuses what breaks each rule.
func TestReadExposition(t *testing.T) {
	head := "# HELP ndpresponder_x_total X.\n# TYPE ndpresponder_x_total counter\n"
	for name, text := range map[string]string{
		"no final line feed": head + "ndpresponder_x_total 1",
		"no TYPE":            "# HELP ndpresponder_x_total X.\nndpresponder_x_total 1\n",
		"counter not _total": "# HELP ndpresponder_x X.\n# TYPE ndpresponder_x counter\nndpresponder_x 1\n",
		"gauge with _total":  "# HELP ndpresponder_x_total X.\n# TYPE ndpresponder_x_total gauge\nndpresponder_x_total 1\n",
		"timestamp":          head + "ndpresponder_x_total 1 1700000000000\n",
		"bad value":          head + "ndpresponder_x_total one\n",
		"duplicate series":   head + "ndpresponder_x_total{a=\"1\"} 1\nndpresponder_x_total{a=\"1\"} 2\n",
		"unescaped quote":    head + "ndpresponder_x_total{a=\"1\"\"} 1\n",
		"label twice":        head + "ndpresponder_x_total{a=\"1\",a=\"2\"} 1\n",
		"no prefix":          "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n",
		"negative counter":   head + "ndpresponder_x_total -1\n",
		"unknown type":       "# HELP ndpresponder_x X.\n# TYPE ndpresponder_x meter\nndpresponder_x 1\n",
		"other comment":      head + "# a note\nndpresponder_x_total 1\n",
		"HELP after samples": head + "ndpresponder_x_total 1\n# HELP ndpresponder_x_total again\n",
		"samples apart": head + "ndpresponder_x_total{a=\"1\"} 1\n# HELP ndpresponder_y Y.\n# TYPE ndpresponder_y gauge\n" +
			"ndpresponder_y 1\nndpresponder_x_total{a=\"2\"} 1\n",
		"family without sample": head + "# HELP ndpresponder_y Y.\n# TYPE ndpresponder_y gauge\nndpresponder_x_total 1\n",
	} {
		if _, problems := readExposition(text); len(problems) == 0 {
			t.Errorf("%s: readExposition accepted\n%s", name, text)
		}
	}
	checkExposition(t, head+"ndpresponder_x_total{a=\"q\\\"\\n\\\\\",b=\"\"} 1\n")
}
