package capture

import (
	"errors"
	"io"
	"strconv"
	"sync/atomic"

	"github.com/parsecwire/parsecwire/operation"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// Bodies says what a Decoder does with the body of a frame that a Parsec peer reads as an
// operation's (a request's, or a Success response's, of a known opcode, content type
// protobuf: operation.ForFrame): nothing, judge it as the reference's converter does, or also
// decode it for display. A body the converter refuses makes a valid frame invalid, with the
// converter's status and field "body".
type Bodies uint8

const (
	BodiesOff    Bodies = iota // the framing verdict alone
	BodiesCheck                // operation.ValidateFrame: no allocation
	BodiesDecode               // operation.DecodeFrame: the verdict and Record.Operation
)

// Config is how a Decoder reads frames.
type Config struct {
	Limit    uint32    // body-size limit; 0 means wire.DefaultLimit
	Seed     bool      // accept only the seed document's status codes
	Strict   bool      // the reference's semantic checks
	Requests bool      // streams whose direction the format does not give hold requests
	Bodies   Bodies    // what to do with operation bodies
	Hold     int       // largest frame held in memory (larger bodies are read and dropped); 0: what the limit allows
	Pending  int       // most requests awaiting an answer per connection; 0: DefaultPending
	Progress *Progress // counters for a progress line, or nil
}

// DefaultPending is how many unanswered requests a connection may have before the oldest
// is given up: a capture of a client that never reads its answers costs that much, not more.
const DefaultPending = 1024

// Progress is what a Decoder has read so far, for a progress line updated by another
// goroutine.
type Progress struct {
	Bytes  atomic.Int64 // input bytes decoded (frame bytes, for text formats)
	Frames atomic.Int64
}

// Stats are a run's totals beyond the frames themselves.
type Stats struct {
	// Unanswered counts requests that got no response: at the end of their connection, or
	// given up when a connection had more than Config.Pending waiting.
	Unanswered int64
	// InputErrors counts the parts of the input that could not be read.
	InputErrors int64
}

// Decoder reads the frames of a capture: it joins each Source's segments per connection and
// direction into streams, reads each with a wire.Scanner, gives every frame its verdict and
// pairs each response with its request on the same connection, in order.
type Decoder struct {
	cfg   Config
	name  string
	emit  func(*Record) error
	onErr func(error)

	streams map[streamID]*stream
	order   []*stream
	conns   map[string]*conn
	index   int64
	exch    int64
	rec     *Record
	stats   Stats
	err     error // the first error of emit, which ends the run
	pool    []*stream
}

type streamID struct {
	conn string
	dir  Dir
}

// conn is what the Decoder keeps about a connection: which side is the client (when the
// format gives only "one way" and "the other way") and the requests awaiting an answer.
type conn struct {
	clientReverse bool
	sides         bool // clientReverse has been decided
	ended         [2]bool
	waiting       []pending // a ring: head at first
	first, n      int
}

type pending struct {
	exchange int64
	decoded  bool
	provider uint8
	session  uint64
	opcode   uint32
}

// stream is one direction of one connection.
type stream struct {
	key     streamID
	dir     Dir
	pair    bool // its frames take part in exchanges
	r       segReader
	s       *wire.Scanner
	base    int64 // stream offset of the Scanner's offset 0 (it restarts after a gap)
	fed     int64 // bytes fed so far
	marks   []Mark
	held    *Record // a fault waiting for the count of bytes its resync skips
	heldErr header.FieldError
	holding bool
}

// errGap is what a stream's reader returns where the capture lost bytes.
var errGap = errors.New("bytes missing from the capture")

// segReader hands a Scanner the bytes of the segments fed to its stream.
type segReader struct {
	data []byte
	end  bool // no more segments will come
	gap  bool // the capture lost bytes here
}

func (r *segReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		switch {
		case r.gap:
			return 0, errGap
		case r.end:
			return 0, io.EOF
		}
		return 0, wire.ErrPending
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// NewDecoder returns a Decoder with cfg.
func NewDecoder(cfg Config) *Decoder {
	if cfg.Limit == 0 {
		cfg.Limit = wire.DefaultLimit
	}
	if cfg.Pending <= 0 {
		cfg.Pending = DefaultPending
	}
	return &Decoder{cfg: cfg, rec: &Record{}}
}

// Stats returns the totals of the runs so far.
func (d *Decoder) Stats() Stats { return d.stats }

// Run reads every segment of src, named name, and calls emit with each frame's record, in
// the order the frames end in the capture (a fault whose resync is pending is reported once
// the bytes it skips are known). Parts of the input that cannot be read are passed to
// onInputError and the rest is read. Run returns the first error of src that is not an
// *InputError, or of emit.
func (d *Decoder) Run(name string, src Source, emit func(*Record) error, onInputError func(error)) error {
	d.name, d.emit, d.onErr, d.err = name, emit, onInputError, nil
	d.streams, d.conns, d.order = map[streamID]*stream{}, map[string]*conn{}, d.order[:0]
	d.index = 0
	if rs, ok := src.(interface{ Reader() io.Reader }); ok {
		return d.direct(rs.Reader())
	}
	for d.err == nil {
		seg, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				d.stats.InputErrors++
				if d.onErr != nil {
					d.onErr(err)
				}
				continue
			}
			d.finishAll()
			return err
		}
		d.segment(&seg)
	}
	d.finishAll()
	return d.err
}

// direct reads a single raw stream with one Scanner straight from r, without segments.
func (d *Decoder) direct(r io.Reader) error {
	st := d.newStream(streamID{}, d.unknownDir(), false)
	st.s.Reset(countReader{r, d.cfg.Progress})
	st.s.Buffer(make([]byte, 1<<20), d.cfg.Hold)
	d.drain(st)
	d.finish(st)
	if err := st.s.Err(); err != nil && d.err == nil {
		return err
	}
	return d.err
}

// countReader counts the bytes read, for the progress line.
type countReader struct {
	r io.Reader
	p *Progress
}

func (c countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if c.p != nil {
		c.p.Bytes.Add(int64(n))
	}
	return n, err
}

func (d *Decoder) unknownDir() Dir {
	if d.cfg.Requests {
		return DirRequest
	}
	return DirResponse
}

// direction decides the direction of a segment's bytes.
func (d *Decoder) direction(seg *Segment) (Dir, bool) {
	if seg.Dir != DirUnknown {
		return seg.Dir, true
	}
	if seg.Conn == "" {
		return d.unknownDir(), false
	}
	// One way or the other on a connection: the client speaks first.
	c := d.conn(seg.Conn)
	if !c.sides {
		c.clientReverse, c.sides = seg.Reverse, true
	}
	if seg.Reverse == c.clientReverse {
		return DirRequest, true
	}
	return DirResponse, true
}

func (d *Decoder) conn(name string) *conn {
	c := d.conns[name]
	if c == nil {
		c = &conn{}
		d.conns[name] = c
	}
	return c
}

func (d *Decoder) newStream(key streamID, dir Dir, pair bool) *stream {
	var st *stream
	if n := len(d.pool); n > 0 {
		st, d.pool = d.pool[n-1], d.pool[:n-1]
		buf, held := st.s, st.held
		*st = stream{s: buf, marks: st.marks[:0], held: held}
	} else {
		st = &stream{}
		st.s = wire.NewScanner(nil)
	}
	st.key, st.dir, st.pair = key, dir, pair
	st.r = segReader{}
	st.s.Reset(&st.r)
	st.s.SetLimit(d.cfg.Limit)
	st.s.SetRequests(dir == DirRequest)
	st.s.SetStrict(d.cfg.Strict)
	if d.cfg.Seed {
		st.s.SetCodes(status.Seed)
	} else {
		st.s.SetCodes(status.Current)
	}
	if d.cfg.Hold > 0 {
		st.s.Buffer(nil, d.cfg.Hold)
	}
	return st
}

func (d *Decoder) segment(seg *Segment) {
	dir, pair := d.direction(seg)
	key := streamID{seg.Conn, dir}
	st := d.streams[key]
	if st != nil && seg.Start {
		d.end(st)
		st = nil
	}
	if st == nil {
		st = d.newStream(key, dir, pair)
		d.streams[key] = st
		d.order = append(d.order, st)
	}
	switch {
	case len(seg.Marks) > 0:
		for _, m := range seg.Marks {
			st.marks = append(st.marks, Mark{Off: int(st.fed) + m.Off, Line: m.Line})
		}
	case seg.Line > 0 && (len(st.marks) == 0 || st.marks[len(st.marks)-1].Line != seg.Line):
		st.marks = append(st.marks, Mark{Off: int(st.fed), Line: seg.Line})
	}
	st.r.data = seg.Data
	st.fed += int64(len(seg.Data))
	if p := d.cfg.Progress; p != nil {
		p.Bytes.Add(int64(len(seg.Data)))
	}
	d.drain(st)
	if seg.Missing > 0 {
		// The stream cannot be read past the lost bytes: the frame in progress is reported
		// incomplete, and the stream resumes at the next magic number after them.
		st.r.gap = true
		d.drain(st, seg.Missing)
		st.r.gap = false
		st.fed += seg.Missing
		st.base = st.fed
		st.s.Reset(&st.r)
		st.s.Resync()
	}
	if seg.End {
		d.end(st)
	}
}

// drain reports every frame of the stream that its bytes so far complete.
func (d *Decoder) drain(st *stream, missing ...int64) {
	for d.err == nil && st.s.Scan() {
		d.frame(st, st.s.Frame(), missing...)
	}
}

// end finishes a stream: its last frame, then the fault held for its skip.
func (d *Decoder) end(st *stream) {
	st.r.end = true
	d.drain(st)
	d.finish(st)
	if d.streams[st.key] == st {
		delete(d.streams, st.key)
	}
	if st.pair {
		c := d.conns[st.key.conn]
		if c != nil {
			c.ended[st.dir&1] = true
			if c.ended[0] && c.ended[1] {
				d.stats.Unanswered += int64(c.n)
				delete(d.conns, st.key.conn)
			}
		}
	}
	for i, o := range d.order {
		if o == st {
			d.order = append(d.order[:i], d.order[i+1:]...)
			break
		}
	}
	d.pool = append(d.pool, st)
}

// finish reports the fault a stream holds, with the bytes skipped to its end.
func (d *Decoder) finish(st *stream) {
	if st.holding {
		st.held.Skipped, st.held.Resumed = st.s.Tail(), false
		d.send(st.held)
		st.holding = false
	}
}

func (d *Decoder) finishAll() {
	for len(d.order) > 0 && d.err == nil {
		d.end(d.order[0])
	}
	for _, c := range d.conns {
		d.stats.Unanswered += int64(c.n)
	}
	d.conns = nil
	if p := d.cfg.Progress; p != nil {
		p.Frames.Store(d.index)
	}
}

func (d *Decoder) send(r *Record) {
	// The index is the frame's number in the order frames are reported: a fault held while
	// its stream resyncs (to count the bytes skipped) is reported after frames of other
	// streams that came later, and takes its number then.
	r.Index = d.index
	d.index++
	if d.index&0xfff == 0 && d.cfg.Progress != nil {
		d.cfg.Progress.Frames.Store(d.index)
	}
	if d.err == nil {
		d.err = d.emit(r)
	}
}

// lineAt returns the line of the stream offset off, dropping the marks before it.
func (st *stream) lineAt(off int64) int {
	i := 0
	for i+1 < len(st.marks) && int64(st.marks[i+1].Off) <= off {
		i++
	}
	if i > 0 {
		st.marks = append(st.marks[:0], st.marks[i:]...)
	}
	if len(st.marks) == 0 {
		return 0
	}
	return st.marks[0].Line
}

// frame reports one frame of a stream.
func (d *Decoder) frame(st *stream, f *wire.Frame, missing ...int64) {
	off := st.base + f.Offset
	if st.holding {
		st.held.Skipped, st.held.Resumed = f.Skipped, true
		d.send(st.held)
		st.holding = false
	}
	r := d.rec
	// Field by field: clearing the whole 300-byte Record, pointers and all, cost more than
	// the Scanner's work on a header-only frame.
	r.Source, r.Conn, r.Kind, r.Offset, r.Line = d.name, st.key.conn, st.dir, off, st.lineAt(off)
	r.OK, r.Err, r.Code, r.Field, r.FaultOffset = false, nil, 0, "", 0
	r.Skipped, r.Resumed, r.Missing, r.Exchange, r.Echo = 0, false, 0, 0, ""
	r.Operation = nil
	d.Judge(r, f)
	if len(missing) > 0 && errors.Is(f.Err, errGap) {
		r.Missing = missing[0]
		r.Err = &gapError{missing: missing[0], at: off + f.Len}
		r.Code, r.Field = 0, ""
	}
	if st.pair {
		d.pair(st, r)
	}
	if st.s.Resyncing() {
		// Keep the record by swapping it with the stream's spare one: no copy.
		if st.held == nil {
			st.held = &Record{}
		}
		st.held, d.rec = r, st.held
		r.Body, r.Auth = nil, nil
		if fe, ok := r.Err.(*header.FieldError); ok {
			// The Scanner reuses its FieldError on the next Scan: keep a copy.
			st.heldErr = *fe
			r.Err = &st.heldErr
		}
		st.holding = true
		return
	}
	d.send(r)
}

// gapError describes a frame that the capture does not hold whole.
type gapError struct {
	missing, at int64
}

func (e *gapError) Error() string {
	return "the capture lacks " + strconv.FormatInt(e.missing, 10) + " bytes at offset " +
		strconv.FormatInt(e.at, 10) + " (cut by the capture tool): the frame is incomplete"
}

// Judge gives a frame's verdict: it is the one place where a record's OK, error, status,
// field and fault offset are decided, and where the body check runs.
func (d *Decoder) Judge(r *Record, f *wire.Frame) {
	r.Decoded, r.Header, r.Body, r.Auth, r.Dropped = f.Decoded, f.Header, f.Body, f.Auth, f.Dropped
	if f.Err == nil {
		r.OK = true
		if d.cfg.Bodies != BodiesOff && !f.Dropped {
			d.body(r, f.Body)
		}
		return
	}
	r.Err = f.Err
	fe, ok := f.Err.(*header.FieldError) // the Scanner's faults are; no reflection per fault
	if !ok {
		fe, ok = asFieldError(f.Err)
	}
	if ok {
		r.Code, r.Field, r.FaultOffset = fe.Code, fe.Field.String(), r.Offset+int64(fe.Offset)
		return
	}
	r.Code, _ = status.Of(f.Err)
}

// body judges (and decodes) the body of a valid frame.
func (d *Decoder) body(r *Record, body []byte) {
	dir := operation.Response
	if r.Kind == DirRequest {
		dir = operation.Request
	}
	var err error
	if d.cfg.Bodies == BodiesDecode {
		// The record lives as long as the frame: its bytes values may share the body.
		r.Operation, err = operation.DecodeOptions{Alias: true}.DecodeFrame(&r.Header, dir, body)
	} else {
		err = operation.ValidateFrame(&r.Header, dir, body)
	}
	if err == nil {
		return
	}
	r.OK, r.Err, r.Field, r.FaultOffset = false, err, "body", r.Offset+header.Size
	if fe, ok := err.(*operation.FieldError); ok {
		r.Code = fe.Code
		r.FaultOffset += int64(fe.Offset)
	}
}

// asFieldError is errors.As for a *header.FieldError, apart so that its target does not
// escape to the heap in Judge, which runs for every fault.
func asFieldError(err error) (*header.FieldError, bool) {
	var fe *header.FieldError
	ok := errors.As(err, &fe)
	return fe, ok
}

// pair numbers a request's exchange, or matches a response with the oldest request waiting
// on its connection and checks that it echoes it.
func (d *Decoder) pair(st *stream, r *Record) {
	c := d.conn(st.key.conn)
	if r.Kind == DirRequest {
		if c.waiting == nil {
			c.waiting = make([]pending, 0, 4)
		}
		if c.n == d.cfg.Pending {
			// A client that never reads its answers: give the oldest up.
			c.first = (c.first + 1) % len(c.waiting)
			c.n--
			d.stats.Unanswered++
		}
		d.exch++
		p := pending{exchange: d.exch, decoded: r.Decoded, provider: r.Header.Provider, session: r.Header.Session, opcode: r.Header.Opcode}
		if c.n < len(c.waiting) {
			c.waiting[(c.first+c.n)%len(c.waiting)] = p
		} else {
			// Grow the ring: unwrap it in order, then append.
			w := make([]pending, 0, min(2*len(c.waiting)+1, d.cfg.Pending))
			for i := 0; i < c.n; i++ {
				w = append(w, c.waiting[(c.first+i)%len(c.waiting)])
			}
			c.waiting, c.first = append(w, p), 0
		}
		c.n++
		r.Exchange = p.exchange
		return
	}
	if c.n == 0 {
		// No request waits: a capture that starts in the middle of a connection, or a mock
		// case with a response alone. Nothing to compare with.
		if len(c.waiting) == 0 {
			delete(d.conns, st.key.conn)
		}
		return
	}
	p := c.waiting[c.first]
	c.first = (c.first + 1) % len(c.waiting)
	c.n--
	r.Exchange = p.exchange
	if !r.Decoded || !p.decoded {
		return
	}
	h := &r.Header
	// A request the service cannot read is answered from the status alone: provider 0
	// (Core), session 0, opcode 1 (Ping), whatever the request said (see wire.Client).
	if h.Status != status.Success && h.Provider == 0 && h.Session == 0 && h.Opcode == header.OpPing {
		return
	}
	var s string
	if h.Provider != p.provider {
		s = "provider " + strconv.Itoa(int(h.Provider)) + " (request " + strconv.Itoa(int(p.provider)) + ")"
	}
	if h.Session != p.session {
		s = join(s, "session "+strconv.FormatUint(h.Session, 10)+" (request "+strconv.FormatUint(p.session, 10)+")")
	}
	if h.Opcode != p.opcode {
		s = join(s, "opcode "+strconv.FormatUint(uint64(h.Opcode), 10)+" (request "+strconv.FormatUint(uint64(p.opcode), 10)+")")
	}
	if s != "" {
		r.Echo = s + " does not echo the request of exchange " + strconv.FormatInt(p.exchange, 10)
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}
