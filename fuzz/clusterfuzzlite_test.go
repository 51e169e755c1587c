package fuzz_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/fuzz/corpus"
)

// buildList returns the "DIR FuzzX" lines of .clusterfuzzlite/build.sh, the one list of targets
// that ClusterFuzzLite, .clusterfuzzlite/local.sh and .ci/run build.
func buildList(t *testing.T) []string {
	build, err := os.ReadFile("../.clusterfuzzlite/build.sh")
	require.NoError(t, err)
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^fuzz_target (\S+) (Fuzz\w+)$`).FindAllStringSubmatch(string(build), -1) {
		listed = append(listed, m[1]+" "+m[2])
	}
	return listed
}

// TestClusterFuzzLiteBuildsEveryTarget keeps .clusterfuzzlite/build.sh listing every native
// fuzz target of the module, in every package, with its package directory.
func TestClusterFuzzLiteBuildsEveryTarget(t *testing.T) {
	targets, err := corpus.Find("..")
	require.NoError(t, err)
	var found []string
	for _, tg := range targets {
		found = append(found, tg.Dir+" "+tg.Name)
	}
	require.GreaterOrEqual(t, len(found), 6)
	listed := buildList(t)
	sort.Strings(found)
	sort.Strings(listed)
	assert.Equal(t, found, listed, "build.sh has one line `fuzz_target DIR FuzzX` per target")
}

// TestEveryCorpusHasATarget: a testdata/fuzz/FuzzX directory belongs to a target FuzzX of its
// package; one left behind when a target is renamed or moved would be silently ignored.
func TestEveryCorpusHasATarget(t *testing.T) {
	targets, err := corpus.Find("..")
	require.NoError(t, err)
	have := map[string]bool{}
	for _, tg := range targets {
		have[filepath.Join("..", filepath.FromSlash(tg.Dir), "testdata", "fuzz", tg.Name)] = true
	}
	dirs, err := filepath.Glob("../*/testdata/fuzz/Fuzz*")
	require.NoError(t, err)
	more, err := filepath.Glob("../*/*/testdata/fuzz/Fuzz*")
	require.NoError(t, err)
	dirs = append(dirs, more...)
	require.NotEmpty(t, dirs)
	for _, d := range dirs {
		assert.True(t, have[d], "%s has no target %s in its package", d, filepath.Base(d))
	}
}

// shimMethods are the *testing.T methods that go-118-fuzz-build's testing shim implements as a
// test would expect: a failure panics (libFuzzer reports a crash), a skip ends the input. The
// others panic as unsupported (Parallel, Run, Deadline, Failed, Skipped), run at once
// (Cleanup), do nothing (Setenv) or leave state behind (TempDir, removed only after the input).
var shimMethods = map[string]bool{"Error": true, "Errorf": true, "Fail": true, "FailNow": true, "Fatal": true,
	"Fatalf": true, "Helper": true, "Log": true, "Logf": true, "Name": true, "Skip": true, "Skipf": true, "SkipNow": true}

// TestTargetsBuildUnderLibFuzzer checks, in the source, what go-118-fuzz-build needs of a
// target and what libFuzzer needs of it: the build compiles the file that declares the target
// as an ordinary file of its package, with "testing" swapped for the shim, and runs every
// input in one process. So the file is in the package itself (not an external _test package),
// uses nothing declared in the package's other test files, passes t to nothing that wants a
// testing.TB (testify), calls only what the shim supports, and starts no goroutine that could
// outlive an input. .ci/run builds and runs every target to confirm it.
func TestTargetsBuildUnderLibFuzzer(t *testing.T) {
	targets, err := corpus.Find("..")
	require.NoError(t, err)
	files := map[string]bool{}
	for _, tg := range targets {
		files[tg.File] = true
	}
	for file := range files {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, filepath.Join("..", file), nil, 0)
		require.NoError(t, err)
		assert.False(t, strings.HasSuffix(f.Name.Name, "_test"), "%s: package %s: go-118-fuzz-build cannot build a target in an external test package", file, f.Name.Name)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			assert.False(t, strings.HasPrefix(p, "github.com/stretchr/testify"), "%s imports %s: its functions take a testing.TB, which the shim's T is not", file, p)
		}
		others := otherTestDecls(t, file, f.Name.Name)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: a go statement at %v: a goroutine may outlive the input under libFuzzer", file, fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				ast.Inspect(n.X, func(m ast.Node) bool { // a field or method name is not a reference
					if id, ok := m.(*ast.Ident); ok {
						if where, ok := others[id.Name]; ok && id.Obj == nil {
							t.Errorf("%s uses %s, declared in %s: go-118-fuzz-build compiles only the target's file", file, id.Name, where)
						}
					}
					return true
				})
				return false
			case *ast.Ident:
				if where, ok := others[n.Name]; ok && n.Obj == nil {
					t.Errorf("%s uses %s, declared in %s: go-118-fuzz-build compiles only the target's file", file, n.Name, where)
				}
			case *ast.FuncLit:
				checkTMethods(t, fset, file, n.Type, n.Body)
			case *ast.FuncDecl:
				checkTMethods(t, fset, file, n.Type, n.Body)
			}
			return true
		})
	}
}

// otherTestDecls returns the top-level names declared in the other _test.go files of file's
// package, and where.
func otherTestDecls(t *testing.T, file, pkg string) map[string]string {
	out := map[string]string{}
	others, err := filepath.Glob(filepath.Join("..", filepath.Dir(file), "*_test.go"))
	require.NoError(t, err)
	for _, o := range others {
		if filepath.Base(o) == filepath.Base(file) {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), o, nil, 0)
		require.NoError(t, err)
		if f.Name.Name != pkg {
			continue
		}
		for name := range f.Scope.Objects {
			out[name] = filepath.Base(o)
		}
	}
	return out
}

// checkTMethods reports calls of methods the shim lacks on the *testing.T parameters of a
// function.
func checkTMethods(t *testing.T, fset *token.FileSet, file string, typ *ast.FuncType, body *ast.BlockStmt) {
	if body == nil {
		return
	}
	names := map[string]bool{}
	for _, p := range typ.Params.List {
		if star, ok := p.Type.(*ast.StarExpr); ok {
			if sel, ok := star.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "T" {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "testing" {
					for _, n := range p.Names {
						names[n.Name] = true
					}
				}
			}
		}
	}
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && names[x.Name] && !shimMethods[sel.Sel.Name] {
				t.Errorf("%s: %s.%s at %v: go-118-fuzz-build's testing shim does not support it", file, x.Name, sel.Sel.Name, fset.Position(call.Pos()))
			}
		}
		return true
	})
}
