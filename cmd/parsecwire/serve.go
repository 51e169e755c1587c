package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// unmatchedStatus answers a request that no scripted case matches. PsaErrorNotSupported says
// what happened (this implementation, the script, does not support that request) in a status
// every client already handles, and the answer echoes the request's provider, session and
// opcode, so a client's own echo checks pass and it reports the status. The Parsec mock
// service stays silent instead, which a client sees only as its own timeout.
const unmatchedStatus = status.PsaErrorNotSupported

const serveExamples = `
Examples:
  parsecwire serve -cases testdata/mock
      answer the scripted cases on ./parsec.sock; point a client at it with
      PARSEC_SERVICE_ENDPOINT=unix:$PWD/parsec.sock
  parsecwire serve -socket /tmp/p.sock -mutate 42
      answer every request with a mutated response; the log names each mutation, and the
      same seed and the same requests give the same answers
  parsecwire serve -cases testdata/mock -mutate 7 -keep-alive
`

type serveFlags struct {
	socket    string
	cases     string
	mutate    int64
	keepAlive bool
	limit     uint64
	timeout   time.Duration
	quiet     bool
}

// server answers Parsec requests on a listener.
type server struct {
	cases   map[string][]byte // request bytes -> response bytes
	names   map[string]string // request bytes -> case file, for the log
	mutate  bool
	seed    uint64
	keep    bool
	limit   uint32
	timeout time.Duration
	log     io.Writer

	next        atomic.Uint64 // request sequence number, for the mutation seeds
	connections atomic.Uint64
	mu          sync.Mutex
	byStatus    map[string]int
	byMutation  map[fuzz.Kind]int
	requests    int
}

func runServe(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveMain(ctx, args, stdout, stderr, nil)
}

// serveMain runs the server until ctx is done. ready, when not nil, receives the socket path
// once it listens.
func serveMain(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serveFlags
	fs.StringVar(&f.socket, "socket", "./parsec.sock", "Unix socket to listen on (the real service's is /run/parsec/parsec.sock)")
	fs.StringVar(&f.cases, "cases", "", "folder of Parsec mock-service test cases (*.yaml) to answer from")
	fs.Int64Var(&f.mutate, "mutate", -1, "hostile mode: mutate every answer, seeded (a seed >= 0)")
	fs.BoolVar(&f.keepAlive, "keep-alive", false, "keep a connection open for further requests (the Parsec service closes it after one)")
	fs.Uint64Var(&f.limit, "limit", wire.DefaultLimit, "request body-size limit in bytes")
	fs.DurationVar(&f.timeout, "timeout", 3*time.Second, "drop a connection that sends nothing for this long")
	fs.BoolVar(&f.quiet, "quiet", false, "no line per request on stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: parsecwire serve [-socket PATH] [flags]\n\nA scripted or hostile Parsec service on a Unix socket, for testing clients.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), serveExamples)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "parsecwire serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	s := &server{mutate: f.mutate >= 0, seed: uint64(f.mutate), keep: f.keepAlive,
		limit: uint32(min(f.limit, uint64(^uint32(0)))), timeout: f.timeout, log: stderr,
		byStatus: map[string]int{}, byMutation: map[fuzz.Kind]int{}}
	if f.quiet {
		s.log = io.Discard
	}
	if f.cases != "" {
		if err := s.load(f.cases); err != nil {
			fmt.Fprintf(stderr, "parsecwire serve: %v\n", err)
			return exitUsage
		}
	}
	if st, err := os.Stat(f.socket); err == nil && st.Mode()&os.ModeSocket != 0 {
		// A socket left by a server that was killed; a live one would still answer.
		if c, err := net.Dial("unix", f.socket); err == nil {
			c.Close()
			fmt.Fprintf(stderr, "parsecwire serve: %s: another server is listening there\n", f.socket)
			return exitUsage
		}
		os.Remove(f.socket)
	}
	ln, err := net.Listen("unix", f.socket)
	if err != nil {
		fmt.Fprintf(stderr, "parsecwire serve: %v\n", err)
		return exitUsage
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	mode := "well-formed answers"
	if s.cases != nil {
		mode = fmt.Sprintf("%d scripted cases", len(s.cases))
	}
	if s.mutate {
		mode += fmt.Sprintf(", mutated with seed %d", s.seed)
	}
	fmt.Fprintf(stderr, "parsecwire serve: listening on %s (%s)\n", f.socket, mode)
	if ready != nil {
		ready <- f.socket
	}
	s.serve(ctx, ln)
	fmt.Fprintln(stdout, s.summary())
	return exitOK
}

// load reads every mock-service case of a folder. When two cases share a request, the last
// loaded (in name order) wins, as in the Parsec mock service.
func (s *server) load(dir string) error {
	files := expandDirs([]string{dir})
	s.cases, s.names = map[string][]byte{}, map[string]string{}
	for _, name := range files {
		if ext := strings.ToLower(name); !strings.HasSuffix(ext, ".yaml") && !strings.HasSuffix(ext, ".yml") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		chunks, err := mockCases(name, data)
		if err != nil {
			return err
		}
		var req []byte
		for _, c := range chunks {
			switch c.kind {
			case "request":
				req = c.data
			case "response":
				if req == nil {
					return fmt.Errorf("%s: a response without a request", name)
				}
				s.cases[string(req)], s.names[string(req)] = c.data, name
				req = nil
			}
		}
	}
	if len(s.cases) == 0 {
		return fmt.Errorf("%s: no test case with a request and a response", dir)
	}
	return nil
}

func (s *server) serve(ctx context.Context, ln net.Listener) {
	var wg sync.WaitGroup
	conns := map[net.Conn]struct{}{}
	var mu sync.Mutex
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			break
		}
		s.connections.Add(1)
		mu.Lock()
		conns[conn] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handle(ctx, conn)
			conn.Close()
			mu.Lock()
			delete(conns, conn)
			mu.Unlock()
		}()
	}
	// Finish the answers in flight; a connection still waiting for a request is woken by
	// its read deadline, or here after a grace period.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		<-done
	}
}

// recorder keeps the bytes read from a connection: the Reader reads exactly one frame, so
// after a request they are that request's bytes, to match against the scripted cases.
type recorder struct {
	r   io.Reader
	buf []byte
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.buf = append(r.buf, p[:n]...)
	return n, err
}

func (s *server) handle(ctx context.Context, conn net.Conn) {
	rec := &recorder{r: conn}
	rd := wire.NewReader(rec)
	rd.SetLimit(s.limit)
	rd.SetStrict(true)
	w := wire.NewWriter(conn)
	for served := 0; ctx.Err() == nil; served++ {
		rec.buf = rec.buf[:0]
		_ = conn.SetReadDeadline(time.Now().Add(s.timeout))
		var h header.Header
		_, _, err := rd.NextRequest(&h)
		if err == io.EOF && served > 0 {
			return // a keep-alive client closed between requests
		}
		// No byte at all: the reference fails to read the magic number and answers
		// ConnectionError.
		err = wire.FrameDue(err)
		n := s.next.Add(1) - 1
		if err != nil {
			// As the reference service: a response built from the status alone, then close.
			if len(rec.buf) == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
				fmt.Fprintf(s.log, "request %d: nothing received for %v: dropped\n", n, s.timeout)
				return
			}
			code, _ := status.Of(err)
			fmt.Fprintf(s.log, "request %d: unreadable (%v): answered %v\n", n, err, code)
			_ = w.WriteResponse(header.Header{Opcode: header.OpPing, Status: code}, nil)
			s.count(code)
			return
		}
		resp, what := s.answer(h, rec.buf)
		if s.mutate {
			m := fuzz.MutateResponse(resp, s.seed^(n*0x9E3779B97F4A7C15))
			fmt.Fprintf(s.log, "request %d: %s: sent mutation %s\n", n, what, m)
			s.countMutation(m.Kind)
			if !s.send(conn, m) || m.Close {
				return
			}
		} else {
			fmt.Fprintf(s.log, "request %d: %s\n", n, what)
			if _, err := conn.Write(resp); err != nil {
				return
			}
		}
		s.count(status.Code(uint16(resp[32]) | uint16(resp[33])<<8))
		if !s.keep {
			return
		}
	}
}

// answer returns the response to a readable request and says where it came from.
func (s *server) answer(h header.Header, req []byte) ([]byte, string) {
	op, _ := header.OpcodeName(h.Opcode)
	if s.cases != nil {
		if resp, ok := s.cases[string(req)]; ok {
			return resp, fmt.Sprintf("%s matched %s", op, s.names[string(req)])
		}
		b, _ := wire.AppendResponse(nil, header.Header{Provider: h.Provider, Session: h.Session,
			Opcode: h.Opcode, ContentType: h.AcceptType, Status: unmatchedStatus}, nil)
		return b, fmt.Sprintf("%s matched no case: answered %v", op, unmatchedStatus)
	}
	var body []byte
	if h.Opcode == header.OpPing {
		body = []byte{0x08, 0x01} // wire protocol version 1.0
	}
	b, _ := wire.AppendResponse(nil, header.Header{Provider: h.Provider, Session: h.Session,
		Opcode: h.Opcode, ContentType: h.AcceptType}, body)
	return b, op + " answered Success"
}

// send writes a mutated response, in pieces when the mutation says so.
func (s *server) send(conn net.Conn, m fuzz.Mutation) bool {
	if m.Chunk == 0 {
		_, err := conn.Write(m.Frame)
		return err == nil
	}
	for b := m.Frame; len(b) > 0; {
		n := min(m.Chunk, len(b))
		if _, err := conn.Write(b[:n]); err != nil {
			return false
		}
		b = b[n:]
		time.Sleep(time.Millisecond)
	}
	return true
}

func (s *server) count(c status.Code) {
	s.mu.Lock()
	s.requests++
	s.byStatus[c.String()]++
	s.mu.Unlock()
}

func (s *server) countMutation(k fuzz.Kind) {
	s.mu.Lock()
	s.byMutation[k]++
	s.mu.Unlock()
}

func (s *server) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b bytes.Buffer
	fmt.Fprintf(&b, "parsecwire serve: %d connections, %d requests; responses by status: %s",
		s.connections.Load(), s.requests, orNone(counts(s.byStatus)))
	if s.mutate {
		keys := make([]string, 0, len(s.byMutation))
		total := 0
		for k, n := range s.byMutation {
			keys = append(keys, fmt.Sprintf("%s %d", k, n))
			total += n
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "; %d mutations sent: %s", total, orNone(strings.Join(keys, ", ")))
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
