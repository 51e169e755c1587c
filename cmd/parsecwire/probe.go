package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/probe"
	"github.com/parsecwire/parsecwire/wire/wiretest"
)

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

const probeExamples = `
Examples:
  parsecwire probe -n 2000 -seed 1
      fuzz the service at $PARSEC_SERVICE_ENDPOINT (else /run/parsec/parsec.sock)
  parsecwire serve -socket /tmp/p.sock & parsecwire probe -socket /tmp/p.sock -n 500
  parsecwire probe -socket /tmp/p.sock -seed 1 -replay 137 -json
      send request 137 of seed 1's sequence again
  parsecwire probe -expect framing -cases testdata/mock
      a real service: any status for a readable request, as long as it is echoed
`

type probeFlags struct {
	socket  string
	timeout time.Duration
	n       int
	seed    uint64
	replay  int
	cases   string
	expect  string
	limit   uint64
	json    bool
}

func runProbe(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f probeFlags
	fs.StringVar(&f.socket, "socket", "", "the service's socket (default: $PARSEC_SERVICE_ENDPOINT, else /run/parsec/parsec.sock)")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Second, "deadline for each response")
	fs.IntVar(&f.n, "n", 100, "number of requests")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the request sequence")
	fs.IntVar(&f.replay, "replay", -1, "send only request I of the sequence")
	fs.StringVar(&f.cases, "cases", "", "folder of mock-service test cases whose requests replace the base requests")
	fs.StringVar(&f.expect, "expect", "reference", "reference: as a service on the reference implementation answers (Success for readable requests, the converter's status for a body it refuses); framing: any status for a readable request, echoed; none: only well-formed responses")
	fs.Uint64Var(&f.limit, "limit", wire.DefaultLimit, "the service's body-size limit")
	fs.BoolVar(&f.json, "json", false, "one JSON object per request")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: parsecwire probe [-socket PATH] [flags]\n\nSends valid and mutated requests to a Parsec service, one connection each, and judges every response.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), probeExamples)
		fmt.Fprintln(fs.Output(), "\nExit status: 0 no finding, 1 findings, 2 usage errors or an unreachable socket.")
	}
	names, rc, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return rc
	}
	if len(names) > 0 {
		fmt.Fprintf(stderr, "parsecwire probe: unexpected argument %q\n", names[0])
		return exitUsage
	}
	mode, err := probe.ParseMode(f.expect)
	if err != nil {
		fmt.Fprintf(stderr, "parsecwire probe: -expect %q: want reference, framing or none\n", f.expect)
		return exitUsage
	}
	if f.socket == "" {
		var err error
		if f.socket, err = wire.Endpoint(); err != nil {
			fmt.Fprintf(stderr, "parsecwire probe: %v\n", err)
			return exitUsage
		}
	}
	limit := uint32(min(f.limit, uint64(^uint32(0))))
	bases := probe.BaseRequests(f.seed)
	if f.cases != "" {
		cs, err := wiretest.LoadCases(f.cases)
		if err != nil {
			fmt.Fprintf(stderr, "parsecwire probe: %v\n", err)
			return exitUsage
		}
		seen := map[string]bool{}
		bases = bases[:0]
		for _, c := range cs {
			if !seen[string(c.Request)] {
				seen[string(c.Request)] = true
				bases = append(bases, c.Request)
			}
		}
		sort.Slice(bases, func(i, j int) bool { return bytes.Compare(bases[i], bases[j]) < 0 })
	}
	// The socket must be there at all before anything is judged; this first connection
	// carries the first request. A service too busy to accept it (EAGAIN) is there.
	conn, tries, err := probe.DialBusy(f.socket, f.timeout)
	if err != nil && !errors.Is(err, syscall.EAGAIN) {
		fmt.Fprintf(stderr, "parsecwire probe: cannot reach %s: %v\n", f.socket, err)
		return exitUsage
	}
	firstTries := tries
	first, last := 0, f.n
	if f.replay >= 0 {
		first, last = f.replay, f.replay+1
	}
	byStatus, byFinding := map[string]int{}, map[string]int{}
	busy, retried := 0, 0
	start := time.Now()
	enc := json.NewEncoder(stdout)
	findings := 0
	p := &probe.Prober{Socket: f.socket, Timeout: f.timeout, Mode: mode, Limit: limit}
	for i := first; i < last; i++ {
		o := p.Send(conn, firstTries, probe.Sequence(bases, i, f.seed, limit))
		conn, firstTries = nil, 0
		retried += o.Retries
		if o.Busy {
			busy++
		}
		switch {
		case o.Busy:
		case o.Status != nil && o.StatusName == "": // a value outside the table
			byStatus[strconv.Itoa(int(*o.Status))]++
		case o.Status != nil:
			byStatus[o.StatusName]++
		default:
			byStatus["(none)"]++
		}
		if o.Finding != "" {
			findings++
			byFinding[o.Finding]++
		}
		switch {
		case f.json:
			_ = enc.Encode(o)
		case o.Finding != "":
			fmt.Fprintf(stdout, "request %d [%s]: %s: %s\n    sent     %s\n    received %s\n", o.Index, o.Mutation, o.Finding, o.Detail, o.Request, orNone(o.Response))
		}
	}
	if conn != nil {
		conn.Close() // no request was sent on it
	}
	elapsed := time.Since(start)
	summary := fmt.Sprintf("parsecwire probe: %d requests in %.1fs (%.0f/s) to %s; responses by status: %s; findings: %d",
		last-first, elapsed.Seconds(), float64(last-first)/elapsed.Seconds(), f.socket, orNone(counts(byStatus)), findings)
	if busy > 0 || retried > 0 {
		summary += fmt.Sprintf("; busy: %d requests not sent, the service refusing connections (EAGAIN) for %v each; %d connects retried", busy, f.timeout, retried)
	}
	if findings > 0 {
		var kinds []string
		for k, n := range byFinding {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
		sort.Strings(kinds)
		summary += " (" + strings.Join(kinds, ", ") + ")"
	}
	if f.json {
		fmt.Fprintln(stderr, summary)
	} else {
		fmt.Fprintln(stdout, summary)
	}
	if findings > 0 {
		return exitInvalid
	}
	return exitOK
}
