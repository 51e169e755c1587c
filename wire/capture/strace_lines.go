package capture

import (
	"bufio"
	"io"
)

// maxLogLine bounds the memory a line of a text log (strace, socat) may take. strace -xx writes
// four characters per byte, so this holds the data of a call traced with -s up to 4 MiB; a
// longer line is reported and skipped.
const maxLogLine = 16 << 20

// logLines reads a text log line by line with bounded memory, keeping line numbers and byte
// offsets for error messages.
type logLines struct {
	r    *bufio.Reader
	buf  []byte
	max  int
	line int   // 1-based number of the line last returned
	off  int64 // offset of the line last returned
	next int64 // offset of the line after it
}

func newLogLines(r io.Reader) logLines {
	return logLines{r: bufio.NewReaderSize(r, 64<<10), max: maxLogLine}
}

// read returns the next line without its line ending. A line longer than max is skipped to
// its end and returned empty with tooLong set. The line is valid until the next call.
func (l *logLines) read() (line []byte, tooLong bool, err error) {
	l.buf = l.buf[:0]
	l.off = l.next
	n := 0
	for {
		chunk, rerr := l.r.ReadSlice('\n')
		n += len(chunk)
		l.next += int64(len(chunk))
		if !tooLong {
			if len(l.buf)+len(chunk) > l.max {
				tooLong = true
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		if rerr == bufio.ErrBufferFull {
			continue
		}
		if rerr != nil {
			if n == 0 {
				return nil, false, rerr
			}
			if rerr != io.EOF {
				// Keep the error for the next call: the bytes read so far are a line.
				l.r = bufio.NewReaderSize(errReader{rerr}, 16)
			}
		}
		break
	}
	l.line++
	b := l.buf
	if len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return b, tooLong, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// segQueue holds what one input line produced, to be handed out one item per Next call.
type segQueue struct {
	items []queued
	pos   int
}

type queued struct {
	seg Segment
	err error
}

func (q *segQueue) push(s Segment) { q.items = append(q.items, queued{seg: s}) }
func (q *segQueue) fail(err error) { q.items = append(q.items, queued{err: err}) }
func (q *segQueue) empty() bool    { return q.pos == len(q.items) }
func (q *segQueue) pop() (Segment, error) {
	it := q.items[q.pos]
	q.items[q.pos] = queued{}
	q.pos++
	if q.pos == len(q.items) {
		q.items, q.pos = q.items[:0], 0
	}
	return it.seg, it.err
}
