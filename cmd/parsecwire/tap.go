package main

import (
	"bufio"
	"bytes"
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
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
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

// tapRecord is decode's record of one frame with what tap adds: the connection, and for a
// response the request it answers and how it fails to.
type tapRecord struct {
	record
	Conn         uint64 `json:"conn"`
	RequestIndex *int   `json:"request_index,omitempty"`
	Mismatch     string `json:"mismatch,omitempty"`
	Mutation     string `json:"mutation,omitempty"`
}

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
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		return exitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "parsecwire tap: "+format+"\n", a...)
		return exitUsage
	}
	if *listen == "" || fs.NArg() > 0 {
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
	enc := json.NewEncoder(stdout)
	t.OnFrame = func(f wiretest.Frame) {
		r := tapRecordOf(f)
		finding := n.add(f, r)
		if !finding && !*all {
			return
		}
		if *asJSON {
			_ = enc.Encode(r)
		} else {
			r.write(stdout)
		}
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

// tapRecordOf builds the record of a frame, with decode's fields and names.
func tapRecordOf(f wiretest.Frame) *tapRecord {
	r := &tapRecord{record: record{Source: "conn " + strconv.FormatUint(f.Conn, 10), Kind: f.Dir.String(),
		Index: f.Index, Offset: int(f.Offset), OK: f.Err == nil && f.Mismatch == nil}, Conn: f.Conn}
	if f.Decoded {
		r.setHeader(f.Header)
		if f.Dir == wiretest.ToClient {
			r.AuthLength = nil
		}
		r.body = append(append(r.body, f.Body[:min(len(f.Body), 32)]...), f.Auth[:min(len(f.Auth), 32)]...)
	}
	if f.Err != nil {
		code, _ := status.Of(f.Err)
		ci := int(code)
		r.Error, r.Code, r.CodeName = f.Err.Error(), &ci, code.String()
		var fe *header.FieldError
		if errors.As(f.Err, &fe) {
			r.Field = fe.Field.String()
			off := int(f.Offset) + fe.Offset
			r.FaultOffset = &off
		}
	}
	if f.Request != nil {
		i := f.Request.Index
		r.RequestIndex = &i
	}
	if f.Mismatch != nil {
		r.Mismatch = f.Mismatch.Error()
	}
	if f.Mutation != nil {
		r.Mutation = f.Mutation.String()
	}
	return r
}

// write prints the record as decode does, then what tap adds. A frame the codec accepts
// that does not answer its request has no Parsec status to classify it: its first line
// says MISMATCH instead of decode's INVALID.
func (r *tapRecord) write(w io.Writer) {
	var b bytes.Buffer
	rec := r.record
	if rec.Kind == "response" {
		rec.Source += " response" // decode names only requests: both directions flow here
	}
	if r.Code == nil {
		rec.OK = true // the codec's part is fine
	}
	rec.text(&b)
	text := b.String()
	if r.Code == nil && !r.OK {
		first, rest, _ := strings.Cut(text, "\n")
		text = strings.TrimSuffix(first, "ok") + "MISMATCH\n" + rest
	}
	io.WriteString(w, text)
	if r.RequestIndex != nil {
		fmt.Fprintf(w, "    answers request frame %d of conn %d\n", *r.RequestIndex, r.Conn)
	}
	if r.Mismatch != "" {
		fmt.Fprintf(w, "    mismatch: %s\n", r.Mismatch)
	}
	if r.Mutation != "" {
		fmt.Fprintf(w, "    sent to the client as mutation %s\n", r.Mutation)
	}
}

// tapTally counts frames and findings for the summary.
type tapTally struct {
	requests, responses, findings int
	byFinding                     map[string]int
}

// add counts a frame and says whether it is a finding.
func (n *tapTally) add(f wiretest.Frame, r *tapRecord) bool {
	if f.Dir == wiretest.ToService {
		n.requests++
	} else {
		n.responses++
	}
	kind := ""
	switch {
	case f.Err != nil:
		kind = "invalid " + f.Dir.String() + " (" + r.CodeName + ")"
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
