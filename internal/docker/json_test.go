package docker

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// decodeOne checks that b holds one JSON value and nothing else.
func decodeOne(b []byte) error {
	d := newJSONDecoder(bytes.NewReader(b))
	if err := d.skip(); err != nil {
		return err
	}
	if more, err := d.more(); more || err != nil {
		return errJSON
	}
	return nil
}

func TestJSONDecoder(t *testing.T) {
	good := []string{`{"a": [1, -2.5e3, 0, 0.5, 1E+2, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"], "b": {}} `, "[]", " 0 ", `""`, `[[[]]]`,
		strings.Repeat("[", 64) + strings.Repeat("]", 64)}
	bad := []string{"", "{", "[1,", `{"a"}`, `{"a":1,}`, `[1 2]`, "1.", "-", "1e", "1.5e+", "--1", "1-2", `"\x"`, `"\u12"`, `"\u12g4"`, "tru", "nul",
		"01", "\"a\x01\"", "[1]]", `{"a":1}}`, `{1:2}`, "[,]", "+1", ".5", `"abc`, "1 2",
		strings.Repeat("[", 65) + strings.Repeat("]", 65)}
	for _, s := range good {
		if err := decodeOne([]byte(s)); err != nil || !json.Valid([]byte(s)) {
			t.Errorf("decode(%.30q) = %v (encoding/json: valid %v)", s, err, json.Valid([]byte(s)))
		}
	}
	for _, s := range bad {
		if err := decodeOne([]byte(s)); err == nil {
			t.Errorf("decode(%.30q): no error", s)
		}
	}
	// Strings: escapes decoded, a lone surrogate replaced; a string longer
	// than the buffer is checked, skipped and said to be.
	for in, want := range map[string]string{
		`"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"`: "x\"\\/\b\f\n\r\té😀",
		`"a\ud800b"`:                            "a\ufffdb",
		`"a\ud800\u0041"`:                       "a\ufffdA",
		`"\uD800 "`:                             "\ufffd ",
		`"\ud800\n"`:                            "\ufffd\n",
		`"\udc00\ud83d\ude00"`:                  "\ufffd😀",
		`"\ud800\ud83d\ude00"`:                  "\ufffd😀",
		`"\ud800\ud800"`:                        "\ufffd\ufffd",
		`"\ud800"`:                              "\ufffd",
		`"é"`:                                   "é",
	} {
		var std string
		if err := json.Unmarshal([]byte(in), &std); err != nil || std != want {
			t.Errorf("encoding/json makes %q, %v of %s; the vector says %q", std, err, in, want)
		}
		s, ok, err := newJSONDecoder(strings.NewReader(in)).str()
		if string(s) != want || !ok || err != nil {
			t.Errorf("str(%s) = %q, %v, %v; want %q", in, s, ok, err, want)
		}
	}
	for _, in := range []string{`"` + strings.Repeat("a", jsonMaxString+1) + `"`, `"` + strings.Repeat(`\u00e9`, jsonMaxString/2+1) + `"`, "12", "{}"} {
		d := newJSONDecoder(strings.NewReader(in + " 7"))
		if _, ok, err := d.str(); ok || err != nil {
			t.Errorf("str(%.30q) = ok %v, %v; want not ok and no error", in, ok, err)
		}
		if more, err := d.more(); !more || err != nil || d.skip() != nil {
			t.Errorf("after str(%.30q), the next value is not read: %v", in, err)
		}
	}
	if err := decodeOne([]byte(`{"a":1,}`)); err == nil || !strings.Contains(err.Error(), "at byte 7") {
		t.Errorf("the error does not say where: %v", err)
	}
}

// FuzzParseJSON: the decoder accepts exactly what encoding/json accepts
// (within its depth), and no input panics it, the Docker readers or the
// chunked framing.
func FuzzParseJSON(f *testing.F) {
	for _, name := range []string{"network-inspect.json", "events.jsonl", "podman-events-http11.raw"} {
		b, err := os.ReadFile("testdata/docker/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"a":[1,"\ud800",{"b":null}]}`))
	f.Add([]byte("3f;x\r\n{}\r\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := decodeOne(b)
		if (err == nil) != json.Valid(b) && !errors.Is(err, errJSONDepth) {
			t.Fatalf("decode(%q) = %v, but encoding/json says valid: %v", b, err, json.Valid(b))
		}
		// A string decodes to what encoding/json makes of it.
		if s := bytes.TrimSpace(b); err == nil && len(s) > 0 && s[0] == '"' {
			var want string
			if json.Unmarshal(b, &want) == nil {
				if got, ok, err := newJSONDecoder(bytes.NewReader(b)).str(); ok && (err != nil || string(got) != want) {
					t.Fatalf("str(%q) = %q, %v; encoding/json gives %q", b, got, err, want)
				}
			}
		}
		parseDockerNetwork(bytes.NewReader(b), 4)
		parseDockerEvent(newJSONDecoder(bytes.NewReader(b)))
		r := bufio.NewReaderSize(bytes.NewReader(b), 16)
		readBody(newHTTPBody(r, httpHead{chunked: true}, 1<<10))
	})
}
