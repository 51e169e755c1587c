// Package corpus moves fuzz inputs between the two forms a native Go fuzz target meets: Go's
// corpus files (testdata/fuzz/FuzzX/*, "go test fuzz v1", one typed value a line), which
// plain `go test` replays, and the raw bytes a libFuzzer binary built by go-118-fuzz-build
// reads, which that tool's testing shim splits into the target's arguments with
// go-fuzz-headers' consumer. Seeds go one way (Go corpus to the raw files of
// FuzzX_seed_corpus.zip), crashers the other (a libFuzzer crash file to a Go corpus file that
// `go test` replays as a regression).
package corpus

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"strconv"
	"strings"
)

// Header is the first line of every Go corpus file.
const Header = "go test fuzz v1"

// Types are the argument types both forms carry, spelled as in Go source; byte and rune are
// written uint8 and int32.
var Types = []string{"[]byte", "string", "bool", "int", "int8", "int16", "int32", "int64",
	"uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64"}

// TypeOf returns the type name of a value, or "" when neither form can carry it.
func TypeOf(v any) string {
	switch v.(type) {
	case []byte:
		return "[]byte"
	case string:
		return "string"
	case bool:
		return "bool"
	case int:
		return "int"
	case int8:
		return "int8"
	case int16:
		return "int16"
	case int32:
		return "int32"
	case int64:
		return "int64"
	case uint:
		return "uint"
	case uint8:
		return "uint8"
	case uint16:
		return "uint16"
	case uint32:
		return "uint32"
	case uint64:
		return "uint64"
	case float32:
		return "float32"
	case float64:
		return "float64"
	}
	return ""
}

// FormatGo writes values as a Go corpus file, in the spelling `go test` itself uses.
func FormatGo(vals []any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(Header + "\n")
	for i, v := range vals {
		switch t := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", t)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", t)
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", t)
		case float32:
			fmt.Fprintf(&b, "math.Float32frombits(0x%x)\n", math.Float32bits(t))
		case float64:
			fmt.Fprintf(&b, "math.Float64frombits(0x%x)\n", math.Float64bits(t))
		default:
			if TypeOf(v) == "" {
				return nil, fmt.Errorf("corpus: value %d: type %T is not a fuzz argument type", i, v)
			}
			fmt.Fprintf(&b, "%T(%v)\n", v, v)
		}
	}
	return b.Bytes(), nil
}

// ParseGo reads a Go corpus file.
func ParseGo(file []byte) ([]any, error) {
	lines := strings.Split(string(file), "\n")
	if strings.TrimSuffix(lines[0], "\r") != Header {
		return nil, fmt.Errorf("corpus: first line %q, want %q", lines[0], Header)
	}
	var vals []any
	for n, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		v, err := parseValue(l)
		if err != nil {
			return nil, fmt.Errorf("corpus: line %d %q: %w", n+2, l, err)
		}
		vals = append(vals, v)
	}
	if len(vals) == 0 {
		return nil, errors.New("corpus: no value after the header")
	}
	return vals, nil
}

func parseValue(line string) (any, error) {
	expr, err := parser.ParseExpr(line)
	if err != nil {
		return nil, err
	}
	call, ok := expr.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return nil, errors.New("want a conversion of one literal, like uint16(7)")
	}
	typ := ""
	switch fn := call.Fun.(type) {
	case *ast.ArrayType:
		if elt, ok := fn.Elt.(*ast.Ident); ok && fn.Len == nil && (elt.Name == "byte" || elt.Name == "uint8") {
			typ = "[]byte"
		}
	case *ast.SelectorExpr:
		if x, ok := fn.X.(*ast.Ident); ok && x.Name == "math" {
			typ = map[string]string{"Float32frombits": "float32-bits", "Float64frombits": "float64-bits"}[fn.Sel.Name]
		}
	case *ast.Ident:
		typ = map[string]string{"byte": "uint8", "rune": "int32"}[fn.Name]
		if typ == "" {
			typ = fn.Name
		}
	}
	arg := call.Args[0]
	if typ == "bool" {
		if id, ok := arg.(*ast.Ident); ok && (id.Name == "true" || id.Name == "false") {
			return id.Name == "true", nil
		}
		return nil, errors.New("bool takes true or false")
	}
	neg := false
	if u, ok := arg.(*ast.UnaryExpr); ok && u.Op == token.SUB {
		neg, arg = true, u.X
	}
	lit, ok := arg.(*ast.BasicLit)
	if !ok {
		return nil, errors.New("want a literal")
	}
	if lit.Kind == token.STRING {
		if neg || (typ != "[]byte" && typ != "string") {
			return nil, fmt.Errorf("a string literal for %s", typ)
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil, err
		}
		if typ == "string" {
			return s, nil
		}
		return []byte(s), nil
	}
	text := lit.Value
	if neg {
		text = "-" + text
	}
	switch typ {
	case "float32", "float64":
		f, err := strconv.ParseFloat(text, map[string]int{"float32": 32, "float64": 64}[typ])
		if err != nil {
			return nil, err
		}
		if typ == "float32" {
			return float32(f), nil
		}
		return f, nil
	case "float32-bits", "float64-bits":
		u, err := strconv.ParseUint(text, 0, 64)
		if err != nil {
			return nil, err
		}
		if typ == "float32-bits" {
			return math.Float32frombits(uint32(u)), nil
		}
		return math.Float64frombits(u), nil
	}
	if lit.Kind == token.CHAR {
		inner := lit.Value[1 : len(lit.Value)-1]
		r, _, tail, err := strconv.UnquoteChar(inner, '\'')
		if err != nil || tail != "" || neg {
			return nil, fmt.Errorf("bad character literal %s", text)
		}
		text = strconv.Itoa(int(r))
	}
	bits := map[string]int{"int": 64, "int8": 8, "int16": 16, "int32": 32, "int64": 64,
		"uint": 64, "uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64}[typ]
	if bits == 0 {
		return nil, fmt.Errorf("type %q is not a fuzz argument type", typ)
	}
	if strings.HasPrefix(typ, "u") {
		u, err := strconv.ParseUint(text, 0, bits)
		if err != nil {
			return nil, err
		}
		switch typ {
		case "uint":
			return uint(u), nil
		case "uint8":
			return uint8(u), nil
		case "uint16":
			return uint16(u), nil
		case "uint32":
			return uint32(u), nil
		}
		return u, nil
	}
	i, err := strconv.ParseInt(text, 0, bits)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "int":
		return int(i), nil
	case "int8":
		return int8(i), nil
	case "int16":
		return int16(i), nil
	case "int32":
		return int32(i), nil
	}
	return i, nil
}
