package capture

import (
	"io"
	"strconv"
	"strings"
)

// NewStrace returns a Source of the traffic in an strace log, best written as
//
//	strace -f -xx -yy -s 65536 -o client.strace CLIENT...
//
// It reads the data system calls (read, write, recvfrom, sendto, recvmsg, sendmsg, readv,
// writev; recv and send too) with or without -f (a pid column or [pid N] prefixes), with or
// without -t/-tt/-ttt/-r/-T timestamps, and with or without -y/-yy fd decorations. A call
// that strace split into "<unfinished ...>" and "<... read resumed>" lines is joined.
//
// A connection is an fd of a process: "pid 4242 fd 7" ("fd 7" without -f), with " #2",
// " #3"... when the process opens another connection on the same fd number. Threads share
// their process's fds: clone calls with CLONE_FILES are followed, and -yy's socket inodes
// join a thread whose clone the log does not show. A connection ends (a segment with End)
// when its last fd is closed, a shutdown ends its writing side and a read of 0 bytes its
// reading side.
//
// Direction: an fd from connect() is a client's (what it writes is a request, what it reads a
// response); an fd from accept() or accept4() is the service's (it reads requests, writes
// responses); an fd whose -yy decoration shows its own Unix path is one the service accepted.
// Otherwise the direction is DirUnknown, and Reverse marks the bytes the traced process read.
//
// Each call yields the bytes it moved, its return value: all of a read's string, the first
// N bytes of a write's buffer. When strace -s cut the string (it ends in "..." after the
// quote) the segment holds what the log shows and Missing the rest: the stream cannot be
// read past it, and is not a short frame. Lines that are not data calls are skipped; fds
// that -y shows to be files, pipes or non-stream sockets are skipped; a malformed line is a
// *InputError and reading goes on.
func NewStrace(r io.Reader) Source {
	return &straceReader{
		lines:   newLogLines(r),
		tasks:   make(map[string]*straceTask),
		inodes:  make(map[string]*straceConn),
		pending: make(map[string]stracePending),
	}
}

// Bounds on what the reader tracks, whatever the log says.
const (
	straceMaxTasks        = 1 << 16  // processes and threads
	straceMaxConns        = 1 << 16  // open connections
	straceMaxPending      = 1 << 12  // calls left unfinished
	straceMaxPendingBytes = 64 << 20 // their text
)

type straceRole uint8

const (
	roleUnknown straceRole = iota
	roleClient
	roleService
)

// straceConn is a connection: a socket, held by one or more fds.
type straceConn struct {
	name    string
	role    straceRole
	key     string   // socket identity from the decoration, "" when unknown
	keys    []string // the keys of inodes that lead to it
	refs    int      // fds that hold it
	started [2]bool
	ended   [2]bool
}

// straceTask is an fd table, shared by the threads of a process.
type straceTask struct {
	name     string // the pid that names the process's connections, "" when not known
	implicit bool   // created for a pid that no traced clone announced
	fds      map[int64]*straceConn
	seq      map[int64]int // connections opened on each fd number, for their names
}

type stracePending struct {
	name string
	args string
	line int
	off  int64
}

type straceReader struct {
	lines        logLines
	q            segQueue
	buf          []byte
	carry        []byte // a line that strace interrupted with a message of its own
	tasks        map[string]*straceTask
	mainClaimed  bool
	inodes       map[string]*straceConn
	conns        int
	pending      map[string]stracePending
	pendingBytes int
	err          error
	line         int
	off          int64
}

const (
	outgoing = 0
	incoming = 1
)

// Next returns the next segment of the log.
func (s *straceReader) Next() (Segment, error) {
	for s.q.empty() {
		if s.err != nil {
			return Segment{}, s.err
		}
		s.buf = s.buf[:0]
		b, tooLong, err := s.lines.read()
		if err != nil {
			s.err = err
			if len(s.carry) > 0 {
				line := string(s.carry)
				s.carry = s.carry[:0]
				s.handle(line)
			}
			continue
		}
		if tooLong {
			s.line, s.off = s.lines.line, s.lines.off
			s.fail("line longer than " + strconv.Itoa(s.lines.max) + " bytes: skipped")
			continue
		}
		line := string(b)
		// strace writes "strace: Process N attached" in the middle of the line of the clone
		// that created N when it writes to the terminal; the line goes on on the next one.
		if i := strings.Index(line, "strace: Process "); i > 0 && strings.HasSuffix(line, " attached") {
			if len(s.carry) == 0 {
				s.line, s.off = s.lines.line, s.lines.off
			}
			if len(s.carry)+i > s.lines.max {
				s.carry = s.carry[:0]
				s.fail("line longer than " + strconv.Itoa(s.lines.max) + " bytes: skipped")
				continue
			}
			s.carry = append(s.carry, line[:i]...)
			continue
		}
		if len(s.carry) > 0 {
			line = string(s.carry) + line
			s.carry = s.carry[:0]
		} else {
			s.line, s.off = s.lines.line, s.lines.off
		}
		s.handle(line)
	}
	return s.q.pop()
}

func (s *straceReader) fail(reason string) {
	s.q.fail(&InputError{Line: s.line, Offset: s.off, Format: "strace", Reason: reason})
}

// handle reads one line of the log.
func (s *straceReader) handle(line string) {
	tid, rest, ok := stracePrefix(line)
	if !ok {
		return
	}
	if strings.HasPrefix(rest, "<... ") {
		end := strings.Index(rest, " resumed>")
		if end < 0 {
			return
		}
		name := rest[5:end]
		rest = rest[end+len(" resumed>"):]
		p, ok := s.pending[tid]
		if !ok || p.name != name {
			if straceDataCall(name) {
				s.fail(name + " resumed, but the log does not show where it started: its data is lost")
			}
			return
		}
		delete(s.pending, tid)
		s.pendingBytes -= len(p.args)
		s.call(tid, name, p.args+rest)
		return
	}
	open := strings.IndexByte(rest, '(')
	if open <= 0 || !straceName(rest[:open]) {
		return
	}
	name := rest[:open]
	args := rest[open+1:]
	if strings.HasSuffix(args, "<unfinished ...>") {
		if !straceTracked(name) {
			return
		}
		args = strings.TrimSuffix(args, "<unfinished ...>")
		args = strings.TrimSuffix(args, " ")
		if old, ok := s.pending[tid]; ok {
			s.pendingBytes -= len(old.args)
		}
		if len(s.pending) >= straceMaxPending || s.pendingBytes+len(args) > straceMaxPendingBytes {
			s.fail(name + " unfinished: too many calls left unfinished; its data is lost")
			return
		}
		s.pending[tid] = stracePending{name: name, args: args, line: s.line, off: s.off}
		s.pendingBytes += len(args)
		return
	}
	s.call(tid, name, args)
}

// stracePrefix strips the pid ("1234 " or "[pid 1234] "), the timestamps and the
// instruction pointer that strace's options put before the call.
func stracePrefix(line string) (tid, rest string, ok bool) {
	rest = strings.TrimLeft(line, " ")
	if strings.HasPrefix(rest, "[pid ") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", false
		}
		tid = strings.TrimSpace(rest[5:end])
		if !straceDigits(tid) {
			return "", "", false
		}
		rest = strings.TrimLeft(rest[end+1:], " ")
	} else if sp := strings.IndexByte(rest, ' '); sp > 0 && straceDigits(rest[:sp]) {
		tid = rest[:sp]
		rest = strings.TrimLeft(rest[sp+1:], " ")
	}
	for {
		sp := strings.IndexByte(rest, ' ')
		if sp <= 0 {
			break
		}
		tok := rest[:sp]
		if !straceTimestamp(tok) && !(tok[0] == '[' && tok[len(tok)-1] == ']') {
			break
		}
		rest = strings.TrimLeft(rest[sp+1:], " ")
	}
	return tid, rest, true
}

func straceDigits(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// straceTimestamp: 09:00:00, 09:00:00.123456, 1700000000.123456, 0.000123.
func straceTimestamp(s string) bool {
	mark := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':' || c == '.':
			mark = true
		case c < '0' || c > '9':
			return false
		}
	}
	return mark
}

func straceName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func straceDataCall(name string) bool {
	switch name {
	case "read", "write", "recv", "send", "recvfrom", "sendto", "recvmsg", "sendmsg", "readv", "writev":
		return true
	}
	return false
}

// straceTracked: the calls the reader follows.
func straceTracked(name string) bool {
	switch name {
	case "socket", "connect", "accept", "accept4", "close", "shutdown", "dup", "dup2", "dup3",
		"fcntl", "fcntl64", "clone", "clone3", "fork", "vfork", "sendfile", "sendfile64", "splice":
		return true
	}
	return straceDataCall(name)
}

// call acts on one complete call: name, and the text after its opening parenthesis.
func (s *straceReader) call(tid, name, text string) {
	if !straceTracked(name) {
		return
	}
	var argBuf [8]string
	args, after, ok := straceArgs(text, argBuf[:0])
	if !ok {
		if straceDataCall(name) {
			s.fail(name + ": the argument list does not end")
		}
		return
	}
	ret, retDeco, ok := straceReturn(after)
	if ok && ret < 0 && name == "connect" && strings.Contains(after, "EINPROGRESS") {
		ret = 0 // a non-blocking connect: the fd is a client's all the same
	}
	if !ok || ret < 0 {
		return // "= ?" or a failed call: nothing moved
	}
	switch name {
	case "clone", "clone3", "fork", "vfork":
		s.clone(tid, ret, name != "fork" && name != "vfork" && strings.Contains(text, "CLONE_FILES"))
		return
	}
	if len(args) == 0 {
		if straceDataCall(name) {
			s.fail(name + ": no arguments")
		}
		return
	}
	fd, deco, ok := straceFD(args[0])
	if !ok {
		if straceDataCall(name) {
			s.fail(name + ": the first argument is not an fd: " + straceShort(args[0]))
		}
		return
	}
	switch name {
	case "sendfile", "sendfile64":
		// sendfile(out, in, offset, count): bytes sent that the log does not show.
		s.unseen(tid, fd, deco, outgoing, ret)
	case "splice":
		// splice(in, off_in, out, off_out, len, flags): either end may be a socket.
		s.unseen(tid, fd, deco, incoming, ret)
		if len(args) > 2 {
			if out, outDeco, ok := straceFD(args[2]); ok {
				s.unseen(tid, out, outDeco, outgoing, ret)
			}
		}
	case "socket":
		s.open(tid, ret, retDeco, roleUnknown)
	case "accept", "accept4":
		s.open(tid, ret, retDeco, roleService)
	case "connect":
		if c := s.conn(tid, fd, deco); c != nil {
			c.role = roleClient
		}
	case "close":
		s.close(tid, fd)
	case "shutdown":
		if len(args) > 1 && args[1] != "SHUT_RD" {
			if c := s.conn(tid, fd, deco); c != nil {
				s.end(c, outgoing)
			}
		}
	case "dup", "dup2", "dup3", "fcntl", "fcntl64":
		if (name == "fcntl" || name == "fcntl64") && (len(args) < 2 || !strings.HasPrefix(args[1], "F_DUPFD")) {
			return
		}
		if c := s.conn(tid, fd, deco); c != nil && ret != fd {
			t := s.task(tid)
			if t == nil {
				return
			}
			s.close(tid, ret)
			t.fds[ret] = c
			c.refs++
		}
	default:
		s.data(tid, name, fd, deco, args, ret)
	}
}

func straceShort(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "..."
	}
	return strconv.Quote(s)
}

// task returns the fd table of a thread.
func (s *straceReader) task(tid string) *straceTask {
	if t := s.tasks[tid]; t != nil {
		return t
	}
	if len(s.tasks) >= straceMaxTasks {
		return nil
	}
	// strace writes no pid on the lines of the first process until it traces a second one;
	// the first pid that no clone announced is then that process.
	if tid != "" && !s.mainClaimed {
		if m := s.tasks[""]; m != nil {
			s.mainClaimed = true
			if m.name == "" {
				m.name = tid
			}
			s.tasks[tid] = m
			return m
		}
	}
	t := &straceTask{name: tid, implicit: tid != "", fds: make(map[int64]*straceConn), seq: make(map[int64]int)}
	s.tasks[tid] = t
	return t
}

// clone follows a new thread or process: with CLONE_FILES it shares the parent's fd table,
// otherwise it gets a copy.
func (s *straceReader) clone(tid string, child int64, shared bool) {
	parent := s.task(tid)
	if parent == nil || child <= 0 {
		return
	}
	key := strconv.FormatInt(child, 10)
	if shared {
		if _, seen := s.tasks[key]; !seen && len(s.tasks) < straceMaxTasks {
			s.tasks[key] = parent
		}
		return
	}
	t := s.task(key)
	if t == nil {
		return
	}
	t.implicit = false
	for fd, c := range parent.fds {
		if t.fds[fd] == nil {
			t.fds[fd] = c
			c.refs++
		}
	}
}

// open records an fd that a call returned: socket, accept.
func (s *straceReader) open(tid string, fd int64, deco string, role straceRole) {
	s.close(tid, fd) // the fd was closed where the log does not show it
	kind, key, _ := straceDecoration(deco)
	if kind == fdOther {
		return
	}
	if c := s.newConn(tid, fd, key); c != nil {
		c.role = role
	}
}

func (s *straceReader) newConn(tid string, fd int64, key string) *straceConn {
	t := s.task(tid)
	if t == nil || s.conns >= straceMaxConns {
		s.fail("too many open connections or processes: fd " + strconv.FormatInt(fd, 10) + " not followed")
		return nil
	}
	t.seq[fd]++
	name := "fd " + strconv.FormatInt(fd, 10)
	if t.name != "" {
		name = "pid " + t.name + " " + name
	}
	if n := t.seq[fd]; n > 1 {
		name += " #" + strconv.Itoa(n)
	}
	c := &straceConn{name: name, key: key, refs: 1}
	t.fds[fd] = c
	s.conns++
	s.remember(c, key)
	return c
}

// conn returns the connection an fd argument names, creating it for a socket (or an fd that
// may be one) first seen here; nil for an fd that is not a stream socket.
func (s *straceReader) conn(tid string, fd int64, deco string) *straceConn {
	kind, key, bound := straceDecoration(deco)
	if kind == fdOther {
		s.close(tid, fd)
		return nil
	}
	t := s.task(tid)
	if t == nil {
		return nil
	}
	c := t.fds[fd]
	if c != nil && key != "" && c.key != key && strings.HasPrefix(key, "ino:") && strings.HasPrefix(c.key, "ino:") {
		// Another socket on the same fd: the log missed a close.
		s.close(tid, fd)
		c = nil
	}
	if c == nil && key != "" {
		if other := s.inodes[key]; other != nil {
			// A thread whose clone the log does not show shares the fd table of the process
			// that holds this socket.
			if t.implicit && len(t.fds) == 0 {
				if owner := s.ownerOf(other); owner != nil && owner != t {
					s.tasks[tid] = owner
					if owner.fds[fd] == other {
						return other
					}
					t = owner
				}
			}
			s.close(tid, fd)
			t.fds[fd] = other
			other.refs++
			return other
		}
	}
	if c == nil {
		c = s.newConn(tid, fd, key)
		if c == nil {
			return nil
		}
		if bound {
			c.role = roleService
		}
	}
	if c.key == "" && key != "" {
		c.key = key
		s.remember(c, key)
	} else if key != "" && c.key != key && !strings.HasPrefix(key, "ino:") {
		// TCP:[...] decorations change once the socket connects; keep the latest too.
		s.remember(c, key)
	}
	return c
}

// ownerOf finds an fd table that holds c.
func (s *straceReader) ownerOf(c *straceConn) *straceTask {
	for _, t := range s.tasks {
		for _, v := range t.fds {
			if v == c {
				return t
			}
		}
	}
	return nil
}

// remember makes key find c.
func (s *straceReader) remember(c *straceConn, key string) {
	if key == "" || len(c.keys) >= 4 {
		return
	}
	s.inodes[key] = c
	c.keys = append(c.keys, key)
}

// close drops an fd; the connection ends when no fd holds it any more.
func (s *straceReader) close(tid string, fd int64) {
	t := s.tasks[tid]
	if t == nil {
		return
	}
	c := t.fds[fd]
	if c == nil {
		return
	}
	delete(t.fds, fd)
	c.refs--
	if c.refs > 0 {
		return
	}
	s.conns--
	for _, k := range c.keys {
		if s.inodes[k] == c {
			delete(s.inodes, k)
		}
	}
	for side := range c.started {
		if c.started[side] {
			s.end(c, side)
		}
	}
}

// end marks one side of a connection as ended, once.
func (s *straceReader) end(c *straceConn, side int) {
	if c.ended[side] {
		return
	}
	c.ended[side] = true
	seg := s.segment(c, side)
	seg.End = true
	s.q.push(seg)
}

func (s *straceReader) segment(c *straceConn, side int) Segment {
	seg := Segment{Conn: c.name, Line: s.line, Start: !c.started[side]}
	c.started[side] = true
	switch {
	case c.role == roleClient && side == outgoing, c.role == roleService && side == incoming:
		seg.Dir = DirRequest
	case c.role == roleClient, c.role == roleService:
		seg.Dir = DirResponse
	default:
		seg.Reverse = side == incoming
	}
	return seg
}

// unseen records n bytes that a call moved on a connection without showing them: a gap.
func (s *straceReader) unseen(tid string, fd int64, deco string, side int, n int64) {
	kind, _, _ := straceDecoration(deco)
	t := s.tasks[tid]
	if n <= 0 || kind == fdOther || t == nil || t.fds[fd] == nil {
		return // only a connection already known: the other end of a splice is often a file
	}
	seg := s.segment(t.fds[fd], side)
	seg.Missing = n
	s.q.push(seg)
}

// data reads the bytes of a data call.
func (s *straceReader) data(tid, name string, fd int64, deco string, args []string, ret int64) {
	side := incoming
	switch name {
	case "write", "send", "sendto", "sendmsg", "writev":
		side = outgoing
	}
	if len(args) < 2 {
		s.fail(name + ": no buffer argument")
		return
	}
	// MSG_PEEK leaves the bytes in the socket: the next read returns them again.
	if (name == "recv" || name == "recvfrom") && len(args) > 3 && strings.Contains(args[3], "MSG_PEEK") ||
		name == "recvmsg" && len(args) > 2 && strings.Contains(args[2], "MSG_PEEK") {
		return
	}
	var (
		cut bool
		ok  bool
	)
	switch name {
	case "readv", "writev", "recvmsg", "sendmsg":
		s.buf, cut, ok = straceIovecs(s.buf[:0], args[1])
	default:
		var rest string
		s.buf, rest, cut, ok = straceUnquote(s.buf[:0], args[1])
		ok = ok && rest == ""
	}
	if !ok {
		s.fail(name + ": the buffer is not a string strace writes: " + straceShort(args[1]))
		return
	}
	c := s.conn(tid, fd, deco)
	if c == nil {
		return
	}
	if ret == 0 {
		if side == incoming {
			s.end(c, incoming)
		}
		return
	}
	shown := int64(len(s.buf))
	seg := s.segment(c, side)
	switch {
	case ret <= shown:
		seg.Data = s.buf[:ret]
	case cut:
		seg.Data = s.buf
		seg.Missing = ret - shown
	default:
		s.fail(name + " returned " + strconv.FormatInt(ret, 10) + " but the line shows " +
			strconv.FormatInt(shown, 10) + " bytes and no cut")
		seg.Data = s.buf
		seg.Missing = ret - shown
	}
	s.q.push(seg)
}

// straceIovecs appends the bytes of the iov_base strings of an iovec array or a msghdr,
// in order, up to the first that -s cut.
func straceIovecs(dst []byte, arg string) ([]byte, bool, bool) {
	found := false
	for i := 0; i < len(arg); i++ {
		if arg[i] == '"' {
			j, ok := straceSkipString(arg, i)
			if !ok {
				return dst, false, false
			}
			i = j - 1
			continue
		}
		if !strings.HasPrefix(arg[i:], "iov_base=") {
			continue
		}
		var cut, ok bool
		var rest string
		dst, rest, cut, ok = straceUnquote(dst, arg[i+len("iov_base="):])
		if !ok {
			return dst, false, false
		}
		found = true
		if cut {
			return dst, true, true
		}
		i = len(arg) - len(rest) - 1
	}
	if !found {
		// recvmsg with no data, or an empty array: "[]", "msg_iov=[]".
		return dst, false, strings.Contains(arg, "[]")
	}
	// strace writes "..." as the last element of an array it did not print in full.
	return dst, strings.HasSuffix(strings.TrimRight(arg, "}"), ", ...]"), true
}
