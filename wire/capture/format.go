package capture

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/parsecwire/parsecwire/header"
)

// Format is one capture format: its name (the CLI's -format), the file extensions that name
// it, a test of an input's first bytes, and the reader.
type Format struct {
	Name string
	// Doc says in a few words what the format is, for usage texts.
	Doc string
	// Ext lists the file extensions (lower case, with the dot) that select the format.
	Ext []string
	// Detect reports whether head, the first bytes of an input (up to DetectSize), looks
	// like this format.
	Detect func(head []byte) bool
	// Open returns the format's reader of r.
	Open func(r io.Reader) (Source, error)
}

// DetectSize is how many bytes of an input detection looks at.
const DetectSize = 64 << 10

func plain(f func(io.Reader) Source) func(io.Reader) (Source, error) {
	return func(r io.Reader) (Source, error) { return f(r), nil }
}

// formats is the table of formats, in the order detection tries them: binary formats by
// their magic numbers first, then the text formats from the most to the least specific.
// It is the only list of formats; Formats, Lookup, Open and the CLI's flags read it.
var formats = []Format{
	{Name: "pcap", Doc: "libpcap capture file (tcpdump -w), TCP reassembled", Ext: []string{".pcap"}, Detect: isPcap, Open: NewPcap},
	{Name: "pcapng", Doc: "pcapng capture file (Wireshark, tshark), TCP reassembled", Ext: []string{".pcapng"}, Detect: isPcapng, Open: NewPcap},
	{Name: "raw", Doc: "the bytes themselves, one stream", Ext: []string{".bin", ".raw"}, Detect: isRaw, Open: plain(NewRaw)},
	{Name: "mock", Doc: "Parsec mock service test cases (*.test.yaml)", Ext: []string{".yaml", ".yml"}, Detect: isMock, Open: plain(NewMock)},
	{Name: "strace", Doc: "strace -xx output (read/write/sendmsg... on the socket)", Ext: []string{".strace"}, Detect: isStrace, Open: plain(NewStrace)},
	{Name: "socat", Doc: "socat -x -v dump, both directions", Ext: []string{".socat"}, Detect: isSocat, Open: plain(NewSocat)},
	{Name: "xxd", Doc: "xxd dump (offset column, grouped hex, text)", Ext: []string{".xxd"}, Detect: isXxd, Open: plain(NewXxd)},
	{Name: "hexdump", Doc: "hexdump -C dump", Ext: nil, Detect: isHexdumpC, Open: plain(NewHexdump)},
	{Name: "od", Doc: "od dump (-t x1, -x, default octal words; plain hexdump)", Ext: []string{".od"}, Detect: isOd, Open: plain(NewOd)},
	{Name: "hex", Doc: "hex text, one or more frames per line (xxd -p, C arrays, colons)", Ext: []string{".hex"}, Detect: isHex, Open: plain(NewHex)},
	{Name: "base64", Doc: "base64 text, one or more frames per line", Ext: []string{".b64", ".base64"}, Detect: isBase64, Open: plain(NewBase64)},
}

// Formats returns the table of formats, in detection order.
func Formats() []Format { return append([]Format(nil), formats...) }

// Names returns the formats' names, in detection order.
func Names() []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = f.Name
	}
	return out
}

// Lookup returns the format called name.
func Lookup(name string) (Format, bool) {
	for _, f := range formats {
		if f.Name == name {
			return f, true
		}
	}
	return Format{}, false
}

// ErrUnrecognised is matched by the error of Open for an input whose format detection
// cannot tell.
var ErrUnrecognised = errors.New("unrecognised format")

// FormatError says why an input cannot be read in a format.
type FormatError struct {
	Format string // the format, "" when none was recognised
	Reason string
	Err    error // ErrUnrecognised or nil
}

func (e *FormatError) Error() string {
	if e.Format == "" {
		return e.Reason
	}
	return e.Format + ": " + e.Reason
}

func (e *FormatError) Unwrap() error { return e.Err }

// ByExtension returns the format that name's extension selects.
func ByExtension(name string) (Format, bool) {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == "" {
		return Format{}, false
	}
	for _, f := range formats {
		for _, e := range f.Ext {
			if e == ext {
				return f, true
			}
		}
	}
	return Format{}, false
}

// Detect returns the format of an input from its first bytes.
func Detect(head []byte) (Format, bool) {
	for _, f := range formats {
		if f.Detect(head) {
			return f, true
		}
	}
	return Format{}, false
}

// Open returns a reader of r in format, or, when format is "auto" (or ""), in the format
// that name's extension selects, else the one its first bytes show. It returns the format
// used.
func Open(name string, r io.Reader, format string) (Source, string, error) {
	var f Format
	switch format {
	case "auto", "":
		br := bufio.NewReaderSize(r, max(DetectSize, lineBuffer))
		r = br
		var ok bool
		if f, ok = ByExtension(name); !ok {
			head, err := br.Peek(DetectSize)
			if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
				return nil, "", err
			}
			if len(head) == 0 {
				return nil, "", &FormatError{Reason: "empty input", Err: ErrUnrecognised}
			}
			if f, ok = Detect(head); !ok {
				return nil, "", &FormatError{Reason: "unrecognised format", Err: ErrUnrecognised}
			}
		}
	default:
		var ok bool
		if f, ok = Lookup(format); !ok {
			return nil, "", &FormatError{Format: format, Reason: "no such format (want one of " + strings.Join(Names(), ", ") + ")"}
		}
	}
	src, err := f.Open(r)
	return src, f.Name, err
}

func isPcap(h []byte) bool {
	if len(h) < 4 {
		return false
	}
	switch string(h[:4]) {
	case "\xa1\xb2\xc3\xd4", "\xd4\xc3\xb2\xa1", "\xa1\xb2\x3c\x4d", "\x4d\x3c\xb2\xa1":
		return true
	}
	return false
}

func isPcapng(h []byte) bool { return len(h) >= 4 && string(h[:4]) == "\x0a\x0d\x0d\x0a" }

// isRaw: a frame's magic number first, or bytes that are not text.
func isRaw(h []byte) bool {
	if len(h) >= 4 && le32(h) == header.Magic {
		return true
	}
	for _, c := range h {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\v' || c == 0x7f {
			return true
		}
	}
	return false
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func isMock(h []byte) bool { return bytes.Contains(h, []byte("test_data:")) }

// firstLines returns up to n lines of head that are not blank or comments, the last of which
// may be cut by the end of head when there are others.
func firstLines(h []byte, n int) [][]byte {
	var out [][]byte
	for len(h) > 0 && len(out) < n {
		i := bytes.IndexByte(h, '\n')
		line := h
		if i >= 0 {
			line, h = h[:i], h[i+1:]
		} else {
			h = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		out = append(out, line)
	}
	return out
}

// allMatch reports whether the first lines of h (at least one) all match re.
func allMatch(h []byte, re *regexp.Regexp, n int) bool {
	ls := firstLines(h, n)
	if len(ls) > 1 && len(h) >= DetectSize {
		ls = ls[:len(ls)-1] // the last may be cut
	}
	for _, l := range ls {
		if !re.Match(l) {
			return false
		}
	}
	return len(ls) > 0
}

var (
	straceLine  = regexp.MustCompile(`^(\[pid\s+\d+\]\s+|\d+\s+)?([\d:.]+\s+)?(read|write|recv|send|recvfrom|sendto|recvmsg|sendmsg|readv|writev)\(\d+`)
	socatLine   = regexp.MustCompile(`^[<>] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d(\.\d+)?\s+length=\d+ from=\d+ to=\d+`)
	xxdLine     = regexp.MustCompile(`^[0-9a-f]{7,}: [0-9a-f]{2}`)
	hexdumpLine = regexp.MustCompile(`^[0-9a-f]{8}  [0-9a-f]{2}( [0-9a-f]{2})*( |$)|^[0-9a-f]{8}$|^\*$`)
	odLine      = regexp.MustCompile(`^([0-7]{6,}|[0-9a-f]{6,})?( +([0-9a-f]{2}|[0-9a-f]{4}|[0-7]{6}))+( +>.*<)?$|^([0-9a-f]{6,16})$|^\*$`)
	odData      = regexp.MustCompile(`^([0-7]{6,}|[0-9a-f]{6,})?( +([0-9a-f]{2}|[0-9a-f]{4}|[0-7]{6}))+( +>.*<)?$`)
)

// isStrace: some line of the first is a read or write on a file descriptor (strace prints
// other calls too).
func isStrace(h []byte) bool {
	for _, l := range firstLines(h, 50) {
		if straceLine.Match(l) {
			return true
		}
	}
	return false
}

func isSocat(h []byte) bool {
	ls := firstLines(h, 1)
	return len(ls) == 1 && socatLine.Match(ls[0])
}

func isXxd(h []byte) bool      { return allMatch(h, xxdLine, 20) }
func isHexdumpC(h []byte) bool { return allMatch(h, hexdumpLine, 20) && bytes.Contains(h, []byte("|")) }

// isOd: od's lines, the first with bytes on it (a lone hex word is no dump).
func isOd(h []byte) bool {
	ls := firstLines(h, 1)
	return len(ls) == 1 && odData.Match(ls[0]) && allMatch(h, odLine, 20)
}
func isHex(h []byte) bool    { return textFrames(h, NewHex) }
func isBase64(h []byte) bool { return textFrames(h, NewBase64) }

// textFrames: the first line that is not blank or a comment decodes, and to bytes that start
// with a frame's magic number (a capture of frames starts with one): prose is neither hex nor
// base64, even when its letters are.
func textFrames(h []byte, open func(io.Reader) Source) bool {
	ls := firstLines(h, 1)
	if len(ls) == 0 {
		return false
	}
	line := ls[0]
	if len(line) > 4096 {
		line = line[:4096]
	}
	seg, err := open(bytes.NewReader(line)).Next()
	return err == nil && len(seg.Data) >= 4 && le32(seg.Data) == header.Magic
}
