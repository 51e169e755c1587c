package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/parsecwire/parsecwire/status"
)

type statusRow struct {
	Code        uint16 `json:"code"`
	Name        string `json:"name"`
	Alias       string `json:"alias,omitempty"`
	Class       string `json:"class"`
	Seed        bool   `json:"seed"`
	Description string `json:"description"`
}

func rowOf(c status.Code) statusRow {
	return statusRow{Code: uint16(c), Name: c.String(), Alias: c.Alias(), Class: c.Class().String(),
		Seed: status.Seed.Contains(c), Description: c.Description()}
}

func runStatus(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON lines")
	markdown := fs.Bool("markdown", false, "print the whole table as Markdown (the README's table)")
	seed := fs.Bool("seed", false, "the seed document's 40 codes only")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: parsecwire status [flags] [CODE|NAME ...]

Looks status codes up by number (decimal or 0x hex) or by name (seed names and later upstream
names, any case). Without arguments, prints the whole table.

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), `
Examples:
  parsecwire status 1140
  parsecwire status WireProtocolVersionNotSupported 0x474
  parsecwire status -json -seed

Exit status: 0 when every argument is a known code, 1 when one is not (InvalidEncoding),
2 on usage errors.
`)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		return exitUsage
	}
	set := status.Current
	if *seed {
		set = status.Seed
	}
	if *markdown {
		io.WriteString(stdout, markdownTable())
		return exitOK
	}
	var codes []status.Code
	rc := exitOK
	if fs.NArg() == 0 {
		codes = set.Codes()
	}
	for _, a := range fs.Args() {
		c, err := status.Parse(a)
		if err == nil && !set.Contains(c) {
			_, err = set.Decode(uint16(c))
		}
		if err != nil {
			fmt.Fprintf(stderr, "parsecwire status: %v\n", err)
			rc = exitInvalid
			continue
		}
		codes = append(codes, c)
	}
	enc := json.NewEncoder(stdout)
	for _, c := range codes {
		r := rowOf(c)
		if *asJSON {
			_ = enc.Encode(r)
			continue
		}
		name := r.Name
		if r.Alias != "" {
			name += " (" + r.Alias + ")"
		}
		later := ""
		if !r.Seed {
			later = ", added after the seed"
		}
		fmt.Fprintf(stdout, "%5d  %-48s %s%s: %s\n", r.Code, name, r.Class, later, r.Description)
	}
	return rc
}

// markdownTable renders the status table for the README; a test keeps the README in step.
func markdownTable() string {
	var b strings.Builder
	b.WriteString("| Value | Name | Later upstream name | Class | In seed | Description |\n")
	b.WriteString("|---:|---|---|---|---|---|\n")
	for _, c := range status.All() {
		r := rowOf(c)
		seed := "yes"
		if !r.Seed {
			seed = "no (added later)"
		}
		fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s | %s |\n", r.Code, r.Name, codeOrBlank(r.Alias), r.Class, seed, r.Description)
	}
	return b.String()
}

func codeOrBlank(s string) string {
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}
