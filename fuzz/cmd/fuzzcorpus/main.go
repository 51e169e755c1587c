// Command fuzzcorpus moves fuzz inputs between Go's corpus files and the raw inputs of the
// libFuzzer binaries that go-118-fuzz-build makes (see package corpus).
//
//	fuzzcorpus seeds -o FuzzX_seed_corpus.zip [-raw DIR] PKG/testdata/fuzz/FuzzX
//	fuzzcorpus crasher [-root .] [-n] FuzzX CRASH-FILE...
//
// seeds writes a directory of Go corpus files as OSS-Fuzz's seed archive (and as raw files in
// DIR). crasher turns libFuzzer crash files (crash-*, timeout-*, oom-*, or any input) of target
// FuzzX into Go corpus files under the target's testdata/fuzz/FuzzX/, where plain `go test`
// replays them, and prints each path; -n prints the files instead of writing them. A target
// name found in two packages is given as DIR:FuzzX.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/parsecwire/parsecwire/fuzz/corpus"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: fuzzcorpus seeds|crasher ... (go doc ./fuzz/cmd/fuzzcorpus)")
		return 2
	}
	var err error
	switch args[0] {
	case "seeds":
		err = seeds(args[1:], stdout, stderr)
	case "crasher":
		err = crasher(args[1:], stdout, stderr)
	default:
		err = fmt.Errorf("unknown command %q: want seeds or crasher", args[0])
	}
	if err == flag.ErrHelp {
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "fuzzcorpus:", err)
		return 1
	}
	return 0
}

func seeds(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seeds", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "the seed archive to write (FuzzX_seed_corpus.zip)")
	raw := fs.String("raw", "", "also write the raw seeds into this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *out == "" {
		return fmt.Errorf("usage: fuzzcorpus seeds -o FuzzX_seed_corpus.zip [-raw DIR] PKG/testdata/fuzz/FuzzX")
	}
	var zip bytes.Buffer
	n, err := corpus.SeedZip(&zip, fs.Arg(0), *raw)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, zip.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d seeds from %s\n", *out, n, fs.Arg(0))
	return nil
}

func crasher(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("crasher", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", ".", "the module root")
	dry := fs.Bool("n", false, "print the Go corpus files instead of writing them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return fmt.Errorf("usage: fuzzcorpus crasher [-root .] [-n] [DIR:]FuzzX CRASH-FILE [CRASH-FILE]")
	}
	t, err := target(*root, fs.Arg(0))
	if err != nil {
		return err
	}
	for _, path := range fs.Args()[1:] {
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		name, file, err := corpus.GoFile(t, raw)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if *dry {
			fmt.Fprintf(stdout, "# %s\n%s", path, file)
			continue
		}
		dir := filepath.Join(*root, filepath.FromSlash(t.Dir), "testdata", "fuzz", t.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		out := filepath.Join(dir, name)
		if err := os.WriteFile(out, file, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s -> %s (replay: go test ./%s -run '^%s$/^%s$')\n", path, out, t.Dir, t.Name, name)
	}
	return nil
}

// target finds the target named by spec, FuzzX or DIR:FuzzX.
func target(root, spec string) (corpus.Target, error) {
	dir, name, ok := strings.Cut(spec, ":")
	if !ok {
		dir, name = "", spec
	}
	all, err := corpus.Find(root)
	if err != nil {
		return corpus.Target{}, err
	}
	var found []corpus.Target
	for _, t := range all {
		if t.Name == name && (dir == "" || t.Dir == filepath.ToSlash(filepath.Clean(dir))) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return corpus.Target{}, fmt.Errorf("no fuzz target %s under %s", spec, root)
	}
	return corpus.Target{}, fmt.Errorf("%s is declared in %s and %s: name it DIR:%s", name, found[0].Dir, found[1].Dir, name)
}
