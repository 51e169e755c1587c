package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/wiretest"
)

// recorder keeps the bytes read from a connection, to show them with a finding.
type recorder struct {
	r   io.Reader
	buf []byte
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.buf = append(r.buf, p[:n]...)
	return n, err
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// The kinds of finding probe reports.
const (
	findNoResponse    = "no-response"    // nothing, or part of a frame, before the deadline
	findClosedEarly   = "closed-early"   // closed or reset before a complete response
	findBadResponse   = "bad-response"   // a response the codec rejects
	findUnknownStatus = "unknown-status" // a status outside the table
	findWrongStatus   = "wrong-status"   // a status other than the expected one
	findNoEcho        = "no-echo"        // provider, session, opcode or body not as expected
	findTrailing      = "trailing-bytes" // bytes after the response
)

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

// probeRequest is one request of a probe run.
type probeRequest struct {
	index    int
	mutation fuzz.Mutation
	desc     string
}

// outcome is what probe makes of one exchange. Its JSON form is a contract.
type outcome struct {
	Index      int     `json:"index"`
	Mutation   string  `json:"mutation"`
	Request    string  `json:"request"`
	Status     *uint16 `json:"status"`
	StatusName string  `json:"status_name"`
	Expected   *uint16 `json:"expected"`
	Finding    string  `json:"finding"`
	Detail     string  `json:"detail"`
	Response   string  `json:"response,omitempty"`
	// Busy: the service refused every connect with EAGAIN (its listen queue full) until the
	// deadline; the request was not sent, and that says nothing about its answers.
	Busy    bool `json:"busy,omitempty"`
	Retries int  `json:"retries,omitempty"` // connects refused with EAGAIN before one succeeded
}

// expectation is what a service built on the reference implementation answers.
type expectation struct {
	readable bool
	status   status.Code   // for an unreadable request: the classifying status
	echo     header.Header // for a readable one: provider, session, opcode, content type
}

// expect reads the exact bytes sent with the reference's request checks (wire.Reader in
// strict mode with the service's limit).
func expect(req []byte, limit uint32) expectation {
	rd := wire.NewReader(bytes.NewReader(req))
	rd.SetLimit(limit)
	rd.SetStrict(true)
	var h header.Header
	_, _, err := rd.NextRequest(&h)
	if err = wire.FrameDue(err); err != nil {
		c, _ := status.Of(err)
		return expectation{status: c}
	}
	return expectation{readable: true, echo: header.Header{Provider: h.Provider, Session: h.Session,
		Opcode: h.Opcode, ContentType: h.AcceptType}}
}

// baseRequests are the valid requests every run starts from.
func baseRequests() [][]byte {
	var out [][]byte
	for _, r := range []struct {
		h          header.Header
		body, auth []byte
	}{
		{header.Header{Opcode: header.OpPing}, nil, nil},
		{header.Header{Opcode: header.OpListProviders, Session: 1}, nil, nil},
		{header.Header{Opcode: header.OpListOpcodes, Session: 2}, []byte{0x08, 0x01}, nil}, // provider_id: 1
		{header.Header{Opcode: header.OpListAuthenticators, Session: 3, AuthType: header.AuthDirect}, nil, []byte("parsecwire-probe")},
	} {
		b, _ := wire.AppendRequest(nil, r.h, r.body, r.auth)
		out = append(out, b)
	}
	return out
}

// sequence returns request i of the run: the base requests as they are first, then
// mutations of them, each seeded by the run's seed and i alone.
func sequence(bases [][]byte, i int, seed uint64, limit uint32) probeRequest {
	base := bases[i%len(bases)]
	if i < len(bases) {
		return probeRequest{index: i, mutation: fuzz.Mutation{Frame: base}, desc: "none: base request"}
	}
	m := fuzz.MutateRequest(base, seed^(uint64(i)*0x9E3779B97F4A7C15), limit)
	return probeRequest{index: i, mutation: m, desc: string(m.Kind) + ": " + m.Desc}
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
	fs.StringVar(&f.expect, "expect", "reference", "reference: as a service on the reference implementation answers (Success for readable requests); framing: any status for a readable request, echoed; none: only well-formed responses")
	fs.Uint64Var(&f.limit, "limit", wire.DefaultLimit, "the service's body-size limit")
	fs.BoolVar(&f.json, "json", false, "one JSON object per request")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: parsecwire probe [-socket PATH] [flags]\n\nSends valid and mutated requests to a Parsec service, one connection each, and judges every response.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), probeExamples)
		fmt.Fprintln(fs.Output(), "\nExit status: 0 no finding, 1 findings, 2 usage errors or an unreachable socket.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		return exitUsage
	}
	if f.expect != "reference" && f.expect != "framing" && f.expect != "none" {
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
	bases := baseRequests()
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
	conn, tries, err := dialBusy(f.socket, f.timeout)
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
	for i := first; i < last; i++ {
		pr := sequence(bases, i, f.seed, limit)
		o := probeOne(conn, firstTries, f.socket, pr, f.timeout, f.expect, limit)
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

// dialBusy connects to socket, retrying a refusal with EAGAIN (a listen queue that is
// full: the service is there, busy) with pauses that double from 1 ms to 100 ms, until
// timeout. It returns the number of refusals.
func dialBusy(socket string, timeout time.Duration) (net.Conn, int, error) {
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for tries := 0; ; tries++ {
		conn, err := net.DialTimeout("unix", socket, timeout)
		if err == nil || !errors.Is(err, syscall.EAGAIN) || time.Now().Add(pause).After(deadline) {
			return conn, tries, err
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// probeOne sends one request on its own connection and judges the answer.
func probeOne(conn net.Conn, tries int, socket string, pr probeRequest, timeout time.Duration, mode string, limit uint32) (o outcome) {
	req := pr.mutation.Frame
	o = outcome{Index: pr.index, Mutation: pr.desc, Request: hex.EncodeToString(req)}
	exp := expect(req, limit)
	if mode != "none" {
		if !exp.readable {
			v := uint16(exp.status)
			o.Expected = &v
		} else if mode == "reference" {
			v := uint16(status.Success)
			o.Expected = &v
		}
	}
	if conn == nil {
		var err error
		conn, tries, err = dialBusy(socket, timeout)
		if err != nil && !errors.Is(err, syscall.EAGAIN) {
			o.Finding, o.Detail = findClosedEarly, "cannot connect: "+err.Error()
			return o
		}
	}
	o.Retries = tries
	if conn == nil {
		o.Busy, o.Detail = true, fmt.Sprintf("busy: every connect refused with EAGAIN for %v (%d tries)", timeout, tries+1)
		return o
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	// Send (in pieces for a slow write), then close the writing side, so that a service
	// waiting for bytes that will never come sees the end of the stream.
	chunk := pr.mutation.Chunk
	if chunk == 0 {
		chunk = len(req)
	}
	for b := req; len(b) > 0; {
		n := min(chunk, len(b))
		if _, err := conn.Write(b[:n]); err != nil {
			break // the service may have answered and closed already: read what it said
		}
		b = b[n:]
		if len(b) > 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if uc, ok := conn.(*net.UnixConn); ok {
		_ = uc.CloseWrite()
	}
	rec := &recorder{r: conn}
	rd := wire.NewReader(rec)
	rd.SetLimit(^uint32(0) >> 4) // judge any sane answer, not the service's own limit
	var h header.Header
	body, err := rd.Next(&h)
	defer func() { o.Response = hex.EncodeToString(rec.buf) }()
	if err != nil {
		var fe *header.FieldError
		isFE := errors.As(err, &fe)
		switch {
		case err == io.EOF:
			o.Finding, o.Detail = findClosedEarly, "closed without answering"
		case errors.Is(err, os.ErrDeadlineExceeded):
			o.Finding, o.Detail = findNoResponse, fmt.Sprintf("%d bytes before the %v deadline", len(rec.buf), timeout)
		case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE):
			o.Finding, o.Detail = findClosedEarly, fmt.Sprintf("after %d bytes of a response: %v", len(rec.buf), err)
		case isFE && fe.Field == header.FieldStatus:
			v := uint16(h.Status)
			o.Status, o.StatusName = &v, ""
			o.Finding, o.Detail = findUnknownStatus, err.Error()
		default:
			o.Finding, o.Detail = findBadResponse, err.Error()
		}
		return o
	}
	v := uint16(h.Status)
	o.Status, o.StatusName = &v, h.Status.String()
	o.Finding, o.Detail = judgeAnswer(h, body, exp, mode)
	if o.Finding == "" {
		// Anything after the response? The service closes the connection after it; a reset
		// here is normal when it left request bytes unread.
		_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		var extra [64]byte
		if n, _ := rec.Read(extra[:]); n > 0 {
			o.Finding, o.Detail = findTrailing, fmt.Sprintf("%d or more bytes after the response", n)
		}
	}
	return o
}

// judgeAnswer compares a well-formed response with the expectation.
func judgeAnswer(h header.Header, body []byte, exp expectation, mode string) (string, string) {
	if mode == "none" {
		return "", ""
	}
	if !exp.readable {
		if h.Status != exp.status {
			return findWrongStatus, fmt.Sprintf("got %v, expected %v: the reference classifies this request so", h.Status, exp.status)
		}
		if h.Provider != 0 || h.Session != 0 || h.Opcode != header.OpPing || h.ContentType != 0 || len(body) != 0 {
			return findNoEcho, fmt.Sprintf("the answer to an unreadable request is built from the status alone (provider 0, session 0, opcode 1, no body); got provider %d, session %d, opcode %d, %d body bytes",
				h.Provider, h.Session, h.Opcode, len(body))
		}
		return "", ""
	}
	if mode == "reference" && h.Status != status.Success {
		return findWrongStatus, fmt.Sprintf("got %v, expected Success: the request is readable", h.Status)
	}
	if h.Provider != exp.echo.Provider || h.Session != exp.echo.Session || h.Opcode != exp.echo.Opcode || h.ContentType != exp.echo.ContentType {
		return findNoEcho, fmt.Sprintf("got provider %d, session %d, opcode %d, content type %d; the request had provider %d, session %d, opcode %d, accept type %d",
			h.Provider, h.Session, h.Opcode, h.ContentType, exp.echo.Provider, exp.echo.Session, exp.echo.Opcode, exp.echo.ContentType)
	}
	return "", ""
}
