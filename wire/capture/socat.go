package capture

import (
	"io"
	"strconv"
	"strings"
)

// NewSocat returns a Source of the traffic in a dump that socat -x -v writes on stderr, as
// a proxy between a client and a Parsec service:
//
//	socat -x -v UNIX-LISTEN:/tmp/proxy.sock,fork UNIX-CONNECT:/run/parsec/parsec.sock 2>socat.log
//
// Each block is a header line, "> 2026/11/29 09:00:00.123456  length=36 from=0 to=35" (or
// "<"), hex lines (" 10 a7 c0 5e ...", with the text rendering that -v adds after them,
// which is ignored) and a "--" line. ">" is what socat read from its first address and wrote
// to its second. In the command above, as in every proxy that listens for the client first,
// that is the client's data: ">" is DirRequest and "<" DirResponse. NewSocatReversed reads a
// dump whose addresses are the other way round.
//
// A dump holds one connection ("conn 1") until one direction starts again at from=0: socat's
// offsets count per connection, so a from=0 on a direction that already carried data starts
// the next connection ("conn 2"...), as the fork option's children do one after another.
// Blocks of children that overlap in time are told apart by their offsets; when socat -d -d
// adds its "socat[PID] ..." lines, a connection is named by the pid of the child that
// started it ("socat[4242]") and ends (End) when that child exits. A block whose hex lines
// do not add up to its length is an *InputError, and what it holds is a segment with the
// rest as Missing.
func NewSocat(r io.Reader) Source { return newSocat(r, false) }

// NewSocatReversed is NewSocat for a dump whose first address is the service's side, so
// that ">" is a response and "<" a request: socat -x -v UNIX-CONNECT:/run/parsec/parsec.sock
// UNIX-LISTEN:/tmp/proxy.sock.
func NewSocatReversed(r io.Reader) Source { return newSocat(r, true) }

func newSocat(r io.Reader, reversed bool) *socatReader {
	return &socatReader{lines: newLogLines(r), reversed: reversed}
}

// Bounds: the bytes of one block held before they are handed out; the connections followed
// (past it the oldest is taken as ended: without -d -d a dump does not say when one ends).
const (
	socatMaxBlock = 1 << 20
	socatMaxConns = 256
)

type socatConn struct {
	name  string
	pid   string
	next  [2]int64 // offset that the next block of each direction starts at
	seen  [2]bool
	ended bool
}

type socatReader struct {
	lines    logLines
	q        segQueue
	reversed bool
	err      error
	conns    []*socatConn // open connections, oldest first
	count    int          // connections started so far
	pid      string       // pid of the last "starting data transfer loop" line not yet used

	// the block being read
	in      bool
	text    bool // a block in socat's text form (-v without -x): skipped
	dir     int
	conn    *socatConn
	length  int64
	got     int64
	data    []byte
	line    int
	off     int64
	started bool // data of this block already handed out (a block longer than socatMaxBlock)
}

// Next returns the next segment of the dump.
func (s *socatReader) Next() (Segment, error) {
	for s.q.empty() {
		if s.err != nil {
			return Segment{}, s.err
		}
		b, tooLong, err := s.lines.read()
		if err != nil {
			s.finish(true)
			s.err = err
			continue
		}
		if tooLong {
			s.fail(s.lines.line, s.lines.off, "line longer than "+strconv.Itoa(s.lines.max)+" bytes: skipped")
			continue
		}
		s.handle(b)
	}
	return s.q.pop()
}

func (s *socatReader) fail(line int, off int64, reason string) {
	s.q.fail(&InputError{Line: line, Offset: off, Format: "socat", Reason: reason})
}

func (s *socatReader) handle(b []byte) {
	line := string(b)
	if len(line) > 2 && (line[0] == '>' || line[0] == '<') && line[1] == ' ' && strings.Contains(line, "length=") {
		s.finish(false)
		dir, length, from, ok := socatHeader(line)
		if !ok {
			s.fail(s.lines.line, s.lines.off, "malformed block header: "+socatShort(line))
			s.in, s.text = true, true // skip the block's lines
			return
		}
		s.begin(dir, length, from)
		return
	}
	if line == "--" {
		s.finish(false)
		return
	}
	if pid, msg, ok := socatDiagnostic(line); ok && line[0] != ' ' {
		s.finish(false)
		s.diagnostic(pid, msg)
		return
	}
	if !s.in {
		if _, ok := socatHex(line, nil); ok {
			s.fail(s.lines.line, s.lines.off, "hex line outside a block: no header line before it")
		}
		return
	}
	if s.text {
		return
	}
	n := len(s.data)
	data, ok := socatHex(line, s.data)
	if !ok {
		if s.got == 0 && n == 0 {
			s.text = true
			s.fail(s.lines.line, s.lines.off, "block is not a hex dump (socat -v without -x): skipped")
			return
		}
		s.fail(s.lines.line, s.lines.off, "not a hex line of the block: "+socatShort(line))
		return
	}
	s.data = data
	s.got += int64(len(data) - n)
	if s.got > s.length {
		s.fail(s.lines.line, s.lines.off, "block holds more bytes than its length="+strconv.FormatInt(s.length, 10))
	}
	if len(s.data) >= socatMaxBlock {
		s.emit(0)
	}
}

func socatShort(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "..."
	}
	return strconv.Quote(s)
}

// socatHeader reads "> 2026/11/29 09:00:00.123456  length=36 from=0 to=35".
func socatHeader(line string) (dir int, length, from int64, ok bool) {
	if len(line) < 2 || (line[0] != '>' && line[0] != '<') || line[1] != ' ' {
		return 0, 0, 0, false
	}
	if line[0] == '<' {
		dir = 1
	}
	var to int64
	var haveLen, haveFrom, haveTo bool
	for _, f := range strings.Fields(line[2:]) {
		k, v, found := strings.Cut(f, "=")
		if !found {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, 0, false
		}
		switch k {
		case "length":
			length, haveLen = n, true
		case "from":
			from, haveFrom = n, true
		case "to":
			to, haveTo = n, true
		}
	}
	if !haveLen || !haveFrom {
		return 0, 0, 0, false
	}
	// to is the offset of the block's last byte: from+length-1 (from-1 for an empty block).
	if haveTo && length > 0 && to != from+length-1 {
		return 0, 0, 0, false
	}
	return dir, length, from, true
}

// socatHex appends the bytes of a hex line (" 10 a7 c0 5e ...  ...^..") to dst: up to 16
// groups of two hex digits, each after a space; what follows is -v's text rendering.
func socatHex(line string, dst []byte) ([]byte, bool) {
	n := 0
	i := 0
	for n < 16 && i+3 <= len(line) && line[i] == ' ' && socatHexDigit(line[i+1]) && socatHexDigit(line[i+2]) &&
		(i+3 == len(line) || line[i+3] == ' ') {
		dst = append(dst, socatHexValue(line[i+1])<<4|socatHexValue(line[i+2]))
		n++
		i += 3
	}
	return dst, n > 0
}

func socatHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func socatHexValue(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// socatDiagnostic reads the lines of socat -d -d: "2026/11/29 09:00:00 socat[4242] N ...".
func socatDiagnostic(line string) (pid, msg string, ok bool) {
	i := strings.Index(line, " socat[")
	if i < 0 {
		return "", "", false
	}
	rest := line[i+len(" socat["):]
	end := strings.IndexByte(rest, ']')
	if end <= 0 || !straceDigits(rest[:end]) {
		return "", "", false
	}
	return rest[:end], strings.TrimSpace(rest[end+1:]), true
}

func (s *socatReader) diagnostic(pid, msg string) {
	switch {
	case strings.Contains(msg, "starting data transfer loop"):
		s.pid = pid
	case strings.Contains(msg, "exiting with status"):
		for _, c := range s.conns {
			if c.pid == pid {
				s.close(c)
				return
			}
		}
	}
}

// begin starts a block: finds its connection.
func (s *socatReader) begin(dir int, length, from int64) {
	s.in, s.text, s.dir, s.length, s.got, s.started = true, false, dir, length, 0, false
	s.data = s.data[:0]
	s.line, s.off = s.lines.line, s.lines.off
	var c *socatConn
	if from == 0 {
		// The newest connection that has not carried this direction yet (the answer to a
		// request that came first); a new one when every one has, or when a child announced
		// itself since.
		if s.pid == "" {
			for i := len(s.conns) - 1; i >= 0; i-- {
				if !s.conns[i].seen[dir] {
					c = s.conns[i]
					break
				}
			}
		}
	} else {
		// The newest connection this block continues: socat's fork children mostly follow
		// each other, so the newest is the likely one when two are at the same offset.
		for i := len(s.conns) - 1; i >= 0; i-- {
			if o := s.conns[i]; o.seen[dir] && o.next[dir] == from {
				c = o
				break
			}
		}
		if c == nil {
			// socat's offsets never skip: the dump lost blocks, or was edited.
			s.fail(s.line, s.off, "from="+strconv.FormatInt(from, 10)+" does not follow any earlier block of this direction")
			for i := len(s.conns) - 1; i >= 0; i-- {
				if s.conns[i].seen[dir] {
					c = s.conns[i]
					break
				}
			}
		}
	}
	if c == nil {
		c = s.open()
	}
	c.seen[dir] = true
	c.next[dir] = from + length
	s.conn = c
}

func (s *socatReader) open() *socatConn {
	if len(s.conns) >= socatMaxConns {
		s.close(s.conns[0])
	}
	s.count++
	c := &socatConn{name: "conn " + strconv.Itoa(s.count)}
	if s.pid != "" {
		c.pid = s.pid
		c.name = "socat[" + s.pid + "]"
		s.pid = ""
	}
	s.conns = append(s.conns, c)
	return c
}

// close ends both directions of a connection that carried them and forgets it.
func (s *socatReader) close(c *socatConn) {
	for i, o := range s.conns {
		if o == c {
			s.conns = append(s.conns[:i], s.conns[i+1:]...)
			break
		}
	}
	if c.ended {
		return
	}
	c.ended = true
	for dir := range c.seen {
		if c.seen[dir] {
			seg := s.segment(c, dir)
			seg.End = true
			s.q.push(seg)
		}
	}
}

func (s *socatReader) segment(c *socatConn, dir int) Segment {
	d := DirRequest
	if (dir == 1) != s.reversed {
		d = DirResponse
	}
	return Segment{Conn: c.name, Dir: d, Line: s.line}
}

// finish ends the block being read: its bytes become a segment.
func (s *socatReader) finish(eof bool) {
	if !s.in {
		return
	}
	s.in = false
	if s.text {
		return
	}
	var missing int64
	if s.got < s.length {
		missing = s.length - s.got
		why := "block ends"
		if eof {
			why = "input ends"
		}
		s.fail(s.line, s.off, why+" after "+strconv.FormatInt(s.got, 10)+" of its length="+strconv.FormatInt(s.length, 10)+" bytes")
	}
	s.emit(missing)
}

func (s *socatReader) emit(missing int64) {
	if len(s.data) == 0 && missing == 0 {
		return
	}
	seg := s.segment(s.conn, s.dir)
	seg.Start = s.conn.next[s.dir] == s.length && !s.started // the connection's first block
	seg.Data = s.data
	seg.Missing = missing
	s.q.push(seg)
	s.started = true
	// Data stays valid until the next call to Next, which is when the next line is read.
	s.data = s.data[:0]
}
