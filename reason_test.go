package main

import (
	"strings"
	"testing"
)

func TestReasonNames(t *testing.T) {
	seen := make(map[string]reason)
	for r := reasonNone; r < numReasons; r++ {
		name := r.Error()
		if name == "" || strings.ContainsAny(name, " =") {
			t.Errorf("reason %d has name %q, want a word", r, name)
		}
		if o, dup := seen[name]; dup {
			t.Errorf("reasons %d and %d share the name %q", o, r, name)
		}
		seen[name] = r
	}
}
