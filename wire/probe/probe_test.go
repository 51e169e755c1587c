package probe_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/probe"
)

func req(t *testing.T, h header.Header, body []byte) []byte {
	b, err := wire.AppendRequest(nil, h, body, nil)
	require.NoError(t, err)
	return b
}

func TestExpect(t *testing.T) {
	exp := probe.Expect(req(t, header.Header{Opcode: 15, Provider: 1, Session: 5}, []byte{0x08, 0x07}), wire.DefaultLimit)
	assert.True(t, exp.Readable)
	assert.Equal(t, status.Success, exp.Status)
	assert.Equal(t, header.Header{Opcode: 15, Provider: 1, Session: 5}, exp.Echo)

	exp = probe.Expect(req(t, header.Header{Opcode: 15, Provider: 1}, []byte{0x08, 0x00}), wire.DefaultLimit)
	assert.True(t, exp.Readable, "a body the converter refuses is read, then refused")
	assert.Equal(t, status.InvalidEncoding, exp.Status)
	assert.ErrorIs(t, exp.Body, status.InvalidEncoding)

	exp = probe.Expect(req(t, header.Header{Opcode: 23}, nil), wire.DefaultLimit)
	assert.False(t, exp.Readable)
	assert.Equal(t, status.OpcodeDoesNotExist, exp.Status)

	exp = probe.Expect(nil, wire.DefaultLimit)
	assert.Equal(t, status.ConnectionError, exp.Status, "nothing sent: the reference cannot read a magic number")
}

func TestJudge(t *testing.T) {
	readable := probe.Expect(req(t, header.Header{Opcode: header.OpPing, Session: 2}, nil), wire.DefaultLimit)
	refused := probe.Expect(req(t, header.Header{Opcode: 15, Session: 3}, nil), wire.DefaultLimit)
	unreadable := probe.Expect(req(t, header.Header{Opcode: 23}, nil), wire.DefaultLimit)
	ok := header.Header{Opcode: header.OpPing, Session: 2}
	for _, c := range []struct {
		name    string
		h       header.Header
		body    []byte
		exp     probe.Expectation
		mode    probe.Mode
		finding string
	}{
		{"right", ok, []byte{8, 1}, readable, probe.Reference, ""},
		{"a Success body the reference refuses", ok, []byte{8, 0x80, 2}, readable, probe.Reference, probe.BadBody},
		{"bad body, whatever the mode", ok, []byte{0}, readable, probe.None, probe.BadBody},
		{"wrong session", header.Header{Opcode: header.OpPing, Session: 9}, nil, readable, probe.Framing, probe.NoEcho},
		{"any status in framing mode", header.Header{Opcode: header.OpPing, Session: 2, Status: status.PsaErrorNotPermitted}, nil, readable, probe.Framing, ""},
		{"not the converter's status", header.Header{Opcode: 15, Session: 3}, nil, refused, probe.Reference, probe.WrongStatus},
		{"Success for a refused body", header.Header{Opcode: 15, Session: 3}, nil, refused, probe.Framing, probe.WrongStatus},
		{"the converter's status, echoed", header.Header{Opcode: 15, Session: 3, Status: status.InvalidEncoding}, nil, refused, probe.Reference, ""},
		{"status-only answer", header.Header{Opcode: header.OpPing, Status: status.OpcodeDoesNotExist}, nil, unreadable, probe.Reference, ""},
		{"status-only answer that echoes", header.Header{Opcode: 23, Status: status.OpcodeDoesNotExist}, nil, unreadable, probe.Reference, probe.NoEcho},
	} {
		f, _ := probe.Judge(c.h, c.body, c.exp, c.mode)
		assert.Equal(t, c.finding, f, c.name)
	}
}

func TestSequence(t *testing.T) {
	bases := probe.BaseRequests(1)
	assert.Len(t, bases, 29, "one request of every operation")
	for i, b := range bases {
		exp := probe.Expect(b, wire.DefaultLimit)
		assert.True(t, exp.Readable, "base %d", i)
		assert.NoError(t, exp.Body, "base %d", i)
	}
	kinds := map[bool]int{}
	for i := len(bases); i < len(bases)+600; i++ {
		r := probe.Sequence(bases, i, 7, wire.DefaultLimit)
		again := probe.Sequence(bases, i, 7, wire.DefaultLimit)
		assert.Equal(t, r, again, "request %d is reproducible", i)
		assert.True(t, !bytes.Equal(bases[i%len(bases)], r.Mutation.Frame) || r.Mutation.Chunk > 0,
			"request %d is mutated: its bytes, or how they are sent", i)
		kinds[len(r.Desc) > 5 && r.Desc[:5] == "body-"]++
	}
	assert.Greater(t, kinds[true], 100, "bodies are mutated too")
	assert.Greater(t, kinds[false], 300)
	_, err := probe.ParseMode("maybe")
	assert.Error(t, err)
}
