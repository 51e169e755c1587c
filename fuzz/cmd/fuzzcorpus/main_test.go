package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/fuzz/corpus"
)

func runCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestSeedsThenCrasher takes a committed corpus to raw seeds, then one raw seed back to a Go
// corpus file, as a libFuzzer crash file would come back, and checks it is the original.
func TestSeedsThenCrasher(t *testing.T) {
	dir := t.TempDir()
	zipPath, raw := filepath.Join(dir, "FuzzStream_seed_corpus.zip"), filepath.Join(dir, "raw")
	code, out, errOut := runCmd("seeds", "-o", zipPath, "-raw", raw, "../../testdata/fuzz/FuzzStream")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "seeds from ../../testdata/fuzz/FuzzStream")
	zr, err := zip.OpenReader(zipPath)
	require.NoError(t, err)
	defer zr.Close()
	require.NotEmpty(t, zr.File)
	name := zr.File[0].Name
	want, err := os.ReadFile(filepath.Join("../../testdata/fuzz/FuzzStream", name))
	require.NoError(t, err)

	code, out, errOut = runCmd("crasher", "-root", "../../..", "-n", "fuzz:FuzzStream", filepath.Join(raw, name))
	require.Equal(t, 0, code, errOut)
	head, file, _ := strings.Cut(out, "\n")
	assert.Equal(t, "# "+filepath.Join(raw, name), head)
	wantVals, err := corpus.ParseGo(want)
	require.NoError(t, err)
	gotVals, err := corpus.ParseGo([]byte(file))
	require.NoError(t, err)
	assert.Equal(t, wantVals, gotVals, "the crasher's Go form holds the seed's values")

	// Written under the target's testdata in a module root of its own.
	root := filepath.Join(dir, "mod")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "p"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "p", "p_test.go"), []byte(
		"package p\nimport \"testing\"\nfunc FuzzP(f *testing.F) { f.Fuzz(func(t *testing.T, b []byte, n uint16) {}) }\n"), 0o644))
	crash := filepath.Join(dir, "crash-1")
	rawIn, err := corpus.EncodeRaw([]any{[]byte("boom"), uint16(7)})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(crash, rawIn, 0o644))
	code, out, errOut = runCmd("crasher", "-root", root, "FuzzP", crash)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "go test ./p -run '^FuzzP$/^libfuzzer-")
	files, err := filepath.Glob(filepath.Join(root, "p", "testdata", "fuzz", "FuzzP", "libfuzzer-*"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	got, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.Equal(t, "go test fuzz v1\n[]byte(\"boom\")\nuint16(7)\n", string(got))
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	require.NoError(t, os.WriteFile(short, []byte{1}, 0o644))
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "usage"},
		{[]string{"frobnicate"}, 1, "unknown command"},
		{[]string{"seeds"}, 1, "usage"},
		{[]string{"seeds", "-bogus"}, 1, "flag provided but not defined"},
		{[]string{"seeds", "-o", filepath.Join(dir, "x.zip"), "../../corpus"}, 1, "corpus.go"},
		{[]string{"crasher", "FuzzStream"}, 1, "usage"},
		{[]string{"crasher", "-root", "../../..", "FuzzNothing", short}, 1, "no fuzz target FuzzNothing"},
		{[]string{"crasher", "-root", "../../..", "FuzzStream", filepath.Join(dir, "missing")}, 1, "no such file"},
		{[]string{"crasher", "-root", "../../..", "FuzzStream", short}, 1, "too short"},
		{[]string{"seeds", "-h"}, 2, "Usage of seeds"},
	} {
		code, _, errOut := runCmd(c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, errOut)
		assert.True(t, strings.Contains(errOut, c.msg), "%v: %q lacks %q", c.args, errOut, c.msg)
	}
}
