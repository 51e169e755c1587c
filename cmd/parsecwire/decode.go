package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/capture"
)

type decodeFlags struct {
	format   string
	requests bool
	json     bool
	limit    uint64
	seed     bool
	strict   bool
	hold     int
	progress string
	body     bool
}

func (f *decodeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "format", "auto", "input format: auto|"+strings.Join(capture.Names(), "|"))
	fs.BoolVar(&f.requests, "requests", false, "frames of inputs that do not tell directions apart (hex, raw...) are requests, not responses")
	fs.BoolVar(&f.json, "json", false, "print JSON lines")
	fs.Uint64Var(&f.limit, "limit", wire.DefaultLimit, "body-size limit in bytes (BodySizeExceedsLimit above it)")
	fs.BoolVar(&f.seed, "seed", false, "accept only the seed document's 40 status codes")
	fs.BoolVar(&f.strict, "strict", false, "also apply the reference's semantic checks (provider, content type, opcode)")
	fs.IntVar(&f.hold, "hold", 16<<20, "largest frame held in memory; larger bodies are checked by length, read and dropped")
	fs.BoolVar(&f.body, "body", true, "judge the protobuf body of every request and Success response of a known opcode as the reference's converter does (decode also prints it); -body=false gives the framing verdict alone")
	fs.StringVar(&f.progress, "progress", "auto", "progress line on stderr: auto (when stderr is a terminal and the run lasts over a second), always, never")
}

const decodeExamples = `
Examples:
  parsecwire decode testdata/responses.hex
  parsecwire decode testdata/broken.hex -json | jq .code_name
  xxd -p capture.bin | tr -d '\n' | parsecwire decode -format hex   # one stream
  parsecwire decode -format raw -limit 4096 capture.bin
  parsecwire decode -strict -seed case.test.yaml
  strace -f -xx -s 65536 -e trace=read,write -o app.strace ./app; parsecwire validate app.strace
`

func runDecode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return decodeOrValidate("decode", args, stdin, stdout, stderr)
}

func runValidate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return decodeOrValidate("validate", args, stdin, stdout, stderr)
}

// parseInterleaved parses flags that may come after the file names ("decode FILE -json"):
// it parses, takes the first name, and parses the rest again. "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return names, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(names, rest...), nil
		}
		names = append(names, rest[0])
		args = rest[1:]
	}
}

// parseFlags parses a command's flags, printing its usage once: on stdout for -h, on stderr
// after a usage error.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (names []string, rc int, ok bool) {
	var msgs bytes.Buffer
	fs.SetOutput(&msgs)
	names, err := parseInterleaved(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		stdout.Write(msgs.Bytes())
		return nil, exitOK, false
	case err != nil:
		stderr.Write(msgs.Bytes())
		return nil, exitUsage, false
	}
	return names, 0, true
}

func decodeOrValidate(name string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var f decodeFlags
	f.register(fs)
	fs.Usage = func() {
		w := fs.Output()
		if name == "decode" {
			fmt.Fprintf(w, "Usage: parsecwire decode [flags] [FILE|FOLDER ...]\n\nDecodes every frame of the inputs (stdin without FILE) and prints one record per frame.\n")
		} else {
			fmt.Fprintf(w, "Usage: parsecwire validate [flags] [FILE|FOLDER ...]\n\nChecks every frame of the inputs; prints only the invalid ones and a summary.\n")
		}
		fmt.Fprintf(w, "Flags may come before or after the names.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nFormats (-format auto: by extension, then by content):\n%s", formatHelp())
		fmt.Fprint(w, strings.ReplaceAll(decodeExamples, "parsecwire decode", "parsecwire "+name))
		fmt.Fprintln(w, "\nExit status: 0 every frame valid, 1 any frame invalid or not echoed (or no frame at all),\n2 usage, I/O or input errors.")
	}
	names, rc, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return rc
	}
	if f.format != "auto" {
		if _, ok := capture.Lookup(f.format); !ok {
			fmt.Fprintf(stderr, "parsecwire %s: unknown -format %q (want auto, %s)\n", name, f.format, strings.Join(capture.Names(), ", "))
			return exitUsage
		}
	}
	p := newPrinter(name, &f, stdout)
	var prog *capture.Progress
	stopProgress := func() {}
	if f.progress == "always" || f.progress == "auto" && !f.json && isTerminal(stderr) && (name == "validate" || !isTerminal(stdout)) {
		prog = &capture.Progress{}
		pw := &progressWriter{w: stderr}
		stderr = pw // a message erases the progress line first
		stopProgress = startProgress(pw, prog, time.Second)
	}
	bodies := capture.BodiesOff
	switch {
	case f.body && name == "decode":
		bodies = capture.BodiesDecode
	case f.body:
		bodies = capture.BodiesCheck
	}
	dec := capture.NewDecoder(capture.Config{Limit: uint32(min(f.limit, uint64(^uint32(0)))), Seed: f.seed, Strict: f.strict,
		Requests: f.requests, Hold: f.hold, Progress: prog, Bodies: bodies})
	ins, failed := inputs(names, f.format, stderr)
	for _, in := range ins {
		src, closer, used, note, err := open(in, f.format, stdin)
		if note != "" {
			fmt.Fprintf(stderr, "parsecwire: %s: %s\n", in.name, note)
			continue
		}
		if err != nil {
			failed = true
			if errors.Is(err, capture.ErrUnrecognised) {
				fmt.Fprintf(stderr, "parsecwire: %s: %v: name the format with -format (%s)\n", in.name, err, strings.Join(capture.Names(), ", "))
			} else {
				fmt.Fprintf(stderr, "parsecwire: %s: %v\n", in.name, err)
			}
			continue
		}
		p.lineStreams = used == "hex" || used == "base64"
		err = dec.Run(in.name, src, p.record, func(e error) {
			failed = true
			p.flush()
			fmt.Fprintf(stderr, "parsecwire: %s\n", inputError(in.name, e))
		})
		if closer != nil {
			closer.Close()
		}
		if err != nil {
			failed = true
			if p.werr != nil {
				break // stdout is gone: nothing more to say
			}
			fmt.Fprintf(stderr, "parsecwire: %s: %v\n", in.name, err)
		}
	}
	stopProgress() // before the summary, which may go to the same terminal
	st := dec.Stats()
	p.t.unanswered, p.t.inputErrors = st.Unanswered, st.InputErrors
	if name == "validate" || !f.json {
		p.summary()
	}
	p.flush()
	if p.werr != nil {
		return exitUsage
	}
	switch {
	case failed:
		return exitUsage
	case p.t.frames == 0:
		fmt.Fprintf(stderr, "parsecwire %s: no frame found in the input\n", name)
		return exitInvalid
	case p.t.invalid > 0 || p.t.notEchoed > 0:
		return exitInvalid
	}
	return exitOK
}

// inputError names the place of an input error the way compilers do: file:line: reason.
func inputError(name string, err error) string {
	var ie *capture.InputError
	if errors.As(err, &ie) {
		if ie.Line > 0 {
			return name + ":" + strconv.Itoa(ie.Line) + ": " + ie.Format + ": " + ie.Reason
		}
		return name + ": offset " + strconv.FormatInt(ie.Offset, 10) + ": " + ie.Format + ": " + ie.Reason
	}
	return name + ": " + err.Error()
}

// printer writes records through one buffer: many frames per write. Records are appended
// to out, which is written when it holds outSize bytes: no copy into a bufio.Writer.
type printer struct {
	cmd         string
	f           *decodeFlags
	w           *bufio.Writer // for the summary
	stdout      io.Writer
	flushEach   bool
	out         []byte
	buf         []byte
	t           tally
	werr        error
	lineStreams bool // the streams are lines (hex, base64): offsets are "of the line"
	enc         capture.JSONEncoder
}

// outSize is how much output the printer gathers before a write.
const outSize = 64 << 10

func newPrinter(cmd string, f *decodeFlags, stdout io.Writer) *printer {
	return &printer{cmd: cmd, f: f, stdout: stdout, w: bufio.NewWriterSize(stdout, 4<<10), flushEach: isTerminal(stdout),
		out: make([]byte, 0, outSize+4<<10)}
}

func (p *printer) flush() {
	if len(p.out) > 0 {
		if _, err := p.stdout.Write(p.out); err != nil && p.werr == nil {
			p.werr = err
		}
		p.out = p.out[:0]
	}
	if err := p.w.Flush(); err != nil && p.werr == nil {
		p.werr = err
	}
}

func (p *printer) errText(err error) string { return p.enc.ErrorText(err) }

// record prints one record (validate: only the findings) and counts it.
func (p *printer) record(r *capture.Record) error {
	p.t.add(r)
	if p.cmd == "validate" && r.Valid() {
		return nil
	}
	if p.f.json {
		p.out = p.enc.Append(p.out, r)
		p.out = append(p.out, '\n')
	} else {
		p.out = p.appendText(p.out, r)
	}
	if len(p.out) >= outSize || p.flushEach {
		p.flush()
	}
	return p.werr
}

// appendText appends the readable form of a record: where and the verdict, the fields with
// their names, the body, then the fault.
func (p *printer) appendText(b []byte, r *capture.Record) []byte {
	b = append(b, r.Source...)
	if r.Line > 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(r.Line), 10)
	}
	if r.Conn != "" {
		b = append(b, " ("...)
		b = append(b, r.Conn...)
		b = append(b, ')')
	}
	if r.Kind == capture.DirRequest {
		b = append(b, " request"...)
	}
	b = append(b, " frame "...)
	b = strconv.AppendInt(b, r.Index, 10)
	b = append(b, " at offset "...)
	b = strconv.AppendInt(b, r.Offset, 10)
	if r.Exchange > 0 {
		b = append(b, " (exchange "...)
		b = strconv.AppendInt(b, r.Exchange, 10)
		b = append(b, ')')
	}
	switch {
	case r.Missing > 0:
		b = append(b, ": INCOMPLETE\n"...)
	case r.OK:
		b = append(b, ": ok\n"...)
	default:
		b = append(b, ": INVALID "...)
		b = append(b, r.Code.String()...)
		b = append(b, " ("...)
		b = strconv.AppendInt(b, int64(r.Code), 10)
		b = append(b, ")\n"...)
	}
	if r.Decoded {
		h := &r.Header
		b = append(b, "    status "...)
		b = strconv.AppendInt(b, int64(h.Status), 10)
		b = append(b, ' ')
		if h.Status.Known() {
			b = append(b, h.Status.String()...)
		} else {
			b = append(b, "(unknown)"...)
		}
		b = append(b, "   opcode "...)
		b = strconv.AppendUint(b, uint64(h.Opcode), 10)
		b = append(b, ' ')
		on, ok := header.OpcodeName(h.Opcode)
		b = appendName(b, on, ok)
		b = append(b, "   provider "...)
		b = strconv.AppendUint(b, uint64(h.Provider), 10)
		b = append(b, ' ')
		pn, ok := header.ProviderName(h.Provider)
		b = appendName(b, pn, ok)
		b = append(b, "   session "...)
		b = strconv.AppendUint(b, h.Session, 10)
		b = append(b, "\n    content type "...)
		b = strconv.AppendUint(b, uint64(h.ContentType), 10)
		b = append(b, ' ')
		ct, ok2 := header.ContentTypeName(h.ContentType)
		if !ok2 {
			ct = "unknown"
		}
		b = append(b, ct...)
		b = append(b, "   content length "...)
		b = strconv.AppendUint(b, uint64(h.ContentLength), 10)
		if r.Kind == capture.DirRequest {
			b = append(b, "   auth type "...)
			b = strconv.AppendUint(b, uint64(h.AuthType), 10)
			b = append(b, "   auth length "...)
			b = strconv.AppendUint(b, uint64(h.AuthLength), 10)
		}
		b = append(b, '\n')
		b = appendBytes(b, "    body ", r.Body, int(h.ContentLength))
		b = appendBytes(b, "    auth ", r.Auth, int(h.AuthLength))
		if r.Dropped {
			b = append(b, "    body not held: larger than -hold, checked by its length\n"...)
		}
	}
	if r.Operation != nil {
		// The decoded body, under the name of its message: operation for a request, result
		// for a response.
		if r.Kind == capture.DirRequest {
			b = append(b, "    operation:"...)
		} else {
			b = append(b, "    result:"...)
		}
		if len(r.Operation) == 0 {
			b = append(b, " {}"...)
		}
		b = append(b, '\n')
		b = r.Operation.AppendText(b, "      ")
	}
	if r.Err != nil {
		b = append(b, "    fault: "...)
		b = append(b, p.errText(r.Err)...)
		b = append(b, '\n')
		if r.Field != "" {
			b = append(b, "    first bad byte: offset "...)
			b = strconv.AppendInt(b, r.FaultOffset, 10)
			if p.lineStreams {
				b = append(b, " of the line ("...)
			} else {
				b = append(b, " of the stream ("...)
			}
			b = append(b, r.Field...)
			b = append(b, ")\n"...)
		}
	}
	switch {
	case r.Skipped > 0 && r.Resumed:
		b = append(b, "    skipped "...)
		b = strconv.AppendInt(b, r.Skipped, 10)
		b = append(b, " bytes to the next magic number, at offset "...)
		b = strconv.AppendInt(b, r.Offset+r.Skipped, 10)
		b = append(b, '\n')
	case r.Skipped > 0:
		b = append(b, "    skipped "...)
		b = strconv.AppendInt(b, r.Skipped, 10)
		b = append(b, " bytes: no magic number follows\n"...)
	}
	if r.Echo != "" {
		b = append(b, "    NOT ECHOED: "...)
		b = append(b, r.Echo...)
		b = append(b, '\n')
	}
	return b
}

func appendName(b []byte, name string, ok bool) []byte {
	if !ok {
		return append(b, "(unknown)"...)
	}
	return append(b, name...)
}

// appendBytes appends the first 32 bytes of data in hex, with " ..." when there are more.
func appendBytes(b []byte, label string, data []byte, total int) []byte {
	if len(data) == 0 {
		return b
	}
	b = append(b, label...)
	n := min(len(data), 32)
	b = hex.AppendEncode(b, data[:n])
	if total > n {
		b = append(b, " ..."...)
	}
	return append(b, '\n')
}

// tally counts frames for the summary.
type tally struct {
	frames, valid, invalid, incomplete int64
	requests, responses                int64
	exchanges, notEchoed               int64
	unanswered, inputErrors            int64
	byStatus                           [1 << 16]int64 // valid responses by status
	byFault                            [1 << 16]int64 // invalid frames by classifying status
}

func (t *tally) add(r *capture.Record) {
	t.frames++
	if r.Kind == capture.DirRequest {
		t.requests++
	} else {
		t.responses++
		if r.Exchange > 0 {
			t.exchanges++
		}
	}
	if r.Echo != "" {
		t.notEchoed++
	}
	switch {
	case r.Missing > 0:
		t.incomplete++
	case r.OK:
		t.valid++
		if r.Kind == capture.DirResponse {
			t.byStatus[r.Header.Status]++ // a request's status field is not a status
		}
	default:
		t.invalid++
		t.byFault[r.Code]++
	}
}

// byName returns the non-zero counts of a per-status table, in the table's order.
func byName(counts *[1 << 16]int64) (names []string, n []int64) {
	for c := range counts {
		if counts[c] > 0 {
			s := status.Code(c).String()
			names, n = append(names, s), append(n, counts[c])
		}
	}
	return names, n
}

func joinCounts(names []string, n []int64) string {
	parts := make([]string, len(names))
	for i := range names {
		parts[i] = names[i] + " " + strconv.FormatInt(n[i], 10)
	}
	return strings.Join(parts, ", ")
}

func (p *printer) summary() {
	p.summaryStart()
	t := &p.t
	if p.f.json {
		b := append(p.buf[:0], `{"summary":true,"frames":`...)
		for _, kv := range []struct {
			k string
			v int64
		}{{"frames", t.frames}, {"valid", t.valid}, {"invalid", t.invalid}, {"incomplete", t.incomplete},
			{"requests", t.requests}, {"responses", t.responses}, {"exchanges", t.exchanges},
			{"not_echoed", t.notEchoed}, {"unanswered", t.unanswered}, {"input_errors", t.inputErrors}} {
			if kv.k != "frames" {
				b = append(b, `,"`+kv.k+`":`...)
			}
			b = strconv.AppendInt(b, kv.v, 10)
		}
		for _, m := range []struct {
			k string
			c *[1 << 16]int64
		}{{"by_status", &t.byStatus}, {"by_fault", &t.byFault}} {
			b = append(b, `,"`+m.k+`":{`...)
			names, n := byName(m.c)
			for i := range names {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendQuote(b, names[i])
				b = append(b, ':')
				b = strconv.AppendInt(b, n[i], 10)
			}
			b = append(b, '}')
		}
		b = append(b, "}\n"...)
		p.w.Write(b)
		return
	}
	if p.cmd == "decode" {
		p.w.WriteString("\n")
	}
	fmt.Fprintf(p.w, "%d frames: %d valid, %d invalid", t.frames, t.valid, t.invalid)
	if t.incomplete > 0 {
		fmt.Fprintf(p.w, ", %d incomplete (the capture lacks bytes)", t.incomplete)
	}
	fmt.Fprintln(p.w)
	if names, n := byName(&t.byStatus); len(names) > 0 {
		fmt.Fprintf(p.w, "  valid by status:   %s\n", joinCounts(names, n))
	}
	if t.requests > 0 {
		fmt.Fprintf(p.w, "  requests:          %d (%d responses)\n", t.requests, t.responses)
	}
	if t.exchanges > 0 || t.notEchoed > 0 || t.unanswered > 0 {
		fmt.Fprintf(p.w, "  exchanges:         %d paired, %d not echoed, %d requests unanswered\n", t.exchanges, t.notEchoed, t.unanswered)
	}
	if names, n := byName(&t.byFault); len(names) > 0 {
		fmt.Fprintf(p.w, "  invalid by fault:  %s\n", joinCounts(names, n))
	}
}

// summaryStart writes out the records gathered before the summary, which goes through w.
func (p *printer) summaryStart() {
	if len(p.out) > 0 {
		if _, err := p.stdout.Write(p.out); err != nil && p.werr == nil {
			p.werr = err
		}
		p.out = p.out[:0]
	}
}

// isTerminal reports whether w is a terminal: a character device other than /dev/null (the
// one character device output is commonly sent to, which is no terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}

// progressWriter is stderr while a progress line may be on it: a message erases the line
// first, and the progress goroutine and the messages do not interleave.
type progressWriter struct {
	mu    sync.Mutex
	w     io.Writer
	shown bool // a progress line is on the terminal
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		io.WriteString(p.w, "\r\033[K")
		p.shown = false
	}
	return p.w.Write(b)
}

// line writes a progress line in place of the previous one.
func (p *progressWriter) line(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	io.WriteString(p.w, "\r\033[K"+s)
	p.shown = true
}

// erase removes the progress line, if one is shown.
func (p *progressWriter) erase() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		io.WriteString(p.w, "\r\033[K")
		p.shown = false
	}
}

// startProgress prints, once the run has lasted delay, a line on w every delay with the
// bytes and frames read and the rate, rewritten in place; stop erases it.
func startProgress(w *progressWriter, p *capture.Progress, delay time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(delay)
		defer tick.Stop()
		for {
			select {
			case <-done:
				w.erase()
				return
			case now := <-tick.C:
				w.line(progressLine(p.Bytes.Load(), p.Frames.Load(), now.Sub(start)))
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}

func progressLine(bytes, frames int64, elapsed time.Duration) string {
	s := elapsed.Seconds()
	return fmt.Sprintf("parsecwire: %.1f MB, %d frames, %.1f MB/s, %.0f frames/s", float64(bytes)/1e6, frames,
		float64(bytes)/1e6/s, float64(frames)/s)
}
