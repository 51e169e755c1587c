package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/wiretest"
)

const serveExamples = `
Examples:
  parsecwire serve -cases testdata/mock
      answer the scripted cases on ./parsec.sock; point a client at it with
      PARSEC_SERVICE_ENDPOINT=unix:$PWD/parsec.sock
  parsecwire serve -socket /tmp/p.sock -mutate 42
      answer every request with a mutated response; the log names each mutation, and the
      same seed and the same requests give the same answers
  parsecwire serve -cases testdata/mock -mutate 7 -keep-alive
  parsecwire serve -socket /run/test/parsec.sock -mode 0660 -max-conns 64 -limit 65536
      a socket only its group may use, 64 clients served at once (the rest wait in the
      listen queue), request bodies up to 64 KiB
`

type serveFlags struct {
	socket    string
	cases     string
	mutate    int64
	keepAlive bool
	limit     uint64
	timeout   time.Duration
	grace     time.Duration
	maxConns  int
	mode      string
	quiet     bool
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
	fs.DurationVar(&f.timeout, "timeout", wiretest.DefaultTimeout, "drop a connection that sends nothing for this long")
	fs.DurationVar(&f.grace, "grace", wiretest.DefaultGrace, "on SIGINT or SIGTERM, how long accepted connections have to be answered")
	fs.IntVar(&f.maxConns, "max-conns", wiretest.DefaultMaxConns, "connections served at once; past it clients wait in the listen queue")
	fs.StringVar(&f.mode, "mode", "0666", "the socket's permissions, octal (whatever the umask)")
	fs.BoolVar(&f.quiet, "quiet", false, "no line per request on stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: parsecwire serve [-socket PATH] [flags]\n\nA scripted or hostile Parsec service on a Unix socket, for testing clients.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), serveExamples)
	}
	names, rc, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return rc
	}
	if len(names) > 0 {
		fmt.Fprintf(stderr, "parsecwire serve: unexpected argument %q\n", names[0])
		return exitUsage
	}
	mode, err := strconv.ParseUint(f.mode, 8, 32)
	if err != nil || mode > 0o777 {
		fmt.Fprintf(stderr, "parsecwire serve: -mode %q: want permission bits in octal, such as 0660\n", f.mode)
		return exitUsage
	}
	if f.maxConns < 1 {
		fmt.Fprintf(stderr, "parsecwire serve: -max-conns %d: want at least 1\n", f.maxConns)
		return exitUsage
	}
	var h wiretest.Handler = wiretest.Default
	desc := "well-formed answers"
	if f.cases != "" {
		cs, err := wiretest.LoadCases(f.cases)
		if err != nil {
			fmt.Fprintf(stderr, "parsecwire serve: %v\n", err)
			return exitUsage
		}
		c := wiretest.NewCases(cs)
		h, desc = c, fmt.Sprintf("%d scripted cases", c.Len())
	}
	if f.mutate >= 0 {
		h = wiretest.Mutate(h, uint64(f.mutate))
		desc += fmt.Sprintf(", mutated with seed %d", f.mutate)
	}
	srv := wiretest.New(h)
	srv.Path, srv.KeepAlive, srv.Timeout, srv.Grace, srv.MaxConns = f.socket, f.keepAlive, f.timeout, f.grace, f.maxConns
	srv.Limit = uint32(min(f.limit, uint64(^uint32(0))))
	srv.Mode = os.FileMode(mode)
	srv.ErrorLog = func(s string) { fmt.Fprintf(stderr, "parsecwire serve: %s\n", s) }
	if !f.quiet {
		srv.Log = func(e wiretest.Entry) { fmt.Fprintln(stderr, e.String()) }
	}
	if err := srv.Listen(); err != nil {
		fmt.Fprintf(stderr, "parsecwire serve: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "parsecwire serve: listening on %s (%s; at most %d connections at once)\n", f.socket, desc, f.maxConns)
	if ready != nil {
		ready <- f.socket
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	select {
	case <-ctx.Done():
	case err := <-done:
		fmt.Fprintf(stderr, "parsecwire serve: %v\n", err)
	}
	srv.Close()
	st := srv.Stats()
	if f.mutate < 0 {
		st.ByMutation = nil
	} else if st.ByMutation == nil {
		st.ByMutation = map[fuzz.Kind]uint64{}
	}
	fmt.Fprintln(stdout, "parsecwire serve: "+st.String())
	return exitOK
}
