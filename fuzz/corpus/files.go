package corpus

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// SeedZip converts every Go corpus file in dir (a testdata/fuzz/FuzzX directory) to its raw
// form and writes them, under the same names, as the zip archive OSS-Fuzz wants beside a
// target (FuzzX_seed_corpus.zip), and into rawDir too when it is not "". A missing dir gives
// an empty archive: a target may have no committed corpus. It returns the number of seeds.
func SeedZip(w io.Writer, dir, rawDir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	if rawDir != "" {
		if err := os.MkdirAll(rawDir, 0o755); err != nil {
			return 0, err
		}
	}
	zw := zip.NewWriter(w)
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		file, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return n, err
		}
		vals, err := ParseGo(file)
		if err != nil {
			return n, fmt.Errorf("%s: %w", filepath.Join(dir, e.Name()), err)
		}
		raw, err := EncodeRaw(vals)
		if err != nil {
			return n, fmt.Errorf("%s: %w", filepath.Join(dir, e.Name()), err)
		}
		zf, err := zw.Create(e.Name())
		if err != nil {
			return n, err
		}
		if _, err := zf.Write(raw); err != nil {
			return n, err
		}
		if rawDir != "" {
			if err := os.WriteFile(filepath.Join(rawDir, e.Name()), raw, 0o644); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, zw.Close()
}

// GoFile converts a raw libFuzzer input of target t into a Go corpus file and the name `go
// test` would give it (libfuzzer- and 16 hex digits of its SHA-256), to be written under
// t.Dir/testdata/fuzz/t.Name/. ErrShort means the target never ran on the input.
func GoFile(t Target, raw []byte) (name string, file []byte, err error) {
	vals, err := DecodeRaw(raw, t.Args)
	if err != nil {
		return "", nil, err
	}
	file, err = FormatGo(vals)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(file)
	return "libfuzzer-" + hex.EncodeToString(sum[:8]), file, nil
}
