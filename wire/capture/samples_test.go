package capture_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/capture"
)

// The samples under testdata/captures were made by testdata/captures/make.sh: the sample
// client there sends, on three connections, Ping, ListProviders and ListOpcodes; then
// ListAuthenticators with authentication bytes; then PsaGenerateRandom, to
// `parsecwire serve -keep-alive`, which answers each with Success.
var sampleOpcodes = [][]uint32{{1, 8, 9}, {14}, {13}}

type sampleConn struct {
	name      string
	req, resp []byte
	ended     [2]bool
}

// readSample joins the segments of each connection and direction, in order of appearance.
func readSample(t *testing.T, src capture.Source) []*sampleConn {
	t.Helper()
	var conns []*sampleConn
	byName := map[string]*sampleConn{}
	for {
		seg, err := src.Next()
		if err == io.EOF {
			return conns
		}
		require.NoError(t, err)
		require.Zero(t, seg.Missing, "nothing is missing from the samples")
		c := byName[seg.Conn]
		if c == nil {
			c = &sampleConn{name: seg.Conn}
			byName[seg.Conn] = c
			conns = append(conns, c)
		}
		switch seg.Dir {
		case capture.DirRequest:
			c.req = append(c.req, seg.Data...)
			c.ended[0] = c.ended[0] || seg.End
		case capture.DirResponse:
			c.resp = append(c.resp, seg.Data...)
			c.ended[1] = c.ended[1] || seg.End
		default:
			t.Fatalf("%s: a segment of unknown direction: every sample shows who is the client", seg.Conn)
		}
	}
}

// checkExchanges reads each connection's streams with wire.Reader: the requests with
// NextRequest, the responses with Next, each response echoing its request.
func checkExchanges(t *testing.T, conns []*sampleConn, name *regexp.Regexp, ends bool) {
	t.Helper()
	require.Len(t, conns, len(sampleOpcodes))
	for i, c := range conns {
		assert.Regexp(t, name, c.name)
		if ends {
			assert.Equal(t, [2]bool{true, true}, c.ended, "%s: both directions end", c.name)
		}
		reqs := wire.NewReader(bytes.NewReader(c.req))
		resps := wire.NewReader(bytes.NewReader(c.resp))
		resps.SetStrict(true)
		for _, op := range sampleOpcodes[i] {
			var q, r header.Header
			body, auth, err := reqs.NextRequest(&q)
			require.NoError(t, err, "%s: request", c.name)
			assert.Equal(t, op, q.Opcode, "%s: request opcode", c.name)
			if op == 14 {
				assert.Equal(t, "parsecwire-sample", string(auth))
			}
			if op == 13 {
				assert.Equal(t, []byte{0x08, 0x10}, body)
			}
			_, err = resps.Next(&r)
			require.NoError(t, err, "%s: response", c.name)
			assert.Equal(t, status.Success, r.Status)
			assert.Equal(t, q.Opcode, r.Opcode, "%s: the response echoes its request", c.name)
			assert.Equal(t, q.Provider, r.Provider)
			assert.Equal(t, q.Session, r.Session)
		}
		var h header.Header
		_, _, err := reqs.NextRequest(&h)
		assert.Equal(t, io.EOF, err, "%s: no more requests", c.name)
		_, err = resps.Next(&h)
		assert.Equal(t, io.EOF, err, "%s: no more responses", c.name)
	}
}

func openSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "captures", name))
	require.NoError(t, err)
	require.Less(t, len(b), 100<<10, "samples stay small")
	return b
}

func TestSamples(t *testing.T) {
	straceName := regexp.MustCompile(`^pid \d+ fd \d+( #\d+)?$`)
	tcpName := regexp.MustCompile(`^127\.0\.0\.1:\d+-127\.0\.0\.1:47001$`)
	t.Run("strace of the client", func(t *testing.T) {
		checkExchanges(t, readSample(t, capture.NewStrace(bytes.NewReader(openSample(t, "client.strace")))), straceName, true)
	})
	t.Run("strace of the service", func(t *testing.T) {
		checkExchanges(t, readSample(t, capture.NewStrace(bytes.NewReader(openSample(t, "service.strace")))), straceName, true)
	})
	t.Run("socat -x -v", func(t *testing.T) {
		checkExchanges(t, readSample(t, capture.NewSocat(bytes.NewReader(openSample(t, "socat.log")))), regexp.MustCompile(`^conn [123]$`), false)
	})
	for _, file := range []string{"tcp.pcap", "tcp.pcapng"} {
		t.Run(file, func(t *testing.T) {
			src, err := capture.NewPcap(bytes.NewReader(openSample(t, file)))
			require.NoError(t, err)
			checkExchanges(t, readSample(t, src), tcpName, true)
		})
	}
	t.Run("tcp.pcap compressed", func(t *testing.T) {
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		_, _ = w.Write(openSample(t, "tcp.pcap"))
		require.NoError(t, w.Close())
		src, err := capture.NewPcap(&gz)
		require.NoError(t, err)
		checkExchanges(t, readSample(t, src), tcpName, true)
	})
}

// TestSamplesCut reads every sample cut short at many places: no panic, and never more
// data bytes than the cut input holds.
func TestSamplesCut(t *testing.T) {
	for _, file := range []string{"client.strace", "service.strace", "socat.log", "tcp.pcap", "tcp.pcapng"} {
		b := openSample(t, file)
		step := max(1, len(b)/1500)
		if testing.Short() {
			step = max(1, len(b)/200)
		}
		for i := 0; i < len(b); i += step {
			var src capture.Source
			switch filepath.Ext(file) {
			case ".strace":
				src = capture.NewStrace(bytes.NewReader(b[:i]))
			case ".log":
				src = capture.NewSocat(bytes.NewReader(b[:i]))
			default:
				var err error
				if src, err = capture.NewPcap(bytes.NewReader(b[:i])); err != nil {
					continue
				}
			}
			assert.LessOrEqual(t, dataBytes(drain(t, src)), i, "%s cut at %d", file, i)
		}
	}
}

// TestReadmeCaptureExample keeps the README's capture example identical to ExampleNewPcap,
// which the tests compile and run.
func TestReadmeCaptureExample(t *testing.T) {
	src, err := os.ReadFile("example_pcap_test.go")
	require.NoError(t, err)
	s := string(src)
	begin := strings.Index(s, "// example:begin\n")
	end := strings.Index(s, "\t// example:end")
	require.True(t, begin >= 0 && end > begin)
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(s[begin+len("// example:begin\n"):end], "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), "```go\n"+strings.Join(lines, "\n")+"\n```")
}
