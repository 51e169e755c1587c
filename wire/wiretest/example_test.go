package wiretest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/wiretest"
)

// A client under test meets a service whose answers the test writes: here a service with
// no key called "missing" (PsaExportKey, opcode 12, fails) that otherwise answers as the
// default service does.
func Example() {
	// example:begin
	srv := wiretest.NewServer(wiretest.HandlerFunc(func(w wiretest.ResponseWriter, r *wiretest.Request) {
		if r.Header.Opcode == 12 {
			_ = w.WriteResponse(header.Header{Provider: r.Header.Provider, Session: r.Header.Session,
				Opcode: r.Header.Opcode, Status: status.PsaErrorDoesNotExist}, nil)
			return
		}
		wiretest.Default.ServeParsec(w, r)
	}))
	defer srv.Close()
	// point the client at srv.Path, or PARSEC_SERVICE_ENDPOINT at srv.Endpoint()
	// example:end

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, op := range []uint32{header.OpPing, 12, 999} {
		c, err := wire.Dial(ctx, srv.Path) // or set PARSEC_SERVICE_ENDPOINT to srv.Endpoint()
		if err != nil {
			fmt.Println(err)
			return
		}
		var resp header.Header
		body, err := c.RoundTrip(ctx, header.Header{Provider: 1, Session: 7, Opcode: op}, nil, nil, &resp)
		c.Close()
		switch {
		case errors.Is(err, status.PsaErrorDoesNotExist):
			fmt.Println("opcode", op, "no such key")
		case err != nil:
			fmt.Println("opcode", op, err)
		default:
			fmt.Printf("opcode %d: %v, body %x\n", op, resp.Status, body)
		}
	}
	// The request log: what the service read, and what it did. Close first: an exchange is
	// logged once it ends, which can be just after the client has its answer.
	srv.Close()
	for _, e := range srv.Requests() {
		fmt.Println(e)
	}
	// Output:
	// opcode 1: Success, body 0801
	// opcode 12 no such key
	// opcode 999 parsec service refused opcode 999: status 9 OpcodeDoesNotExist (requested operation is not defined)
	// request 0: Ping answered Success
	// request 1: PsaExportKey answered PsaErrorDoesNotExist
	// request 2: unreadable (parsec frame: opcode at offset 28: found 999, expected a known opcode (OpcodeDoesNotExist)): answered OpcodeDoesNotExist
}

// A hostile service: every answer of the scripted cases goes through the response mutator,
// and the request log says which mutation each request got. The same seed and the same
// requests give the same answers, so a client's crash replays.
func ExampleMutate() {
	cases, err := wiretest.LoadCases("../../testdata/mock")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := wiretest.NewServer(wiretest.Mutate(wiretest.NewCases(cases), 42))
	defer srv.Close()
	for _, c := range cases {
		conn, err := net.Dial("unix", srv.Path)
		if err != nil {
			fmt.Println(err)
			return
		}
		_, _ = conn.Write(c.Request)
		var h header.Header
		_, err = wire.NewReader(conn).Next(&h)
		conn.Close()
		if code, ok := status.Of(err); ok {
			fmt.Println("the client sees", code)
		} else {
			fmt.Println("the client sees a valid answer,", h.Status)
		}
	}
	srv.Close()
	for _, e := range srv.Requests() {
		fmt.Println(e)
	}
	// Output:
	// the client sees InvalidHeader
	// the client sees InvalidHeader
	// the client sees a valid answer, PsaErrorDoesNotExist
	// the client sees InvalidEncoding
	// request 0: DeleteClient matched ../../testdata/mock/admin_error.test.yaml: sent mutation magic: magic 0x5ec0a710 -> 0x0 [InvalidHeader]
	// request 1: ListProviders matched ../../testdata/mock/list_providers.test.yaml: sent mutation header-size: header size 30 -> 31 [InvalidHeader]
	// request 2: PsaExportKey matched ../../testdata/mock/not_found.test.yaml: sent mutation dribble: unchanged, written 4 byte(s) at a time [valid]
	// request 3: Ping matched ../../testdata/mock/ping.test.yaml: sent mutation status: status 0 -> 1000 [InvalidEncoding]
}
