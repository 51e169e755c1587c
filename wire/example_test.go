package wire_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// serveOnce answers one request per connection like the Parsec service: it echoes provider,
// session and opcode with Success, or answers a request it cannot read (or whose key is
// missing, here opcode 12, PsaExportKey) with the status alone.
func serveOnce(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		rd, w := wire.NewReader(conn), wire.NewWriter(conn)
		rd.SetStrict(true)
		var h header.Header
		if _, _, err := rd.NextRequest(&h); err != nil {
			s, _ := status.Of(err)
			_ = w.WriteResponse(header.Header{Opcode: header.OpPing, Status: s}, nil)
		} else if h.Opcode == 12 {
			_ = w.WriteResponse(header.Header{Provider: h.Provider, Session: h.Session, Opcode: h.Opcode,
				Status: status.PsaErrorDoesNotExist}, nil)
		} else {
			_ = w.WriteResponse(header.Header{Provider: h.Provider, Session: h.Session, Opcode: h.Opcode},
				[]byte{0x08, 0x01})
		}
		conn.Close()
	}
}

func Example() {
	dir, _ := os.MkdirTemp("", "parsec")
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "parsec.sock")
	ln, _ := net.Listen("unix", sock)
	defer ln.Close()
	go serveOnce(ln)
	os.Setenv("PARSEC_SERVICE_ENDPOINT", "unix:"+sock)

	// example:begin
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// One connection per request, as the Parsec service expects. Dial("") follows
	// PARSEC_SERVICE_ENDPOINT, else /run/parsec/parsec.sock.
	for _, op := range []uint32{header.OpPing, 12} {
		c, err := wire.Dial(ctx, "")
		if err != nil {
			fmt.Println(err)
			return
		}
		var resp header.Header
		body, err := c.RoundTrip(ctx, header.Header{Provider: 1, Session: 7, Opcode: op}, nil, nil, &resp)
		c.Close()
		switch {
		case errors.Is(err, status.PsaErrorDoesNotExist):
			fmt.Println("no such key:", resp.Status)
		case err != nil:
			fmt.Println(err)
		default:
			fmt.Printf("%v: opcode %d, body %x\n", resp.Status, resp.Opcode, body)
		}
	}
	// example:end

	// Output:
	// Success: opcode 1, body 0801
	// no such key: PsaErrorDoesNotExist
}

func ExampleReader() {
	// A capture of four responses: the second has a status outside the table, the third
	// announces a body above the limit.
	var capture []byte
	capture, _ = wire.AppendResponse(capture, header.Header{Opcode: header.OpPing}, []byte{0x08, 0x01})
	unknown := header.Header{Opcode: 12, Status: 1144}.AppendRaw(nil)
	capture = append(capture, unknown...)
	capture, _ = wire.AppendResponse(capture, header.Header{Opcode: 13}, make([]byte, 100))
	capture, _ = wire.AppendResponse(capture, header.Header{Opcode: 28, Status: status.AdminOperation}, nil)

	rd := wire.NewReader(bytes.NewReader(capture))
	rd.SetLimit(64)
	var h header.Header // reused: decoding into it allocates nothing
	for {
		body, err := rd.Next(&h) // body is valid until the next call
		switch {
		case err == io.EOF:
			return
		case errors.Is(err, status.BodySizeExceedsLimit):
			fmt.Println("too large:", h.ContentLength, "bytes; skipped")
			if rd.Skip() != nil {
				return
			}
		case errors.Is(err, status.InvalidEncoding):
			fmt.Println("unknown status", uint16(h.Status), "at offset", rd.FrameOffset())
		case err != nil:
			fmt.Println(err) // the stream cannot be trusted past this frame
			return
		default:
			fmt.Printf("%v, %d body bytes\n", h.Status, len(body))
		}
	}
	// Output:
	// Success, 2 body bytes
	// unknown status 1144 at offset 38
	// too large: 100 bytes; skipped
	// AdminOperation, 0 body bytes
}

func ExampleScanner() {
	// A capture: a response, 3 bytes of garbage, a response with an unknown status, a
	// response cut short.
	var capture []byte
	capture, _ = wire.AppendResponse(capture, header.Header{Opcode: header.OpPing}, []byte{0x08, 0x01})
	capture = append(capture, 0xde, 0xad, 0xbe)
	capture = append(capture, header.Header{Opcode: 12, Status: 1144}.AppendRaw(nil)...)
	ok, _ := wire.AppendResponse(nil, header.Header{Opcode: 28, Status: status.AdminOperation}, nil)
	capture = append(capture, ok[:20]...)

	// scanner:begin
	s := wire.NewScanner(bytes.NewReader(capture)) // any io.Reader: a file, stdin, a socket
	for s.Scan() {
		f := s.Frame() // valid until the next Scan, and so is f.Body
		if f.Skipped > 0 {
			fmt.Printf("  (%d bytes skipped to the magic number at offset %d)\n", f.Skipped, f.Offset)
		}
		if f.Err != nil {
			code, _ := status.Of(f.Err)
			fmt.Printf("offset %d: %v\n", f.Offset, code)
			continue
		}
		fmt.Printf("offset %d: %v, opcode %d, body %x\n", f.Offset, f.Header.Status, f.Header.Opcode, f.Body)
	}
	if err := s.Err(); err != nil {
		fmt.Println(err) // a read error, also reported as a ConnectionError frame
	}
	// scanner:end

	// Output:
	// offset 0: Success, opcode 1, body 0801
	// offset 38: InvalidHeader
	//   (3 bytes skipped to the magic number at offset 41)
	// offset 41: InvalidEncoding
	// offset 77: ConnectionError
}
