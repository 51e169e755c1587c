package capture

import (
	"bufio"
	"io"
	"strconv"
)

// lineBuffer is the longest piece of a line a text reader holds: longer lines (a whole
// capture as one hex line) are read in pieces of this size.
const lineBuffer = 256 << 10

// lines reads an input line by line, a line longer than lineBuffer in pieces, and keeps the
// line number and the byte offset of each.
type lines struct {
	br   *bufio.Reader
	line int   // 1-based number of the line of the last piece
	off  int64 // input offset of the last piece
	next int64 // input offset after the last piece
	more bool  // the last piece did not end its line
	err  error
}

func newLines(r io.Reader) *lines {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < lineBuffer {
		br = bufio.NewReaderSize(r, lineBuffer)
	}
	return &lines{br: br}
}

// piece returns the next piece of a line, without its line ending, whether it starts a line
// and whether it ends one. It returns io.EOF at the end.
func (l *lines) piece() (b []byte, first, last bool, err error) {
	if l.err != nil {
		return nil, false, false, l.err
	}
	first = !l.more
	if first {
		l.line++
	}
	b, err = l.br.ReadSlice('\n')
	l.off = l.next
	l.next += int64(len(b))
	switch err {
	case nil:
		b = b[:len(b)-1]
		if len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		l.more = false
		return b, first, true, nil
	case bufio.ErrBufferFull:
		l.more = true
		return b, first, false, nil
	case io.EOF:
		l.err = io.EOF
		l.more = false
		if len(b) == 0 && first {
			l.line--
			return nil, false, false, io.EOF
		}
		return b, first, true, nil
	}
	l.err = err
	return nil, false, false, err
}

// whole returns the next whole line; a line longer than lineBuffer is reported as an
// *InputError of format and skipped.
func (l *lines) whole(format string) ([]byte, error) {
	b, _, last, err := l.piece()
	if err != nil || last {
		return b, err
	}
	line, off := l.line, l.off
	for !last && err == nil {
		_, _, last, err = l.piece()
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	return nil, &InputError{Line: line, Offset: off, Format: format,
		Reason: "line longer than " + strconv.Itoa(lineBuffer) + " bytes, skipped"}
}

// hexValue maps an ASCII hex digit to its value, and everything else to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
		t[c-'a'+'A'] = byte(c - 'a' + 10)
	}
	return t
}()

// textSource reads a text format of one or more frames per line (hex, base64): each line is
// a stream of its own, decoded as it is read, so a line of any length costs lineBuffer.
// A bad line is reported with its line and column and the next line is read.
type textSource struct {
	lines  *lines
	format string
	decode func(d *lineDecoder, b []byte) (int, string) // appends to d.out; the bad byte's index and why, or -1
	finish func(d *lineDecoder) string                  // at the end of a line: why it is incomplete, or ""
	d      lineDecoder
	skip   bool // the rest of the current line is not read: it was bad, or a comment
	start  bool // the next segment starts the current line's stream
	col    int  // bytes of the current line before the current piece
}

// lineDecoder is the state of decoding one line, carried from piece to piece.
type lineDecoder struct {
	out  []byte
	acc  uint32 // pending digits (hex: one nibble; base64: up to 3 sextets)
	n    int    // how many are pending
	zero bool   // hex: the pending nibble is a 0 that may start "0x"
	pad  bool   // base64: padding seen; only padding and space may follow
}

func (t *textSource) Next() (Segment, error) {
	for {
		b, first, last, err := t.lines.piece()
		if err != nil {
			return Segment{}, err
		}
		if first {
			t.d = lineDecoder{out: t.d.out[:0]}
			t.skip, t.start, t.col = false, true, 0
		}
		col := t.col
		t.col += len(b)
		t.d.out = t.d.out[:0]
		bad, at := "", 0
		if !t.skip {
			if i := indexByte(b, '#'); i >= 0 {
				b = b[:i]
				t.skip = true // a comment runs to the end of the line
			}
			if i, why := t.decode(&t.d, b); i >= 0 {
				bad, at, t.skip = why, i, true
			} else if last {
				if why := t.finish(&t.d); why != "" {
					bad, at = why, len(b)
				}
			}
		}
		if bad != "" {
			t.skip = true
			return Segment{}, &InputError{Line: t.lines.line, Offset: t.lines.off + int64(at), Format: t.format,
				Reason: bad + " at column " + strconv.Itoa(col+at+1) + "; the rest of the line is not read"}
		}
		if len(t.d.out) == 0 {
			continue
		}
		seg := Segment{Data: t.d.out, Line: t.lines.line, Start: t.start}
		t.start = false
		return seg, nil
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// NewHex reads hex text: one or more frames per line, each line a stream of its own. Blank
// lines and # comments are ignored, and so are white space, 0x prefixes, commas and colons
// between the digits (C arrays, colon-separated dumps).
func NewHex(r io.Reader) Source {
	return &textSource{lines: newLines(r), format: "hex", decode: decodeHex, finish: finishHex}
}

func decodeHex(d *lineDecoder, b []byte) (int, string) {
	for i, c := range b {
		v := hexValue[c]
		if v != 0xff {
			if d.n == 0 {
				d.acc, d.n, d.zero = uint32(v), 1, c == '0'
				continue
			}
			d.out = append(d.out, byte(d.acc<<4)|v)
			d.n, d.zero = 0, false
			continue
		}
		switch c {
		case ' ', '\t', ',', ':', '\v', '\f':
			if d.n == 1 {
				return i, "odd number of hex digits"
			}
		case 'x', 'X':
			if d.n != 1 || !d.zero {
				return i, "invalid character " + strconv.QuoteRune(rune(c))
			}
			d.n, d.zero = 0, false // the 0 of a 0x prefix
		default:
			return i, "invalid character " + strconv.QuoteRune(rune(c))
		}
	}
	return -1, ""
}

func finishHex(d *lineDecoder) string {
	if d.n != 0 {
		return "odd number of hex digits"
	}
	return ""
}

// b64Value maps standard and URL-safe base64 digits to their value, everything else to 0xff.
var b64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

// NewBase64 reads base64 text, standard or URL-safe, padded or not: one or more frames per
// line, each line a stream of its own. Blank lines and # comments are ignored.
func NewBase64(r io.Reader) Source {
	return &textSource{lines: newLines(r), format: "base64", decode: decodeBase64, finish: finishBase64}
}

func decodeBase64(d *lineDecoder, b []byte) (int, string) {
	for i, c := range b {
		v := b64Value[c]
		if v != 0xff && !d.pad {
			d.acc = d.acc<<6 | uint32(v)
			if d.n++; d.n == 4 {
				d.out = append(d.out, byte(d.acc>>16), byte(d.acc>>8), byte(d.acc))
				d.acc, d.n = 0, 0
			}
			continue
		}
		switch c {
		case ' ', '\t', '\v', '\f':
		case '=':
			if d.n < 2 {
				return i, "misplaced padding"
			}
			d.pad = true
		default:
			return i, "invalid character " + strconv.QuoteRune(rune(c))
		}
	}
	return -1, ""
}

func finishBase64(d *lineDecoder) string {
	switch d.n {
	case 1:
		return "a lone base64 digit at the end"
	case 2:
		d.out = append(d.out, byte(d.acc>>4))
	case 3:
		d.out = append(d.out, byte(d.acc>>10), byte(d.acc>>2))
	}
	d.n = 0
	return ""
}

// rawChunk is the size of the pieces a raw input is read in.
const rawChunk = 256 << 10

// NewRaw reads raw bytes: the whole input is one stream.
func NewRaw(r io.Reader) Source { return &rawSource{r: r, start: true} }

type rawSource struct {
	r     io.Reader
	buf   []byte
	start bool
	off   int64
}

func (s *rawSource) Next() (Segment, error) {
	if s.buf == nil {
		s.buf = make([]byte, rawChunk)
	}
	for {
		n, err := s.r.Read(s.buf)
		if n > 0 {
			seg := Segment{Data: s.buf[:n], Start: s.start}
			s.start = false
			s.off += int64(n)
			return seg, nil
		}
		if err != nil {
			if err != io.EOF {
				return Segment{}, err
			}
			return Segment{}, io.EOF
		}
	}
}

// Reader returns the raw input itself, for a caller that reads the single stream directly
// instead of segment by segment.
func (s *rawSource) Reader() io.Reader { return s.r }
