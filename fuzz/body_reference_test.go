package fuzz_test

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
)

// The body conformance test: every body goes through operation.Validate and Decode and
// through the reference's ProtobufConverter (body_to_operation, body_to_result), and both
// must come to the same verdict; when both accept, the reference's re-encoding of what it
// understood and ours must be the same message.

type bodyCase struct {
	name string
	op   uint32
	dir  operation.Dir
	body []byte
}

func (c bodyCase) line() string {
	kind := "operation"
	if c.dir == operation.Response {
		kind = "result"
	}
	return fmt.Sprintf("%s %d %s", kind, c.op, hexArg(c.body))
}

// bodyIntentional lists every way parsecwire's reading of a body differs from the
// reference's on purpose: each one a normalisation the reference's native types apply and
// that the comparison applies to both sides. Nothing else may differ.
var bodyIntentional = []struct {
	name, reason string
}{
	{"ListOpcodes result as a set", "the reference holds the opcodes in a HashSet: it drops duplicates and " +
		"re-encodes them in an order that changes from run to run; Decode keeps the list as written"},
	{"a UUID by its value", "the reference parses ProviderInfo.uuid and writes it back lowercase and " +
		"hyphenated; Decode keeps the string as written (it validates it in all four forms the reference takes)"},
	{"sign_hash implies sign_message", "the reference's native usage flags set sign_message with sign_hash " +
		"and verify_message with verify_hash; Decode shows the flags as written"},
}

// normalize applies bodyIntentional's normalisations to a decoded tree.
func normalize(fs operation.Fields) operation.Fields {
	out := make(operation.Fields, len(fs))
	for i, f := range fs {
		v := f.Value
		switch x := v.(type) {
		case operation.Fields:
			v = normalize(x)
		case []operation.Fields:
			list := make([]operation.Fields, len(x))
			for j := range x {
				list[j] = normalize(x[j])
			}
			v = list
		case []uint32:
			if f.Name == "opcodes" {
				s := slices.Clone(x)
				slices.Sort(s)
				v = slices.Compact(s)
			}
		case string:
			if f.Name == "uuid" {
				v = canonicalUUID(x)
			}
		}
		out[i] = operation.Field{Name: f.Name, Value: v}
	}
	for _, pair := range [][2]string{{"sign_hash", "sign_message"}, {"verify_hash", "verify_message"}} {
		if h, ok := out.Get(pair[0]).(bool); ok && h {
			for i := range out {
				if out[i].Name == pair[1] {
					out[i].Value = true
				}
			}
		}
	}
	return out
}

func canonicalUUID(s string) string {
	s = strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}"), "urn:uuid:")
	s = strings.ToLower(strings.ReplaceAll(s, "-", ""))
	if len(s) != 32 {
		return s
	}
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// canon is the message a body denotes, normalised and encoded canonically.
func canon(t *testing.T, op uint32, d operation.Dir, body []byte) string {
	fs, err := operation.Decode(op, d, body)
	require.NoError(t, err)
	b, err := operation.Encode(op, d, normalize(fs))
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// oursBody gives parsecwire's verdict in the oracle's words (canon for a valid body is
// compared apart).
func oursBody(c bodyCase) string {
	if err := operation.Validate(c.op, c.dir, c.body); err != nil {
		code, _ := status.Of(err)
		return fmt.Sprintf("err status=%d", code)
	}
	return "ok"
}

// wireFields writes a random protobuf message that knows nothing of the schema but leans on
// its field numbers: random keys of every wire type, nested messages, groups, lengths a
// little off.
func wireFields(r *rand.Rand, depth int) []byte {
	var b []byte
	for range r.IntN(5) {
		num := protowire.Number(1 + r.IntN(15))
		if r.IntN(10) == 0 {
			num = protowire.Number(r.Uint32N(1 << 29))
		}
		switch r.IntN(8) {
		case 0, 1:
			b = protowire.AppendTag(b, num, protowire.VarintType)
			b = protowire.AppendVarint(b, []uint64{0, 1, 2, 7, 255, 256, 1 << 31, 1<<32 + 7, ^uint64(0), r.Uint64()}[r.IntN(10)])
		case 2, 3, 4:
			var payload []byte
			if depth < 6 && r.IntN(2) == 0 {
				payload = wireFields(r, depth+1)
			} else {
				payload = []byte([]string{"", "a", "key", "\xff", "ü", "0123456789abcdef0123456789abcdef"}[r.IntN(6)])
			}
			b = protowire.AppendTag(b, num, protowire.BytesType)
			l := uint64(len(payload))
			if r.IntN(12) == 0 {
				l += uint64(1 + r.IntN(3))
			}
			b = protowire.AppendVarint(b, l)
			b = append(b, payload...)
		case 5:
			b = protowire.AppendTag(b, num, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, r.Uint32())
		case 6:
			b = protowire.AppendTag(b, num, protowire.Fixed64Type)
			b = protowire.AppendFixed64(b, r.Uint64())
		case 7:
			b = protowire.AppendTag(b, num, protowire.StartGroupType)
			if depth < 6 {
				b = append(b, wireFields(r, depth+1)...)
			}
			if r.IntN(10) > 0 {
				b = protowire.AppendTag(b, num, protowire.EndGroupType)
			}
		}
	}
	return b
}

// bodyCases builds every body the test compares.
func bodyCases(t *testing.T) []bodyCase {
	var cases []bodyCase
	add := func(name string, op uint32, d operation.Dir, body []byte) {
		cases = append(cases, bodyCase{name, op, d, body})
	}
	dirs := []operation.Dir{operation.Request, operation.Response}
	r := rand.New(rand.NewPCG(12, 34))
	for _, op := range operation.Opcodes() {
		for _, d := range dirs {
			name := fmt.Sprintf("%d %v", op, d)
			add(name+" empty", op, d, nil)
			for seed := uint64(0); seed < 300; seed++ {
				body := fuzz.RandomBody(op, d, seed)
				add(fmt.Sprintf("%s valid %d", name, seed), op, d, body)
				for k := uint64(0); k < 2; k++ {
					m := fuzz.MutateBody(op, d, body, seed*2+k)
					add(fmt.Sprintf("%s mutation %d/%d %s", name, seed, k, m), op, d, m.Frame)
				}
			}
			for i := range 120 {
				add(fmt.Sprintf("%s wire %d", name, i), op, d, wireFields(r, 0))
			}
			fz := fuzz.NewFuzzer(uint64(op)<<1|uint64(d), 64)
			for i := range 40 {
				var b []byte
				fz.Fuzz(&b)
				add(fmt.Sprintf("%s gofuzz %d", name, i), op, d, b)
			}
		}
	}
	// Edges of the wire format, in the deepest places too.
	group := func(n int, inner []byte) []byte {
		var b []byte
		for range n {
			b = protowire.AppendTag(b, 99, protowire.StartGroupType)
		}
		b = append(b, inner...)
		for range n {
			b = protowire.AppendTag(b, 99, protowire.EndGroupType)
		}
		return b
	}
	for _, n := range []int{95, 96, 97, 99, 100, 101} {
		add(fmt.Sprintf("groups %d", n), header.OpPing, operation.Request, group(n, nil))
		add(fmt.Sprintf("groups %d with a varint", n), header.OpPing, operation.Request, group(n, []byte{8, 1}))
		// SignHash.Any sits at depth 4 of a PsaSignHash operation.
		any := protowire.AppendBytes([]byte{0x0a}, group(n, nil))
		sign := protowire.AppendBytes([]byte{0x0a}, any)
		alg := protowire.AppendBytes([]byte{0x22}, sign)
		add(fmt.Sprintf("groups %d in SignHash.Any", n), 4, operation.Request, protowire.AppendBytes([]byte{0x12}, alg))
	}
	for _, v := range [][]byte{{0x80, 0x00}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
		{0x87, 0x80, 0x80, 0x80, 0x10}, {0x87, 0x80, 0x80, 0x80, 0x08}, {0x80}} {
		add(fmt.Sprintf("hash alg varint %x", v), 15, operation.Request, append([]byte{0x08}, v...))
		add(fmt.Sprintf("ping maj varint %x", v), header.OpPing, operation.Response, append([]byte{0x08}, v...))
		add(fmt.Sprintf("opcode varint %x", v), header.OpListOpcodes, operation.Response, append([]byte{0x08}, v...))
		add(fmt.Sprintf("key %x", v), header.OpPing, operation.Request, v)
	}
	for _, s := range []string{"\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\xef\xbf\xbd", "\x00", "\xf0\x9f\x94\x91", "\xf8\x88\x80\x80\x80"} {
		add(fmt.Sprintf("key name %q", s), 3, operation.Request, protowire.AppendBytes([]byte{0x0a}, []byte(s)))
		add(fmt.Sprintf("uuid %q", s), header.OpListProviders, operation.Response,
			protowire.AppendBytes([]byte{0x0a}, protowire.AppendBytes([]byte{0x0a}, []byte(s))))
	}
	// Every sample body of testdata/ whose frame is a Success response of a known opcode.
	for name, frame := range sampleFrames(t) {
		var h header.Header
		if h.UnmarshalBinary(frame) != nil || h.Status != status.Success || len(frame) < header.Size+int(h.ContentLength) {
			continue
		}
		if _, ok := operation.Lookup(h.Opcode, operation.Response); ok {
			add("sample "+name, h.Opcode, operation.Response, frame[header.Size:header.Size+int(h.ContentLength)])
		}
	}
	return cases
}

func TestBodyConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the body conformance run takes a few seconds; it runs without -short (and in CI)")
	}
	o := oracle{referencePath(t)}
	cases := bodyCases(t)
	lines := make([]string, len(cases))
	for i, c := range cases {
		lines[i] = c.line()
	}
	answers := o.ask(t, lines)
	verdicts := map[string]int{}
	for i, c := range cases {
		got, want := oursBody(c), answers[i]
		if got == "ok" && strings.HasPrefix(want, "ok canon=") {
			verdicts["ok"]++
			refCanon, err := hex.DecodeString(strings.TrimPrefix(want, "ok canon="))
			require.NoError(t, err)
			if canon(t, c.op, c.dir, c.body) != canon(t, c.op, c.dir, refCanon) {
				t.Errorf("%s: %x: both accept, but the reference understood %x", c.name, c.body, refCanon)
			}
			continue
		}
		if got != want {
			t.Errorf("%s: %x\n  parsecwire: %s (%v)\n  reference:  %s", c.name, c.body, got, operation.Validate(c.op, c.dir, c.body), want)
			continue
		}
		verdicts[want]++
	}
	t.Logf("compared %d bodies: %v; normalised on both sides: %d intentional differences", len(cases), verdicts, len(bodyIntentional))
	assert.GreaterOrEqual(t, len(cases), 50000)
	assert.Greater(t, verdicts["ok"], 10000, "valid bodies are compared by content too")
}
