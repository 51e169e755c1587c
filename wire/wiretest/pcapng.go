package wiretest

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Direction says which way bytes went.
type Direction uint8

// The two directions of a connection.
const (
	ToService Direction = iota // requests: client to service
	ToClient                   // responses: service to client
)

// String returns "request" or "response", as the frames of that direction are.
func (d Direction) String() string {
	if d == ToService {
		return "request"
	}
	return "response"
}

// Addresses of the synthetic TCP connections a CaptureWriter writes: every client
// connection is one TCP connection from ClientIP, port ClientPortBase + the connection's
// number (modulo 28000), to ServiceIP port ServicePort. A Unix socket has no addresses;
// these let every pcapng tool follow the streams, and the SYN tells which side is the service.
var (
	ClientIP    = net.IPv4(127, 0, 0, 1).To4()
	ServiceIP   = net.IPv4(127, 0, 0, 1).To4()
	clientMAC   = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	serviceMAC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	errNoStream = errors.New("wiretest: capture: data on a connection that was not opened")
)

// Ports of the synthetic connections.
const (
	ServicePort    = 5000
	ClientPortBase = 32768
	maxSegment     = 32 << 10 // payload per packet, well inside an IPv4 packet's 65535 bytes
)

// CaptureWriter records the traffic of Parsec connections as pcapng (Ethernet, IPv4, TCP),
// so that parsecwire decode, Wireshark or tshark read it back with directions and pairs:
// each connection opens with SYN, SYN-ACK, ACK; its bytes go in segments with the right
// sequence and acknowledgement numbers; each side's end is a FIN. It is safe for concurrent
// use.
type CaptureWriter struct {
	mu    sync.Mutex
	w     *pcapgo.NgWriter
	flows map[uint64]*flow
	buf   gopacket.SerializeBuffer
	err   error
	now   func() time.Time
}

type flow struct {
	port     uint16
	seq      [2]uint32 // next sequence number of each side: [ToService] the client's
	finished [2]bool
}

// NewCaptureWriter writes a pcapng section header and one Ethernet interface to w.
func NewCaptureWriter(w io.Writer) (*CaptureWriter, error) {
	ng, err := pcapgo.NewNgWriterInterface(w, pcapgo.NgInterface{Name: "parsecwire", Description: "Parsec over a Unix socket, as synthetic TCP",
		LinkType: layers.LinkTypeEthernet, SnapLength: 0}, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "parsecwire tap"}})
	if err != nil {
		return nil, err
	}
	return &CaptureWriter{w: ng, flows: map[uint64]*flow{}, buf: gopacket.NewSerializeBuffer(), now: time.Now}, nil
}

// Open records the handshake of connection conn.
func (c *CaptureWriter) Open(conn uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := &flow{port: uint16(ClientPortBase + conn%28000), seq: [2]uint32{uint32(conn) * 7919, 1 << 31}}
	c.flows[conn] = f
	c.packet(f, ToService, &layers.TCP{SYN: true}, nil)
	f.seq[ToService]++
	c.packet(f, ToClient, &layers.TCP{SYN: true, ACK: true}, nil)
	f.seq[ToClient]++
	c.packet(f, ToService, &layers.TCP{ACK: true}, nil)
	return c.err
}

// Data records bytes sent on connection conn in direction d, in segments of at most 32 KiB.
func (c *CaptureWriter) Data(conn uint64, d Direction, p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.flows[conn]
	if f == nil {
		return errNoStream
	}
	for len(p) > 0 {
		n := min(len(p), maxSegment)
		c.packet(f, d, &layers.TCP{ACK: true, PSH: true}, p[:n])
		f.seq[d] += uint32(n)
		p = p[n:]
	}
	return c.err
}

// Close records the end of direction d of connection conn: a FIN from that side, and the
// other side's ACK. Once both sides have ended, the connection is forgotten.
func (c *CaptureWriter) Close(conn uint64, d Direction) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.flows[conn]
	if f == nil || f.finished[d] {
		return c.err
	}
	c.packet(f, d, &layers.TCP{FIN: true, ACK: true}, nil)
	f.seq[d]++
	c.packet(f, 1-d, &layers.TCP{ACK: true}, nil)
	f.finished[d] = true
	if f.finished[ToService] && f.finished[ToClient] {
		delete(c.flows, conn)
	}
	return c.err
}

// Flush writes what is buffered to the underlying writer.
func (c *CaptureWriter) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}

// packet writes one segment from side d; tcp has its flags set. Called with c.mu held.
func (c *CaptureWriter) packet(f *flow, d Direction, tcp *layers.TCP, payload []byte) {
	if c.err != nil {
		return
	}
	eth := &layers.Ethernet{SrcMAC: clientMAC, DstMAC: serviceMAC, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ClientIP, DstIP: ServiceIP}
	tcp.SrcPort, tcp.DstPort = layers.TCPPort(f.port), ServicePort
	tcp.Seq, tcp.Window = f.seq[d], 65535
	if tcp.ACK {
		tcp.Ack = f.seq[1-d]
	}
	if d == ToClient {
		eth.SrcMAC, eth.DstMAC = serviceMAC, clientMAC
		ip.SrcIP, ip.DstIP = ServiceIP, ClientIP
		tcp.SrcPort, tcp.DstPort = ServicePort, layers.TCPPort(f.port)
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		c.err = err
		return
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(c.buf, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		c.err = err
		return
	}
	data := c.buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: c.now(), CaptureLength: len(data), Length: len(data), InterfaceIndex: 0}
	c.err = c.w.WritePacket(ci, data)
}
