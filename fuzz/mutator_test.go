package fuzz_test

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// mutationSeeds is the number of seeds the always-mutates property runs over, for responses
// and for requests each.
const mutationSeeds = 100000

// fieldOf maps a field kind and a field name, as descriptions spell it, to the header field.
var kindFields = map[fuzz.Kind][]header.Field{
	fuzz.KindMagic: {header.FieldMagic}, fuzz.KindHeaderSize: {header.FieldHeaderSize},
	fuzz.KindVersion: {header.FieldVersion}, fuzz.KindFlags: {header.FieldFlags},
	fuzz.KindProvider: {header.FieldProvider}, fuzz.KindSession: {header.FieldSession},
	fuzz.KindContentType: {header.FieldContentType}, fuzz.KindAcceptType: {header.FieldAcceptType},
	fuzz.KindAuthType: {header.FieldAuthType}, fuzz.KindContentLength: {header.FieldContentLength},
	fuzz.KindAuthLength: {header.FieldAuthLength}, fuzz.KindOpcode: {header.FieldOpcode},
	fuzz.KindStatus:   {header.FieldStatus},
	fuzz.KindReserved: {header.FieldReserved1, header.FieldReserved2},
}

var (
	fieldDesc    = regexp.MustCompile(`^([a-z0-9 ]+?) (0x[0-9a-f]+|\d+|\d+\.\d+) -> (0x[0-9a-f]+|\d+|\d+\.\d+)$`)
	truncateDesc = regexp.MustCompile(`^cut to (\d+) of (\d+) bytes$`)
	trailingDesc = regexp.MustCompile(`^(\d+) bytes after the frame$`)
	flipDesc     = regexp.MustCompile(`^byte (\d+) \^= 0x([0-9a-f]+)$`)
	dribbleDesc  = regexp.MustCompile(`^unchanged, written (\d+) byte\(s\) at a time$`)
)

// readField reads a header field as descriptions write it: hex for the magic, major.minor for
// the version, decimal for the rest.
func readField(b []byte, f header.Field) string {
	off, n := f.Offset(), f.Len()
	if f == header.FieldVersion {
		return strconv.Itoa(int(b[off])) + "." + strconv.Itoa(int(b[off+1]))
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[off+i])
	}
	if f == header.FieldMagic {
		return "0x" + strconv.FormatUint(v, 16)
	}
	return strconv.FormatUint(v, 10)
}

// checkMutation checks that m changes what the peer gets from in, that its description says
// exactly what changed, and that its verdict is the codec's.
func checkMutation(t *testing.T, in []byte, m fuzz.Mutation, request bool, limit uint32, what string) {
	t.Helper()
	require.True(t, m.Changes(in), "%s: %v leaves the frame as it was", what, m)
	require.Equal(t, m.Kind == fuzz.KindTruncate, m.Close, "%s: %v", what, m)
	if m.Kind != fuzz.KindDribble {
		require.Zero(t, m.Chunk, "%s: %v", what, m)
		require.False(t, bytes.Equal(in, m.Frame), "%s: %v", what, m)
	}
	out := m.Frame
	switch m.Kind {
	case fuzz.KindTruncate:
		g := truncateDesc.FindStringSubmatch(m.Desc)
		require.NotNil(t, g, "%s: %q", what, m.Desc)
		require.Equal(t, strconv.Itoa(len(out)), g[1], what)
		require.Equal(t, strconv.Itoa(len(in)), g[2], what)
		require.Equal(t, in[:len(out)], out, what)
	case fuzz.KindTrailing:
		g := trailingDesc.FindStringSubmatch(m.Desc)
		require.NotNil(t, g, "%s: %q", what, m.Desc)
		require.Equal(t, strconv.Itoa(len(out)-len(in)), g[1], what)
		require.Equal(t, in, out[:len(in)], what)
	case fuzz.KindByteFlip:
		want := append([]byte{}, in...)
		seen := map[int]bool{}
		for _, part := range strings.Split(m.Desc, ", ") {
			g := flipDesc.FindStringSubmatch(part)
			require.NotNil(t, g, "%s: %q", what, m.Desc)
			at, _ := strconv.Atoi(g[1])
			mask, _ := strconv.ParseUint(g[2], 16, 8)
			require.False(t, seen[at], "%s: byte %d flipped twice: %q", what, at, m.Desc)
			require.NotZero(t, mask, what)
			seen[at] = true
			want[at] ^= byte(mask)
		}
		require.Equal(t, want, out, "%s: %q", what, m.Desc)
	case fuzz.KindDribble:
		g := dribbleDesc.FindStringSubmatch(m.Desc)
		require.NotNil(t, g, "%s: %q", what, m.Desc)
		require.Equal(t, strconv.Itoa(m.Chunk), g[1], what)
		require.Equal(t, in, out, what)
		require.Less(t, m.Chunk, len(out), what)
	default:
		fields, ok := kindFields[m.Kind]
		require.True(t, ok, "%s: unknown kind %q", what, m.Kind)
		g := fieldDesc.FindStringSubmatch(m.Desc)
		require.NotNil(t, g, "%s: %q", what, m.Desc)
		var f header.Field
		for _, c := range fields {
			if c.String() == g[1] {
				f = c
			}
		}
		require.Equal(t, g[1], f.String(), "%s: %q names a field kind %s does not change", what, m.Desc, m.Kind)
		require.Len(t, out, len(in), what)
		require.Equal(t, g[2], readField(in, f), "%s: %q: the old value", what, m.Desc)
		require.Equal(t, g[3], readField(out, f), "%s: %q: the new value", what, m.Desc)
		require.NotEqual(t, g[2], g[3], "%s: %q", what, m.Desc)
		rest := append([]byte{}, out...)
		copy(rest[f.Offset():f.Offset()+f.Len()], in[f.Offset():f.Offset()+f.Len()])
		require.Equal(t, in, rest, "%s: %q changed bytes outside %s", what, m.Desc, f)
	}
	// The verdict: what the codec says reading the mutated bytes, as probe and serve judge.
	src := bytes.NewReader(out)
	rd := wire.NewReader(src)
	rd.SetLimit(limit)
	var h header.Header
	var err error
	if request {
		rd.SetStrict(true)
		_, _, err = rd.NextRequest(&h)
	} else {
		_, err = rd.Next(&h)
	}
	err = wire.FrameDue(err)
	require.Equal(t, err == nil, m.Verdict == nil, "%s: %v, codec says %v", what, m, err)
	if err != nil {
		want, _ := status.Of(err)
		got, ok := status.Of(m.Verdict)
		require.True(t, ok && got == want, "%s: %v, codec says %v", what, m, err)
	}
	require.Equal(t, src.Len(), m.Trailing, what)
	if !request && len(out) >= header.Size {
		// The header's own verdict, from the plain decoder, where it settles the frame.
		if _, v := fuzz.PlainDecode(out); v == fuzz.InvalidHeader || v == fuzz.VersionTooBig {
			require.True(t, errors.Is(m.Verdict, status.InvalidHeader) || errors.Is(m.Verdict, status.VersionTooBig),
				"%s: plain decoder says %s, mutation %v", what, v, m)
		}
	}
}

// TestMutationsAlwaysMutate: over 100,000 seeds each, every response and request mutation
// changes what the peer receives, says exactly what it changed, and carries the codec's verdict.
func TestMutationsAlwaysMutate(t *testing.T) {
	var responses [][]byte
	for _, r := range []struct {
		h    header.Header
		body []byte
	}{
		{header.Header{Opcode: header.OpPing}, []byte{8, 1}},
		{header.Header{Opcode: 1}, nil}, // content length 0: no "0 -> 0"
		{header.Header{Provider: 1, Session: 7, Opcode: 28, Status: status.AdminOperation}, nil},
		{header.Header{Opcode: 4, Status: status.PsaErrorDoesNotExist}, bytes.Repeat([]byte{0xA5}, 70)},
	} {
		b, err := wire.AppendResponse(nil, r.h, r.body)
		require.NoError(t, err)
		responses = append(responses, b)
	}
	// Frames too short for some kinds, which must fall back to one that changes them.
	responses = append(responses, responses[0][:20], responses[0][:1], []byte{})
	seen := map[fuzz.Kind]int{}
	for seed := uint64(0); seed < mutationSeeds; seed++ {
		in := responses[seed%uint64(len(responses))]
		m := fuzz.MutateResponse(in, seed)
		seen[m.Kind]++
		checkMutation(t, in, m, false, wire.DefaultLimit, "response seed "+strconv.FormatUint(seed, 10))
	}
	for _, k := range fuzz.ResponseKinds {
		require.Greater(t, seen[k], 100, "kind %s", k)
	}

	var requests [][]byte
	for _, r := range []struct {
		h          header.Header
		body, auth []byte
	}{
		{header.Header{Opcode: header.OpPing}, nil, nil},
		{header.Header{Opcode: header.OpListOpcodes, Provider: 1}, []byte{8, 1}, nil},
		{header.Header{Opcode: 4, Provider: 1, AuthType: header.AuthDirect}, []byte{10, 2, 3, 4}, []byte("app-name")},
	} {
		b, err := wire.AppendRequest(nil, r.h, r.body, r.auth)
		require.NoError(t, err)
		requests = append(requests, b)
	}
	requests = append(requests, requests[0][:35], []byte{})
	clear(seen)
	for seed := uint64(0); seed < mutationSeeds; seed++ {
		in := requests[seed%uint64(len(requests))]
		limit := []uint32{0, 2, 64, wire.DefaultLimit}[seed%4]
		m := fuzz.MutateRequest(in, seed, limit)
		seen[m.Kind]++
		checkMutation(t, in, m, true, limit, "request seed "+strconv.FormatUint(seed, 10))
	}
	for _, k := range fuzz.RequestKinds {
		require.Greater(t, seen[k], 100, "request kind %s", k)
	}
}
