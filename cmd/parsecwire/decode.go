package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// record is what parsecwire reports about one frame. Its JSON form is a contract other
// tools parse: keep the names and types.
type record struct {
	Source string `json:"source"`
	Line   int    `json:"line,omitempty"`
	Kind   string `json:"kind"`
	Index  int    `json:"index"`
	Offset int    `json:"offset"`
	OK     bool   `json:"ok"`

	// When the header decoded.
	Provider      *uint8  `json:"provider,omitempty"`
	ProviderName  *string `json:"provider_name,omitempty"`
	Session       *string `json:"session,omitempty"`
	ContentType   *uint8  `json:"content_type,omitempty"`
	Opcode        *uint32 `json:"opcode,omitempty"`
	OpcodeName    *string `json:"opcode_name,omitempty"`
	Status        *uint16 `json:"status,omitempty"`
	StatusName    *string `json:"status_name,omitempty"`
	ContentLength *uint32 `json:"content_length,omitempty"`
	AuthLength    *uint16 `json:"auth_length,omitempty"`

	// When the frame is bad.
	Error       string `json:"error,omitempty"`
	Code        *int   `json:"code,omitempty"`
	CodeName    string `json:"code_name,omitempty"`
	Field       string `json:"field,omitempty"`
	FaultOffset *int   `json:"fault_offset,omitempty"`
	Skipped     int    `json:"skipped,omitempty"`

	hdr     *header.Header
	body    []byte // the first bytes of body and auth, for the readable form
	resumed bool   // a magic number was found after a resync
}

type decodeFlags struct {
	format   string
	requests bool
	json     bool
	limit    uint64
	seed     bool
	strict   bool
}

func (f *decodeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "format", "auto", "input format: "+strings.Join(formats, "|"))
	fs.BoolVar(&f.requests, "requests", false, "the frames are requests (client to service), not responses; mock files say which is which")
	fs.BoolVar(&f.json, "json", false, "print JSON lines")
	fs.Uint64Var(&f.limit, "limit", wire.DefaultLimit, "body-size limit in bytes (BodySizeExceedsLimit above it)")
	fs.BoolVar(&f.seed, "seed", false, "accept only the seed document's 40 status codes")
	fs.BoolVar(&f.strict, "strict", false, "also apply the reference's semantic checks (provider, content type, opcode)")
}

// scan decodes every frame of a chunk. After a frame whose lengths can be trusted it goes on
// right after that frame; after one whose lengths cannot be trusted (wrong magic, header
// size, version) it resumes at the next magic number, reporting the bytes skipped.
func scan(c chunk, f *decodeFlags, emit func(*record)) {
	src := bytes.NewReader(c.data)
	rd := wire.NewReader(src)
	rd.SetLimit(uint32(min(f.limit, uint64(^uint32(0)))))
	if f.seed {
		rd.SetCodes(status.Seed)
	}
	rd.SetStrict(f.strict)
	for pos, index := 0, 0; pos < len(c.data); index++ {
		src.Reset(c.data[pos:])
		rd.Reset(src)
		var h header.Header
		var body, auth []byte
		var err error
		if c.kind == "request" {
			body, auth, err = rd.NextRequest(&h)
		} else {
			body, err = rd.Next(&h)
		}
		r := &record{Source: c.source, Line: c.line, Kind: c.kind, Index: index, Offset: pos, OK: err == nil}
		consumed := int(rd.Offset())
		var fe *header.FieldError
		headerKnown := err == nil
		next := pos + consumed
		if err != nil {
			code, _ := status.Of(err)
			ci := int(code)
			r.Error, r.Code, r.CodeName = err.Error(), &ci, code.String()
			if errors.As(err, &fe) {
				r.Field = fe.Field.String()
				off := pos + fe.Offset
				r.FaultOffset = &off
				switch {
				case fe.Field == header.FieldStatus, code == status.ProviderDoesNotExist,
					code == status.ContentTypeNotSupported, code == status.OpcodeDoesNotExist,
					code == status.AcceptTypeNotSupported, code == status.AuthenticatorDoesNotExist:
					headerKnown = true // the whole frame was read
				case code == status.BodySizeExceedsLimit:
					headerKnown = true
					next = pos + header.Size + int(h.ContentLength) + int(h.AuthLength)
				case fe.Field == header.FieldReserved1 || fe.Field == header.FieldReserved2:
					// A 1.0 header whose lengths are in place: skip the frame by them.
					cl := binary.LittleEndian.Uint32(c.data[pos+22:])
					al := uint32(0)
					if c.kind == "request" {
						al = uint32(binary.LittleEndian.Uint16(c.data[pos+26:]))
					}
					next = pos + header.Size + int(cl) + int(al)
				case code == status.ConnectionError && fe.Field != header.FieldHeaderSize:
					next = len(c.data) // the chunk ends inside this frame
				default: // magic, header size, version: lengths not to be trusted
					// (a wrong header size that runs past the end included)
					next = resync(c.data, pos)
					r.Skipped, r.resumed = next-pos, next < len(c.data)
				}
			}
		}
		if headerKnown {
			r.setHeader(h)
			r.body = append(append(r.body, body[:min(len(body), 32)]...), auth[:min(len(auth), 32)]...)
		}
		emit(r)
		if next <= pos {
			next = resync(c.data, pos) // never loop on a frame that consumed nothing
		}
		if next > len(c.data) {
			// A body skipped by its length runs past the end of the chunk: that frame was
			// reported; nothing follows it.
			next = len(c.data)
		}
		pos = next
	}
}

// resync returns the offset of the next magic number after the frame at pos, or the end.
func resync(data []byte, pos int) int {
	magic := []byte{0x10, 0xa7, 0xc0, 0x5e}
	if i := bytes.Index(data[pos+1:], magic); i >= 0 {
		return pos + 1 + i
	}
	return len(data)
}

func (r *record) setHeader(h header.Header) {
	r.hdr = &h
	pn, _ := header.ProviderName(h.Provider)
	on, _ := header.OpcodeName(h.Opcode)
	sn := h.Status.String()
	if !h.Status.Known() {
		sn = ""
	}
	sess := strconv.FormatUint(h.Session, 10)
	st := uint16(h.Status)
	r.Provider, r.ProviderName, r.Session, r.ContentType = &h.Provider, &pn, &sess, &h.ContentType
	r.Opcode, r.OpcodeName, r.Status, r.StatusName, r.ContentLength = &h.Opcode, &on, &st, &sn, &h.ContentLength
	if r.Kind == "request" {
		r.AuthLength = &h.AuthLength
	}
}

// text writes the readable form of a record: a first line with where and the verdict, then
// the fields with names next to numbers, then the fault.
func (r *record) text(w io.Writer) {
	where := r.Source
	if r.Line > 0 {
		where += ":" + strconv.Itoa(r.Line)
	}
	verdict := "ok"
	if !r.OK {
		verdict = fmt.Sprintf("INVALID %s (%d)", r.CodeName, *r.Code)
	}
	kind := ""
	if r.Kind == "request" {
		kind = " request"
	}
	fmt.Fprintf(w, "%s%s frame %d at offset %d: %s\n", where, kind, r.Index, r.Offset, verdict)
	if h := r.hdr; h != nil {
		fmt.Fprintf(w, "    status %d %s   opcode %d %s   provider %d %s   session %d\n",
			h.Status, orUnknown(*r.StatusName), h.Opcode, orUnknown(*r.OpcodeName), h.Provider, orUnknown(*r.ProviderName), h.Session)
		ct, ok := header.ContentTypeName(h.ContentType)
		if !ok {
			ct = "unknown"
		}
		fmt.Fprintf(w, "    content type %d %s   content length %d", h.ContentType, ct, h.ContentLength)
		if r.Kind == "request" {
			fmt.Fprintf(w, "   auth type %d   auth length %d", h.AuthType, h.AuthLength)
		}
		fmt.Fprintln(w)
		if len(r.body) > 0 {
			more := ""
			if int(h.ContentLength)+int(h.AuthLength) > len(r.body) {
				more = " ..."
			}
			fmt.Fprintf(w, "    body %x%s\n", r.body, more)
		}
	}
	if !r.OK {
		fmt.Fprintf(w, "    fault: %s\n", r.Error)
		if r.FaultOffset != nil {
			of := "stream"
			if r.Line > 0 {
				of = "line"
			}
			fmt.Fprintf(w, "    first bad byte: offset %d of the %s (%s)\n", *r.FaultOffset, of, r.Field)
		}
		switch {
		case r.Skipped > 0 && r.resumed:
			fmt.Fprintf(w, "    skipped %d bytes to the next magic number, at offset %d\n", r.Skipped, r.Offset+r.Skipped)
		case r.Skipped > 0:
			fmt.Fprintf(w, "    skipped %d bytes: no magic number follows\n", r.Skipped)
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// tally counts frames for the summary.
type tally struct {
	frames, valid, invalid int
	byStatus               map[string]int // valid frames by status
	byCode                 map[string]int // invalid frames by classifying status
}

func (t *tally) add(r *record) {
	t.frames++
	if r.OK {
		t.valid++
		t.byStatus[*r.StatusName]++
	} else {
		t.invalid++
		t.byCode[r.CodeName]++
	}
}

func (t *tally) text(w io.Writer) {
	fmt.Fprintf(w, "%d frames: %d valid, %d invalid\n", t.frames, t.valid, t.invalid)
	if len(t.byStatus) > 0 {
		fmt.Fprintf(w, "  valid by status:   %s\n", counts(t.byStatus))
	}
	if len(t.byCode) > 0 {
		fmt.Fprintf(w, "  invalid by fault:  %s\n", counts(t.byCode))
	}
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ci, _ := status.Lookup(keys[i])
		cj, _ := status.Lookup(keys[j])
		return ci < cj
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

const decodeExamples = `
Examples:
  parsecwire decode testdata/responses.hex
  parsecwire decode -json testdata/broken.hex | jq .code_name
  xxd -p capture.bin | tr -d '\n' | parsecwire decode -format hex   # one stream
  parsecwire decode -format raw -limit 4096 capture.bin
  parsecwire decode -strict -seed case.test.yaml
`

func runDecode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return decodeOrValidate("decode", args, stdin, stdout, stderr)
}

func runValidate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return decodeOrValidate("validate", args, stdin, stdout, stderr)
}

func decodeOrValidate(name string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f decodeFlags
	f.register(fs)
	fs.Usage = func() {
		if name == "decode" {
			fmt.Fprintf(fs.Output(), "Usage: parsecwire decode [flags] [FILE ...]\n\nDecodes every response frame of the inputs (stdin without FILE) and prints one record per frame.\n\nFlags:\n")
		} else {
			fmt.Fprintf(fs.Output(), "Usage: parsecwire validate [flags] [FILE ...]\n\nChecks every frame of the inputs; prints only the invalid ones and a summary.\n\nFlags:\n")
		}
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), strings.ReplaceAll(decodeExamples, "parsecwire decode", "parsecwire "+name))
		fmt.Fprintln(fs.Output(), "\nExit status: 0 every frame valid, 1 any frame invalid, 2 usage or I/O error.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		return exitUsage
	}
	if !validFormat(f.format) {
		fmt.Fprintf(stderr, "parsecwire %s: unknown -format %q (want %s)\n", name, f.format, strings.Join(formats, ", "))
		return exitUsage
	}
	chunks, failed := openInputs(fs.Args(), f.format, stdin, stderr)
	if f.requests {
		for i := range chunks {
			if !chunks[i].mock {
				chunks[i].kind = "request"
			}
		}
	}
	t := tally{byStatus: map[string]int{}, byCode: map[string]int{}}
	enc := json.NewEncoder(stdout)
	for _, c := range chunks {
		scan(c, &f, func(r *record) {
			t.add(r)
			if name == "validate" && r.OK {
				return
			}
			if f.json {
				_ = enc.Encode(r)
			} else {
				r.text(stdout)
			}
		})
	}
	if name == "validate" || !f.json {
		if f.json {
			_ = enc.Encode(map[string]any{"summary": true, "frames": t.frames, "valid": t.valid,
				"invalid": t.invalid, "by_status": t.byStatus, "by_fault": t.byCode})
		} else {
			if name == "decode" {
				fmt.Fprintln(stdout)
			}
			t.text(stdout)
		}
	}
	switch {
	case failed:
		return exitUsage
	case t.invalid > 0:
		return exitInvalid
	}
	return exitOK
}

func validFormat(s string) bool {
	for _, f := range formats {
		if f == s {
			return true
		}
	}
	return false
}
