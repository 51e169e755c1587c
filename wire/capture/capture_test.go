package capture

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

func response(t testing.TB, h header.Header, body []byte) []byte {
	t.Helper()
	b, err := wire.AppendResponse(nil, h, body)
	require.NoError(t, err)
	return b
}

func request(t testing.TB, h header.Header, body, auth []byte) []byte {
	t.Helper()
	b, err := wire.AppendRequest(nil, h, body, auth)
	require.NoError(t, err)
	return b
}

// segments reads a source to the end: the bytes of each stream (a new one at each Start),
// and the input errors.
func segments(t *testing.T, src Source) (streams [][]byte, errs []error) {
	t.Helper()
	for {
		seg, err := src.Next()
		if err == io.EOF {
			return streams, errs
		}
		if err != nil {
			var ie *InputError
			require.True(t, errors.As(err, &ie), "only input errors: %v", err)
			errs = append(errs, err)
			continue
		}
		if seg.Start || len(streams) == 0 {
			streams = append(streams, nil)
		}
		streams[len(streams)-1] = append(streams[len(streams)-1], seg.Data...)
	}
}

func TestHexLines(t *testing.T) {
	a := response(t, header.Header{Opcode: 1}, []byte{8, 1})
	b := response(t, header.Header{Opcode: 12, Status: status.PsaErrorDoesNotExist}, nil)
	text := "# two frames\n" + hex.EncodeToString(a) + "\n\n" + strings.ToUpper(hex.EncodeToString(b)) + "  # comment\n" +
		"zz not hex\n" + "0x10, 0xa7\n" + "10:a7:c0\n" + "10 a\n" + hex.EncodeToString(a) + hex.EncodeToString(b) + "\r\n"
	streams, errs := segments(t, NewHex(strings.NewReader(text)))
	require.Len(t, streams, 5, "every good line is read, before and after the bad ones")
	assert.Equal(t, a, streams[0])
	assert.Equal(t, b, streams[1])
	assert.Equal(t, []byte{0x10, 0xa7}, streams[2])
	assert.Equal(t, []byte{0x10, 0xa7, 0xc0}, streams[3])
	assert.Equal(t, append(append([]byte{}, a...), b...), streams[4])
	require.Len(t, errs, 2)
	assert.Contains(t, errs[0].Error(), "line 5: hex: invalid character 'z' at column 1")
	assert.Contains(t, errs[1].Error(), "line 8: hex: odd number of hex digits")
}

func TestLongLine(t *testing.T) {
	// One line of 1 MiB of frames: read in pieces, one stream, the same bytes.
	fr := response(t, header.Header{Opcode: 13}, bytes.Repeat([]byte{0xab}, 1000))
	data := bytes.Repeat(fr, (1<<20)/len(fr))
	for _, tc := range []struct {
		name string
		src  Source
	}{
		{"hex", NewHex(strings.NewReader(hex.EncodeToString(data) + "\n"))},
		{"base64", NewBase64(strings.NewReader(base64.StdEncoding.EncodeToString(data) + "\n"))},
	} {
		streams, errs := segments(t, tc.src)
		require.Empty(t, errs, tc.name)
		require.Len(t, streams, 1, tc.name)
		assert.True(t, bytes.Equal(data, streams[0]), tc.name)
	}
}

func TestBase64Lines(t *testing.T) {
	a := response(t, header.Header{Opcode: 1}, []byte{8, 1, 0xfb, 0xff})
	text := base64.StdEncoding.EncodeToString(a) + "\n" + base64.RawURLEncoding.EncodeToString(a) + "\n" +
		"# comment\n" + "not base64!\n" + base64.StdEncoding.EncodeToString(a[:37]) + "\n"
	streams, errs := segments(t, NewBase64(strings.NewReader(text)))
	require.Len(t, streams, 3)
	assert.Equal(t, a, streams[0])
	assert.Equal(t, a, streams[1], "URL-safe, unpadded")
	assert.Equal(t, a[:37], streams[2])
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "line 4: base64: invalid character '!' at column 11")
}

// TestDumps reads back every dump of testdata/dumps/frames.bin, made with the real tools.
func TestDumps(t *testing.T) {
	want, err := os.ReadFile("../../testdata/dumps/frames.bin")
	require.NoError(t, err)
	files, err := filepath.Glob("../../testdata/dumps/frames*.*")
	require.NoError(t, err)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".bin") {
			continue
		}
		n++
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		format, ok := Detect(data)
		require.True(t, ok, f)
		name := filepath.Base(f)
		wantFormat := strings.TrimPrefix(filepath.Ext(name), ".")
		if name == "frames-plain.hexdump" {
			wantFormat = "od" // plain hexdump prints what od -x prints
		}
		assert.Equal(t, wantFormat, format.Name, f)
		src, used, err := Open(f, bytes.NewReader(data), "auto")
		require.NoError(t, err, f)
		assert.Equal(t, wantFormat, used, f)
		streams, errs := segments(t, src)
		require.Empty(t, errs, f)
		require.Len(t, streams, 1, f)
		assert.True(t, bytes.Equal(want, streams[0]), "%s: %x", f, streams[0])
	}
	assert.Equal(t, 7, n)
}

func TestDumpGaps(t *testing.T) {
	// A line missing from an xxd dump: the stream lacks its bytes, and says how many.
	data, err := os.ReadFile("../../testdata/dumps/frames.xxd")
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	cut := strings.Join(append(append([]string{}, lines[:3]...), lines[4:]...), "\n")
	src := NewXxd(strings.NewReader(cut))
	var missing int64
	var got int
	for {
		seg, err := src.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		missing += seg.Missing
		got += len(seg.Data)
	}
	assert.Equal(t, int64(16), missing)
	assert.Equal(t, len(sample(t))-16, got)

	_, errs := segments(t, NewXxd(strings.NewReader("00000000: 10a7 c05e  ...^\nnonsense\n00000004: 1e00  ..\n")))
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "line 2: xxd: not a line of xxd output")
}

func TestMockCases(t *testing.T) {
	req := request(t, header.Header{Opcode: 1}, nil, nil)
	resp := response(t, header.Header{Opcode: 1}, []byte{8, 1})
	doc := "spec:\n  name: x\ntest_data:\n  request: " + base64.StdEncoding.EncodeToString(req) +
		"\n  response: " + base64.StdEncoding.EncodeToString(resp) + "\n"
	text := doc + "---\n# a README-like document\ntitle: notes\n---\n" + "test_data:\n  result: " +
		base64.StdEncoding.EncodeToString(resp) + "\n"
	src := NewMock(strings.NewReader(text))
	var segs []Segment
	var errs []error
	for {
		seg, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seg.Data = append([]byte(nil), seg.Data...)
		segs = append(segs, seg)
	}
	require.Len(t, segs, 3)
	assert.Equal(t, Segment{Conn: "case 0", Dir: DirRequest, Data: req, Line: 4, Start: true, End: true}, segs[0])
	assert.Equal(t, Segment{Conn: "case 0", Dir: DirResponse, Data: resp, Line: 5, Start: true, End: true}, segs[1])
	assert.Equal(t, "case 2", segs[2].Conn, "the older key, result")
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "case 1: no test_data")
}

func TestDetect(t *testing.T) {
	fr := response(t, header.Header{Opcode: 1}, []byte{8, 1})
	cases := []struct {
		name, want string
		head       []byte
	}{
		{"raw", "raw", fr},
		{"binary", "raw", []byte{0, 1, 2, 3, 0xff}},
		{"hex", "hex", []byte("# c\n" + hex.EncodeToString(fr) + "\n")},
		{"C array", "hex", []byte("0x10, 0xA7, 0xC0, 0x5E, 0x1e\n")},
		{"base64", "base64", []byte(base64.StdEncoding.EncodeToString(fr) + "\n")},
		{"mock", "mock", []byte("spec:\n  name: x\ntest_data:\n  request: AAAA\n")},
		{"strace", "strace", []byte("1234  execve(\"./app\") = 0\n1234  write(3, \"\\x10\\xa7\\xc0\\x5e\", 36) = 36\n")},
		{"strace -f", "strace", []byte("[pid  4242] read(3, \"\\x10\\xa7\", 4096) = 36\n")},
		{"socat", "socat", []byte("> 2026/11/29 09:00:00.000000  length=36 from=0 to=35\n 10 a7 c0 5e\n--\n")},
		{"pcap", "pcap", []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0}},
		{"pcap ns", "pcap", []byte{0x4d, 0x3c, 0xb2, 0xa1, 2, 0}},
		{"pcapng", "pcapng", []byte{0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0}},
		{"xxd", "xxd", []byte("00000000: 10a7 c05e 1e00 0100  ...^....\n")},
		{"hexdump -C", "hexdump", []byte("00000000  10 a7 c0 5e 1e 00 01 00  |...^....|\n00000008\n")},
		{"od", "od", []byte("0000000 123420 057300\n0000004\n")},
	}
	for _, tc := range cases {
		f, ok := Detect(tc.head)
		if assert.True(t, ok, tc.name) {
			assert.Equal(t, tc.want, f.Name, tc.name)
		}
	}
	for _, prose := range []string{"# Captures\n\nThese files hold frames of a Parsec service.\n", "deadbeef\n", "Zm9vYmFy\n", ""} {
		_, ok := Detect([]byte(prose))
		assert.False(t, ok, "%q is no capture", prose)
	}
	_, _, err := Open("notes.txt", strings.NewReader("Some notes about the capture.\n"), "auto")
	assert.ErrorIs(t, err, ErrUnrecognised)
	_, _, err = Open("empty", strings.NewReader(""), "auto")
	assert.ErrorIs(t, err, ErrUnrecognised)
	for _, name := range []string{"app.strace", "x.socat", "c.pcap", "c.pcapng"} {
		f, ok := ByExtension(name)
		require.True(t, ok, name)
		assert.NotNil(t, f.Open, name)
	}
	_, _, err = Open("x", strings.NewReader(""), "xml")
	assert.Error(t, err)
}

// run decodes src with cfg and returns the records, copied.
func run(t *testing.T, cfg Config, src Source) ([]Record, Stats) {
	t.Helper()
	d := NewDecoder(cfg)
	var out []Record
	require.NoError(t, d.Run("in", src, func(r *Record) error {
		c := *r
		c.Body, c.Auth = append([]byte(nil), r.Body...), append([]byte(nil), r.Auth...)
		if r.Err != nil {
			c.Err = errors.New(r.Err.Error())
		}
		out = append(out, c)
		return nil
	}, nil))
	return out, d.Stats()
}

// fixed is a Source of the segments given.
type fixed struct{ segs []Segment }

func (f *fixed) Next() (Segment, error) {
	if len(f.segs) == 0 {
		return Segment{}, io.EOF
	}
	s := f.segs[0]
	f.segs = f.segs[1:]
	return s, nil
}

func TestPairing(t *testing.T) {
	q := func(h header.Header) []byte { return request(t, h, []byte{1}, []byte("app")) }
	ping := header.Header{Provider: 1, Session: 7, Opcode: 1}
	export := header.Header{Provider: 1, Session: 7, Opcode: 12}
	statusOnly := header.Header{Opcode: 1, Status: status.ConnectionError}
	wrong := header.Header{Provider: 2, Session: 7, Opcode: 9}
	segs := []Segment{
		// Connection A: two requests in one write, their answers in pieces.
		{Conn: "A", Dir: DirRequest, Data: append(q(ping), q(export)...)},
		{Conn: "B", Dir: DirRequest, Data: q(ping)},
		{Conn: "A", Dir: DirResponse, Data: response(t, ping, []byte{8, 1})[:20]},
		{Conn: "B", Dir: DirResponse, Data: response(t, wrong, nil)},
		{Conn: "A", Dir: DirResponse, Data: append(response(t, ping, []byte{8, 1})[20:], response(t, statusOnly, nil)...)},
		{Conn: "B", Dir: DirRequest, Data: q(ping), End: true},
	}
	recs, stats := run(t, Config{}, &fixed{segs})
	require.Len(t, recs, 7)
	byConn := map[string][]Record{}
	for _, r := range recs {
		byConn[r.Conn] = append(byConn[r.Conn], r)
		assert.True(t, r.OK, "%+v", r)
	}
	a, b := byConn["A"], byConn["B"]
	require.Len(t, a, 4)
	require.Len(t, b, 3)
	assert.Equal(t, DirRequest, a[0].Kind)
	assert.Equal(t, a[0].Exchange, a[2].Exchange, "the first answer pairs with the first request")
	assert.Equal(t, a[1].Exchange, a[3].Exchange)
	assert.Empty(t, a[2].Echo)
	assert.Empty(t, a[3].Echo, "a status-only answer (provider 0, session 0, opcode 1) is not a mismatch")
	assert.Equal(t, []byte("app"), a[0].Auth, "auth bytes apart from the body")
	assert.Equal(t, []byte{1}, a[0].Body)
	assert.Contains(t, b[1].Echo, "provider 2 (request 1)")
	assert.Contains(t, b[1].Echo, "opcode 9 (request 1)")
	assert.NotContains(t, b[1].Echo, "session")
	assert.Equal(t, int64(1), stats.Unanswered, "B's second request")
	for i, r := range recs {
		assert.Equal(t, int64(i), r.Index, "index is the frame number within the source")
	}
}

func TestPairingBounded(t *testing.T) {
	// A client that never reads its answers: at most Pending requests are kept.
	req := request(t, header.Header{Opcode: 1}, nil, nil)
	var segs []Segment
	for i := 0; i < 1000; i++ {
		segs = append(segs, Segment{Conn: "A", Dir: DirRequest, Data: req})
	}
	d := NewDecoder(Config{Pending: 8})
	n := 0
	require.NoError(t, d.Run("in", &fixed{segs}, func(r *Record) error { n++; return nil }, nil))
	assert.Equal(t, 1000, n)
	assert.Equal(t, int64(1000), d.Stats().Unanswered)
	assert.Nil(t, d.conns)
}

func TestReverseDirections(t *testing.T) {
	// strace and pcap give "one way" and "the other way": the side that speaks first is the
	// client.
	req := request(t, header.Header{Opcode: 9}, nil, nil)
	resp := response(t, header.Header{Opcode: 9}, nil)
	recs, _ := run(t, Config{}, &fixed{[]Segment{
		{Conn: "fd 3", Reverse: true, Data: req},
		{Conn: "fd 3", Data: resp},
	}})
	require.Len(t, recs, 2)
	assert.Equal(t, DirRequest, recs[0].Kind)
	assert.Equal(t, DirResponse, recs[1].Kind)
	assert.Equal(t, int64(1), recs[1].Exchange)
}

func TestDecoderStreams(t *testing.T) {
	ok := response(t, header.Header{Opcode: 1}, []byte{8, 1})
	t.Run("a lost piece makes the frame incomplete, not invalid", func(t *testing.T) {
		recs, _ := run(t, Config{}, &fixed{[]Segment{
			{Data: ok[:10], Missing: 28},
			{Data: append([]byte{9, 9, 9}, ok...)},
		}})
		require.Len(t, recs, 2)
		assert.Equal(t, int64(28), recs[0].Missing)
		assert.False(t, recs[0].OK)
		assert.Contains(t, recs[0].Err.Error(), "lacks 28 bytes")
		assert.True(t, recs[1].OK, "the stream resumes at the next magic number")
		assert.Equal(t, int64(38+3), recs[1].Offset)
	})
	t.Run("a fault reports the bytes its resync skipped", func(t *testing.T) {
		recs, _ := run(t, Config{}, &fixed{[]Segment{
			{Data: []byte{1, 2, 3, 4, 5}, Line: 1},
			{Data: ok, Line: 2},
			{Data: []byte{7, 7, 7, 7, 7, 7}, Line: 3},
		}})
		require.Len(t, recs, 3)
		assert.Equal(t, int64(5), recs[0].Skipped)
		assert.True(t, recs[0].Resumed)
		assert.Equal(t, 2, recs[1].Line, "the line of the frame's first byte")
		assert.Equal(t, int64(6), recs[2].Skipped)
		assert.False(t, recs[2].Resumed)
	})
	t.Run("each Start is a stream of its own", func(t *testing.T) {
		recs, _ := run(t, Config{}, &fixed{[]Segment{
			{Data: ok[:30], Start: true, Line: 1},
			{Data: ok, Start: true, Line: 2},
		}})
		require.Len(t, recs, 2)
		assert.True(t, errors.Is(status.ConnectionError, status.ConnectionError))
		assert.Equal(t, status.ConnectionError, recs[0].Code)
		assert.Equal(t, int64(0), recs[1].Offset, "offsets count from the stream's start")
		assert.Equal(t, int64(1), recs[1].Index)
	})
	t.Run("a body the reference refuses makes a valid frame invalid", func(t *testing.T) {
		// A Ping result announcing version 256.0, then one with 1.0.
		bad, err := wire.AppendResponse(nil, header.Header{Opcode: header.OpPing}, []byte{0x08, 0x80, 0x02})
		require.NoError(t, err)
		good, err := wire.AppendResponse(nil, header.Header{Opcode: header.OpPing}, []byte{0x08, 0x01})
		require.NoError(t, err)
		stream := append(append([]byte{}, bad...), good...)
		for _, mode := range []Bodies{BodiesCheck, BodiesDecode} {
			recs, _ := run(t, Config{Bodies: mode}, &fixed{[]Segment{{Data: stream}}})
			require.Len(t, recs, 2)
			assert.False(t, recs[0].OK)
			assert.Equal(t, status.InvalidEncoding, recs[0].Code)
			assert.Equal(t, "body", recs[0].Field)
			assert.Equal(t, int64(header.Size+1), recs[0].FaultOffset, "the offset of the bad value in the stream")
			assert.Contains(t, recs[0].Err.Error(), "wire_protocol_version_maj")
			assert.True(t, recs[1].OK)
			var m map[string]any
			require.NoError(t, json.Unmarshal(recs[1].AppendJSON(nil), &m))
			if mode == BodiesDecode {
				assert.Equal(t, map[string]any{"wire_protocol_version_maj": float64(1), "wire_protocol_version_min": float64(0)}, m["body"])
			} else {
				assert.NotContains(t, m, "body")
			}
		}
		recs, _ := run(t, Config{}, &fixed{[]Segment{{Data: stream}}})
		assert.True(t, recs[0].OK, "BodiesOff: the framing verdict alone")
	})
}

func TestRecordJSON(t *testing.T) {
	r := Record{Source: "a \"b\"\n\x01é", Kind: DirRequest, Index: 3, Offset: 5, Decoded: true,
		Header: header.Header{Session: 1<<64 - 1, AuthLength: 3, AuthType: 1}, Exchange: 2, Echo: "x"}
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.AppendJSON(nil), &m))
	assert.Equal(t, r.Source, m["source"])
	assert.Equal(t, "request", m["kind"])
	assert.Equal(t, "18446744073709551615", m["session"])
	assert.Equal(t, float64(3), m["auth_length"])
	assert.Equal(t, float64(2), m["exchange"])
	assert.Equal(t, "x", m["echo"])
	assert.NotContains(t, m, "error")
}

func TestIndexDigits(t *testing.T) {
	var e JSONEncoder
	for _, i := range []int64{0, 1, 2, 9, 10, 11, 99, 100, 5, 6, 999, 1000, 1001} {
		assert.Equal(t, strconv.FormatInt(i, 10), string(e.indexDigits(i)), "%d", i)
	}
	for i := int64(0); i < 12345; i++ {
		require.Equal(t, strconv.FormatInt(i, 10), string(e.indexDigits(i)))
	}
}

// sample is the bytes every dump of testdata/dumps holds.
func sample(t *testing.T) []byte {
	b, err := os.ReadFile("../../testdata/dumps/frames.bin")
	require.NoError(t, err)
	return b
}
