package fuzz_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// The conformance test: every frame goes through parsecwire and through the reference
// implementation (the Rust crate parsec-interface 0.27, in fuzz/reference), and both must
// come to the same outcome: the same fields and body and bytes consumed, or the same
// classifying status and bytes consumed. Encoding must be byte-identical.

// referencePath returns the oracle binary, or "" when it has not been built.
func referencePath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("PARSECWIRE_REFERENCE")
	if p == "" {
		p, _ = filepath.Abs(filepath.Join("reference", "target", "release", "parsecwire-reference"))
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must build the reference oracle (fuzz/reference/build.sh): %v", err)
		}
		t.Skipf("reference oracle not built: run fuzz/reference/build.sh (or set PARSECWIRE_REFERENCE): %v", err)
	}
	return p
}

// oracle runs batches of commands through the reference program.
type oracle struct{ path string }

func (o oracle) ask(t *testing.T, lines []string) []string {
	t.Helper()
	cmd := exec.Command(o.path)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	go func() {
		w := bufio.NewWriter(in)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
		w.Flush()
		in.Close()
	}()
	var answers []string
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		answers = append(answers, sc.Text())
	}
	require.NoError(t, cmd.Wait())
	require.Len(t, answers, len(lines))
	return answers
}

func hexArg(b []byte) string {
	if len(b) == 0 {
		return "-" // an empty frame, spelled so that the line keeps its fields
	}
	return hex.EncodeToString(b)
}

// ours gives parsecwire's outcome in the oracle's words.
func ours(frame []byte, limit uint32, strict, request bool) string {
	src := bytes.NewReader(frame)
	rd := wire.NewReader(src)
	rd.SetLimit(limit)
	rd.SetStrict(strict)
	var h header.Header
	var body []byte
	var err error
	if request {
		body, _, err = rd.NextRequest(&h)
	} else {
		body, err = rd.Next(&h)
	}
	if err = wire.FrameDue(err); err != nil {
		c, _ := status.Of(err)
		return fmt.Sprintf("err status=%d consumed=%d", c, rd.Offset())
	}
	if request {
		return fmt.Sprintf("ok consumed=%d provider=%d session=%d content_type=%d opcode=%d accept_type=%d auth_type=%d body=%x",
			rd.Offset(), h.Provider, h.Session, h.ContentType, h.Opcode, h.AcceptType, h.AuthType, body)
	}
	return fmt.Sprintf("ok consumed=%d provider=%d session=%d content_type=%d opcode=%d status=%d body=%x",
		rd.Offset(), h.Provider, h.Session, h.ContentType, h.Opcode, h.Status, body)
}

// intentional lists every way parsecwire differs from the reference on purpose. Nothing
// else may differ. The README's Conformance section repeats it.
var intentional = []struct {
	name   string
	reason string
	// applies reports whether a difference (ours vs the reference's answer) is this one.
	applies func(strict bool, ours, ref string) bool
}{
	{
		name: "semantic checks only in strict mode",
		reason: "the reference rejects a response whose provider, content type or opcode it does not " +
			"know (ProviderDoesNotExist, ContentTypeNotSupported, OpcodeDoesNotExist); parsecwire " +
			"applies these checks only in strict mode (SetStrict, -strict), because Parsec adds " +
			"providers and opcodes over time and a codec must still frame and read them",
		applies: func(strict bool, ours, ref string) bool {
			if strict {
				return false
			}
			for _, c := range []status.Code{status.ProviderDoesNotExist, status.ContentTypeNotSupported, status.OpcodeDoesNotExist,
				status.AcceptTypeNotSupported, status.AuthenticatorDoesNotExist} {
				if strings.HasPrefix(ref, fmt.Sprintf("err status=%d ", c)) {
					return true
				}
			}
			return false
		},
	},
}

type conformanceCase struct {
	name    string
	frame   []byte
	limit   uint32
	request bool
}

func (c conformanceCase) line() string {
	kind := "response"
	if c.request {
		kind = "request"
	}
	return fmt.Sprintf("%s %d %s", kind, c.limit, hexArg(c.frame))
}

// conformanceCases builds every frame the test compares.
func conformanceCases(t *testing.T) []conformanceCase {
	var cases []conformanceCase
	add := func(name string, frame []byte, limit uint32, request bool) {
		cases = append(cases, conformanceCase{name, frame, limit, request})
	}
	// Every sample frame of testdata/, and the raw capture, as streams.
	for name, b := range sampleFrames(t) {
		add(name, b, wire.DefaultLimit, false)
	}
	capture, err := os.ReadFile("../testdata/capture.bin")
	require.NoError(t, err)
	add("capture.bin", capture, wire.DefaultLimit, false)

	// Every single-field fault of the header, on a valid response with a body.
	base, err := wire.AppendResponse(nil, header.Header{Provider: 1, Session: 0x0102030405060708, Opcode: 4,
		Status: status.PsaErrorDoesNotExist}, []byte{8, 1, 16, 2})
	require.NoError(t, err)
	values := []uint64{0, 1, 2, 4, 5, 6, 0x0F, 0x10, 0x1D, 0x1E, 0x1F, 0x20, 0x24, 0x7F, 0x80, 0xFE, 0xFF,
		0x100, 0x474, 0x478, 0x481, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x5EC0A710, 0x10A7C05E, 0x7FFFFFFF, 0xFFFFFFFF,
		1 << 63, ^uint64(0)}
	for f := header.FieldMagic; f <= header.FieldReserved2; f++ {
		for _, v := range values {
			if f.Len() < 8 && v >= 1<<(8*f.Len()) {
				continue
			}
			b := append([]byte{}, base...)
			for i := 0; i < f.Len(); i++ {
				b[f.Offset()+i] = byte(v >> (8 * i))
			}
			add(fmt.Sprintf("%s=%#x", f, v), b, 64, false)
			add(fmt.Sprintf("%s=%#x cut", f, v), b[:header.Size+1], 64, false)
		}
	}
	// Every u16 status value.
	for v := 0; v <= 0xFFFF; v++ {
		b := append([]byte{}, base...)
		b[32], b[33] = byte(v), byte(v>>8)
		add(fmt.Sprintf("status %d", v), b, wire.DefaultLimit, false)
	}
	// Frames cut at every byte, and bodies around the limit.
	for n := 0; n < len(base); n++ {
		add(fmt.Sprintf("cut at %d", n), base[:n], wire.DefaultLimit, false)
	}
	for _, limit := range []uint32{0, 3, 4, 5} {
		add(fmt.Sprintf("limit %d", limit), base, limit, false)
	}
	// Mutations of every sample and of the base, and gofuzz frames, from fixed seeds.
	samples := [][]byte{base}
	for _, b := range sampleFrames(t) {
		samples = append(samples, b)
	}
	for seed := uint64(0); seed < 2000; seed++ {
		s := samples[int(seed)%len(samples)]
		add(fmt.Sprintf("mutation %d", seed), fuzz.MutateResponse(s, seed).Frame, wire.DefaultLimit, false)
	}
	fz := fuzz.NewFuzzer(7, 32)
	for i := 0; i < 2000; i++ {
		var f fuzz.RawFrame
		fz.Fuzz(&f)
		add(fmt.Sprintf("gofuzz %d", i), f.Bytes(), 32, false)
	}
	// Requests: valid ones and their mutations, read as the service reads them.
	reqs := [][]byte{}
	for _, r := range []struct {
		h          header.Header
		body, auth []byte
	}{
		{header.Header{Opcode: header.OpPing}, nil, nil},
		{header.Header{Opcode: header.OpListProviders, Session: 9}, nil, nil},
		{header.Header{Opcode: header.OpListOpcodes, Provider: 1}, []byte{8, 1}, nil},
		{header.Header{Opcode: 4, Provider: 1, AuthType: header.AuthDirect}, []byte{10, 2, 3, 4}, []byte("app-name")},
	} {
		b, err := wire.AppendRequest(nil, r.h, r.body, r.auth)
		require.NoError(t, err)
		reqs = append(reqs, b)
		add("request", b, wire.DefaultLimit, true)
	}
	for seed := uint64(0); seed < 2000; seed++ {
		add(fmt.Sprintf("request mutation %d", seed), fuzz.MutateRequest(reqs[int(seed)%len(reqs)], seed, 64).Frame, 64, true)
	}
	return cases
}

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance run takes a few seconds; it runs without -short (and in CI)")
	}
	o := oracle{referencePath(t)}
	cases := conformanceCases(t)
	lines := make([]string, len(cases))
	for i, c := range cases {
		lines[i] = c.line()
	}
	answers := o.ask(t, lines)
	differences := map[string]int{}
	for _, strict := range []bool{true, false} {
		for i, c := range cases {
			got := ours(c.frame, c.limit, strict, c.request)
			if got == answers[i] {
				continue
			}
			explained := false
			for _, d := range intentional {
				if d.applies(strict, got, answers[i]) {
					differences[d.name]++
					explained = true
					break
				}
			}
			if !explained {
				t.Errorf("%s (strict=%v): %x\n  parsecwire: %s\n  reference:  %s", c.name, strict, c.frame, got, answers[i])
			}
		}
	}
	t.Logf("compared %d frames in strict and default mode; intentional differences: %v", len(cases), differences)
	assert.Greater(t, len(cases), 70000)
}

// TestConformanceStatusTable: the reference accepts exactly the u16 values parsecwire does.
func TestConformanceStatusTable(t *testing.T) {
	o := oracle{referencePath(t)}
	lines := make([]string, 0x10000)
	for v := range lines {
		lines[v] = fmt.Sprintf("status %d", v)
	}
	for v, a := range o.ask(t, lines) {
		_, err := status.Decode(uint16(v))
		if err == nil {
			require.Equal(t, fmt.Sprintf("ok status=%d", v), a)
		} else {
			require.Equal(t, "err status=16", a, "value %d", v)
		}
	}
}

// TestConformanceEncoding: for responses the reference can represent (known provider,
// content type and opcode), parsecwire writes the same bytes.
func TestConformanceEncoding(t *testing.T) {
	o := oracle{referencePath(t)}
	var lines []string
	var want [][]byte
	bodies := [][]byte{nil, {8, 1}, bytes.Repeat([]byte{0xA5}, 300)}
	i := 0
	for provider := uint8(0); provider <= 5; provider++ {
		for op := uint32(0); op <= 33; op++ {
			if _, ok := header.OpcodeName(op); !ok {
				continue
			}
			for _, st := range status.All() {
				i++
				if i%7 != 0 && st != status.Success { // every code, over a spread of the rest
					continue
				}
				body := bodies[i%len(bodies)]
				h := header.Header{Provider: provider, Session: uint64(i) * 0x9E3779B97F4A7C15, Opcode: op, Status: st}
				b, err := wire.AppendResponse(nil, h, body)
				require.NoError(t, err)
				want = append(want, b)
				lines = append(lines, fmt.Sprintf("encode %d %d 0 %d %d %s", provider, h.Session, op, st, hexArg(body)))
			}
		}
	}
	for i, a := range o.ask(t, lines) {
		require.Equal(t, "ok hex="+hex.EncodeToString(want[i]), a, lines[i])
	}
	t.Logf("%d encodings byte-identical", len(lines))
}
