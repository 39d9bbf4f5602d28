package main

// The documentation against the daemon: the manual page and docs/flags.md
// name every option the daemon defines and none it does not, groff reads
// the manual page without a warning, and every link between README.md and
// docs/ leads to a file and heading that are there.

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const manPage = "docs/ndpresponder.8"

// helpOptions is what -h prints: the name of every option, and -h and
// -help, which the parser answers itself.
func helpOptions(t *testing.T) []string {
	t.Helper()
	var out bytes.Buffer
	o := newOptions(func(string) string { return "" }, &out)
	if err := o.fs.parse([]string{"-h"}); err != errHelp {
		t.Fatalf("-h: %v, want errHelp", err)
	}
	names := []string{"h", "help"}
	for _, m := range regexp.MustCompile(`(?m)^  -(\S+)`).FindAllStringSubmatch(out.String(), -1) {
		names = append(names, m[1])
	}
	if len(names) != len(o.fs.opts)+2 {
		t.Fatalf("-h lists %d options, the daemon defines %d:\n%s", len(names)-2, len(o.fs.opts), out.String())
	}
	slices.Sort(names)
	return names
}

// roffOption finds an option in a line of roff: "\-" after a space, a
// bracket, a parenthesis, a quote or a font change, then a name.
var roffOption = regexp.MustCompile(`(?:^|[\s(\["])-([A-Za-z][A-Za-z0-9-]*)`)

func roffOptions(line string) []string {
	line = strings.NewReplacer(`\fB`, " ", `\fI`, " ", `\fR`, " ", `\fP`, " ", `\-`, "-").Replace(line)
	var names []string
	for _, m := range roffOption.FindAllStringSubmatch(line, -1) {
		names = append(names, m[1])
	}
	return names
}

func TestManPageOptions(t *testing.T) {
	defined := helpOptions(t)
	b, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	var section string
	listed := map[string]bool{} // the tags of OPTIONS
	named := map[string]int{}   // every option the page names, and a line of it
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, `.\"`) {
			continue
		}
		if s, ok := strings.CutPrefix(line, ".SH "); ok {
			section = strings.Trim(s, `"`)
			continue
		}
		for _, n := range roffOptions(line) {
			named[n] = i + 1
		}
		if section == "OPTIONS" && line == ".TP" && i+1 < len(lines) {
			tag := roffOptions(lines[i+1])
			if len(tag) == 0 {
				t.Errorf("%s:%d: an item of OPTIONS names no option: %q", manPage, i+2, lines[i+1])
			}
			for _, n := range tag {
				listed[n] = true
			}
		}
	}
	for _, n := range defined {
		if !listed[n] {
			t.Errorf("%s: -%s, which the daemon defines, is not an item of OPTIONS", manPage, n)
		}
	}
	for n, line := range named {
		if !slices.Contains(defined, n) {
			t.Errorf("%s:%d: names -%s, which the daemon does not define", manPage, line, n)
		}
	}
	for _, s := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SIGNALS", "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"} {
		if !strings.Contains(string(b), "\n.SH "+s+"\n") && !strings.Contains(string(b), "\n.SH \""+s+"\"\n") {
			t.Errorf("%s: no section %s", manPage, s)
		}
	}
}

// TestManPageGroff formats the page as man(1) would, with every warning on.
func TestManPageGroff(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Fatalf("this test needs groff (groff-base; ./test.sh installs it): %v", err)
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", manPage)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("groff -man -ww %s: %v\n%s", manPage, err, stderr.String())
	}
}

// TestFlagsDoc holds docs/flags.md's table to the options, as the page.
func TestFlagsDoc(t *testing.T) {
	defined := helpOptions(t)
	b, err := os.ReadFile("docs/flags.md")
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("`-([A-Za-z][A-Za-z0-9-]*)").FindAllStringSubmatch(string(b), -1) {
		named[m[1]] = true
	}
	for _, n := range defined {
		if !named[n] && n != "h" && n != "help" {
			t.Errorf("docs/flags.md does not name -%s", n)
		}
	}
	for n := range named {
		if !slices.Contains(defined, n) {
			t.Errorf("docs/flags.md names -%s, which the daemon does not define", n)
		}
	}
}

// githubAnchor is the anchor GitHub gives a heading: lower case, spaces
// to hyphens, and everything but letters, digits, hyphens and
// underscores left out.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocLinks follows every relative link of README.md and docs/*.md.
func TestDocLinks(t *testing.T) {
	files, _ := filepath.Glob("docs/*.md")
	files = append(files, "README.md")
	if len(files) < 2 {
		t.Fatal("no docs/*.md")
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	anchors := map[string]map[string]bool{}
	anchorsOf := func(file string) map[string]bool {
		if a, ok := anchors[file]; ok {
			return a
		}
		a := map[string]bool{}
		b, _ := os.ReadFile(file)
		fenced := false
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "```") {
				fenced = !fenced
			}
			if h, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " "); ok && !fenced && strings.HasPrefix(line, "#") {
				a[githubAnchor(h)] = true
			}
		}
		anchors[file] = a
		return a
	}
	links := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			links++
			path, anchor, _ := strings.Cut(target, "#")
			dest := f
			if path != "" {
				dest = filepath.Join(filepath.Dir(f), path)
			}
			if _, err := os.Stat(dest); err != nil {
				t.Errorf("%s: link %s: %v", f, target, err)
				continue
			}
			if anchor != "" && !anchorsOf(dest)[anchor] {
				t.Errorf("%s: link %s: %s has no heading #%s", f, target, dest, anchor)
			}
		}
	}
	// README.md leads to every file of docs/.
	readme, _ := os.ReadFile("README.md")
	all, _ := os.ReadDir("docs")
	for _, e := range all {
		if !strings.Contains(string(readme), "](docs/"+e.Name()) {
			t.Errorf("README.md has no link to docs/%s", e.Name())
		}
	}
	if links == 0 {
		t.Error("no links found")
	}
}
