package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetricsTemporaryNoFollow: a symbolic link planted at the metrics
// file's temporary name is replaced, not followed: the file it points to
// keeps its contents, and the metrics file is written all the same.
func TestMetricsTemporaryNoFollow(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "ndpresponder.prom")
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, name+".tmp"); err != nil {
		t.Fatal(err)
	}
	var w metricsWriter
	var c counters
	w.write(name, &c)
	if b, err := os.ReadFile(victim); err != nil || string(b) != "precious\n" {
		t.Errorf("the file a link at the temporary name points to now holds %.40q (%v), want it untouched", b, err)
	}
	if b, err := os.ReadFile(name); err != nil || !strings.Contains(string(b), "ndpresponder_build_info") {
		t.Errorf("metrics file: %.40q, %v; want the metrics", b, err)
	}
	if fi, err := os.Lstat(name); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("metrics file: %v; want a regular file", err)
	}
	if _, err := os.Lstat(name + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("the temporary is left behind: %v", err)
	}
}
