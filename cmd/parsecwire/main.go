// Command parsecwire decodes and validates captured Parsec frames, looks up status codes,
// and (serve, probe) plays a scripted or hostile Parsec service and judges a live one.
//
// Run parsecwire -h for the commands.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// Exit statuses, shared by every command.
const (
	exitOK      = 0 // every frame valid, no finding
	exitInvalid = 1 // an invalid frame, an unknown code, a finding
	exitUsage   = 2 // bad usage, an unreadable input, an unreachable socket
)

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		// Memory must not grow with the input (decode of a 2 GB capture); the readers hold
		// a bounded amount, but between collections the garbage of parsing (a mock case's
		// YAML) would let the heap reach twice what is live. A soft limit makes the collector
		// run before that; a user can set GOMEMLIMIT instead.
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// memoryLimit is the CLI's soft memory limit: well above what decode holds (a 1 MiB frame
// buffer, 256 KiB line buffers) and below the 64 MB its users budget for it.
const memoryLimit = 32 << 20

type command struct {
	name  string
	short string
	run   func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"decode", "decode every frame of captured inputs and print one record per frame", runDecode},
		{"validate", "check captured frames; print only the findings and a summary", runValidate},
		{"status", "look up status codes by number or name, or list the table", runStatus},
		{"serve", "a scripted or hostile Parsec service on a Unix socket, for testing clients", runServe},
		{"probe", "fuzz a live Parsec service and judge every response it sends", runProbe},
		{"tap", "a proxy between a client and a service that checks and records every frame", runTap},
		{"version", "print the module's version and the Go version it was built with", runVersion},
	}
}

// run is the whole program, callable from tests.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		return runVersion(nil, stdin, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "parsecwire: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "parsecwire: the Parsec wire protocol's response frames, decoded and checked.")
	fmt.Fprintln(w, "\nUsage: parsecwire COMMAND [flags] [args]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.short)
	}
	fmt.Fprintln(w, "\nRun parsecwire COMMAND -h for a command's flags and examples.")
	fmt.Fprintln(w, "Exit status: 0 all valid, 1 an invalid frame or finding, 2 usage or I/O error.")
}

// runVersion prints the module version from the build information: a tagged version when
// built with go install module@version, (devel) from a checkout, with the VCS revision.
func runVersion(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] != "-h" && args[0] != "-help" && args[0] != "--help" {
		fmt.Fprintf(stderr, "parsecwire version: no arguments expected\n")
		return exitUsage
	}
	fmt.Fprintln(stdout, version())
	return exitOK
}

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "parsecwire (no build information)"
	}
	s := "parsecwire " + bi.Main.Version
	var rev, modified string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			modified = kv.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += " (" + rev
		if modified == "true" {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + bi.GoVersion
}
