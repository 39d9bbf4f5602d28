package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the daemon's imports to the standard library,
// golang.org/x/sys and golang.org/x/net, and out of the standard packages
// that cost the most binary and memory.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	heavy := map[string]bool{"net/http": true, "log/slog": true, "text/template": true, "html/template": true, "encoding/json": true}
	for _, pkg := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(pkg, "/")
		external := strings.Contains(first, ".")
		if heavy[pkg] || (external && !strings.HasPrefix(pkg, "golang.org/x/sys/") && !strings.HasPrefix(pkg, "golang.org/x/net/")) {
			t.Errorf("the daemon links %s", pkg)
		}
	}
}

// TestGoModTidy keeps go.mod as `go mod tidy` writes it: the modules the
// daemon imports are direct requirements.
func TestGoModTidy(t *testing.T) {
	out, err := exec.Command("go", "mod", "tidy", "-diff").CombinedOutput()
	if err != nil {
		t.Fatalf("go.mod is not tidy (run go mod tidy): %v\n%s", err, out)
	}
}
