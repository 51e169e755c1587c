package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/wiretest"
)

// startTap runs parsecwire tap in-process in front of upstream.
func startTap(t *testing.T, upstream string, args ...string) *testServer {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "tap.sock")
	return startMain(t, "tap", tapMain, sock, append([]string{"-listen", sock, "-upstream", upstream}, args...))
}

// pcapStreams reassembles a pcapng capture into the bytes of each direction of each TCP
// connection, by client port.
func pcapStreams(t *testing.T, path string) (requests, responses map[uint16][]byte) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	require.NoError(t, err)
	requests, responses = map[uint16][]byte{}, map[uint16][]byte{}
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return requests, responses
		}
		require.NoError(t, err)
		tcp, ok := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default).Layer(layers.LayerTypeTCP).(*layers.TCP)
		require.True(t, ok)
		if tcp.DstPort == wiretest.ServicePort {
			requests[uint16(tcp.SrcPort)] = append(requests[uint16(tcp.SrcPort)], tcp.Payload...)
		} else {
			responses[uint16(tcp.DstPort)] = append(responses[uint16(tcp.DstPort)], tcp.Payload...)
		}
	}
}

// TestTapEndToEnd: a client, tap and the library server as the service. The client gets
// the service's answers byte for byte, tap reports the two bad requests and nothing else,
// pairs every response with its request, and its capture holds both directions of every
// connection.
func TestTapEndToEnd(t *testing.T) {
	upstream := wiretest.NewServer(nil)
	defer upstream.Close()
	capture := filepath.Join(t.TempDir(), "traffic.pcapng")
	tap := startTap(t, upstream.Path, "-w", capture, "-all", "-json")

	// A wire.Client through the tap, as through the service.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		req  header.Header
		body []byte
		err  error
	}{
		{header.Header{Session: 1, Opcode: header.OpPing}, []byte{8, 1}, nil},
		{header.Header{Provider: 1, Session: 2, Opcode: header.OpListProviders}, listProviders(t), nil},
		{header.Header{Session: 3, Opcode: 999}, nil, status.OpcodeDoesNotExist},
	} {
		c, err := wire.Dial(ctx, tap.socket)
		require.NoError(t, err)
		var resp header.Header
		body, err := c.RoundTrip(ctx, tc.req, nil, nil, &resp)
		c.Close()
		if tc.err != nil {
			assert.ErrorIs(t, err, tc.err)
		} else {
			require.NoError(t, err)
			assert.Equal(t, string(tc.body), string(body))
		}
	}
	// Raw exchanges: the client sees exactly what the service sends directly.
	raws := [][]byte{
		[]byte("GET / HTTP/1.1\r\n\r\n"),
		func() []byte {
			b, _ := wire.AppendRequest(nil, header.Header{Provider: 2, Session: 9, Opcode: header.OpListOpcodes}, []byte{8, 2}, []byte("auth"))
			return b
		}(),
	}
	for _, req := range raws {
		assert.Equal(t, exchange(t, upstream.Path, req), exchange(t, tap.socket, req), "through the tap as directly: %q", req)
	}
	assert.Equal(t, exitInvalid, tap.stop(), "the two bad requests are findings")

	recs := jsonLines(t, tap.stdout.String())
	require.Len(t, recs, 10, "a request and a response for each of the five exchanges")
	byKind := map[string]int{}
	for _, r := range recs {
		byKind[r["kind"].(string)]++
		if r["kind"] == "response" {
			assert.Equal(t, true, r["ok"], "every response is valid and answers its request: %v", r)
			assert.Equal(t, float64(0), r["request_index"])
			assert.NotContains(t, r, "mismatch")
		}
	}
	assert.Equal(t, map[string]int{"request": 5, "response": 5}, byKind)
	summary := tap.stderr.String()
	assert.Contains(t, summary, "5 connections, 5 requests, 5 responses; findings: 2 (invalid request (InvalidHeader) 1, invalid request (OpcodeDoesNotExist) 1)")

	// The capture: five connections, each with its request and its answer.
	reqs, resps := pcapStreams(t, capture)
	require.Len(t, reqs, 5)
	require.Len(t, resps, 5)
	var gotPairs, wantPairs []string
	for port, req := range reqs {
		gotPairs = append(gotPairs, string(req)+"|"+string(resps[port]))
	}
	for _, req := range raws {
		wantPairs = append(wantPairs, string(req)+"|"+string(exchange(t, upstream.Path, req)))
	}
	sort.Strings(gotPairs)
	for _, w := range wantPairs {
		assert.Contains(t, gotPairs, w)
	}
	for _, p := range gotPairs {
		assert.NotEqual(t, "|", p, "no empty connection")
	}

	// decode reads the capture back: directions from the handshakes, each response paired
	// with its request, the same verdicts as tap's.
	r := cli(t, "", "decode", "-json", capture)
	assert.Equal(t, exitInvalid, r.code, r.stderr)
	decoded := jsonLines(t, r.stdout)
	byKind = map[string]int{}
	exchanges := map[float64]int{}
	for _, d := range decoded {
		byKind[d["kind"].(string)]++
		if e, ok := d["exchange"].(float64); ok {
			exchanges[e]++
		}
		if d["kind"] == "response" {
			assert.NotContains(t, d, "echo", "every answer echoes its request: %v", d)
		}
	}
	// The HTTP request is no frame: it is one fault, and its answer the status-only one.
	assert.Equal(t, map[string]int{"request": 5, "response": 5}, byKind)
	assert.Len(t, exchanges, 5)
	for e, n := range exchanges {
		assert.Equal(t, 2, n, "exchange %v: a request and its response", e)
	}
}

// TestTapFindsMismatch: a service whose answers do not echo their requests.
func TestTapFindsMismatch(t *testing.T) {
	upstream := wiretest.NewServer(wiretest.HandlerFunc(func(w wiretest.ResponseWriter, r *wiretest.Request) {
		_ = w.WriteResponse(header.Header{Provider: r.Header.Provider, Session: r.Header.Session + 1, Opcode: r.Header.Opcode}, nil)
	}))
	defer upstream.Close()
	tap := startTap(t, upstream.Path)
	req, err := wire.AppendRequest(nil, header.Header{Session: 41, Opcode: header.OpPing}, nil, nil)
	require.NoError(t, err)
	got := exchange(t, tap.socket, req)
	h, err := header.Decode(got)
	require.NoError(t, err)
	assert.Equal(t, uint64(42), h.Session, "forwarded as it is")
	assert.Equal(t, exitInvalid, tap.stop())
	out := tap.stdout.String()
	assert.Contains(t, out, "tap (conn 0) frame 0 at offset 0: ok\n")
	assert.Contains(t, out, "    NOT ECHOED: response session 42, expected 41: a response echoes its request\n")
	assert.Contains(t, out, "findings: 1 (response not answering its request 1)")
	assert.NotContains(t, out, "request frame 0 at offset 0", "the valid request is not printed without -all")
}

// TestTapMutate: the client under test gets the real service's answers, mutated
// reproducibly by the seed; tap judges the service's real answers and says what was sent.
func TestTapMutate(t *testing.T) {
	upstream := wiretest.NewServer(nil)
	defer upstream.Close()
	run := func(seed string) ([][]byte, []map[string]any) {
		tap := startTap(t, upstream.Path, "-mutate", seed, "-all", "-json")
		var got [][]byte
		for i := range 30 {
			req, err := wire.AppendRequest(nil, header.Header{Session: uint64(i), Opcode: header.OpPing}, nil, nil)
			require.NoError(t, err)
			got = append(got, exchange(t, tap.socket, req))
		}
		assert.Equal(t, exitOK, tap.stop(), "the service's own answers are all good")
		return got, jsonLines(t, tap.stdout.String())
	}
	a, recsA := run("42")
	b, _ := run("42")
	c, _ := run("43")
	assert.Equal(t, a, b, "the same seed and requests give the same answers")
	assert.NotEqual(t, a, c)
	changed := 0
	for i, got := range a {
		want, err := wire.AppendResponse(nil, header.Header{Session: uint64(i), Opcode: header.OpPing}, []byte{8, 1})
		require.NoError(t, err)
		if !bytes.Equal(got, want) {
			changed++
		}
	}
	assert.Greater(t, changed, 15, "most answers reach the client mutated")
	mutations := 0
	for _, r := range recsA {
		if r["kind"] == "response" {
			assert.Equal(t, true, r["ok"], "judged before the mutation: %v", r)
			if m, ok := r["mutation"].(string); ok && m != "" {
				mutations++
			}
		}
	}
	assert.Equal(t, 30, mutations)
}

func TestTapUsage(t *testing.T) {
	r := cli(t, "", "tap", "-h")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "Examples:")
	assert.Equal(t, exitUsage, cli(t, "", "tap").code, "-listen is required")
	// No service behind it: the client's connection is closed, and tap says why.
	tap := startTap(t, filepath.Join(t.TempDir(), "nobody.sock"))
	conn, err := net.Dial("unix", tap.socket)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	got, _ := io.ReadAll(conn)
	assert.Empty(t, got)
	assert.Equal(t, exitOK, tap.stop())
	assert.Contains(t, tap.stderr.String(), "connection 0: dial unix")
	assert.Contains(t, tap.stderr.String(), "no such file or directory")
}

// TestTapBetweenProbeAndServe: probe's valid and mutated requests through tap to serve.
// probe finds nothing wrong with the answers that came through, and tap pairs every
// response with its request: its only findings are the bad requests probe made on purpose.
func TestTapBetweenProbeAndServe(t *testing.T) {
	upstream := startServe(t, "-quiet", "-timeout", "1s")
	tap := startTap(t, upstream.socket)
	r := cli(t, "", "probe", "-socket", tap.socket, "-n", "150", "-seed", "4", "-expect", "framing")
	assert.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "findings: 0")
	assert.Equal(t, exitInvalid, tap.stop(), "probe's mutated requests are findings")
	out := tap.stdout.String()
	assert.NotContains(t, out, "NOT ECHOED")
	assert.NotContains(t, out, "response not answering its request")
	assert.NotContains(t, out, "response without a request")
	assert.Contains(t, out, "150 connections")
	assert.Contains(t, out, "150 responses")
	upstream.stop()
	assert.Contains(t, upstream.stdout.String(), "150 connections, 150 requests")
}

// listProviders is the body of the default answer to ListProviders.
func listProviders(t *testing.T) []byte {
	b, err := operation.Encode(header.OpListProviders, operation.Response, operation.Fields{{Name: "providers", Value: wiretest.Providers}})
	require.NoError(t, err)
	return b
}
