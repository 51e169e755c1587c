package wiretest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// Frame is one frame a Tap saw go by, decoded and judged.
type Frame struct {
	Conn   uint64    // the connection's number, from 0
	Dir    Direction // ToService: a request; ToClient: a response
	Index  int       // the frame's index in its direction of the connection, from 0
	Offset int64     // the offset of its first byte in that direction's stream
	// Decoded is set when Header holds the frame's header (its lengths could be trusted).
	Decoded bool
	Header  header.Header
	Body    []byte // valid only during the OnFrame call
	Auth    []byte // requests: valid only during the OnFrame call
	// Err is the codec's verdict: wire.Reader in strict mode with the limit for a request,
	// as the reference service reads it; in the Tap's mode for a response.
	Err error
	// Request is, for a response, the request it answers: the one at the same index of the
	// connection; nil when there is none.
	Request *Frame
	// Mismatch says how a response fails to answer Request (a *wire.MismatchError, see
	// wire.Answers, or ErrNoRequest); nil when it answers it as the reference would.
	Mismatch error
	// Mutation is, with Tap.Mutate, what the client was sent instead of this response.
	Mutation *fuzz.Mutation
}

// ErrNoRequest is a response on a connection where no request was left to answer.
var ErrNoRequest = errors.New("a response without a request")

// Tap is a proxy between Parsec clients and a Parsec service: it listens on Path like the
// service, connects each client to Upstream, and forwards both directions byte for byte as
// they arrive, while it decodes every request and response, pairs each response with its
// request, and reports each frame to OnFrame. It can record the traffic (Capture) and, with
// Mutate, pass the service's responses through fuzz.MutateResponse, so that a real client
// meets a real service's answers, broken.
//
// Listening, the connection cap, the socket's mode and Close work as for a Server.
type Tap struct {
	Path     string
	Upstream string
	// Limit is the body-size limit used to judge requests (the service's) and to read
	// responses.
	Limit uint32
	// Strict applies the reference's semantic checks to responses too (requests always
	// get them).
	Strict bool
	// Mutate passes each response through fuzz.MutateResponse, seeded by Seed and the
	// response's sequence number in the Tap.
	Mutate      bool
	Seed        uint64
	MaxConns    int
	Mode        os.FileMode
	Grace       time.Duration
	DialTimeout time.Duration // for each connection to Upstream; a busy service (EAGAIN) is retried until then
	Capture     *CaptureWriter
	OnFrame     func(Frame) // called one frame at a time
	ErrorLog    func(string)

	srv    *Server
	seq    atomic.Uint64 // responses, for the mutation seeds
	emitMu sync.Mutex
}

// NewTap returns a Tap from listen to upstream with the defaults.
func NewTap(listen, upstream string) *Tap {
	return &Tap{Path: listen, Upstream: upstream, Limit: wire.DefaultLimit, MaxConns: DefaultMaxConns,
		Mode: DefaultMode, Grace: DefaultGrace, DialTimeout: DefaultTimeout}
}

// Listen makes the socket, as Server.Listen does.
func (t *Tap) Listen() error {
	s := New(nil)
	s.Path, s.MaxConns, s.Mode, s.Grace, s.ErrorLog = t.Path, t.MaxConns, t.Mode, t.Grace, t.ErrorLog
	s.raw = t.serveConn
	t.srv = s
	return s.Listen()
}

// Serve forwards connections until Close.
func (t *Tap) Serve() error { return t.srv.Serve() }

// Close stops accepting and waits for the connections in flight (within Grace).
func (t *Tap) Close() {
	if t.srv != nil {
		t.srv.Close()
	}
}

// Connections returns the number of client connections accepted.
func (t *Tap) Connections() uint64 {
	if t.srv == nil {
		return 0
	}
	return t.srv.Stats().Connections
}

func (t *Tap) errorf(s string) {
	if t.ErrorLog != nil {
		t.emitMu.Lock()
		t.ErrorLog(s)
		t.emitMu.Unlock()
	}
}

func (t *Tap) emit(f Frame) {
	if t.OnFrame != nil {
		t.emitMu.Lock()
		t.OnFrame(f)
		t.emitMu.Unlock()
	}
}

// dialUpstream connects to the service, retrying while its listen queue is full.
func (t *Tap) dialUpstream() (net.Conn, error) {
	deadline := time.Now().Add(t.DialTimeout)
	pause := time.Millisecond
	for {
		c, err := net.DialTimeout("unix", t.Upstream, t.DialTimeout)
		if err == nil || !errors.Is(err, syscall.EAGAIN) || time.Now().Add(pause).After(deadline) {
			return c, err
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

func (t *Tap) serveConn(client net.Conn, id uint64) {
	up, err := t.dialUpstream()
	if err != nil {
		t.errorf("connection " + strconv.FormatUint(id, 10) + ": " + err.Error() + ": the client's connection is closed")
		return
	}
	defer up.Close()
	if t.Capture != nil {
		_ = t.Capture.Open(id)
	}
	j := &judge{t: t, conn: id}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // requests: client to service
		defer wg.Done()
		err := t.forward(client, up, id, ToService, func(r io.Reader) { t.decodeRequests(r, id, j) })
		j.requestsDone()
		if err == nil {
			_ = up.(*net.UnixConn).CloseWrite() // the client is done sending: so are we
		} else {
			up.Close()
		}
	}()
	go func() { // responses: service to client
		defer wg.Done()
		if t.Mutate {
			t.mutateResponses(up, client, id, j)
		} else {
			_ = t.forward(up, client, id, ToClient, func(r io.Reader) { t.decodeResponses(r, id, j) })
		}
		// The service closed (the Parsec service does after each answer): so do we, and the
		// client sees what it would have seen.
		client.Close()
	}()
	wg.Wait()
	j.finish()
}

// forward copies src to dst as the bytes arrive, records them, and feeds them to decode,
// which runs beside it. It returns nil when src ends cleanly.
func (t *Tap) forward(src, dst net.Conn, id uint64, d Direction, decode func(io.Reader)) error {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		decode(pr)
		_, _ = io.Copy(io.Discard, pr) // a stream past decoding still flows
		close(done)
	}()
	buf := make([]byte, 32<<10)
	var err error
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			// Recorded before the peer can see them: whatever the bytes make the peer send
			// back is recorded after them, so a capture's order is causal and a reader
			// pairs each answer with its request.
			if t.Capture != nil {
				_ = t.Capture.Data(id, d, buf[:n])
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
				break
			}
			_, _ = pw.Write(buf[:n])
		}
		if rerr != nil {
			if rerr != io.EOF {
				err = rerr
			}
			break
		}
	}
	if t.Capture != nil {
		_ = t.Capture.Close(id, d)
	}
	pw.Close()
	<-done
	return err
}

// trusted reports whether the frame after err can still be found by its lengths: the
// frame was read whole and only failed a semantic check or its status.
func trusted(err error) bool {
	switch code, _ := status.Of(err); code {
	case status.ContentTypeNotSupported, status.AcceptTypeNotSupported, status.AuthenticatorDoesNotExist,
		status.OpcodeDoesNotExist, status.ProviderDoesNotExist, status.InvalidEncoding:
		var fe *header.FieldError
		return errors.As(err, &fe) && fe.Field != header.FieldMagic && fe.Field != header.FieldHeaderSize
	}
	return false
}

func (t *Tap) decodeRequests(r io.Reader, id uint64, j *judge) {
	rd := wire.NewReader(bufio.NewReaderSize(r, ReadBuffer))
	rd.SetLimit(t.Limit)
	rd.SetStrict(true)
	for i := 0; ; i++ {
		f := Frame{Conn: id, Dir: ToService, Index: i}
		body, auth, err := rd.NextRequest(&f.Header)
		if err == io.EOF {
			return
		}
		f.Offset, f.Err = rd.FrameOffset(), err
		if err == nil {
			// As the reference service's back end: the body, converted.
			f.Err = operation.ValidateFrame(&f.Header, operation.Request, body)
		}
		tooBig := errors.Is(err, status.BodySizeExceedsLimit)
		f.Decoded = err == nil || tooBig || trusted(err)
		if !f.Decoded {
			f.Header = header.Header{}
		}
		f.Body, f.Auth = body, auth
		j.request(f)
		switch {
		case err == nil || trusted(err):
		case tooBig && rd.Skip() == nil:
		default:
			return // the service closes here; nothing after it can be framed
		}
	}
}

func (t *Tap) decodeResponses(r io.Reader, id uint64, j *judge) {
	rd := wire.NewReader(bufio.NewReaderSize(r, ReadBuffer))
	rd.SetLimit(t.Limit)
	rd.SetStrict(t.Strict)
	for i := 0; ; i++ {
		f := Frame{Conn: id, Dir: ToClient, Index: i}
		body, err := rd.Next(&f.Header)
		if err == io.EOF {
			return
		}
		if !t.response(&f, rd, body, err, j) {
			return
		}
	}
}

// response hands a decoded response to the judge and says whether the stream can go on.
func (t *Tap) response(f *Frame, rd *wire.Reader, body []byte, err error, j *judge) bool {
	f.Offset, f.Err = rd.FrameOffset(), err
	if err == nil {
		// As the reference's clients: a Success answer's body, converted.
		f.Err = operation.ValidateFrame(&f.Header, operation.Response, body)
	}
	tooBig := errors.Is(err, status.BodySizeExceedsLimit)
	f.Decoded = err == nil || tooBig || trusted(err)
	if !f.Decoded {
		f.Header = header.Header{}
	}
	f.Body = body
	j.response(*f)
	switch {
	case err == nil || trusted(err):
		return true
	case tooBig:
		return rd.Skip() == nil
	}
	return false
}

// mutateResponses reads the service's responses frame by frame, sends each mutated, and
// forwards whatever cannot be framed as it is.
func (t *Tap) mutateResponses(up, client net.Conn, id uint64, j *judge) {
	br := bufio.NewReaderSize(up, ReadBuffer)
	rec := &frameRecorder{r: br}
	rd := wire.NewReader(rec)
	rd.SetLimit(t.Limit)
	rd.SetStrict(t.Strict)
	defer func() {
		if t.Capture != nil {
			_ = t.Capture.Close(id, ToClient)
		}
	}()
	send := func(b []byte) bool {
		if t.Capture != nil {
			_ = t.Capture.Data(id, ToClient, b) // before the client sees it, as in forward
		}
		_, err := client.Write(b)
		return err == nil
	}
	for i := 0; ; i++ {
		rec.b = rec.b[:0]
		f := Frame{Conn: id, Dir: ToClient, Index: i}
		body, err := rd.Next(&f.Header)
		if err == io.EOF {
			return
		}
		if err != nil && !trusted(err) {
			// Not a frame the mutator can work on: pass the bytes on untouched.
			f.Offset, f.Err = rd.FrameOffset(), err
			f.Header = header.Header{}
			j.response(f)
			if send(rec.b) {
				buf := make([]byte, 32<<10)
				for {
					n, rerr := br.Read(buf)
					if n > 0 && !send(buf[:n]) || rerr != nil {
						return
					}
				}
			}
			return
		}
		m := fuzz.MutateAnswer(rec.b, t.Seed^(t.seq.Add(1)-1)*0x9E3779B97F4A7C15)
		f.Mutation = &m
		t.response(&f, rd, body, err, j)
		if m.Chunk == 0 {
			if !send(m.Frame) {
				return
			}
		} else {
			for b := m.Frame; len(b) > 0; {
				n := min(m.Chunk, len(b))
				if !send(b[:n]) {
					return
				}
				b = b[n:]
				time.Sleep(time.Millisecond)
			}
		}
		if m.Close {
			return
		}
	}
}

// frameRecorder keeps the bytes a Reader consumes: exactly one frame's.
type frameRecorder struct {
	r io.Reader
	b []byte
}

func (r *frameRecorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.b = append(r.b, p[:n]...)
	return n, err
}

// judge pairs the responses of a connection with its requests, in order. A response can be
// decoded before the request it answers (the two directions decode apart): it waits, with
// a copy of its body, until that request is decoded or the requests end.
type judge struct {
	t    *Tap
	conn uint64

	mu       sync.Mutex
	requests []Frame // headers and verdicts, without bodies
	waiting  []Frame // responses decoded before their request
	answered int     // responses judged
	reqDone  bool
}

func (j *judge) request(f Frame) {
	j.t.emit(f)
	j.mu.Lock()
	kept := f
	kept.Body, kept.Auth = nil, nil
	j.requests = append(j.requests, kept)
	ready := j.ready()
	j.mu.Unlock()
	for _, r := range ready {
		j.t.emit(r)
	}
}

func (j *judge) response(f Frame) {
	j.mu.Lock()
	if len(j.waiting) == 0 && j.answered < len(j.requests) {
		req := j.requests[j.answered]
		j.answered++
		j.mu.Unlock()
		j.pair(&f, &req)
		j.t.emit(f)
		return
	}
	f.Body = append([]byte(nil), f.Body...)
	j.waiting = append(j.waiting, f)
	ready := j.ready()
	j.mu.Unlock()
	for _, r := range ready {
		j.t.emit(r)
	}
}

// ready pairs the waiting responses whose requests are known. Called with j.mu held.
func (j *judge) ready() []Frame {
	var out []Frame
	for len(j.waiting) > 0 && (j.answered < len(j.requests) || j.reqDone) {
		f := j.waiting[0]
		j.waiting = j.waiting[1:]
		if j.answered < len(j.requests) {
			req := j.requests[j.answered]
			j.answered++
			j.pair(&f, &req)
		} else {
			j.pair(&f, nil)
		}
		out = append(out, f)
	}
	return out
}

func (j *judge) pair(resp, req *Frame) {
	resp.Request = req
	switch {
	case req == nil:
		resp.Mismatch = ErrNoRequest
	case resp.Decoded:
		resp.Mismatch = wire.Answers(&req.Header, req.Err, &resp.Header)
	}
}

func (j *judge) requestsDone() {
	j.mu.Lock()
	j.reqDone = true
	ready := j.ready()
	j.mu.Unlock()
	for _, r := range ready {
		j.t.emit(r)
	}
}

func (j *judge) finish() { j.requestsDone() }
