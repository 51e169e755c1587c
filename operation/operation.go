// Package operation holds the schema of every Parsec operation's body (the protobuf message a
// request carries, its Operation, and the one a Success response carries, its Result) and
// validates, decodes and encodes bodies against it.
//
// A body is judged as the reference implementation (parsec-interface's ProtobufConverter)
// judges it, in the same two steps: first the whole body is read as protobuf, and any fault
// there (a bad varint, a length past the end, a known field with the wrong wire type, invalid
// UTF-8 in a string) is DeserializingBodyFailed; then the values are converted to the
// operation's native types, and a value the converter refuses (a missing mandatory message, an
// enum value it does not accept, an unknown opcode in a list) gets the status the converter
// returns, usually InvalidEncoding. Unknown fields are skipped, as protobuf says.
//
// Everything derives from one table of message descriptions (see Lookup): Validate walks it
// without allocating, Decode turns a body into an ordered tree of named fields (Fields) for
// printing and JSON, and Append encodes such a tree, canonically, as the reference writes it.
package operation

import (
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// Dir says which of an operation's two messages a body holds.
type Dir uint8

const (
	// Request: the body of a request, the operation's Operation message.
	Request Dir = iota
	// Response: the body of a Success response, the operation's Result message.
	Response
)

// String returns "request" or "response".
func (d Dir) String() string {
	if d == Response {
		return "response"
	}
	return "request"
}

// entry is one row of the operation table: an opcode's two messages.
type entry struct {
	op      uint32
	request *MessageDesc // the Operation message
	result  *MessageDesc // the Result message
}

// maxOpcode bounds the opcodes the table is indexed by.
const maxOpcode = 64

// byOpcode indexes the table by opcode.
var byOpcode = func() (t [maxOpcode]*entry) {
	for i := range table {
		t[table[i].op] = &table[i]
	}
	return t
}()

// Lookup returns the description of the message a body of opcode op holds in direction d:
// its Operation for a request, its Result for a response.
func Lookup(op uint32, d Dir) (*MessageDesc, bool) {
	if op >= maxOpcode || byOpcode[op] == nil {
		return nil, false
	}
	if d == Response {
		return byOpcode[op].result, true
	}
	return byOpcode[op].request, true
}

// Opcodes returns every opcode the schema describes, in increasing order.
func Opcodes() []uint32 {
	ops := make([]uint32, len(table))
	for i := range table {
		ops[i] = table[i].op
	}
	return ops
}

// ErrUnknownOpcode is matched by the error for a body of an opcode the schema does not
// describe: its body cannot be judged, so Validate and Decode refuse it with
// OpcodeDoesNotExist, the status the reference gives the opcode itself.
var ErrUnknownOpcode = &FieldError{Reason: "no schema for this opcode", Code: status.OpcodeDoesNotExist}

// Validate reports whether body is a body of opcode op in direction d that the reference's
// converter accepts: nil, or a *FieldError that names the field, its byte offset in the body
// and the status the converter returns. It allocates nothing unless it fails.
func Validate(op uint32, d Dir, body []byte) error {
	m, ok := Lookup(op, d)
	if !ok {
		return unknownOpcode(op, d)
	}
	w := walker{body: body, op: op, dir: d}
	if err := w.parse(m, body, recursionLimit); err != nil {
		return err
	}
	return w.check(m, w.root(body))
}

func unknownOpcode(op uint32, d Dir) error {
	return &FieldError{Opcode: op, Dir: d, Reason: "no schema for this opcode", Code: status.OpcodeDoesNotExist}
}

// Name returns the protobuf name of the message a body of opcode op holds in direction d
// ("ping.Result"), or "" for an opcode the schema does not describe.
func Name(op uint32, d Dir) string {
	if m, ok := Lookup(op, d); ok {
		return m.Name
	}
	return ""
}

// opName names an opcode for messages: "ListProviders", or "opcode 99".
func opName(op uint32) string {
	if n, ok := header.OpcodeName(op); ok {
		return n
	}
	return "opcode " + itoa(int64(op))
}

// FieldError reports a body that the reference's converter refuses: which field (a path
// from the top message, "providers[0].uuid", empty for the body as a whole), its byte offset
// in the body, what is wrong, and the Parsec status the converter returns for it.
//
// errors.Is(err, status.DeserializingBodyFailed) (or the Code concerned) holds for a
// FieldError; errors.As with a *FieldError gives the details.
type FieldError struct {
	Opcode uint32
	Dir    Dir
	Path   string
	Offset int         // byte offset of the fault from the start of the body
	Reason string      // what is wrong
	Found  string      // the value found, when the fault is about a value
	Code   status.Code // the status the reference's converter returns
}

// Error describes the fault, e.g. "parsec body: ListProviders response: providers[0].uuid at
// offset 4: invalid UTF-8 in a string (DeserializingBodyFailed)".
func (e *FieldError) Error() string {
	b := append([]byte("parsec body: "), opName(e.Opcode)...)
	b = append(b, ' ')
	b = append(b, e.Dir.String()...)
	b = append(b, ": "...)
	if e.Path != "" {
		b = append(b, e.Path...)
		b = append(b, ' ')
	}
	b = append(b, "at offset "...)
	b = appendInt(b, int64(e.Offset))
	b = append(b, ": "...)
	b = append(b, e.Reason...)
	if e.Found != "" {
		b = append(b, ", found "...)
		b = append(b, e.Found...)
	}
	b = append(b, " ("...)
	b = append(b, e.Code.String()...)
	b = append(b, ')')
	return string(b)
}

// Status returns the Parsec status that classifies the fault.
func (e *FieldError) Status() status.Code { return e.Code }

// Is reports whether target is the classifying status, or ErrUnknownOpcode for a body of an
// opcode without a schema.
func (e *FieldError) Is(target error) bool {
	if t, ok := target.(*FieldError); ok && t == ErrUnknownOpcode {
		return e.Reason == ErrUnknownOpcode.Reason && e.Code == ErrUnknownOpcode.Code
	}
	c, ok := target.(status.Code)
	return ok && c == e.Code
}

// As sets a *status.Code target to the classifying status.
func (e *FieldError) As(target any) bool {
	if p, ok := target.(*status.Code); ok {
		*p = e.Code
		return true
	}
	return false
}
