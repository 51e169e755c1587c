package corpus

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// Target is a native fuzz target, func FuzzX(f *testing.F), found in a module's source.
type Target struct {
	Dir  string   // the package directory, relative to the module root, slash-separated
	Name string   // FuzzX
	File string   // the test file that declares it, relative to the module root
	Args []string // the types of the fuzz function's arguments after *testing.T (see Types)
}

// Find returns every fuzz target declared in the _test.go files under root, sorted by
// directory and name. It skips testdata, hidden directories and Rust build output
// (target/), like the go tool skips testdata and dot directories.
func Find(root string) ([]Target, error) {
	var out []Target
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "target" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, "_test.go") {
			return nil
		}
		ts, err := targetsIn(root, path)
		out = append(out, ts...)
		return err
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Dir != out[j].Dir {
			return out[i].Dir < out[j].Dir
		}
		return out[i].Name < out[j].Name
	})
	return out, err
}

func targetsIn(root, path string) ([]Target, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return nil, err
	}
	var out []Target
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Fuzz") || fn.Body == nil {
			continue
		}
		params := fn.Type.Params.List
		if len(params) != 1 || len(params[0].Names) != 1 || !isTestingPtr(params[0].Type, "F") {
			continue
		}
		args, err := fuzzArgs(fn.Body, params[0].Names[0].Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", rel, fn.Name.Name, err)
		}
		out = append(out, Target{Dir: filepath.ToSlash(filepath.Dir(rel)), Name: fn.Name.Name,
			File: filepath.ToSlash(rel), Args: args})
	}
	return out, nil
}

// isTestingPtr reports whether e is *testing.<name>.
func isTestingPtr(e ast.Expr, name string) bool {
	star, ok := e.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "testing" && sel.Sel.Name == name
}

// fuzzArgs finds f.Fuzz(func(t *testing.T, ...)) in body and returns the argument types.
func fuzzArgs(body *ast.BlockStmt, f string) ([]string, error) {
	var lit *ast.FuncLit
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || lit != nil || len(call.Args) != 1 {
			return lit == nil
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Fuzz" {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok && x.Name == f {
			lit, _ = call.Args[0].(*ast.FuncLit)
		}
		return lit == nil
	})
	if lit == nil {
		return nil, fmt.Errorf("no %s.Fuzz(func(t *testing.T, ...)) call", f)
	}
	var args []string
	for i, field := range lit.Type.Params.List {
		typ := typeName(field.Type)
		if i == 0 {
			if !isTestingPtr(field.Type, "T") {
				return nil, fmt.Errorf("the fuzz function's first argument is not *testing.T")
			}
			if len(field.Names) <= 1 {
				continue
			}
			return nil, fmt.Errorf("arguments after *testing.T share its type")
		}
		if typ == "" {
			return nil, fmt.Errorf("argument type %s is not a fuzz argument type", types(field.Type))
		}
		for range max(1, len(field.Names)) {
			args = append(args, typ)
		}
	}
	return args, nil
}

// typeName returns the name in Types of a type expression, or "".
func typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.ArrayType:
		if elt, ok := t.Elt.(*ast.Ident); ok && t.Len == nil && (elt.Name == "byte" || elt.Name == "uint8") {
			return "[]byte"
		}
	case *ast.Ident:
		switch t.Name {
		case "byte":
			return "uint8"
		case "rune":
			return "int32"
		}
		for _, n := range Types {
			if n == t.Name {
				return n
			}
		}
	}
	return ""
}

func types(e ast.Expr) string {
	var b strings.Builder
	printer.Fprint(&b, token.NewFileSet(), e)
	return b.String()
}
