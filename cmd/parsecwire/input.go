package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/parsecwire/parsecwire/wire/capture"
)

// input is one thing to read: a file, or stdin ("-").
type input struct {
	name  string
	inDir bool // found in a folder given on the command line
}

// inputs expands the command line's names: stdin when there are none, and every regular
// file of a folder, in name order (the mock service, too, loads a whole folder). What a
// folder holds that is not read (a subfolder, something else than a file) is said on
// stderr; failed tells whether a name could not be listed.
func inputs(names []string, format string, stderr io.Writer) (out []input, failed bool) {
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, name := range names {
		if name == "-" {
			out = append(out, input{name: name})
			continue
		}
		fi, err := os.Stat(name)
		if err != nil || !fi.IsDir() {
			out = append(out, input{name: name}) // a file, or an error that opening it reports
			continue
		}
		entries, err := os.ReadDir(name)
		if err != nil {
			fmt.Fprintf(stderr, "parsecwire: %v\n", err)
			failed = true
			continue
		}
		for _, e := range entries {
			p := filepath.Join(name, e.Name())
			switch {
			case e.IsDir():
				fmt.Fprintf(stderr, "parsecwire: %s: a folder inside a folder, not read (name it to read it)\n", p)
			case e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0:
				out = append(out, input{name: p, inDir: true})
			default:
				fmt.Fprintf(stderr, "parsecwire: %s: not a regular file, not read\n", p)
			}
		}
	}
	return out, failed
}

// open opens an input and its format's reader. A file found in a folder whose format is not
// recognised (a README beside mock cases) is skipped with a note rather than failed, and so
// is one that the chosen format does not take by its extension.
func open(in input, format string, stdin io.Reader) (src capture.Source, closer io.Closer, used string, note string, err error) {
	var r io.Reader = stdin
	if in.name != "-" {
		if in.inDir && format == "mock" {
			if f, ok := capture.ByExtension(in.name); !ok || f.Name != "mock" {
				return nil, nil, "", "not a mock case (*.yaml, *.yml), not read", nil
			}
		}
		f, err := os.Open(in.name)
		if err != nil {
			return nil, nil, "", "", err
		}
		r, closer = f, f
	}
	src, used, err = capture.Open(in.name, r, format)
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		if in.inDir && errors.Is(err, capture.ErrUnrecognised) {
			return nil, nil, "", "not a capture of a known format, not read", nil
		}
		return nil, nil, used, "", err
	}
	return src, closer, used, "", nil
}

// formatHelp lists the formats for -h.
func formatHelp() string {
	var b strings.Builder
	for _, f := range capture.Formats() {
		ext := ""
		if len(f.Ext) > 0 {
			ext = " (" + strings.Join(f.Ext, ", ") + ")"
		}
		note := ""
		if f.Open == nil {
			note = " [not built in]"
		}
		fmt.Fprintf(&b, "  %-8s %s%s%s\n", f.Name, f.Doc, ext, note)
	}
	return b.String()
}

// counts renders a count per name, in the status table's order.
func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ci, oki := lookupName(keys[i])
		cj, okj := lookupName(keys[j])
		if oki != okj {
			return oki
		}
		if ci != cj {
			return ci < cj
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
