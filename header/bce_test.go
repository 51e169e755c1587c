package header_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoBoundsChecksInDecode asks the compiler where it keeps bounds checks in this package
// and fails when one is inside the decode of the 36 bytes: after the one length check, every
// fixed offset must be proven in bounds.
func TestNoBoundsChecksInDecode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package with the compiler's check_bce debug flag")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goBin, "build", "-gcflags=-d=ssa/check_bce", "-o", "/dev/null", ".").CombinedOutput()
	require.NoError(t, err, string(out))

	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "header.go", nil, 0)
	require.NoError(t, err)
	hot := map[string][2]int{}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok {
			switch fn.Name.Name {
			case "Unmarshal", "UnmarshalRequest", "UnmarshalBinary", "UnmarshalRaw":
				hot[fn.Name.Name] = [2]int{fset.Position(fn.Pos()).Line, fset.Position(fn.End()).Line}
			}
		}
	}
	require.Len(t, hot, 4)
	re := regexp.MustCompile(`(?m)^\S*header\.go:(\d+):\d+: Found (Is\w*InBounds)`)
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		line, _ := strconv.Atoi(m[1])
		for name, r := range hot {
			if line >= r[0] && line <= r[1] {
				t.Errorf("%s keeps a bounds check (%s) at header.go:%d", name, m[2], line)
			}
		}
	}
}
