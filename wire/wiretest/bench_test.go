package wiretest_test

import (
	"context"
	"testing"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/wiretest"
)

// BenchmarkServerPing is a Ping round trip on a new connection each time, as Parsec clients
// make them: dial, request, answer, close. The allocations are the client's and the
// server's together.
func BenchmarkServerPing(b *testing.B) {
	srv := wiretest.NewUnstartedServer(nil)
	srv.MaxLog = 0
	srv.Start()
	defer srv.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var resp header.Header
		for pb.Next() {
			c, err := wire.Dial(ctx, srv.Path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.RoundTrip(ctx, header.Header{Opcode: header.OpPing}, nil, nil, &resp); err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
}

// BenchmarkServerKeepAlive is a Ping round trip on one kept-alive connection: the server's
// own cost per request, with no connection to set up.
func BenchmarkServerKeepAlive(b *testing.B) {
	srv := wiretest.NewUnstartedServer(nil)
	srv.MaxLog, srv.KeepAlive = 0, true
	srv.Start()
	defer srv.Close()
	ctx := context.Background()
	c, err := srv.Dial(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var resp header.Header
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.RoundTrip(ctx, header.Header{Opcode: header.OpPing}, nil, nil, &resp); err != nil {
			b.Fatal(err)
		}
	}
}
