package wiretest_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/wire/wiretest"
)

// segment is one TCP packet of a capture, read back with gopacket.
type segment struct {
	src, dst      uint16
	seq, ackNum   uint32
	syn, fin, ack bool
	payload       []byte
}

func readCapture(t *testing.T, b []byte) []segment {
	t.Helper()
	r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.DefaultNgReaderOptions)
	require.NoError(t, err)
	require.Equal(t, layers.LinkTypeEthernet, r.LinkType())
	var out []segment
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		require.Nil(t, p.ErrorLayer(), "every packet decodes")
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		require.NotNil(t, ip)
		require.NotNil(t, tcp)
		assert.Equal(t, "127.0.0.1", ip.SrcIP.String())
		// The checksums were computed: recomputing them over the decoded layers agrees.
		sum := tcp.Checksum
		require.NoError(t, tcp.SetNetworkLayerForChecksum(ip))
		buf := gopacket.NewSerializeBuffer()
		require.NoError(t, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true}, tcp, gopacket.Payload(tcp.Payload)))
		check := gopacket.NewPacket(buf.Bytes(), layers.LayerTypeTCP, gopacket.Default).Layer(layers.LayerTypeTCP).(*layers.TCP)
		assert.Equal(t, sum, check.Checksum, "TCP checksum")
		out = append(out, segment{uint16(tcp.SrcPort), uint16(tcp.DstPort), tcp.Seq, tcp.Ack, tcp.SYN, tcp.FIN, tcp.ACK, append([]byte(nil), tcp.Payload...)})
	}
}

func TestCaptureWriterReadsBack(t *testing.T) {
	var out bytes.Buffer
	cw, err := wiretest.NewCaptureWriter(&out)
	require.NoError(t, err)
	big := bytes.Repeat([]byte{0xab}, 70_000) // three segments
	require.NoError(t, cw.Open(0))
	require.NoError(t, cw.Open(1))
	require.NoError(t, cw.Data(0, wiretest.ToService, []byte("request 0")))
	require.NoError(t, cw.Data(1, wiretest.ToService, []byte("request 1")))
	require.NoError(t, cw.Data(0, wiretest.ToClient, []byte("response 0")))
	require.NoError(t, cw.Data(0, wiretest.ToClient, big))
	require.NoError(t, cw.Close(0, wiretest.ToClient))
	require.NoError(t, cw.Close(0, wiretest.ToService))
	require.NoError(t, cw.Data(1, wiretest.ToClient, []byte("response 1")))
	require.NoError(t, cw.Close(1, wiretest.ToService))
	require.NoError(t, cw.Close(1, wiretest.ToClient))
	require.NoError(t, cw.Flush())
	assert.Error(t, cw.Data(7, wiretest.ToService, []byte("x")), "a connection never opened")

	segs := readCapture(t, out.Bytes())
	type stream struct {
		data     []byte
		nextSeq  uint32
		syn, fin bool
	}
	// Reassemble each direction of each connection by its sequence numbers.
	streams := map[[2]uint16]*stream{}
	for _, s := range segs {
		key := [2]uint16{s.src, s.dst}
		st := streams[key]
		if st == nil {
			require.True(t, s.syn, "a stream starts with SYN: %+v", s)
			st = &stream{syn: true, nextSeq: s.seq + 1}
			streams[key] = st
			continue
		}
		assert.Equal(t, st.nextSeq, s.seq, "sequence numbers follow the bytes")
		if st.fin { // only the acknowledgement of the other side's FIN
			require.Empty(t, s.payload, "no data after FIN")
			require.False(t, s.fin)
			continue
		}
		// The acknowledgement is the other side's next sequence number.
		if other := streams[[2]uint16{s.dst, s.src}]; other != nil && s.ack {
			assert.Equal(t, other.nextSeq, s.ackNum)
		}
		st.data = append(st.data, s.payload...)
		st.nextSeq += uint32(len(s.payload))
		if s.fin {
			st.fin = true
			st.nextSeq++
		}
	}
	require.Len(t, streams, 4)
	c0, c1 := uint16(wiretest.ClientPortBase), uint16(wiretest.ClientPortBase+1)
	assert.Equal(t, "request 0", string(streams[[2]uint16{c0, wiretest.ServicePort}].data))
	assert.Equal(t, append([]byte("response 0"), big...), streams[[2]uint16{wiretest.ServicePort, c0}].data)
	assert.Equal(t, "request 1", string(streams[[2]uint16{c1, wiretest.ServicePort}].data))
	assert.Equal(t, "response 1", string(streams[[2]uint16{wiretest.ServicePort, c1}].data))
	for k, st := range streams {
		assert.True(t, st.fin, "stream %v ends with FIN", k)
	}
	// The service's first segment is the SYN-ACK.
	for _, s := range segs {
		if s.src == wiretest.ServicePort {
			assert.True(t, s.syn && s.ack, "SYN-ACK")
			break
		}
	}
}
