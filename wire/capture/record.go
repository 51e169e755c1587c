package capture

import (
	"strconv"
	"unicode/utf8"

	"github.com/parsecwire/parsecwire/operation"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// Record is what the Decoder reports about one frame of a capture: where it is, its header
// when it decoded, its verdict, and its place in a request/response exchange. The Decoder
// reuses one Record: it and its slices are valid only during the callback.
type Record struct {
	Source string // the input's name, "-" for stdin
	Line   int    // 1-based line of the frame's first byte in a text input; 0 otherwise
	Conn   string // the connection, "" when the input holds one stream
	Kind   Dir    // DirRequest or DirResponse
	Index  int64  // the frame's number within the source, from 0
	Offset int64  // of the frame's first byte within its stream (a line of a hex file, a connection's direction)

	OK      bool
	Decoded bool          // Header holds the frame's fields
	Header  header.Header // when Decoded
	Body    []byte        // the body, when it was read and held
	Auth    []byte        // a request's authentication bytes
	Dropped bool          // the body was too large to hold: read and discarded

	// The fault, when the frame is invalid: the error, the status that classifies it, the
	// field and the stream offset of the first bad byte.
	Err         error
	Code        status.Code
	Field       string
	FaultOffset int64
	// Skipped counts, after a fault whose lengths could not be trusted, the bytes from the
	// fault's first byte to the next magic number (Resumed) or to the end of the stream.
	Skipped int64
	Resumed bool
	// Missing counts bytes of the frame that the capture does not hold (strace -s cut the
	// buffer, lines of a dump are missing): the frame is incomplete, not invalid.
	Missing int64

	// Exchange numbers a request and its response (same connection, in order) from 1; 0
	// when the format does not tell directions apart.
	Exchange int64
	// Echo, on a response, says what does not echo its request (provider, session, opcode),
	// or that no request came before it; "" when it does.
	Echo string

	// Operation is the decoded body of a frame a Parsec peer reads as an operation's, with
	// Config.Bodies set to BodiesDecode; nil otherwise. JSON prints it as "body".
	Operation operation.Fields
}

// Valid reports whether the frame is well formed and echoes its request.
func (r *Record) Valid() bool { return r.OK && r.Echo == "" }

// KindName is "request" or "response".
func (r *Record) KindName() string {
	if r.Kind == DirRequest {
		return "request"
	}
	return "response"
}

// AppendJSON appends the record as one JSON object, without a newline. The keys are a
// contract that other tools parse: source, line (text inputs), conn, kind, index, offset,
// ok; when the header decoded provider, provider_name, session (a decimal string),
// content_type, opcode, opcode_name, status, status_name, content_length, and for requests
// auth_type and auth_length; for a bad frame error, code, code_name, field, fault_offset,
// skipped; then missing, dropped, exchange, echo and body when they apply.
func (r *Record) AppendJSON(b []byte) []byte {
	var e JSONEncoder
	return e.Append(b, r)
}

// JSONEncoder appends records as AppendJSON does, keeping what repeats from one record to the
// next (the source's quoted name, the text of the last fault, the keys and names that go
// with each provider, opcode and status) so that millions of records cost appends, not
// formatting.
type JSONEncoder struct {
	src     string
	srcJSON []byte
	fe      header.FieldError
	feText  string
	feJSON  []byte

	index     int64 // the last record's index, and its decimal digits
	indexText []byte

	providers [256][]byte  // `,"provider":1,"provider_name":"MbedCrypto","session":"`
	opcodes   [64][]byte   // `12,"opcode_name":"PsaExportKey","status":`
	statuses  [2048][]byte // `1140,"status_name":"PsaErrorDoesNotExist","content_length":`
}

// ErrorText returns err.Error(), from the cache when err is the same fault as the last.
func (e *JSONEncoder) ErrorText(err error) string {
	if err == nil {
		return ""
	}
	if fe, ok := err.(*header.FieldError); ok {
		if *fe == e.fe && e.feText != "" {
			return e.feText
		}
		e.fe, e.feText = *fe, fe.Error()
		e.feJSON = appendString(e.feJSON[:0], e.feText)
		return e.feText
	}
	return err.Error()
}

func providerJSON(b []byte, p uint8) []byte {
	pn, _ := header.ProviderName(p)
	b = append(b, `,"provider":`...)
	b = strconv.AppendUint(b, uint64(p), 10)
	b = append(b, `,"provider_name":"`...)
	b = append(b, pn...)
	return append(b, `","session":"`...)
}

func opcodeJSON(b []byte, op uint32) []byte {
	on, _ := header.OpcodeName(op)
	b = strconv.AppendUint(b, uint64(op), 10)
	b = append(b, `,"opcode_name":"`...)
	b = append(b, on...)
	return append(b, `","status":`...)
}

func statusJSON(b []byte, c status.Code) []byte {
	sn := ""
	if c.Known() {
		sn = c.String()
	}
	b = strconv.AppendUint(b, uint64(c), 10)
	b = append(b, `,"status_name":"`...)
	b = append(b, sn...)
	return append(b, `","content_length":`...)
}

// indexDigits returns the decimal digits of index. Records come with indexes 0, 1, 2...:
// the digits of the last one are incremented in place rather than formatted again.
func (e *JSONEncoder) indexDigits(index int64) []byte {
	if index != e.index+1 || e.indexText == nil {
		e.index, e.indexText = index, strconv.AppendInt(e.indexText[:0], index, 10)
		return e.indexText
	}
	e.index = index
	d := e.indexText
	for i := len(d) - 1; i >= 0; i-- {
		if d[i] != '9' {
			d[i]++
			return d
		}
		d[i] = '0'
	}
	e.indexText = append(append(d[:0:0], '1'), d...) // 999 to 1000
	return e.indexText
}

// Append appends r as one JSON object, without a newline.
func (e *JSONEncoder) Append(b []byte, r *Record) []byte {
	if e.srcJSON == nil || r.Source != e.src {
		e.src, e.srcJSON = r.Source, appendString(nil, r.Source)
	}
	b = append(b, `{"source":`...)
	b = append(b, e.srcJSON...)
	if r.Line > 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(r.Line), 10)
	}
	if r.Conn != "" {
		b = append(b, `,"conn":`...)
		b = appendString(b, r.Conn)
	}
	if r.Kind == DirRequest {
		b = append(b, `,"kind":"request","index":`...)
	} else {
		b = append(b, `,"kind":"response","index":`...)
	}
	b = append(b, e.indexDigits(r.Index)...)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, r.Offset, 10)
	if r.OK {
		b = append(b, `,"ok":true`...)
	} else {
		b = append(b, `,"ok":false`...)
	}
	if r.Decoded {
		h := &r.Header
		p := &e.providers[h.Provider]
		if *p == nil {
			*p = providerJSON(nil, h.Provider)
		}
		b = append(b, *p...)
		b = strconv.AppendUint(b, h.Session, 10)
		if h.ContentType == 0 {
			b = append(b, `","content_type":0,"opcode":`...)
		} else {
			b = append(b, `","content_type":`...)
			b = strconv.AppendUint(b, uint64(h.ContentType), 10)
			b = append(b, `,"opcode":`...)
		}
		if h.Opcode < uint32(len(e.opcodes)) {
			o := &e.opcodes[h.Opcode]
			if *o == nil {
				*o = opcodeJSON(nil, h.Opcode)
			}
			b = append(b, *o...)
		} else {
			b = opcodeJSON(b, h.Opcode)
		}
		if int(h.Status) < len(e.statuses) {
			st := &e.statuses[h.Status]
			if *st == nil {
				*st = statusJSON(nil, h.Status)
			}
			b = append(b, *st...)
		} else {
			b = statusJSON(b, h.Status)
		}
		b = strconv.AppendUint(b, uint64(h.ContentLength), 10)
		if r.Kind == DirRequest {
			b = append(b, `,"auth_type":`...)
			b = strconv.AppendUint(b, uint64(h.AuthType), 10)
			b = append(b, `,"auth_length":`...)
			b = strconv.AppendUint(b, uint64(h.AuthLength), 10)
		}
	}
	if r.Err != nil {
		b = append(b, `,"error":`...)
		if _, ok := r.Err.(*header.FieldError); ok {
			e.ErrorText(r.Err)
			b = append(b, e.feJSON...)
		} else {
			b = appendString(b, r.Err.Error())
		}
		if r.Missing == 0 {
			b = append(b, `,"code":`...)
			b = strconv.AppendUint(b, uint64(r.Code), 10)
			b = append(b, `,"code_name":"`...)
			b = append(b, r.Code.String()...)
			b = append(b, '"')
		}
		if r.Field != "" {
			b = append(b, `,"field":"`...)
			b = append(b, r.Field...)
			b = append(b, `","fault_offset":`...)
			b = strconv.AppendInt(b, r.FaultOffset, 10)
		}
	}
	if r.Skipped > 0 {
		b = append(b, `,"skipped":`...)
		b = strconv.AppendInt(b, r.Skipped, 10)
	}
	if r.Missing > 0 {
		b = append(b, `,"missing":`...)
		b = strconv.AppendInt(b, r.Missing, 10)
	}
	if r.Dropped {
		b = append(b, `,"dropped":true`...)
	}
	if r.Exchange > 0 {
		b = append(b, `,"exchange":`...)
		b = strconv.AppendInt(b, r.Exchange, 10)
	}
	if r.Echo != "" {
		b = append(b, `,"echo":`...)
		b = appendString(b, r.Echo)
	}
	if r.Operation != nil {
		b = append(b, `,"body":`...)
		b = r.Operation.AppendJSON(b)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		}
		i++
	}
	return append(b, '"')
}
