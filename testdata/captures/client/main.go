// Command client sends a fixed set of valid Parsec requests to a service, the traffic that
// make.sh captures into the samples beside this folder. It makes three connections: three
// requests on the first (the service must run with -keep-alive), one request with
// authentication bytes on the second, one request with a body on the third.
//
//	go run ./testdata/captures/client -socket /tmp/parsec.sock
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/wire"
)

type request struct {
	h          header.Header
	body, auth []byte
}

func main() {
	socket := flag.String("socket", "", "the service's socket (default: $PARSEC_SERVICE_ENDPOINT)")
	flag.Parse()
	conns := [][]request{
		{
			{h: header.Header{Opcode: header.OpPing}},
			{h: header.Header{Opcode: header.OpListProviders, Session: 1}},
			{h: header.Header{Opcode: header.OpListOpcodes, Provider: 1, Session: 2}, body: []byte{0x08, 0x01}},
		},
		{
			{h: header.Header{Opcode: header.OpListAuthenticators, AuthType: 1}, auth: []byte("parsecwire-sample")},
		},
		{
			// PsaGenerateRandom (13) asking for 16 bytes: protobuf field 1, varint 16.
			{h: header.Header{Opcode: 13, Provider: 1, Session: 3}, body: []byte{0x08, 0x10}},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, reqs := range conns {
		c, err := wire.Dial(ctx, *socket)
		if err != nil {
			fmt.Fprintln(os.Stderr, "client:", err)
			os.Exit(1)
		}
		for _, q := range reqs {
			var resp header.Header
			body, err := c.RoundTrip(ctx, q.h, q.body, q.auth, &resp)
			fmt.Printf("opcode %d: %v, %d body bytes, err %v\n", q.h.Opcode, resp.Status, len(body), err)
		}
		c.Close()
	}
}
