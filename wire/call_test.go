package wire_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// bodies answers a few operations with real bodies, and ListOpcodes for provider 5 with an
// opcode the reference does not know.
func bodies(h header.Header, body []byte) (header.Header, []byte, bool) {
	resp := header.Header{Provider: h.Provider, Session: h.Session, Opcode: h.Opcode}
	var out []byte
	switch h.Opcode {
	case header.OpPing:
		out = []byte{0x08, 0x01}
	case header.OpListOpcodes:
		out = []byte{0x0a, 0x03, 0x01, 0x08, 0x09}
		if len(body) == 2 && body[1] == 5 {
			out = []byte{0x0a, 0x01, 0x63}
		}
	case 13: // PsaGenerateRandom: as many bytes as asked
		fs, err := operation.Decode(13, operation.Request, body)
		if err != nil {
			resp.Status = status.DeserializingBodyFailed
			return resp, nil, true
		}
		out, _ = operation.Encode(13, operation.Response, operation.Fields{{Name: "random_bytes", Value: make([]byte, fs.Get("size").(uint64))}})
	default:
		resp.Status = status.PsaErrorNotSupported
	}
	return resp, out, true
}

func dial(t *testing.T, path string) *wire.Client {
	c, err := wire.Dial(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCall(t *testing.T) {
	path := testServer(t, bodies)
	ctx := context.Background()

	major, minor, err := dial(t, path).Ping(ctx)
	require.NoError(t, err)
	assert.Equal(t, [2]uint8{1, 0}, [2]uint8{major, minor})

	ops, err := dial(t, path).ListOpcodes(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, []uint32{1, 8, 9}, ops)

	fs, err := dial(t, path).Call(ctx, header.Header{Opcode: 13, Provider: 1}, operation.Fields{{Name: "size", Value: 4}}, nil)
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0, 0, 0}, fs.Get("random_bytes"))

	// A result the reference refuses: the tree and the body's error.
	_, err = dial(t, path).ListOpcodes(ctx, 5)
	var fe *operation.FieldError
	require.ErrorAs(t, err, &fe)
	assert.ErrorIs(t, err, status.OpcodeDoesNotExist)
	assert.Equal(t, "opcodes[0]", fe.Path)

	// The service's refusal.
	_, err = dial(t, path).Call(ctx, header.Header{Opcode: 12}, operation.Fields{{Name: "key_name", Value: "k"}}, []byte("app"))
	var se *wire.ServiceError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, status.PsaErrorNotSupported)

	// Arguments the schema cannot encode are refused before anything is sent.
	_, err = dial(t, path).Call(ctx, header.Header{Opcode: 13}, operation.Fields{{Name: "sise", Value: 4}}, nil)
	assert.ErrorIs(t, err, status.SerializingBodyFailed)
	assert.ErrorContains(t, err, "sise")
}

// A Go program asks the service for its version and for what a provider supports, with no
// protobuf written by hand.
func ExampleClient_Call() {
	dir, _ := os.MkdirTemp("", "parsec")
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "parsec.sock")
	ln, _ := net.Listen("unix", sock)
	defer ln.Close()
	go serveOnce(ln) // answers every request with the body 08 01

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wire.Dial(ctx, sock)
	if err != nil {
		fmt.Println(err)
		return
	}
	major, minor, err := c.Ping(ctx)
	c.Close()
	fmt.Println("wire protocol", major, minor, err)

	c, err = wire.Dial(ctx, sock)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fs, err := c.Call(ctx, header.Header{Opcode: header.OpListOpcodes}, operation.Fields{{Name: "provider_id", Value: 1}}, nil)
	fmt.Print(fs)
	fmt.Println(err)
	// Output:
	// wire protocol 1 0 <nil>
	// opcodes: [1]
	// <nil>
}
