// Package probe fuzzes a live Parsec service and judges every answer it sends: the engine of
// `parsecwire probe`. A run is a reproducible sequence of requests (Sequence): valid ones,
// with bodies written from the operation schema, then seeded mutations of their headers and
// bodies. Each request goes on its own connection (Send), and the answer is judged against
// what a service built on the reference implementation answers (Expect, Judge).
package probe

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// The kinds of finding a probe reports.
const (
	NoResponse    = "no-response"    // nothing, or part of a frame, before the deadline
	ClosedEarly   = "closed-early"   // closed or reset before a complete response
	BadResponse   = "bad-response"   // a response the codec rejects
	UnknownStatus = "unknown-status" // a status outside the table
	WrongStatus   = "wrong-status"   // a status other than the expected one
	NoEcho        = "no-echo"        // provider, session, opcode or body not as expected
	BadBody       = "bad-body"       // a Success answer whose body the reference refuses
	Trailing      = "trailing-bytes" // bytes after the response
)

// Mode says how strictly answers are judged.
type Mode string

const (
	// Reference: as a service on the reference implementation answers: a request it cannot
	// read gets the status-only answer with the classifying status; a readable request whose
	// body the reference's converter refuses gets the converter's status, echoed; any other
	// readable request gets Success, echoed.
	Reference Mode = "reference"
	// Framing: any status for a readable request, as long as it is echoed (a real service
	// with real providers and keys), except Success for a body the reference's converter
	// refuses: no service on the reference can carry out such a request.
	Framing Mode = "framing"
	// None: only that the answers are well formed (and their Success bodies valid).
	None Mode = "none"
)

// ParseMode reads a Mode's name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Reference, Framing, None:
		return m, nil
	}
	return "", errors.New("probe: mode " + s + ": want reference, framing or none")
}

// Expectation is what a service built on the reference implementation answers to a request.
type Expectation struct {
	// Readable: the request passes the reference's request checks (wire.Reader, strict).
	Readable bool
	// Status is the status the reference answers with: the classifying status of an
	// unreadable request, the converter's status for a readable request whose body it
	// refuses, Success otherwise.
	Status status.Code
	// Echo holds, for a readable request, what its answer echoes: provider, session, opcode,
	// and the accept type as content type.
	Echo header.Header
	// Body is the converter's verdict on a readable request's body, nil when it accepts it.
	Body error

	request header.Header // as read, when Readable
	verdict error         // the reference's verdict on the request: see wire.Answers
}

// Expect reads the exact bytes of a request with the reference's request checks and the
// service's limit, then its body with the reference's converter.
func Expect(req []byte, limit uint32) Expectation {
	rd := wire.NewReader(bytes.NewReader(req))
	rd.SetLimit(limit)
	rd.SetStrict(true)
	var h header.Header
	body, _, err := rd.NextRequest(&h)
	if err = wire.FrameDue(err); err != nil {
		c, _ := status.Of(err)
		return Expectation{Status: c, verdict: err}
	}
	exp := Expectation{Readable: true, Echo: header.Header{Provider: h.Provider, Session: h.Session,
		Opcode: h.Opcode, ContentType: h.AcceptType}, request: h}
	if exp.Body = operation.ValidateFrame(&h, operation.Request, body); exp.Body != nil {
		exp.Status, _ = status.Of(exp.Body)
		exp.verdict = exp.Body
	}
	return exp
}

// Judge compares a well-formed response (h and its body) with the expectation, in mode: it
// returns a finding and its detail, or "" when the answer is right.
func Judge(h header.Header, body []byte, exp Expectation, mode Mode) (finding, detail string) {
	if mode != None {
		if f, d := judgeStatus(h, body, exp, mode); f != "" {
			return f, d
		}
	}
	// Whatever the mode, a Success answer carries a body the reference's clients can read.
	if err := operation.ValidateFrame(&h, operation.Response, body); err != nil {
		return BadBody, err.Error()
	}
	return "", ""
}

func judgeStatus(h header.Header, body []byte, exp Expectation, mode Mode) (string, string) {
	err := wire.Answers(&exp.request, exp.verdict, &h)
	var me *wire.MismatchError
	if errors.As(err, &me) && me.Field == header.FieldStatus && exp.Readable && mode == Framing {
		// A real service's providers answer with their own statuses; but none carries out a
		// request whose body the converter refuses.
		if exp.Body == nil || h.Status != status.Success {
			err = nil
		}
	}
	switch {
	case err == nil:
	case me != nil && me.Field == header.FieldStatus:
		return WrongStatus, err.Error()
	default:
		return NoEcho, err.Error()
	}
	switch {
	case !exp.Readable && len(body) != 0:
		return NoEcho, fmt.Sprintf("the answer to an unreadable request is built from the status alone, got %d body bytes", len(body))
	case mode == Reference && exp.Readable && exp.Body == nil && h.Status != status.Success:
		return WrongStatus, fmt.Sprintf("got %v, expected Success: the request is readable", h.Status)
	case mode == Reference && exp.Body != nil && len(body) != 0:
		return NoEcho, fmt.Sprintf("the answer to a refused body carries the status alone, got %d body bytes", len(body))
	}
	return "", ""
}

// Request is one request of a run.
type Request struct {
	Index    int
	Mutation fuzz.Mutation // Frame: the bytes to send; Chunk: how to send them
	Desc     string        // "none: base request", or the mutation's kind and description
}

// BaseRequests are the valid requests a run starts from: Ping, ListProviders, ListOpcodes and
// ListAuthenticators (with direct authentication) as every client sends them, then one
// request of every other operation with a body written from the schema, seeded by seed.
func BaseRequests(seed uint64) [][]byte {
	var out [][]byte
	add := func(h header.Header, body, auth []byte) {
		b, _ := wire.AppendRequest(nil, h, body, auth)
		out = append(out, b)
	}
	add(header.Header{Opcode: header.OpPing}, nil, nil)
	add(header.Header{Opcode: header.OpListProviders, Session: 1}, nil, nil)
	add(header.Header{Opcode: header.OpListOpcodes, Session: 2}, []byte{0x08, 0x01}, nil) // provider_id: 1
	add(header.Header{Opcode: header.OpListAuthenticators, Session: 3, AuthType: header.AuthDirect}, nil, []byte("parsecwire-probe"))
	for _, op := range operation.Opcodes() {
		switch op {
		case header.OpPing, header.OpListProviders, header.OpListOpcodes, header.OpListAuthenticators:
			continue
		}
		// Crypto operations go to the Mbed Crypto provider, the others to the core.
		h := header.Header{Opcode: op, Session: uint64(op), AuthType: header.AuthDirect}
		if name, _ := header.OpcodeName(op); strings.HasPrefix(name, "Psa") || op == 30 || op == 31 || op == 32 {
			h.Provider = 1
		}
		add(h, fuzz.RandomBody(op, operation.Request, seed^uint64(op)), []byte("parsecwire-probe"))
	}
	return out
}

// Sequence returns request i of a run: the base requests as they are first, then mutations
// of them, each seeded by the run's seed and i alone: of the header (fuzz.MutateRequest), or
// for one request in three, of the body, by the schema (fuzz.MutateFrameBody).
func Sequence(bases [][]byte, i int, seed uint64, limit uint32) Request {
	base := bases[i%len(bases)]
	if i < len(bases) {
		return Request{Index: i, Mutation: fuzz.Mutation{Frame: base}, Desc: "none: base request"}
	}
	s := seed ^ (uint64(i) * 0x9E3779B97F4A7C15)
	if s%3 == 0 {
		if m, ok := fuzz.MutateFrameBody(base, true, s); ok {
			return Request{Index: i, Mutation: m, Desc: string(m.Kind) + ": " + m.Desc}
		}
	}
	m := fuzz.MutateRequest(base, s, limit)
	return Request{Index: i, Mutation: m, Desc: string(m.Kind) + ": " + m.Desc}
}

// Outcome is what a probe makes of one exchange. Its JSON form is a contract.
type Outcome struct {
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

// Prober sends requests to one service and judges the answers.
type Prober struct {
	Socket  string
	Timeout time.Duration // for each answer, and for connecting to a busy service
	Mode    Mode
	Limit   uint32 // the service's body-size limit
}

// DialBusy connects to socket, retrying a refusal with EAGAIN (a listen queue that is
// full: the service is there, busy) with pauses that double from 1 ms to 100 ms, until
// timeout. It returns the number of refusals.
func DialBusy(socket string, timeout time.Duration) (net.Conn, int, error) {
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

// Send sends one request on conn (or on a new connection when conn is nil; tries is the
// number of refusals conn's dial met) and judges the answer.
func (p *Prober) Send(conn net.Conn, tries int, r Request) (o Outcome) {
	req := r.Mutation.Frame
	o = Outcome{Index: r.Index, Mutation: r.Desc, Request: hex.EncodeToString(req)}
	exp := Expect(req, p.Limit)
	if p.Mode == Reference || (p.Mode == Framing && !exp.Readable) {
		v := uint16(exp.Status)
		o.Expected = &v
	}
	if conn == nil {
		var err error
		conn, tries, err = DialBusy(p.Socket, p.Timeout)
		if err != nil && !errors.Is(err, syscall.EAGAIN) {
			o.Finding, o.Detail = ClosedEarly, "cannot connect: "+err.Error()
			return o
		}
	}
	o.Retries = tries
	if conn == nil {
		o.Busy, o.Detail = true, fmt.Sprintf("busy: every connect refused with EAGAIN for %v (%d tries)", p.Timeout, tries+1)
		return o
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(p.Timeout))
	// Send (in pieces for a slow write), then close the writing side, so that a service
	// waiting for bytes that will never come sees the end of the stream.
	chunk := r.Mutation.Chunk
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
			o.Finding, o.Detail = ClosedEarly, "closed without answering"
		case errors.Is(err, os.ErrDeadlineExceeded):
			o.Finding, o.Detail = NoResponse, fmt.Sprintf("%d bytes before the %v deadline", len(rec.buf), p.Timeout)
		case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE):
			o.Finding, o.Detail = ClosedEarly, fmt.Sprintf("after %d bytes of a response: %v", len(rec.buf), err)
		case isFE && fe.Field == header.FieldStatus:
			v := uint16(h.Status)
			o.Status, o.StatusName = &v, ""
			o.Finding, o.Detail = UnknownStatus, err.Error()
		default:
			o.Finding, o.Detail = BadResponse, err.Error()
		}
		return o
	}
	v := uint16(h.Status)
	o.Status, o.StatusName = &v, h.Status.String()
	o.Finding, o.Detail = Judge(h, body, exp, p.Mode)
	if o.Finding == "" {
		// Anything after the response? The service closes the connection after it; a reset
		// here is normal when it left request bytes unread.
		_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		var extra [64]byte
		if n, _ := rec.Read(extra[:]); n > 0 {
			o.Finding, o.Detail = Trailing, fmt.Sprintf("%d or more bytes after the response", n)
		}
	}
	return o
}
