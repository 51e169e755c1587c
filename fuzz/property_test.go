package fuzz_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/fuzz/corpus"
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// Property tests over structured random values from gofuzz: seeded, so every run checks the
// same cases, and a failure names the seed and case to replay.

const propertyCases = 5000

func TestPropertyRoundTrip(t *testing.T) {
	fz := fuzz.NewFuzzer(1, wire.DefaultLimit)
	known := 0
	for i := 0; i < propertyCases; i++ {
		var h header.Header
		fz.Fuzz(&h)
		b, err := h.MarshalBinary()
		if !h.Status.Known() {
			require.ErrorIs(t, err, status.InvalidEncoding, "case %d: %+v", i, h)
			continue
		}
		known++
		require.NoError(t, err, "case %d", i)
		got, err := header.Decode(b)
		require.NoError(t, err, "case %d", i)
		require.Equal(t, h, got, "case %d", i)
	}
	assert.Greater(t, known, propertyCases/4, "the fuzzer yields known statuses often enough")
}

// TestPropertyDifferential compares the fast and plain decoders on generated frames, one
// fault or none at a time, and checks that every verdict shows up.
func TestPropertyDifferential(t *testing.T) {
	fz := fuzz.NewFuzzer(2, 64)
	seen := map[fuzz.Verdict]int{}
	for i := 0; i < propertyCases; i++ {
		var f fuzz.RawFrame
		fz.Fuzz(&f)
		b := f.Bytes()
		_, verdict := fuzz.PlainDecode(b)
		seen[verdict]++
		_, err := header.Decode(b)
		got := fuzz.OK
		if err != nil {
			c, _ := status.Of(err)
			got = fuzz.Verdict(c.String())
		}
		require.Equal(t, verdict, got, "case %d: %x: %v", i, b, err)
	}
	for _, v := range []fuzz.Verdict{fuzz.OK, fuzz.InvalidHeader, fuzz.VersionTooBig, fuzz.InvalidEncoding, fuzz.ConnectionError} {
		assert.Greater(t, seen[v], 10, "verdict %s seen %d times", v, seen[v])
	}
}

// TestPropertyStream runs generated frames, concatenated, through wire.Reader with the limit
// the fuzzer leans toward, and checks each verdict against the plain decoder and the limit.
func TestPropertyStream(t *testing.T) {
	const limit = 40
	fz := fuzz.NewFuzzer(3, limit)
	for i := 0; i < propertyCases/10; i++ {
		var f fuzz.RawFrame
		fz.Fuzz(&f)
		b := f.Bytes()
		_, verdict := fuzz.PlainDecode(b)
		rd := wire.NewReader(bytes.NewReader(b))
		rd.SetLimit(limit)
		var h header.Header
		body, err := rd.Next(&h)
		switch {
		case verdict == fuzz.OK || verdict == fuzz.InvalidEncoding:
			// The header is sound: then the limit, then the body, then the status.
			switch {
			case f.Header.ContentLength > limit:
				require.ErrorIs(t, err, status.BodySizeExceedsLimit, "case %d", i)
			case int(f.Header.ContentLength) > len(f.Body):
				require.ErrorIs(t, err, status.ConnectionError, "case %d", i)
			case verdict == fuzz.InvalidEncoding:
				require.ErrorIs(t, err, status.InvalidEncoding, "case %d", i)
			default:
				require.NoError(t, err, "case %d", i)
				require.True(t, bytes.Equal(f.Body[:f.Header.ContentLength], body), "case %d", i)
			}
		default:
			c, ok := status.Of(err)
			require.True(t, ok, "case %d: %v", i, err)
			if verdict == fuzz.ConnectionError {
				require.Equal(t, status.ConnectionError, c, "case %d", i)
			} else {
				require.Equal(t, string(verdict), c.String(), "case %d: %x", i, b)
			}
		}
	}
}

func TestMutatorKinds(t *testing.T) {
	frame, err := wire.AppendResponse(nil, header.Header{Opcode: 1, Session: 3}, []byte{8, 1, 2, 3})
	require.NoError(t, err)
	seen := map[fuzz.Kind]bool{}
	for seed := uint64(0); seed < 500; seed++ {
		m := fuzz.MutateResponse(frame, seed)
		seen[m.Kind] = true
		again := fuzz.MutateResponse(frame, seed)
		require.Equal(t, m.Frame, again.Frame, "seed %d is reproducible", seed)
		require.Equal(t, m.Desc, again.Desc)
		assert.NotEmpty(t, m.Desc)
		assert.Contains(t, m.String(), string(m.Kind))
	}
	for _, k := range fuzz.ResponseKinds {
		assert.True(t, seen[k], "kind %s produced for some seed", k)
	}
	req, err := wire.AppendRequest(nil, header.Header{Opcode: 1}, []byte{1}, []byte{2})
	require.NoError(t, err)
	seen = map[fuzz.Kind]bool{}
	for seed := uint64(0); seed < 800; seed++ {
		m := fuzz.MutateRequest(req, seed, 1024)
		seen[m.Kind] = true
		require.Equal(t, m.Frame, fuzz.MutateRequest(req, seed, 1024).Frame)
	}
	for _, k := range fuzz.RequestKinds {
		assert.True(t, seen[k], "request kind %s produced for some seed", k)
	}
}

func TestMutatorVerdicts(t *testing.T) {
	frame, err := wire.AppendResponse(nil, header.Header{Opcode: 1}, []byte{8, 1})
	require.NoError(t, err)
	cases := map[fuzz.Kind]status.Code{
		fuzz.KindMagic: status.InvalidHeader, fuzz.KindVersion: status.VersionTooBig,
		fuzz.KindReserved: status.InvalidHeader,
	}
	for kind, code := range cases {
		for seed := uint64(0); seed < 20; seed++ {
			m := fuzz.MutateKind(frame, kind, seed, false, wire.DefaultLimit)
			require.NotEqual(t, frame, m.Frame, "%s seed %d: a mutation always changes the frame", kind, seed)
			assert.ErrorIs(t, m.Verdict, code, "%s seed %d: %v", kind, seed, m)
		}
	}
	m := fuzz.MutateKind(frame, fuzz.KindTruncate, 5, false, wire.DefaultLimit)
	assert.True(t, m.Close)
	assert.Less(t, len(m.Frame), len(frame))
	if len(m.Frame) > 0 {
		assert.ErrorIs(t, m.Verdict, status.ConnectionError)
	}
	m = fuzz.MutateKind(frame, fuzz.KindDribble, 5, false, wire.DefaultLimit)
	assert.Equal(t, frame, m.Frame)
	assert.Greater(t, m.Chunk, 0)
	assert.NoError(t, m.Verdict)
	m = fuzz.MutateKind(frame, fuzz.KindTrailing, 5, false, wire.DefaultLimit)
	assert.NoError(t, m.Verdict, "the frame itself is intact")
	assert.Greater(t, m.Trailing, 0)
	m = fuzz.MutateKind(frame, fuzz.KindStatus, 7, false, wire.DefaultLimit)
	st := status.Code(uint16(m.Frame[32]) | uint16(m.Frame[33])<<8)
	assert.Equal(t, st.Known(), m.Verdict == nil, "%v", m)
}

var update = flag.Bool("update", false, "rewrite the seed corpora generated from testdata/")

// sampleFrames returns every frame line of the repository's testdata/*.hex, decoded.
func sampleFrames(t *testing.T) map[string][]byte {
	files, err := filepath.Glob("../testdata/*.hex")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string][]byte{}
	for _, name := range files {
		f, err := os.Open(name)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			l := strings.TrimSpace(sc.Text())
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			b, err := hex.DecodeString(l)
			require.NoError(t, err)
			out[fmt.Sprintf("sample-%s-%d", strings.TrimSuffix(filepath.Base(name), ".hex"), n)] = b
		}
		f.Close()
	}
	return out
}

// corpusFile is Go's corpus format for one []byte argument.
func corpusFile(b []byte) string {
	return "go test fuzz v1\n[]byte(" + fmt.Sprintf("%q", b) + ")\n"
}

// TestCorpusHoldsSamples keeps every sample frame of testdata/ in the seed corpus of the
// targets that take bytes. Run with -update after adding a sample.
func TestCorpusHoldsSamples(t *testing.T) {
	for _, target := range []string{"FuzzHeaderDecode", "FuzzDifferential"} {
		dir := filepath.Join("testdata", "fuzz", target)
		for name, b := range sampleFrames(t) {
			path := filepath.Join(dir, name)
			if *update {
				require.NoError(t, os.MkdirAll(dir, 0o755))
				require.NoError(t, os.WriteFile(path, []byte(corpusFile(b)), 0o644))
			}
			got, err := os.ReadFile(path)
			require.NoError(t, err, "missing corpus entry; run go test ./fuzz -run TestCorpusHoldsSamples -update")
			assert.Equal(t, corpusFile(b), string(got), path)
		}
	}
	keep := func(dir, name, entry string) {
		path := filepath.Join(dir, name)
		if *update {
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(path, []byte(entry), 0o644))
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err, "missing corpus entry; run go test ./fuzz -run TestCorpusHoldsSamples -update")
		assert.Equal(t, entry, string(got), path)
	}
	for name, b := range sampleFrames(t) {
		keep(filepath.Join("testdata", "fuzz", "FuzzStream"), name,
			"go test fuzz v1\n[]byte("+fmt.Sprintf("%q", b)+")\nuint16(1024)\nuint8(0)\n")
		// The client asks what the sample answers, so that valid samples succeed or are refused
		// with their status, and reads it with the default limit.
		h, err := header.Decode(b)
		keep(filepath.Join("testdata", "fuzz", "FuzzClient"), name, fmt.Sprintf(
			"go test fuzz v1\n[]byte(%q)\nuint32(%d)\nuint8(%d)\nuint64(%d)\nuint8(0)\nuint16(0)\n", b, h.Opcode, h.Provider, h.Session))
		if err != nil || len(b) < header.Size {
			continue
		}
		// A valid sample's fields for the round trip, and its body and status for the mutator.
		keep(filepath.Join("testdata", "fuzz", "FuzzRoundTrip"), name, fmt.Sprintf(
			"go test fuzz v1\nuint16(%d)\nuint8(%d)\nuint64(%d)\nuint8(%d)\nuint8(%d)\nuint8(%d)\nuint32(%d)\nuint16(%d)\nuint32(%d)\nuint16(%d)\n",
			h.Flags, h.Provider, h.Session, h.ContentType, h.AcceptType, h.AuthType, h.ContentLength, h.AuthLength, h.Opcode, h.Status))
		keep(filepath.Join("testdata", "fuzz", "FuzzMutator"), name, fmt.Sprintf(
			"go test fuzz v1\nuint64(%d)\n[]byte(%q)\nuint16(%d)\nbool(false)\nuint16(64)\n", crc32.ChecksumIEEE([]byte(name)), b[header.Size:], h.Status))
	}
	// The statuses at the table's borders, for the targets that take one.
	for _, v := range fuzz.BorderStatuses {
		keep(filepath.Join("testdata", "fuzz", "FuzzStatus"), fmt.Sprintf("border-%d", v), fmt.Sprintf("go test fuzz v1\nuint16(%d)\n", v))
	}
	// Every sample file whole, as the CLI's scanner reads it, with and without resync flags,
	// while that target exists.
	targets, err := corpus.Find("..")
	require.NoError(t, err)
	if !slices.ContainsFunc(targets, func(tg corpus.Target) bool { return tg.Dir == "cmd/parsecwire" && tg.Name == "FuzzScan" }) {
		return
	}
	files, err := filepath.Glob("../testdata/*.hex")
	require.NoError(t, err)
	for _, name := range files {
		prefix := "sample-" + strings.TrimSuffix(filepath.Base(name), ".hex") + "-"
		samples := sampleFrames(t)
		var lines []int
		for n := range samples {
			if l, err := strconv.Atoi(strings.TrimPrefix(n, prefix)); err == nil && strings.HasPrefix(n, prefix) {
				lines = append(lines, l)
			}
		}
		sort.Ints(lines) // in the file's order
		var stream []byte
		for _, l := range lines {
			stream = append(stream, samples[prefix+strconv.Itoa(l)]...)
		}
		for _, flags := range []uint8{0, 3} {
			keep(filepath.Join("..", "cmd", "parsecwire", "testdata", "fuzz", "FuzzScan"), fmt.Sprintf("sample-%s-%d", strings.TrimSuffix(filepath.Base(name), ".hex"), flags),
				fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbool(false)\nuint8(%d)\n", stream, flags))
		}
	}
}
