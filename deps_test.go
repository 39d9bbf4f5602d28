package main

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// forbidden are the standard packages the daemon's binary must not hold:
// on the small boxes it is made for, the whole binary is resident, so its
// bytes are memory. Each says why and what it cost when it was measured
// (amd64, Go 1.26.8, -trimpath -ldflags="-s -w": the stripped binary with
// one call into the package, minus the binary without).
var forbidden = map[string]string{
	"fmt":           "formats by reflection (+0.16 MB); format.go formats what the daemon logs",
	"flag":          "brings fmt (+0.23 MB with it); flags.go parses options the same way",
	"encoding/json": "decodes by reflection (+0.41 MB); json.go reads the Docker engine's answers",
	"net":           "its resolver and poller glue (+0.35 MB); the sockets are raw syscalls",
	"net/http":      "(+4.1 MB); the Docker engine is asked over a unix socket by hand",
	"log":           "brings fmt (+0.18 MB with it); log.go writes the lines",
	"log/slog":      "(+0.52 MB); log.go writes the lines",
	"text/template": "(+0.33 MB), and its method calls by name defeat dead-code elimination",
	"html/template": "as text/template",
	"os/user":       "(+0.20 MB); without cgo it only reads /etc/passwd, which the daemon can do",
}

// forbiddenSymbols keep whole-binary costs out that no package name shows:
//   - a reachable reflect.Value.Method or MethodByName makes the linker keep
//     every exported method of every type (+0.84 MB);
//   - time.Time.String is kept, with the time layouts and the time-zone
//     loader, once a time.Time is put in an interface anywhere: by a
//     context's Deadline method, or by time.NewTimer, NewTicker and After,
//     which hand their channel to the runtime as one. internal/scope
//     does what the daemon needed of them (−90,112 bytes when they replaced
//     them).
var forbiddenSymbols = map[string]string{
	"reflect.Value.Method":       "keeps every exported method",
	"reflect.Value.MethodByName": "keeps every exported method",
	"time.Time.String":           "a time.Time in an interface (context, time.NewTimer, NewTicker, After): use scope and alarm",
}

// symbolPackage is the package a symbol of `go tool nm` belongs to:
// "net/netip.Addr.String" is in net/netip, "type:*fmt.pp" in fmt.
func symbolPackage(sym string) string {
	for _, p := range []string{"type:", "go:itab.", "*", "go:", "("} {
		sym = strings.TrimPrefix(sym, p)
	}
	slash := strings.LastIndexByte(sym, '/')
	dot := strings.IndexByte(sym[slash+1:], '.')
	if dot < 0 {
		return ""
	}
	return sym[:slash+1+dot]
}

// TestLinkedPackages builds the daemon as build.sh does, but with its
// symbols, and reads them: what the linker kept is what costs, whatever
// `go list -deps` says (it lists fmt through x/net/bpf, which the linker
// drops).
func TestLinkedPackages(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ndpresponder")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	found := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		sym := f[len(f)-1]
		if why, bad := forbidden[symbolPackage(sym)]; bad {
			found[symbolPackage(sym)] = why + " (" + sym + ")"
		}
		if why, bad := forbiddenSymbols[sym]; bad {
			found[sym] = why
		}
	}
	if len(found) == 0 && !strings.Contains(string(out), "main.main") {
		t.Fatal("go tool nm listed no main.main: the check read nothing")
	}
	for pkg, why := range found {
		t.Errorf("the daemon links %s: %s", pkg, why)
	}
}

// TestSymbolPackage checks the reading of symbol names the test above
// rests on.
func TestSymbolPackage(t *testing.T) {
	for sym, want := range map[string]string{
		"net/netip.Addr.String":                   "net/netip",
		"net.(*conn).Read":                        "net",
		"type:*fmt.pp":                            "fmt",
		"go:itab.*os.File,io.Reader":              "os",
		"fmt.Sprintf":                             "fmt",
		"golang.org/x/sys/unix.Socket":            "golang.org/x/sys/unix",
		"encoding/json.(*decodeState).object":     "encoding/json",
		"main.(*responder).answer":                "main",
		"runtime.text":                            "runtime",
		"log.Printf":                              "log",
		"log/slog.Info":                           "log/slog",
		"type:.eq.[2]interface {}":                "",
		"internal/runtime/maps.(*Map).getWithKey": "internal/runtime/maps",
	} {
		if got := symbolPackage(sym); got != want {
			t.Errorf("symbolPackage(%q) = %q, want %q", sym, got, want)
		}
	}
}

// TestModules keeps the daemon's modules to the standard library,
// golang.org/x/sys and golang.org/x/net.
func TestModules(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(pkg, "/")
		if strings.Contains(first, ".") && !strings.HasPrefix(pkg, "golang.org/x/sys/") && !strings.HasPrefix(pkg, "golang.org/x/net/") {
			t.Errorf("the daemon depends on %s", pkg)
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

// formatterTypes reads the types format.go's appendValue knows from the
// cases of its type switch, so that the test below follows the formatter.
func formatterTypes(t *testing.T, fset *token.FileSet, files []*ast.File, info *types.Info) []types.Type {
	var known []types.Type
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			fn, ok := n.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "appendValue" {
				return true
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if cc, ok := n.(*ast.CaseClause); ok {
					for _, e := range cc.List {
						if tv, ok := info.Types[e]; ok && tv.Type != nil {
							known = append(known, tv.Type)
						}
					}
				}
				return true
			})
			return false
		})
	}
	if len(known) < 10 {
		t.Fatalf("found only %d cases in appendValue's type switch", len(known))
	}
	return known
}

// TestFormatArguments type-checks the daemon and looks at every call of
// its printf-style functions: each verb is one the formatter has, and each
// argument a type it formats. The formatter prints "?" for others, which
// no test of the log lines would notice.
func TestFormatArguments(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") || (strings.HasSuffix(name, "_linux.go") && runtime.GOOS != "linux") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	if _, err := conf.Check("main", fset, files, info); err != nil {
		t.Fatalf("type-checking the daemon: %v", err)
	}
	known := formatterTypes(t, fset, files, info)
	errorType := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	formats := func(typ types.Type) bool {
		for _, k := range known {
			if types.Identical(typ, k) {
				return true
			}
			if i, ok := k.Underlying().(*types.Interface); ok && i.NumMethods() > 0 && types.Implements(typ, i) {
				return true
			}
		}
		return types.Implements(typ, errorType)
	}
	// The printf-style functions and the index of their format argument.
	printfs := map[string]int{"sprintf": 0, "errf": 0, "appendf": 1, "debugf": 0, "infof": 0, "warnf": 0, "logf": 1}
	calls := 0
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			id, ok := call.Fun.(*ast.Ident)
			if !ok {
				return true
			}
			at, ok := printfs[id.Name]
			if !ok || len(call.Args) <= at || call.Ellipsis.IsValid() {
				return true
			}
			calls++
			pos := fset.Position(call.Pos())
			if tv := info.Types[call.Args[at]]; tv.Value != nil {
				format, _ := strconv.Unquote(tv.Value.ExactString())
				for i := 0; i+1 < len(format); i++ {
					if format[i] == '%' {
						i++
						if !strings.ContainsRune("vsdqw%", rune(format[i])) {
							t.Errorf("%v: %s(%q): the formatter has no %%%c", pos, id.Name, format, format[i])
						}
					}
				}
			}
			for _, arg := range call.Args[at+1:] {
				typ := info.Types[arg].Type
				if typ == nil || (types.Identical(typ, types.Typ[types.UntypedNil])) {
					continue
				}
				if !formats(types.Default(typ)) {
					t.Errorf("%v: %s argument %s has type %v, which the formatter prints as \"?\"", pos, id.Name, types.ExprString(arg), typ)
				}
			}
			return true
		})
	}
	if calls < 50 {
		t.Fatalf("found only %d calls of the printf-style functions", calls)
	}
}

// rooms are the packages under internal/ and the others among them that
// each may import: the doors between rooms, written down. A new package
// needs a line here, and a new door a word in its doc.go.
var rooms = map[string][]string{
	"docker":        {"errs", "scope"},
	"errs":          nil,
	"privs":         {"errs"},
	"rawio":         nil,
	"rtnl":          {"errs", "rawio"},
	"rtnl/rtnltest": nil, // imported by tests only
	"scope":         nil,
}

// TestRooms keeps each internal package to the doors above, and the
// kernel to the *_linux.go files: only they import golang.org/x/sys/unix
// or unsafe, so that what decides or encodes builds and tests on any OS.
func TestRooms(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports ","}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const internal = "ndpresponder/internal/"
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imports, _ := strings.Cut(line, " ")
		room, ok := strings.CutPrefix(path, internal)
		if !ok {
			continue
		}
		seen[room] = true
		doors, known := rooms[room]
		if !known {
			t.Errorf("internal/%s is not among the rooms in deps_test.go", room)
			continue
		}
		for _, imp := range strings.Split(imports, ",") {
			if other, ok := strings.CutPrefix(imp, internal); ok && !slices.Contains(doors, other) {
				t.Errorf("internal/%s imports internal/%s, which is not one of its doors", room, other)
			}
		}
	}
	for room := range rooms {
		if !seen[room] {
			t.Errorf("deps_test.go names internal/%s, which go list does not list", room)
		}
	}
	dirs, _ := filepath.Glob("internal/*")
	for _, dir := range append(dirs, ".") {
		names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_linux.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == "golang.org/x/sys/unix" || p == "unsafe" {
					t.Errorf("%s imports %s; only *_linux.go files touch the kernel", name, p)
				}
			}
		}
	}
}
