package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLogLimiter(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	type step struct {
		at         time.Duration // since t0
		ok         bool
		suppressed uint64
	}
	tests := []struct {
		name             string
		perSecond, burst float64
		steps            []step
	}{
		{"burst honoured", 1, 3, []step{
			{0, true, 0}, {0, true, 0}, {0, true, 0},
			{0, false, 0}, {0, false, 0},
		}},
		{"refill by rate", 2, 1, []step{
			{0, true, 0},
			{0, false, 0},
			{250 * time.Millisecond, false, 0}, // half a token
			{500 * time.Millisecond, true, 2},  // a whole one; two held back
			{500 * time.Millisecond, false, 0},
			{time.Second, true, 1},
			{time.Second, false, 0},
		}},
		{"refill capped at burst", 10, 2, []step{
			{0, true, 0}, {0, true, 0}, {0, false, 0},
			{time.Hour, true, 1}, {time.Hour, true, 0}, {time.Hour, false, 0},
			{time.Hour + 100*time.Millisecond, true, 1},
		}},
		{"suppressed count reported once", 1, 1, []step{
			{0, true, 0},
			{100 * time.Millisecond, false, 0},
			{200 * time.Millisecond, false, 0},
			{300 * time.Millisecond, false, 0},
			{1300 * time.Millisecond, true, 3},
			{2300 * time.Millisecond, true, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := logLimiter{perSecond: tt.perSecond, burst: tt.burst}
			for i, s := range tt.steps {
				ok, n := l.allow(t0.Add(s.at))
				if ok != s.ok || n != s.suppressed {
					t.Errorf("step %d: allow(t0+%v) = %v, %d; want %v, %d", i, s.at, ok, n, s.ok, s.suppressed)
				}
			}
		})
	}
}

// TestLogPrefixes reads every log call of the daemon: each line starts
// with one subsystem's name and a colon, and no error the daemon makes
// starts with one, so that a line never says "docker: docker: ...".
func TestLogPrefixes(t *testing.T) {
	fset := token.NewFileSet()
	names, _ := filepath.Glob("*.go")
	prefix := regexp.MustCompile(`^([a-z]+): `)
	type call struct {
		fn, format string
		pos        token.Position
	}
	var calls []call
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok || len(c.Args) == 0 {
				return true
			}
			var fn string
			switch f := c.Fun.(type) {
			case *ast.Ident:
				fn = f.Name
			case *ast.SelectorExpr:
				if x, ok := f.X.(*ast.Ident); ok && x.Name == "errors" && f.Sel.Name == "New" {
					fn = "errors.New"
				}
			}
			if lit, ok := c.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING && fn != "" {
				s, _ := strconv.Unquote(lit.Value)
				calls = append(calls, call{fn, s, fset.Position(c.Pos())})
			}
			return true
		})
	}
	subsystems := map[string]bool{}
	for _, c := range calls {
		switch c.fn {
		case "debugf", "infof", "warnf", "errorf":
			m := prefix.FindStringSubmatch(c.format)
			if m == nil {
				t.Errorf("%v: %s(%q) does not start with a subsystem's name", c.pos, c.fn, c.format)
				continue
			}
			subsystems[m[1]] = true
			if strings.HasPrefix(c.format[len(m[0]):], m[0]) {
				t.Errorf("%v: %s(%q) says its subsystem twice", c.pos, c.fn, c.format)
			}
		}
	}
	if len(subsystems) < 5 {
		t.Fatalf("found only the subsystems %v", subsystems)
	}
	for _, c := range calls {
		if c.fn != "errf" && c.fn != "errors.New" {
			continue
		}
		if m := prefix.FindStringSubmatch(c.format); m != nil && subsystems[m[1]] {
			t.Errorf("%v: %s(%q) starts with the subsystem %q, which the log line adds", c.pos, c.fn, c.format, m[1])
		}
	}
}

// TestLogLineAllocs: a log line is made in a kept buffer, its addresses
// appended in place; what is left is boxing the arguments that are not
// pointers (4 for this line; it was 14, and 3 for a line without
// arguments), garbage that events on a busy host turned into heap growth.
func TestLogLineAllocs(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	stderr := os.Stderr
	os.Stderr = null
	defer func() { os.Stderr = stderr }()
	a, p := netip.MustParseAddr("2001:db8::1"), netip.MustParsePrefix("2001:db8::/64")
	m := mac{2, 0, 0, 0, 0, 1}
	infof("warm up %v", a)
	if n := testing.AllocsPerRun(100, func() { infof("na from %v (%v) for %v in %v: %s %d", a, m, a, p, "refused", 7) }); n > 5 {
		t.Errorf("a log line of three addresses, a MAC, a string and a number: %v allocations, want at most 5 (the boxes)", n)
	}
	if n := testing.AllocsPerRun(100, func() { infof("a plain line") }); n != 0 {
		t.Errorf("a log line without arguments: %v allocations, want 0", n)
	}
}
