package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tcpSeg describes one captured TCP packet between a client (side 0, 192.0.2.1:40000 or
// 2001:db8::1) and a service (side 1, port 5000).
type tcpSeg struct {
	side    int
	flags   string // S, A, F, R
	seq     uint32
	payload string
}

var (
	cli4, srv4 = net.IPv4(192, 0, 2, 1).To4(), net.IPv4(192, 0, 2, 2).To4()
	cli6, srv6 = net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::2")
)

// ipTCP serializes the IP and TCP headers and the payload of a segment.
func ipTCP(s tcpSeg, v6 bool) []byte {
	src, dst := cli4, srv4
	if v6 {
		src, dst = cli6, srv6
	}
	sport, dport := layers.TCPPort(40000), layers.TCPPort(5000)
	if s.side == 1 {
		src, dst, sport, dport = dst, src, dport, sport
	}
	tcp := &layers.TCP{SrcPort: sport, DstPort: dport, Seq: s.seq, Window: 65535, Ack: 1,
		SYN: strings.Contains(s.flags, "S"), ACK: strings.Contains(s.flags, "A"),
		FIN: strings.Contains(s.flags, "F"), RST: strings.Contains(s.flags, "R")}
	var nl gopacket.SerializableLayer
	if v6 {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		nl = ip
	} else {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		nl = ip
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		nl, tcp, gopacket.Payload(s.payload)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// frame puts a link-layer header before an IP packet.
func frame(link layers.LinkType, ip []byte, v6 bool) []byte {
	ethType, af := []byte{0x08, 0x00}, uint32(2)
	if v6 {
		ethType, af = []byte{0x86, 0xdd}, 10
	}
	var h []byte
	switch link {
	case layers.LinkTypeEthernet:
		h = append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}, ethType...)
	case layers.LinkTypeLinuxSLL:
		h = append([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, ethType...)
	case layers.LinkTypeLinuxSLL2:
		h = append(append([]byte{}, ethType...), 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0)
	case layers.LinkTypeNull:
		h = binary.LittleEndian.AppendUint32(nil, af)
	case layers.LinkTypeLoop:
		h = binary.BigEndian.AppendUint32(nil, af)
	}
	return append(h, ip...)
}

// pcapFile writes a classic pcap file in either byte order and timestamp resolution.
func pcapFile(order binary.AppendByteOrder, nanos bool, link uint32, snaplen uint32, packets [][]byte) []byte {
	magic := uint32(0xA1B2C3D4)
	if nanos {
		magic = 0xA1B23C4D
	}
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, snaplen)
	b = order.AppendUint32(b, link)
	for i, p := range packets {
		b = order.AppendUint32(b, 1700000000+uint32(i))
		b = order.AppendUint32(b, uint32(i))
		b = order.AppendUint32(b, uint32(len(p)))
		b = order.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func pcapngFile(link layers.LinkType, packets [][]byte) []byte {
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, link)
	if err != nil {
		panic(err)
	}
	for i, p := range packets {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)), CaptureLength: len(p), Length: len(p)}
		if err := w.WritePacket(ci, p); err != nil {
			panic(err)
		}
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func render(seg Segment, err error) string {
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return "error: " + ie.Reason
		}
		return "fatal: " + err.Error()
	}
	s := seg.Conn + "|" + seg.Dir.String() + "|" + string(seg.Data)
	if seg.Start {
		s += "|start"
	}
	if seg.End {
		s += "|end"
	}
	if seg.Reverse {
		s += "|rev"
	}
	if seg.Missing != 0 {
		s += "|missing=" + strconv.FormatInt(seg.Missing, 10)
	}
	return s
}

func drainPcap(t testing.TB, file []byte) []string {
	t.Helper()
	src, err := NewPcap(bytes.NewReader(file))
	require.NoError(t, err)
	var out []string
	for i := 0; ; i++ {
		require.Less(t, i, 1<<20)
		seg, err := src.Next()
		if err == io.EOF {
			return out
		}
		out = append(out, render(seg, err))
	}
}

const conn4 = "192.0.2.1:40000-192.0.2.2:5000"

// handshake opens a connection with client ISN 100 and service ISN 500.
var handshake = []tcpSeg{{0, "S", 100, ""}, {1, "SA", 500, ""}, {0, "A", 101, ""}}

func segs(parts ...[]tcpSeg) []tcpSeg {
	var all []tcpSeg
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func TestPcapReassembly(t *testing.T) {
	tests := []struct {
		name string
		segs []tcpSeg
		want []string
	}{
		{
			name: "a request, a response, FIN both ways",
			segs: segs(handshake, []tcpSeg{{0, "A", 101, "ping"}, {1, "A", 501, "pong"}, {0, "FA", 105, ""}, {1, "FA", 505, ""}}),
			want: []string{conn4 + "|request|ping|start", conn4 + "|response|pong|start", conn4 + "|request||end", conn4 + "|response||end"},
		},
		{
			name: "out of order: the second segment first",
			segs: segs(handshake, []tcpSeg{{0, "A", 104, "def"}, {0, "A", 101, "abc"}}),
			want: []string{conn4 + "|request|abcdef|start"},
		},
		{
			name: "a retransmission is handed out once",
			segs: segs(handshake, []tcpSeg{{0, "A", 101, "abc"}, {0, "A", 101, "abc"}, {0, "A", 102, "bcd"}, {0, "A", 105, "e"}}),
			want: []string{conn4 + "|request|abc|start", conn4 + "|request|d", conn4 + "|request|e"},
		},
		{
			name: "a lost segment: Missing where it belongs, the rest after it",
			segs: segs(handshake, []tcpSeg{{0, "A", 101, "abc"}, {0, "A", 110, "xyz"}, {0, "FA", 113, ""}}),
			want: []string{conn4 + "|request|abc|start", conn4 + "|request||missing=6", conn4 + "|request|xyz|end"},
		},
		{
			name: "RST ends its direction",
			segs: segs(handshake, []tcpSeg{{0, "A", 101, "abc"}, {1, "R", 501, ""}}),
			want: []string{conn4 + "|request|abc|start", conn4 + "|response||start|end"},
		},
		{
			name: "no handshake in the capture: directions unknown, the first sender named first",
			segs: []tcpSeg{{1, "A", 501, "pong"}, {0, "A", 101, "ping"}},
			want: []string{
				"192.0.2.2:5000-192.0.2.1:40000|unknown|pong|start",
				"192.0.2.2:5000-192.0.2.1:40000|unknown|ping|start|rev",
			},
		},
		{
			name: "the capture starts at the SYN-ACK: the client is still known",
			segs: []tcpSeg{{1, "SA", 500, ""}, {0, "A", 101, "ping"}, {1, "A", 501, "pong"}},
			want: []string{conn4 + "|request|ping|start", conn4 + "|response|pong|start"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var packets [][]byte
			for _, s := range tt.segs {
				packets = append(packets, frame(layers.LinkTypeEthernet, ipTCP(s, false), false))
			}
			assert.Equal(t, tt.want, drainPcap(t, pcapFile(binary.LittleEndian, false, 1, 65535, packets)))
		})
	}
}

func TestPcapFormatsAndLinkTypes(t *testing.T) {
	exchange := segs(handshake, []tcpSeg{{0, "A", 101, "ping"}, {1, "A", 501, "pong"}})
	build := func(link layers.LinkType, v6 bool) [][]byte {
		var packets [][]byte
		for _, s := range exchange {
			packets = append(packets, frame(link, ipTCP(s, v6), v6))
		}
		return packets
	}
	want := []string{conn4 + "|request|ping|start", conn4 + "|response|pong|start"}
	conn6 := "[2001:db8::1]:40000-[2001:db8::2]:5000"
	want6 := []string{conn6 + "|request|ping|start", conn6 + "|response|pong|start"}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(pcapFile(binary.LittleEndian, false, 1, 65535, build(layers.LinkTypeEthernet, false)))
	_ = zw.Close()

	tests := []struct {
		name string
		file []byte
		want []string
	}{
		{"pcap, little-endian, microseconds, Ethernet", pcapFile(binary.LittleEndian, false, 1, 65535, build(layers.LinkTypeEthernet, false)), want},
		{"pcap, big-endian, microseconds", pcapFile(binary.BigEndian, false, 1, 65535, build(layers.LinkTypeEthernet, false)), want},
		{"pcap, little-endian, nanoseconds", pcapFile(binary.LittleEndian, true, 1, 65535, build(layers.LinkTypeEthernet, false)), want},
		{"pcap, big-endian, nanoseconds", pcapFile(binary.BigEndian, true, 1, 65535, build(layers.LinkTypeEthernet, false)), want},
		{"pcap, gzip", gz.Bytes(), want},
		{"pcapng, Ethernet", pcapngFile(layers.LinkTypeEthernet, build(layers.LinkTypeEthernet, false)), want},
		{"Linux cooked (SLL)", pcapFile(binary.LittleEndian, false, 113, 65535, build(layers.LinkTypeLinuxSLL, false)), want},
		{"Linux cooked v2 (SLL2)", pcapngFile(layers.LinkTypeLinuxSLL2, build(layers.LinkTypeLinuxSLL2, false)), want},
		{"BSD loopback (null)", pcapFile(binary.LittleEndian, false, 0, 65535, build(layers.LinkTypeNull, false)), want},
		{"OpenBSD loopback (loop)", pcapFile(binary.LittleEndian, false, 108, 65535, build(layers.LinkTypeLoop, false)), want},
		{"raw IP", pcapFile(binary.LittleEndian, false, 101, 65535, build(layers.LinkTypeRaw, false)), want},
		{"raw IPv4 (228)", pcapFile(binary.LittleEndian, false, 228, 65535, build(layers.LinkTypeRaw, false)), want},
		{"IPv6 over Ethernet", pcapFile(binary.LittleEndian, false, 1, 65535, build(layers.LinkTypeEthernet, true)), want6},
		{"raw IPv6 (229)", pcapFile(binary.LittleEndian, false, 229, 65535, build(layers.LinkTypeRaw, true)), want6},
		{"IPv6 over Linux cooked", pcapFile(binary.LittleEndian, false, 113, 65535, build(layers.LinkTypeLinuxSLL, true)), want6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, drainPcap(t, tt.file))
		})
	}
}

func TestPcapBadInput(t *testing.T) {
	good := func(s tcpSeg) []byte { return frame(layers.LinkTypeEthernet, ipTCP(s, false), false) }

	t.Run("file headers that are not pcap", func(t *testing.T) {
		for name, in := range map[string][]byte{
			"empty":        nil,
			"short":        {0xd4, 0xc3},
			"text":         []byte("10 a7 c0 5e 1e 00 01 00\n"),
			"bad version":  append([]byte{0xd4, 0xc3, 0xb2, 0xa1, 9, 0}, make([]byte, 18)...),
			"header cut":   pcapFile(binary.LittleEndian, false, 1, 65535, nil)[:20],
			"pcapng cut":   pcapngFile(layers.LinkTypeEthernet, nil)[:10],
			"gzip garbage": {0x1f, 0x8b, 0, 0, 0},
			"pcapng byte order": append([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4},
				make([]byte, 16)...),
		} {
			_, err := NewPcap(bytes.NewReader(in))
			assert.Error(t, err, name)
		}
	})
	t.Run("a corrupt packet is an error; reading goes on", func(t *testing.T) {
		bad := good(tcpSeg{0, "A", 101, "abc"})
		bad = bad[:14+20+5] // the TCP header cut
		binary.BigEndian.PutUint16(bad[14+2:], 20+5)
		packets := [][]byte{good(handshake[0]), good(handshake[1]), good(handshake[2]), bad, good(tcpSeg{0, "A", 101, "abc"})}
		got := drainPcap(t, pcapFile(binary.LittleEndian, false, 1, 65535, packets))
		require.Len(t, got, 2)
		assert.True(t, strings.HasPrefix(got[0], "error: packet 4: "), got[0])
		assert.Equal(t, conn4+"|request|abc|start", got[1])

		badIP := good(tcpSeg{0, "A", 101, "abc"})
		badIP[14] = 0x43 // IPv4 with a header length of 12 bytes
		src, err := NewPcap(bytes.NewReader(pcapFile(binary.LittleEndian, false, 1, 65535, [][]byte{badIP})))
		require.NoError(t, err)
		_, err = src.Next()
		var ie *InputError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, int64(24), ie.Offset, "the offset of the packet's record")
		assert.True(t, strings.HasPrefix(err.Error(), "offset 24: pcap: packet 1: "), err.Error())
	})
	t.Run("not TCP: skipped; an unsupported link type: said once", func(t *testing.T) {
		udp := good(handshake[0])
		udp[14+9] = 17 // IPv4 protocol UDP
		got := drainPcap(t, pcapFile(binary.LittleEndian, false, 1, 65535, [][]byte{udp}))
		assert.Empty(t, got)
		got = drainPcap(t, pcapFile(binary.LittleEndian, false, 147, 65535, [][]byte{{1}, {2}}))
		require.Len(t, got, 1)
		assert.Contains(t, got[0], "link type 147")
	})
	t.Run("a record that cannot be read ends the file after its error", func(t *testing.T) {
		file := pcapFile(binary.LittleEndian, false, 1, 65535, [][]byte{good(handshake[0]), good(handshake[1]), good(handshake[2]), good(tcpSeg{0, "A", 101, "abc"})})
		file = binary.LittleEndian.AppendUint32(file, 0)
		file = binary.LittleEndian.AppendUint32(file, 0)
		file = binary.LittleEndian.AppendUint32(file, 0x7fffffff) // caplen
		file = binary.LittleEndian.AppendUint32(file, 0x7fffffff)
		file = append(file, make([]byte, 1000)...)
		got := drainPcap(t, file)
		require.Len(t, got, 2)
		assert.Equal(t, conn4+"|request|abc|start", got[0])
		assert.Contains(t, got[1], "error: record 5: ")
	})
	t.Run("cut at every byte", func(t *testing.T) {
		var packets [][]byte
		for _, s := range segs(handshake, []tcpSeg{{0, "A", 101, "ping"}, {1, "A", 501, "pong"}, {0, "FA", 105, ""}}) {
			packets = append(packets, good(s))
		}
		for _, file := range [][]byte{pcapFile(binary.BigEndian, true, 1, 65535, packets), pcapngFile(layers.LinkTypeEthernet, packets)} {
			for i := range len(file) {
				src, err := NewPcap(bytes.NewReader(file[:i]))
				if err != nil {
					continue
				}
				_, _, total := readAll(t, src)
				assert.LessOrEqual(t, total, i)
			}
		}
	})
}

// TestPcapMemoryBounded: lengths in the file do not size allocations, and data waiting for
// a lost segment is handed out once the per-connection cap is reached.
func TestPcapMemoryBounded(t *testing.T) {
	t.Run("a record claiming 2 GiB", func(t *testing.T) {
		file := pcapFile(binary.LittleEndian, false, 1, 0xffffffff, nil)
		file = binary.LittleEndian.AppendUint32(file, 0)
		file = binary.LittleEndian.AppendUint32(file, 0)
		file = binary.LittleEndian.AppendUint32(file, 0x7fffffff)
		file = binary.LittleEndian.AppendUint32(file, 0x7fffffff)
		file = append(file, make([]byte, 24<<20)...)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got := drainPcap(t, file)
		runtime.ReadMemStats(&after)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], "record longer than")
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(48<<20))
	})
	t.Run("a hole that never fills", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds a 6 MiB capture")
		}
		packets := [][]byte{}
		for _, s := range handshake {
			packets = append(packets, frame(layers.LinkTypeEthernet, ipTCP(s, false), false))
		}
		chunk := strings.Repeat("x", 1400)
		seq := uint32(101 + 10) // 10 bytes lost
		const n = 4000          // 5.6 MB after the hole
		for range n {
			packets = append(packets, frame(layers.LinkTypeEthernet, ipTCP(tcpSeg{0, "A", seq, chunk}, false), false))
			seq += uint32(len(chunk))
		}
		src, err := NewPcap(bytes.NewReader(pcapFile(binary.LittleEndian, false, 1, 65535, packets)))
		require.NoError(t, err)
		missing, total, beforeEOF := int64(0), 0, 0
		pr := src.(*pcapReader)
		for {
			seg, err := src.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			missing += seg.Missing
			total += len(seg.Data)
			if !pr.done {
				beforeEOF += len(seg.Data)
			}
		}
		assert.Equal(t, int64(10), missing)
		assert.Equal(t, n*len(chunk), total)
		assert.Greater(t, beforeEOF, 0, "the cap makes the reassembly hand data out before the end of the file")
	})
}
