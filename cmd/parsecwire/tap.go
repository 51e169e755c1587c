package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/capture"
	"github.com/parsecwire/parsecwire/wire/wiretest"
)

const tapExamples = `
Examples:
  parsecwire tap -listen /tmp/tap.sock -upstream /run/parsec/parsec.sock -w traffic.pcapng
      point the client at unix:/tmp/tap.sock; every frame is checked as it goes by, the
      findings are printed, and the traffic is recorded for parsecwire decode or Wireshark
  parsecwire tap -listen /tmp/tap.sock -mutate 7
      the service's real answers, mutated on their way to the client under test
  parsecwire tap -listen /tmp/tap.sock -all -json | jq .
`

func runTap(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return tapMain(ctx, args, stdout, stderr, nil)
}

// tapMain runs tap until ctx is done; ready, when not nil, receives the socket path once it
// listens.
func tapMain(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) int {
	fs := flag.NewFlagSet("tap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "Unix socket to listen on, for the client (required)")
	upstream := fs.String("upstream", "", "the service's socket (default: $PARSEC_SERVICE_ENDPOINT, else /run/parsec/parsec.sock)")
	capture := fs.String("w", "", "record the traffic to this file, as pcapng (synthetic TCP, one connection per client connection)")
	mutate := fs.Int64("mutate", -1, "pass the service's responses through the response mutator, seeded (a seed >= 0)")
	limit := fs.Uint64("limit", wire.DefaultLimit, "the service's body-size limit, to judge requests (and read responses)")
	strict := fs.Bool("strict", false, "also apply the reference's semantic checks to responses")
	all := fs.Bool("all", false, "print every frame, as decode does (default: only findings, as validate does)")
	asJSON := fs.Bool("json", false, "print JSON lines")
	maxConns := fs.Int("max-conns", wiretest.DefaultMaxConns, "client connections forwarded at once")
	mode := fs.String("mode", "0666", "the socket's permissions, octal")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: parsecwire tap -listen PATH [-upstream PATH] [flags]\n\nA proxy between Parsec clients and a Parsec service: forwards both directions byte for\nbyte, checks every request and response as it goes by (each response against its request),\nand records the traffic.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), tapExamples)
		fmt.Fprintln(fs.Output(), "\nExit status: 0 no finding, 1 findings, 2 usage or socket errors.")
	}
	names, rc, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return rc
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "parsecwire tap: "+format+"\n", a...)
		return exitUsage
	}
	if *listen == "" || len(names) > 0 {
		return fail("-listen PATH is required, and nothing else")
	}
	if *upstream == "" {
		var err error
		if *upstream, err = wire.Endpoint(); err != nil {
			return fail("%v", err)
		}
	}
	perm, err := strconv.ParseUint(*mode, 8, 32)
	if err != nil || perm > 0o777 {
		return fail("-mode %q: want permission bits in octal, such as 0660", *mode)
	}
	t := wiretest.NewTap(*listen, *upstream)
	t.Limit, t.Strict, t.MaxConns, t.Mode = uint32(min(*limit, uint64(^uint32(0)))), *strict, *maxConns, os.FileMode(perm)
	t.Mutate, t.Seed = *mutate >= 0, uint64(*mutate)
	t.ErrorLog = func(s string) { fmt.Fprintln(stderr, "parsecwire tap: "+s) }
	var capFile *os.File
	var capBuf *bufio.Writer
	if *capture != "" {
		if capFile, err = os.Create(*capture); err != nil {
			return fail("%v", err)
		}
		capBuf = bufio.NewWriter(capFile)
		if t.Capture, err = wiretest.NewCaptureWriter(capBuf); err != nil {
			return fail("%s: %v", *capture, err)
		}
	}
	var n tapTally
	n.byFinding = map[string]int{}
	p := newPrinter("tap", &decodeFlags{json: *asJSON}, stdout)
	t.OnFrame = func(f wiretest.Frame) {
		r := tapRecordOf(f)
		finding := n.add(f, r)
		if !finding && !*all {
			return
		}
		// One write per frame: a live proxy's findings are read as they happen.
		_, _ = stdout.Write(p.tapFrame(nil, f, r, *asJSON))
	}
	if err := t.Listen(); err != nil {
		return fail("%v", err)
	}
	how := "checked"
	if t.Mutate {
		how = fmt.Sprintf("checked, responses mutated with seed %d", *mutate)
	}
	if *capture != "" {
		how += ", recorded to " + *capture
	}
	fmt.Fprintf(stderr, "parsecwire tap: listening on %s, forwarding to %s (%s)\n", *listen, *upstream, how)
	if ready != nil {
		ready <- *listen
	}
	done := make(chan error, 1)
	go func() { done <- t.Serve() }()
	select {
	case <-ctx.Done():
	case err := <-done:
		fmt.Fprintf(stderr, "parsecwire tap: %v\n", err)
	}
	t.Close()
	code := exitOK
	if t.Capture != nil {
		err := t.Capture.Flush()
		if err == nil {
			err = capBuf.Flush()
		}
		if cerr := capFile.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintf(stderr, "parsecwire tap: %s: %v\n", *capture, err)
			code = exitUsage
		}
	}
	summary := n.summary(t.Connections())
	if *asJSON {
		fmt.Fprintln(stderr, summary)
	} else {
		fmt.Fprintln(stdout, summary)
	}
	if code == exitOK && n.findings > 0 {
		code = exitInvalid
	}
	return code
}

// tapRecordOf builds decode's record of a frame: the connection, the verdict (the codec's,
// then the body's), and for a response what does not answer its request (printed, as by
// validate, as not echoed).
func tapRecordOf(f wiretest.Frame) *capture.Record {
	r := &capture.Record{Source: "tap", Conn: "conn " + strconv.FormatUint(f.Conn, 10), Kind: capture.DirResponse,
		Index: int64(f.Index), Offset: f.Offset, OK: f.Err == nil, Decoded: f.Decoded, Header: f.Header,
		Body: f.Body, Auth: f.Auth, Err: f.Err}
	if f.Dir == wiretest.ToService {
		r.Kind = capture.DirRequest
	}
	if f.Err != nil {
		r.Code, _ = status.Of(f.Err)
		var fe *header.FieldError
		var be *operation.FieldError
		switch {
		case errors.As(f.Err, &be):
			r.Field, r.FaultOffset = "body", f.Offset+header.Size+int64(be.Offset)
		case errors.As(f.Err, &fe):
			r.Field, r.FaultOffset = fe.Field.String(), f.Offset+int64(fe.Offset)
		}
	}
	if f.Mismatch != nil {
		r.Echo = f.Mismatch.Error()
	}
	return r
}

// tapFrame appends a frame's record as decode prints it, text or JSON, with what tap adds:
// the request a response answers, and the mutation the client was sent instead.
func (p *printer) tapFrame(b []byte, f wiretest.Frame, r *capture.Record, asJSON bool) []byte {
	if asJSON {
		b = p.enc.Append(b, r)
		b = b[:len(b)-1] // the object's closing brace: tap's keys follow
		if f.Request != nil {
			b = append(b, `,"request_index":`...)
			b = strconv.AppendInt(b, int64(f.Request.Index), 10)
		}
		if f.Mutation != nil {
			b = append(b, `,"mutation":`...)
			q, _ := json.Marshal(f.Mutation.String())
			b = append(b, q...)
		}
		return append(b, "}\n"...)
	}
	b = p.appendText(b, r)
	if f.Request != nil {
		b = append(b, "    answers request frame "...)
		b = strconv.AppendInt(b, int64(f.Request.Index), 10)
		b = append(b, " of "...)
		b = append(b, r.Conn...)
		b = append(b, '\n')
	}
	if f.Mutation != nil {
		b = append(b, "    sent to the client as mutation "...)
		b = append(b, f.Mutation.String()...)
		b = append(b, '\n')
	}
	return b
}

// tapTally counts frames and findings for the summary.
type tapTally struct {
	requests, responses, findings int
	byFinding                     map[string]int
}

// add counts a frame and says whether it is a finding.
func (n *tapTally) add(f wiretest.Frame, r *capture.Record) bool {
	if f.Dir == wiretest.ToService {
		n.requests++
	} else {
		n.responses++
	}
	kind := ""
	switch {
	case f.Err != nil:
		kind = "invalid " + f.Dir.String() + " (" + r.Code.String() + ")"
	case errors.Is(f.Mismatch, wiretest.ErrNoRequest):
		kind = "response without a request"
	case f.Mismatch != nil:
		kind = "response not answering its request"
	default:
		return false
	}
	n.findings++
	n.byFinding[kind]++
	return true
}

func (n *tapTally) summary(conns uint64) string {
	s := fmt.Sprintf("parsecwire tap: %d connections, %d requests, %d responses; findings: %d", conns, n.requests, n.responses, n.findings)
	if n.findings > 0 {
		var kinds []string
		for k, c := range n.byFinding {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, c))
		}
		sort.Strings(kinds)
		s += " (" + strings.Join(kinds, ", ") + ")"
	}
	return s
}
