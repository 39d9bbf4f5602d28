package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxTrackedFile bounds a tracked file outside testdata: sources, scripts
// and documents are far smaller, and a build product (an 11 MB test binary
// was once committed) far larger.
const maxTrackedFile = 300 << 10

// TestNoBuildProducts: no file git tracks is a compiled program, and none
// outside testdata is larger than maxTrackedFile.
func TestNoBuildProducts(t *testing.T) {
	files := trackedFiles(t)
	if len(files) < 20 {
		t.Fatalf("listed %d files, want the repository's", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(b, []byte("\x7fELF")) {
			t.Errorf("%s is a compiled program; build products stay out of git", f)
		}
		if len(b) > maxTrackedFile && !strings.HasPrefix(f, "testdata/") && !strings.Contains(f, "/testdata/") {
			t.Errorf("%s is %d bytes, more than %d outside testdata", f, len(b), maxTrackedFile)
		}
	}
}

// trackedFiles lists what git tracks. Where the tree is not a repository,
// the copy of the tracked and unignored files that scripts/emulated.sh
// makes for the tests on foreign CPUs, every regular file in it is one.
func trackedFiles(t *testing.T) []string {
	if _, err := os.Stat(".git"); os.IsNotExist(err) {
		var files []string
		err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, filepath.ToSlash(path))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	// CI runs as root in a clone another user may own, which git refuses
	// as dubious ownership: listing the index is read-only, so trust it here.
	cmd := exec.Command("git", "-c", "safe.directory=*", "ls-files", "-z")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v: %s", err, stderr.String())
	}
	return strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
}
