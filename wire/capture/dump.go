package capture

import (
	"io"
	"strconv"
)

// A dump is one stream written as lines of an offset column, the bytes, and often their
// text: xxd, hexdump -C, od. The reader keeps the bytes and drops the rest; the offsets
// place each line, expand the "*" of repeated lines and reveal lines that are missing.

// dumpLine parses one line of a dump: its offset column (nil when it has none) and its
// bytes, appended to out. ok is false for a line that is not of the format.
type dumpLine func(line []byte, out []byte) (addr []byte, data []byte, ok bool)

type dumpSource struct {
	lines  *lines
	format string
	parse  dumpLine
	radix  int // of the offset column; 0 for od until the second line tells

	out    []byte
	marks  []Mark
	carry  []byte // the bytes of a line read after a gap, for the next segment
	carryL int
	last   []byte // the bytes of the previous line, for "*"
	lastN  int64  // their count, to tell od's radix
	repeat bool   // a "*" line: repeat last until the next offset
	next   int64  // stream offset of the next line; -1 before the first
	start  bool
	err    error // an input error found after bytes that go out first
}

// dumpBatch is about the most bytes one segment of a dump holds.
const dumpBatch = 64 << 10

func newDump(r io.Reader, format string, parse dumpLine, radix int) *dumpSource {
	return &dumpSource{lines: newLines(r), format: format, parse: parse, radix: radix, next: -1, start: true}
}

// NewXxd reads an xxd dump ("00000010: 10a7 c05e 1e00 ...  ..^..."), with or without -a.
func NewXxd(r io.Reader) Source { return newDump(r, "xxd", parseXxd, 16) }

// NewHexdump reads a hexdump -C dump ("00000010  10 a7 c0 5e ...  |..^...|").
func NewHexdump(r io.Reader) Source { return newDump(r, "hexdump", parseHexdumpC, 16) }

// NewOd reads an od dump: od -t x1 (bytes), od -x / -t x2 and plain hexdump (16-bit words,
// little-endian), od's default -o (16-bit words in octal), with any -A offset radix (told
// from the first two lines) or none (-A n, where "*" cannot be expanded).
func NewOd(r io.Reader) Source { return newDump(r, "od", parseOd, 0) }

func (d *dumpSource) fail(reason string) *InputError {
	return &InputError{Line: d.lines.line, Offset: d.lines.off, Format: d.format, Reason: reason}
}

func (d *dumpSource) Next() (Segment, error) {
	if d.err != nil {
		err := d.err
		d.err = nil
		return Segment{}, err
	}
	d.out, d.marks = d.out[:0], d.marks[:0]
	if len(d.carry) > 0 {
		d.out = append(d.out, d.carry...)
		d.marks = append(d.marks, Mark{Off: 0, Line: d.carryL})
		d.carry = d.carry[:0]
	}
	var missing int64
	for len(d.out) < dumpBatch && missing == 0 {
		b, err := d.lines.whole(d.format)
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(d.out) > 0 {
				d.err = err
				break
			}
			return Segment{}, err
		}
		b = trimSpace(b)
		if len(b) == 0 {
			continue
		}
		if len(b) == 1 && b[0] == '*' {
			d.repeat = true
			continue
		}
		start := len(d.out)
		addr, data, ok := d.parse(b, d.out)
		if !ok {
			d.out = d.out[:start]
			ie := d.fail("not a line of " + d.format + " output")
			if len(d.out) > 0 {
				d.err = ie
				break
			}
			return Segment{}, ie
		}
		d.out = data
		n := int64(len(d.out) - start)
		off := int64(-1)
		if addr != nil {
			if d.radix == 0 && d.next > 0 {
				d.radix = odRadix(addr, d.lastN)
			}
			radix := d.radix
			if radix == 0 {
				radix = 8
			}
			v, err := strconv.ParseInt(string(addr), radix, 64)
			if err != nil {
				d.out = d.out[:start]
				ie := d.fail("bad offset " + strconv.Quote(string(addr)))
				if len(d.out) > 0 {
					d.err = ie
					break
				}
				return Segment{}, ie
			}
			off = v
		}
		if d.repeat && off >= 0 && d.next >= 0 && len(d.last) > 0 {
			// "*": the previous line's bytes again, up to this line's offset.
			line := append([]byte(nil), d.out[start:]...)
			d.out = d.out[:start]
			for d.next < off && len(d.out) < 4*dumpBatch {
				k := int(min(int64(len(d.last)), off-d.next))
				d.out = append(d.out, d.last[:k]...)
				d.next += int64(k)
			}
			if len(d.marks) == 0 || start > 0 {
				d.marks = append(d.marks, Mark{Off: start, Line: d.lines.line - 1})
			}
			start = len(d.out)
			d.out = append(d.out, line...)
		}
		d.repeat = false
		if off >= 0 && d.next >= 0 && off != d.next {
			if off < d.next {
				d.out = d.out[:start]
				ie := d.fail("offset " + strconv.FormatInt(off, 10) + " goes back (expected " + strconv.FormatInt(d.next, 10) + ")")
				if len(d.out) > 0 {
					d.err = ie
					break
				}
				return Segment{}, ie
			}
			// Lines are missing: the stream before them lacks their bytes, and cannot be
			// read past them. This line starts the next segment.
			missing = off - d.next
			d.carry = append(d.carry[:0], d.out[start:]...)
			d.carryL = d.lines.line
			d.out = d.out[:start]
			d.next = off + n
			d.last = append(d.last[:0], d.carry...)
			d.lastN = n
			break
		}
		if n > 0 {
			d.marks = append(d.marks, Mark{Off: start, Line: d.lines.line})
			d.last = append(d.last[:0], d.out[start:]...)
		}
		d.lastN = n
		switch {
		case off >= 0:
			d.next = off + n
		case d.next >= 0:
			d.next += n
		default:
			d.next = n
		}
	}
	if len(d.out) == 0 && missing == 0 {
		if d.err != nil {
			err := d.err
			d.err = nil
			return Segment{}, err
		}
		return Segment{}, io.EOF
	}
	seg := Segment{Data: d.out, Marks: d.marks, Start: d.start, Missing: missing}
	if len(d.marks) > 0 {
		seg.Line = d.marks[0].Line
	}
	d.start = false
	return seg, nil
}

// odRadix tells the radix of od's offset column from the second line's offset and the byte
// count of the first: od prints offsets in octal by default, in hex or decimal with -A.
func odRadix(addr []byte, first int64) int {
	for _, r := range []int{8, 16, 10} {
		if v, err := strconv.ParseInt(string(addr), r, 64); err == nil && v == first {
			return r
		}
	}
	return 8
}

func isHexDigit(c byte) bool { return hexValue[c] != 0xff }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// hexRun returns the length of the run of hex digits at the start of b.
func hexRun(b []byte) int {
	i := 0
	for i < len(b) && isHexDigit(b[i]) {
		i++
	}
	return i
}

// parseXxd: "00000010: 10a7 c05e 1e00 0100  ....". The groups are the bytes in order, one
// space apart; two spaces start the text column.
func parseXxd(line, out []byte) ([]byte, []byte, bool) {
	n := hexRun(line)
	if n == 0 || n >= len(line) || line[n] != ':' {
		return nil, out, false
	}
	addr, rest := line[:n], line[n+1:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	for len(rest) > 0 && rest[0] != ' ' {
		k := hexRun(rest)
		if k == 0 || k%2 != 0 || (k < len(rest) && rest[k] != ' ') {
			return nil, out, false
		}
		for i := 0; i < k; i += 2 {
			out = append(out, hexValue[rest[i]]<<4|hexValue[rest[i+1]])
		}
		rest = rest[k:]
		if len(rest) > 0 {
			rest = rest[1:] // one space between groups; a second starts the text
		}
	}
	return addr, out, true
}

// parseHexdumpC: "00000010  10 a7 c0 5e 1e 00 01 00  00 00 ...  |..^.......|". The last
// line is the offset alone.
func parseHexdumpC(line, out []byte) ([]byte, []byte, bool) {
	n := hexRun(line)
	if n == 0 || (n < len(line) && line[n] != ' ') {
		return nil, out, false
	}
	addr, rest := line[:n], line[n:]
	if i := indexByte(rest, '|'); i >= 0 {
		rest = rest[:i]
	}
	for {
		rest = trimSpace(rest)
		if len(rest) == 0 {
			return addr, out, true
		}
		if len(rest) < 2 || !isHexDigit(rest[0]) || !isHexDigit(rest[1]) || (len(rest) > 2 && rest[2] != ' ') {
			return nil, out, false
		}
		out = append(out, hexValue[rest[0]]<<4|hexValue[rest[1]])
		rest = rest[2:]
	}
}

// parseOd: an optional offset column, then groups of one width: 2 hex digits (a byte),
// 4 hex digits (a little-endian 16-bit word: od -x, hexdump), 6 octal digits (a 16-bit
// word: od's default). od -z's text column, between > and <, is dropped.
func parseOd(line, out []byte) ([]byte, []byte, bool) {
	if i := indexByte(line, '>'); i >= 0 {
		line = line[:i]
	}
	var addr []byte
	fields := splitFields(line)
	if len(fields) == 0 {
		return nil, out, false
	}
	// With an offset column the first field is wider than the groups (od pads it to 6 or
	// 7 digits), or it is alone on the last line.
	if len(fields) == 1 || len(fields[0]) != len(fields[1]) {
		addr, fields = fields[0], fields[1:]
		if hexRun(addr) != len(addr) {
			return nil, out, false
		}
	}
	for _, f := range fields {
		switch len(f) {
		case 2:
			if hexRun(f) != 2 {
				return nil, out, false
			}
			out = append(out, hexValue[f[0]]<<4|hexValue[f[1]])
		case 4:
			if hexRun(f) != 4 {
				return nil, out, false
			}
			out = append(out, hexValue[f[2]]<<4|hexValue[f[3]], hexValue[f[0]]<<4|hexValue[f[1]])
		case 6:
			v, err := strconv.ParseUint(string(f), 8, 16)
			if err != nil {
				return nil, out, false
			}
			out = append(out, byte(v), byte(v>>8))
		default:
			return nil, out, false
		}
	}
	return addr, out, true
}

func splitFields(b []byte) [][]byte {
	var out [][]byte
	for {
		b = trimSpace(b)
		if len(b) == 0 {
			return out
		}
		i := 0
		for i < len(b) && b[i] != ' ' && b[i] != '\t' {
			i++
		}
		out = append(out, b[:i])
		b = b[i:]
	}
}
