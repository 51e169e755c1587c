package wiretest

import (
	"strconv"
	"time"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// Request is a request the Server read whole and that passed the reference's checks.
type Request struct {
	Header header.Header
	Body   []byte // valid until ServeParsec returns: copy what you keep
	Auth   []byte // valid until ServeParsec returns
	Seq    uint64 // the server's sequence number of this request, from 0
}

// ResponseWriter sends the answer to one request. Everything written goes to the client's
// connection at once, and the Server counts what was written: the status field of the
// bytes sent is what the summary counts, whatever the handler meant.
type ResponseWriter interface {
	// WriteResponse sends a well-formed response frame: h with its lengths set from body
	// (wire.AppendResponse).
	WriteResponse(h header.Header, body []byte) error
	// Write sends raw bytes, for a handler that breaks frames on purpose.
	Write(p []byte) (int, error)
	// Note says, for the request log, what the handler did ("Ping answered Success").
	Note(s string)
	// CloseAfter closes the connection after this answer, even in keep-alive mode (an
	// answer cut short must not be followed by another).
	CloseAfter()
}

// Handler answers the requests a Server reads. A request that cannot be read (a bad magic
// number, a body above the limit, an unknown opcode: any failure of wire.Reader in strict
// mode) never reaches the handler: the Server answers it as the reference service does,
// with a response built from the status alone. A handler that writes nothing leaves the
// request unanswered, and the Server closes the connection.
type Handler interface {
	ServeParsec(w ResponseWriter, r *Request)
}

// HandlerFunc is a function used as a Handler.
type HandlerFunc func(w ResponseWriter, r *Request)

// ServeParsec calls f(w, r).
func (f HandlerFunc) ServeParsec(w ResponseWriter, r *Request) { f(w, r) }

// DefaultAnswer is the answer of the default handler to a readable request: the request's
// provider and session, its opcode and its accept type as content type, and
//
//   - for a body the reference's converter refuses, its status and no body, as the reference
//     service answers;
//   - else Success and a result body that is valid by the schema: the wire protocol version
//     1.0 for Ping; two providers (Mbed Crypto and the core provider) for ListProviders; the
//     opcodes of the provider asked for ListOpcodes; direct authentication for
//     ListAuthenticators; two keys for ListKeys; two clients for ListClients; as many bytes as
//     asked for PsaGenerateRandom (up to 1 MiB); the real digest for PsaHashCompute and
//     PsaHashCompare (PsaErrorInvalidSignature when it differs); and for the operations that
//     need keys, a result drawn from the request by the schema.
//
// It is the one place that decides what the service answers, operation by operation.
func DefaultAnswer(req header.Header, body []byte) (header.Header, []byte) {
	resp := header.Header{Provider: req.Provider, Session: req.Session, Opcode: req.Opcode, ContentType: req.AcceptType}
	if _, reads := operation.ForFrame(&req, operation.Request); !reads {
		return resp, nil
	}
	args, err := operation.Decode(req.Opcode, operation.Request, body)
	if err != nil {
		resp.Status, _ = status.Of(err)
		return resp, nil
	}
	var b []byte
	resp.Status, b = answer(req, args)
	return resp, b
}

// Default answers every readable request with DefaultAnswer.
var Default Handler = HandlerFunc(serveDefault)

func serveDefault(w ResponseWriter, r *Request) {
	h, body := DefaultAnswer(r.Header, r.Body)
	if err := w.WriteResponse(h, body); err == nil {
		w.Note(opName(r.Header.Opcode) + " answered " + h.Status.String())
	}
}

func opName(op uint32) string {
	if s, ok := header.OpcodeName(op); ok {
		return s
	}
	return "opcode " + strconv.FormatUint(uint64(op), 10)
}

// Mutate returns a Handler that passes every answer of h through fuzz.MutateAnswer (its
// header and framing, or its body by the schema),
// seeded by seed and the request's sequence number alone: the same seed and the same
// requests give the same answers. A mutation that says so is written in pieces, and one
// that cuts the frame closes the connection after it. The log names each mutation.
func Mutate(h Handler, seed uint64) Handler {
	return HandlerFunc(func(w ResponseWriter, r *Request) {
		var cw captureWriter
		cw.note = w.Note
		h.ServeParsec(&cw, r)
		if cw.closeAfter {
			w.CloseAfter()
		}
		if len(cw.b) == 0 {
			return
		}
		m := fuzz.MutateAnswer(cw.b, seed^(r.Seq*0x9E3779B97F4A7C15))
		w.Note("sent mutation " + m.String())
		if mw, ok := w.(interface{ mutated(fuzz.Kind) }); ok {
			mw.mutated(m.Kind)
		}
		if m.Close {
			w.CloseAfter()
		}
		if m.Chunk == 0 {
			_, _ = w.Write(m.Frame)
			return
		}
		for b := m.Frame; len(b) > 0; {
			n := min(m.Chunk, len(b))
			if _, err := w.Write(b[:n]); err != nil {
				return
			}
			b = b[n:]
			if len(b) > 0 {
				time.Sleep(time.Millisecond) // each piece its own read on the client's side
			}
		}
	})
}

// captureWriter collects what a handler writes, for Mutate.
type captureWriter struct {
	b          []byte
	note       func(string)
	closeAfter bool
}

func (c *captureWriter) WriteResponse(h header.Header, body []byte) error {
	b, err := wire.AppendResponse(c.b, h, body)
	c.b = b
	return err
}

func (c *captureWriter) Write(p []byte) (int, error) {
	c.b = append(c.b, p...)
	return len(p), nil
}

func (c *captureWriter) Note(s string) { c.note(s) }
func (c *captureWriter) CloseAfter()   { c.closeAfter = true }

// mutated passes the kind on, when Mutate wraps Mutate.
func (c *captureWriter) mutated(fuzz.Kind) {}

// StatusOnly is the reference service's answer to a request it cannot read: provider 0,
// session 0, content type 0, opcode 1 (Ping), no body, and the status that classifies the
// failure.
func StatusOnly(code status.Code) header.Header {
	return header.Header{Opcode: header.OpPing, Status: code}
}
