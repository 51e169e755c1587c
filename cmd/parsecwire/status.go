package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
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
	CName       string `json:"c_name,omitempty"`
}

// parseStatus reads a status as the status command takes it: a name of the table (any
// case), its PSA C spelling, a decimal number, or a 0x hexadecimal one. Not octal: "017" is
// 17, as a person typing it means.
func parseStatus(s string) (status.Code, error) {
	if c, ok := lookupName(s); ok {
		return c, nil
	}
	base, digits := 10, s
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		base, digits = 16, s[2:]
	}
	v, err := strconv.ParseUint(digits, base, 16)
	if err != nil || digits == "" || digits[0] == '+' || digits[0] == '-' {
		return 0, &status.UnknownError{Name: s}
	}
	return status.Decode(uint16(v))
}

// lookupName looks a status up by its name in the table, or by the PSA Crypto API's C
// spelling of it. The C spelling is derived from the table's name, not kept in a second
// table: split at each capital, upper case, join with "_" (PsaErrorDoesNotExist is
// PSA_ERROR_DOES_NOT_EXIST); so a name with the underscores taken out is looked up.
func lookupName(s string) (status.Code, bool) {
	if c, ok := status.Lookup(s); ok {
		return c, true
	}
	if strings.Contains(s, "_") {
		return status.Lookup(strings.ReplaceAll(s, "_", ""))
	}
	return 0, false
}

// cName returns a status's C spelling in the PSA Crypto API (PSA codes only).
func cName(c status.Code) string {
	if c.Class() != status.ClassPSA {
		return ""
	}
	return cSpelling(c.String())
}

// cSpelling turns a CamelCase name into its C spelling: PsaErrorDoesNotExist,
// PSA_ERROR_DOES_NOT_EXIST.
func cSpelling(name string) string {
	var b strings.Builder
	for i, r := range name {
		if 'A' <= r && r <= 'Z' && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

func rowOf(c status.Code) statusRow {
	return statusRow{Code: uint16(c), Name: c.String(), Alias: c.Alias(), Class: c.Class().String(),
		Seed: status.Seed.Contains(c), Description: c.Description(), CName: cName(c)}
}

func runStatus(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON lines")
	markdown := fs.Bool("markdown", false, "print the whole table as Markdown (the README's table)")
	seed := fs.Bool("seed", false, "the seed document's 40 codes only")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: parsecwire status [flags] [CODE|NAME ...]

Looks status codes up by number (decimal, or hexadecimal with 0x) or by name: seed names and
later upstream names, any case, and the PSA Crypto API's C spellings (PSA_ERROR_DOES_NOT_EXIST).
Without arguments, prints the whole table.

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), `
Examples:
  parsecwire status 1140
  parsecwire status WireProtocolVersionNotSupported 0x474 PSA_ERROR_NOT_PERMITTED
  parsecwire status -json -seed

Exit status: 0 when every argument is a known code, 1 when one is not (InvalidEncoding),
2 on usage errors.
`)
	}
	args, rc, parsed := parseFlags(fs, args, stdout, stderr)
	if !parsed {
		return rc
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
	rc = exitOK
	if len(args) == 0 {
		codes = set.Codes()
	}
	for _, a := range args {
		c, err := parseStatus(a)
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
