package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseJSON(t *testing.T) {
	v, rest, err := parseJSON([]byte(` {"a": [1, -2.5e3, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"], "b": {}} tail`))
	if err != nil || string(rest) != "tail" {
		t.Fatalf("parseJSON = %v, %q, %v", v, rest, err)
	}
	a, _ := jsonPath(v, "a").([]any)
	if len(a) != 6 || a[0] != jsonNumber("1") || a[1] != jsonNumber("-2.5e3") || a[2] != true || a[3] != false || a[4] != nil || a[5] != "x\"\\/\b\f\n\r\té😀" {
		t.Errorf("parseJSON: a = %#v", a)
	}
	if m, ok := jsonPath(v, "b").(map[string]any); !ok || len(m) != 0 {
		t.Errorf("parseJSON: b = %#v", jsonPath(v, "b"))
	}
	for _, bad := range []string{"", "{", "[1,", `{"a"}`, `{"a":1,}`, `[1 2]`, "1.", "-", "1e", "1.5e+", "--1", "1-2", `"\x"`, `"\u12"`, "tru", "nul", "01x", "\"a\x01\"", strings.Repeat("[", 100) + strings.Repeat("]", 100)} {
		if _, _, err := parseJSON([]byte(bad)); err == nil {
			t.Errorf("parseJSON(%.30q): no error", bad)
		}
	}
}

// FuzzParseJSON: no input panics the decoder or the Docker readers.
func FuzzParseJSON(f *testing.F) {
	for _, name := range []string{"network-inspect.json", "events.jsonl"} {
		b, err := os.ReadFile("testdata/docker/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"a":[1,"\ud800",{"b":null}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, rest, err := parseJSON(b); err == nil && len(rest) > len(b) {
			t.Fatalf("parseJSON(%q) = %v with %d bytes left of %d", b, v, len(rest), len(b))
		}
		parseDockerNetwork(b)
		parseDockerEvent(b)
	})
}
