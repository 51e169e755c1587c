package wire_test

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/wire"
)

// TestAnnouncedAuthCostsWhatArrives: authentication bytes are allocated as they arrive,
// like a body: a request that announces 65535 of them and sends 10 costs a few KiB,
// whatever the body limit.
func TestAnnouncedAuthCostsWhatArrives(t *testing.T) {
	h := header.Header{Opcode: header.OpPing, AuthType: header.AuthDirect, AuthLength: 0xFFFF}
	f := append(h.AppendRaw(nil), bytes.Repeat([]byte{'a'}, 10)...)
	for _, limit := range []uint32{0, wire.DefaultLimit} {
		rd := wire.NewReader(bytes.NewReader(f))
		rd.SetLimit(limit)
		var got header.Header
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := rd.NextRequest(&got)
		runtime.ReadMemStats(&after)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<10),
			"limit %d: allocated %d bytes for 10 auth bytes that arrived", limit, after.TotalAlloc-before.TotalAlloc)
	}
	// Announced and sent: read whole, body and auth apart.
	full, err := wire.AppendRequest(nil, header.Header{Opcode: header.OpPing, AuthType: header.AuthDirect},
		bytes.Repeat([]byte{1}, 5000), bytes.Repeat([]byte{2}, 0xFFFF))
	require.NoError(t, err)
	rd := wire.NewReader(bytes.NewReader(append(full, full...)))
	for i := 0; i < 2; i++ {
		var got header.Header
		body, auth, err := rd.NextRequest(&got)
		require.NoError(t, err)
		assert.Equal(t, bytes.Repeat([]byte{1}, 5000), body)
		assert.Equal(t, bytes.Repeat([]byte{2}, 0xFFFF), auth)
	}
}
