package corpus_test

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/fuzz/corpus"
)

// every has one value of each argument type, the awkward ones included.
var every = []any{[]byte("a\x00\xff\n"), "s\"\n", true, false, int(-1 << 62), int8(-128), int16(-2),
	int32(-7), int64(math.MinInt64), uint(1 << 63), uint8(0xff), uint16(0xfffe), uint32(1 << 31),
	uint64(math.MaxUint64), float32(-1.5), math.Inf(-1), []byte{}, ""}

func TestGoFormatRoundTrip(t *testing.T) {
	file, err := corpus.FormatGo(every)
	require.NoError(t, err)
	got, err := corpus.ParseGo(file)
	require.NoError(t, err)
	assert.Equal(t, every, got)
	for _, v := range every {
		assert.NotEmpty(t, corpus.TypeOf(v), "%T", v)
	}
	_, err = corpus.FormatGo([]any{struct{}{}})
	assert.Error(t, err)
}

// TestParseGoSpellings reads the spellings `go test` writes and accepts.
func TestParseGoSpellings(t *testing.T) {
	file := "go test fuzz v1\n[]byte(\"\\x01\")\nbyte('\\x00')\nbyte('\\'')\nuint8(7)\nrune('é')\nint32(-5)\n" +
		"math.Float64frombits(0x7ff8000000000001)\nmath.Float32frombits(0x3f800000)\nfloat64(2.5)\nbool(true)\n" +
		"string(\"x\")\nint(0x10)\nuint64(18446744073709551615)\n"
	got, err := corpus.ParseGo([]byte(file))
	require.NoError(t, err)
	require.Len(t, got, 13)
	assert.Equal(t, []byte{1}, got[0])
	assert.Equal(t, uint8(0), got[1])
	assert.Equal(t, uint8('\''), got[2])
	assert.Equal(t, uint8(7), got[3])
	assert.Equal(t, int32('é'), got[4])
	assert.Equal(t, int32(-5), got[5])
	assert.Equal(t, uint64(0x7ff8000000000001), math.Float64bits(got[6].(float64)))
	assert.Equal(t, float32(1), got[7])
	assert.Equal(t, 2.5, got[8])
	assert.Equal(t, true, got[9])
	assert.Equal(t, "x", got[10])
	assert.Equal(t, 16, got[11])
	assert.Equal(t, uint64(math.MaxUint64), got[12])
	for _, bad := range []string{"", "go test fuzz v2\nint(1)\n", "go test fuzz v1\n", "go test fuzz v1\nint(\"x\")\n",
		"go test fuzz v1\nuint8(256)\n", "go test fuzz v1\ncomplex64(1)\n", "go test fuzz v1\nbool(1)\n",
		"go test fuzz v1\nint(1, 2)\n", "go test fuzz v1\n[]int(\"x\")\n", "go test fuzz v1\nstring(-\"x\")\n",
		"go test fuzz v1\nbyte('ab')\n", "go test fuzz v1\nint(x)\n", "go test fuzz v1\nint(\n"} {
		_, err := corpus.ParseGo([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}

// TestRawVectors pins the consumer's reading of raw bytes, written out by hand from
// go-fuzz-headers' consumer (see raw.go).
func TestRawVectors(t *testing.T) {
	cases := []struct {
		name  string
		data  []byte
		types []string
		want  []any
	}{
		{"bool is true when even", []byte{2, 3}, []string{"bool", "bool"}, []any{true, false}},
		{"uint16 little-endian on an even byte", []byte{1, 2, 0}, []string{"uint16"}, []any{uint16(0x0201)}},
		{"uint16 big-endian on an odd byte", []byte{1, 2, 1}, []string{"uint16"}, []any{uint16(0x0102)}},
		{"uint32 always big-endian", []byte{1, 2, 3, 4}, []string{"uint32"}, []any{uint32(0x01020304)}},
		{"int8 wraps", []byte{0xff}, []string{"int8"}, []any{int8(-1)}},
		{"[]byte length modulo what is left", []byte{0, 0, 0, 5, 'a', 'b', 'c'}, []string{"[]byte"}, []any{[]byte("ab")}},
		{"[]byte length 0 means 30", append([]byte{0, 0, 0, 0}, make([]byte, 31)...), []string{"[]byte"}, []any{make([]byte, 30)}},
		{"[]byte length equal to what is left", []byte{0, 0, 0, 2, 'a', 'b'}, []string{"[]byte"}, []any{[]byte("ab")}},
		{"string exact", []byte{0, 0, 0, 1, 'z', 9}, []string{"string", "uint8"}, []any{"z", uint8(9)}},
		{"uint64 big-endian", []byte{0, 0, 0, 0, 0, 0, 0, 1, 1}, []string{"uint64"}, []any{uint64(1)}},
		{"float32 little-endian", []byte{0, 0, 0x80, 0x3f, 0}, []string{"float32"}, []any{float32(1)}},
	}
	for _, c := range cases {
		got, err := corpus.DecodeRaw(c.data, c.types)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.want, got, c.name)
	}
	for _, c := range []struct {
		data  []byte
		types []string
	}{
		{nil, []string{"uint8"}},
		{[]byte{1, 2}, []string{"uint16"}},
		{[]byte{0, 0, 0, 1}, []string{"[]byte"}},
		{[]byte{0, 0, 0, 2, 'a'}, []string{"string"}},
		{[]byte{0, 0, 0, 0}, []string{"string"}},
		{[]byte{0, 0, 0}, []string{"[]byte"}},
	} {
		_, err := corpus.DecodeRaw(c.data, c.types)
		assert.ErrorIs(t, err, corpus.ErrShort, "%x as %v", c.data, c.types)
	}
	_, err := corpus.DecodeRaw([]byte{1}, []string{"complex64"})
	assert.Error(t, err)
}

func typesOf(vals []any) []string {
	types := make([]string, len(vals))
	for i, v := range vals {
		types[i] = corpus.TypeOf(v)
	}
	return types
}

func TestRawRoundTrip(t *testing.T) {
	raw, err := corpus.EncodeRaw(every)
	require.NoError(t, err)
	got, err := corpus.DecodeRaw(raw, typesOf(every))
	require.NoError(t, err)
	assert.Equal(t, every, got)
	// Random lists, with empty and long values at every position.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		vals := make([]any, 1+rng.IntN(4))
		for j := range vals {
			switch rng.IntN(5) {
			case 0:
				vals[j] = make([]byte, rng.IntN(3)*rng.IntN(40))
			case 1:
				vals[j] = string(make([]byte, rng.IntN(2)*rng.IntN(40)))
			case 2:
				vals[j] = uint8(rng.Uint32())
			case 3:
				vals[j] = rng.Uint64()
			default:
				vals[j] = uint16(rng.Uint32())
			}
		}
		raw, err := corpus.EncodeRaw(vals)
		require.NoError(t, err)
		got, err := corpus.DecodeRaw(raw, typesOf(vals))
		require.NoError(t, err, "%v", vals)
		require.Equal(t, vals, got, "%x", raw)
	}
	_, err = corpus.EncodeRaw([]any{1i})
	assert.Error(t, err)
}

// TestCommittedCorpora: every committed Go corpus file of every target in the module parses,
// has the target's argument types, and survives the trip to the raw form and back.
func TestCommittedCorpora(t *testing.T) {
	targets, err := corpus.Find("../..")
	require.NoError(t, err)
	require.NotEmpty(t, targets)
	files := 0
	for _, tg := range targets {
		dir := filepath.Join("../..", tg.Dir, "testdata", "fuzz", tg.Name)
		entries, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		for _, e := range entries {
			file, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			vals, err := corpus.ParseGo(file)
			require.NoError(t, err, "%s/%s", dir, e.Name())
			require.Equal(t, tg.Args, typesOf(vals), "%s/%s has the argument types of %s", dir, e.Name(), tg.Name)
			raw, err := corpus.EncodeRaw(vals)
			require.NoError(t, err)
			_, back, err := corpus.GoFile(tg, raw)
			require.NoError(t, err)
			again, err := corpus.ParseGo(back)
			require.NoError(t, err)
			require.Equal(t, vals, again, "%s/%s", dir, e.Name())
			files++
		}
	}
	assert.Greater(t, files, 10)
}

func TestFind(t *testing.T) {
	targets, err := corpus.Find("../..")
	require.NoError(t, err)
	byName := map[string]corpus.Target{}
	for _, tg := range targets {
		byName[tg.Dir+" "+tg.Name] = tg
	}
	stream, ok := byName["fuzz FuzzStream"]
	require.True(t, ok, "%v", targets)
	assert.Equal(t, []string{"[]byte", "uint16", "uint8"}, stream.Args)
	assert.Equal(t, "fuzz/fuzz_test.go", stream.File)
	rt := byName["fuzz FuzzRoundTrip"]
	assert.Equal(t, []string{"uint16", "uint8", "uint64", "uint8", "uint8", "uint8", "uint32", "uint16", "uint32", "uint16"}, rt.Args)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x_test.go"), []byte(`package x
import "testing"
func FuzzA(f *testing.F) { f.Fuzz(func(t *testing.T, a, b byte, s string, r rune) {}) }
func FuzzNotATarget(t *testing.T) {}
func helper(f *testing.F) {}
`), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "testdata"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "testdata", "y_test.go"), []byte("package y\n"), 0o644))
	got, err := corpus.Find(dir)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, corpus.Target{Dir: ".", Name: "FuzzA", File: "x_test.go", Args: []string{"uint8", "uint8", "string", "int32"}}, got[0])

	for _, bad := range []string{
		`func FuzzB(f *testing.F) {}`,
		`func FuzzB(f *testing.F) { f.Fuzz(func(t *testing.T, m map[int]int) {}) }`,
		`func FuzzB(f *testing.F) { f.Fuzz(func(x int, b []byte) {}) }`,
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "x_test.go"), []byte("package x\nimport \"testing\"\n"+bad+"\n"), 0o644))
		_, err := corpus.Find(dir)
		assert.Error(t, err, bad)
	}
}
