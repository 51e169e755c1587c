package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/gopacket/gopacket/reassembly"
)

// NewPcap returns a Source of the TCP streams in a pcap or pcapng file (either byte order,
// micro- or nanosecond timestamps, gzip-compressed or not), such as
//
//	tcpdump -i lo -w parsec.pcap 'tcp port 5000'
//	tshark -i lo -F pcapng -w parsec.pcapng -f 'tcp port 5000'
//
// Link types: Ethernet, Linux cooked (SLL and SLL2), BSD loopback (null and loop) and raw
// IPv4/IPv6; TCP over IPv4 and IPv6. Each TCP connection is reassembled with gopacket's
// reassembly: segments out of order are put back in order, retransmitted bytes are handed
// out once, and bytes the capture lost become Missing on an empty segment where they belong
// (the stream cannot be read past them). A connection is named "a:port-b:port", the client
// first: the side that sent the SYN without ACK is the client, its data DirRequest and the
// other side's DirResponse. A connection whose handshake is not in the capture is named
// with the sender of its first packet first, and its directions are DirUnknown, told apart
// by Reverse. Segments come in capture order, the connections interleaved; FIN and RST end
// their direction (End).
//
// Memory is bounded: pcapgo's records are read within a budget of pcapMaxRecord bytes; the
// reassembly buffers at most pcapMaxConnBuffer bytes per connection and pcapMaxBuffer in
// all waiting for a lost segment; once a cap is hit it stops waiting and hands out what it
// holds, with the bytes it skipped as Missing. Bytes waiting for a lost segment are also
// handed out once the capture's clock has moved pcapGapWait past them. Past pcapMaxConns
// open connections every open one is flushed and closed, and later packets of one start a
// new stream of unknown direction.
//
// A packet that cannot be decoded is a *InputError and reading goes on; a record that
// cannot be read (a length beyond the budget, a file cut short) is a *InputError after
// which the file cannot be framed: the streams are flushed and Next returns io.EOF. A file
// whose header is not a pcap or pcapng header is an error from NewPcap.
func NewPcap(r io.Reader) (Source, error) {
	p := &pcapReader{}
	var src io.Reader = r
	raw := bufio.NewReaderSize(r, 4096)
	if magic, err := raw.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(raw)
		if err != nil {
			return nil, errors.New("pcap: gzip header: " + err.Error())
		}
		src = gz
	} else {
		src = raw
	}
	// The budget sits under pcapgo, after decompression: it bounds what a record's length
	// can make pcapgo read, in a compressed file too. pcapgo keeps this bufio.Reader as it
	// is (it is large enough), so the file offset of a record is known exactly.
	p.in = &pcapBudget{r: src, limit: pcapMaxRecord}
	br := bufio.NewReaderSize(p.in, 64<<10)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, errors.New("pcap: file header: " + pcapEOF(err).Error())
	}
	p.br = br
	switch binary.LittleEndian.Uint32(magic) {
	case 0x0A0D0D0A:
		p.format = "pcapng"
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, errors.New("pcapng: file header: " + err.Error())
		}
		p.ng = ng
	case 0xA1B2C3D4, 0xD4C3B2A1, 0xA1B23C4D, 0x4D3CB2A1:
		p.format = "pcap"
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, errors.New("pcap: file header: " + err.Error())
		}
		// pcapgo takes records up to the larger of the header's snap length and 256 KiB;
		// the budget below bounds them whatever the header says.
		p.pcap = pr
		p.link = pr.LinkType()
	default:
		return nil, errors.New("pcap: not a pcap or pcapng file: it starts with 0x" +
			strconv.FormatUint(uint64(binary.BigEndian.Uint32(magic)), 16))
	}
	p.pool = reassembly.NewStreamPool(p)
	p.asm = reassembly.NewAssembler(p.pool)
	p.asm.MaxBufferedPagesPerConnection = pcapMaxConnBuffer / pcapPage
	p.asm.MaxBufferedPagesTotal = pcapMaxBuffer / pcapPage
	p.unsupported = make(map[layers.LinkType]bool)
	return p, nil
}

// Bounds on memory, whatever the file says.
const (
	pcapMaxRecord     = 2 << 20  // bytes read for one record, blocks skipped on the way included
	pcapMaxConnBuffer = 4 << 20  // bytes held per connection waiting for a lost segment
	pcapMaxBuffer     = 64 << 20 // the same, all connections together
	pcapMaxConns      = 1 << 14  // open connections
	pcapMaxInterfaces = 1 << 10  // pcapng interface and name records
	pcapGapWait       = 10 * time.Second
	pcapPage          = 1900 // the reassembly's page size
)

// pcapBudget counts the bytes read from the file and refuses to read past limit, which the
// reader moves before each record: a length field cannot make pcapgo read (and allocate)
// more than pcapMaxRecord bytes.
type pcapBudget struct {
	r     io.Reader
	n     int64
	limit int64
}

var errPcapBudget = errors.New("record longer than " + strconv.Itoa(pcapMaxRecord) + " bytes")

func (b *pcapBudget) Read(p []byte) (int, error) {
	if b.n >= b.limit {
		return 0, errPcapBudget
	}
	if int64(len(p)) > b.limit-b.n {
		p = p[:b.limit-b.n]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

type pcapReader struct {
	in          *pcapBudget
	br          *bufio.Reader
	format      string
	pcap        *pcapgo.Reader
	ng          *pcapgo.NgReader
	link        layers.LinkType
	pool        *reassembly.StreamPool
	asm         *reassembly.Assembler
	open        int // streams not complete
	packets     int64
	lastFlush   time.Time
	unsupported map[layers.LinkType]bool
	fast        pcapFast
	ctx         pcapContext // the reassembly keeps it with queued bytes; its capture info is not used
	q           segQueue
	arena       []byte // the data of the queued segments
	done        bool
	eof         bool
}

// Next returns the next segment.
func (p *pcapReader) Next() (Segment, error) {
	for p.q.empty() {
		if p.eof {
			return Segment{}, io.EOF
		}
		p.arena = p.arena[:0]
		if p.done {
			p.asm.FlushAll()
			p.eof = true
			continue
		}
		p.packet()
	}
	return p.q.pop()
}

// offset is the file offset of the next record (in the decompressed stream for gzip).
func (p *pcapReader) offset() int64 {
	return p.in.n - int64(p.br.Buffered())
}

func (p *pcapReader) fail(off int64, reason string) {
	p.q.fail(&InputError{Offset: off, Format: p.format, Reason: reason})
}

func pcapEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// packet reads one record and feeds it to the reassembly.
func (p *pcapReader) packet() {
	off := p.offset()
	p.in.limit = p.in.n + pcapMaxRecord
	var (
		data []byte
		ci   gopacket.CaptureInfo
		err  error
		link = p.link
	)
	if p.ng != nil {
		data, ci, err = p.ng.ZeroCopyReadPacketData()
		if err == nil && len(ci.AncillaryData) > 0 {
			link, _ = ci.AncillaryData[0].(layers.LinkType)
		}
		if err == nil && (p.ng.NInterfaces() > pcapMaxInterfaces || p.ng.NNames() > pcapMaxInterfaces) {
			err = errors.New("more than " + strconv.Itoa(pcapMaxInterfaces) + " interface or name records")
		}
	} else {
		data, ci, err = p.pcap.ZeroCopyReadPacketData()
	}
	if err != nil {
		p.done = true
		if err == io.EOF {
			return
		}
		if err == io.ErrUnexpectedEOF {
			p.fail(off, "the file ends inside a record")
			return
		}
		p.fail(off, "record "+strconv.FormatInt(p.packets+1, 10)+": "+err.Error()+"; the rest of the file cannot be read")
		return
	}
	p.packets++
	n := strconv.FormatInt(p.packets, 10)
	dec, ok := pcapDecoder(link)
	if !ok {
		if !p.unsupported[link] && len(p.unsupported) < 64 {
			p.unsupported[link] = true
			p.fail(off, "packet "+n+": link type "+strconv.Itoa(int(link))+" ("+link.String()+") is not supported; its packets are skipped")
		}
		return
	}
	if flow, tcp, ok := p.fast.decode(link, data); ok {
		p.housekeeping(ci.Timestamp)
		p.ctx.ci = ci
		p.asm.AssembleWithContext(flow, tcp, &p.ctx)
		return
	}
	// The general decoder: IPv6 extension headers, VLAN stacks and the rest, and the
	// reasons of packets that do not decode.
	pkt := gopacket.NewPacket(data, dec, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	tcpLayer, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	netLayer := pkt.NetworkLayer()
	// gopacket keeps the layer of a TCP header it failed to decode, zeroed, before the
	// DecodeFailure; a failure after a good TCP header (an application layer that gopacket
	// guesses from the port) is not ours to report.
	badTCP := tcpLayer != nil && len(tcpLayer.Contents) < 20
	if tcpLayer == nil || badTCP || netLayer == nil {
		if e := pkt.ErrorLayer(); e != nil && (badTCP || pkt.TransportLayer() == nil && pcapIPOrNone(netLayer)) {
			p.fail(off, "packet "+n+": "+e.Error().Error())
		}
		return
	}
	p.housekeeping(ci.Timestamp)
	p.ctx.ci = ci
	p.asm.AssembleWithContext(netLayer.NetworkFlow(), tcpLayer, &p.ctx)
}

// pcapIPOrNone: a packet whose failure to decode is ours to report (it is, or may be, IP).
func pcapIPOrNone(l gopacket.NetworkLayer) bool {
	if l == nil {
		return true
	}
	t := l.LayerType()
	return t == layers.LayerTypeIPv4 || t == layers.LayerTypeIPv6
}

// housekeeping bounds the connections and the wait for lost segments.
func (p *pcapReader) housekeeping(now time.Time) {
	if p.open >= pcapMaxConns {
		p.asm.FlushAll()
	}
	if now.Sub(p.lastFlush) >= time.Second || now.Before(p.lastFlush) {
		p.lastFlush = now
		p.asm.FlushWithOptions(reassembly.FlushOptions{T: now.Add(-pcapGapWait)})
	}
}

func pcapDecoder(link layers.LinkType) (gopacket.Decoder, bool) {
	switch link {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet, true
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL, true
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback, true
	case layers.LinkTypeRaw, 12, 14:
		return layers.LinkTypeRaw, true
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4, true
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6, true
	}
	return nil, false
}

// pcapFast decodes the common packets (link header, IPv4 or IPv6, TCP) into layers it
// reuses, with no allocation; anything else goes to gopacket.NewPacket.
type pcapFast struct {
	eth     layers.Ethernet
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	lo      layers.Loopback
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	payload gopacket.Payload
	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func (f *pcapFast) decode(link layers.LinkType, data []byte) (gopacket.Flow, *layers.TCP, bool) {
	var first gopacket.LayerType
	switch link {
	case layers.LinkTypeEthernet:
		first = layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		first = layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		first = layers.LayerTypeLoopback
	case layers.LinkTypeIPv4:
		first = layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		first = layers.LayerTypeIPv6
	case layers.LinkTypeRaw, 12, 14:
		if len(data) == 0 {
			return gopacket.Flow{}, nil, false
		}
		switch data[0] >> 4 {
		case 4:
			first = layers.LayerTypeIPv4
		case 6:
			first = layers.LayerTypeIPv6
		default:
			return gopacket.Flow{}, nil, false
		}
	default:
		return gopacket.Flow{}, nil, false
	}
	parser := f.parsers[first]
	if parser == nil {
		if f.parsers == nil {
			f.parsers = make(map[gopacket.LayerType]*gopacket.DecodingLayerParser)
		}
		parser = gopacket.NewDecodingLayerParser(first, &f.eth, &f.sll, &f.sll2, &f.lo, &f.ip4, &f.ip6, &f.tcp, &f.payload)
		parser.IgnoreUnsupported = true
		f.parsers[first] = parser
	}
	if err := parser.DecodeLayers(data, &f.decoded); err != nil {
		return gopacket.Flow{}, nil, false
	}
	var flow gopacket.Flow
	haveIP, haveTCP := false, false
	for _, t := range f.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			if f.ip4.Flags&layers.IPv4MoreFragments != 0 || f.ip4.FragOffset != 0 {
				return gopacket.Flow{}, nil, false
			}
			flow, haveIP = f.ip4.NetworkFlow(), true
		case layers.LayerTypeIPv6:
			flow, haveIP = f.ip6.NetworkFlow(), true
		case layers.LayerTypeTCP:
			haveTCP = true
		}
	}
	if !haveIP || !haveTCP {
		return gopacket.Flow{}, nil, false
	}
	return flow, &f.tcp, true
}

type pcapContext struct{ ci gopacket.CaptureInfo }

func (c *pcapContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// New makes the stream of a connection that the reassembly has not seen yet: the
// reassembly.StreamFactory.
func (p *pcapReader) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	s := &pcapStream{r: p}
	a := pcapEndpoint(netFlow.Src(), tcpFlow.Src())
	b := pcapEndpoint(netFlow.Dst(), tcpFlow.Dst())
	switch {
	case tcp.SYN && !tcp.ACK:
		s.known, s.firstIsClient = true, true
		s.name = a + "-" + b
	case tcp.SYN && tcp.ACK:
		s.known = true
		s.name = b + "-" + a
	default:
		s.name = a + "-" + b
	}
	p.open++
	return s
}

func pcapEndpoint(addr, port gopacket.Endpoint) string {
	ip, _ := netip.AddrFromSlice(addr.Raw())
	raw := port.Raw()
	var n uint16
	if len(raw) == 2 {
		n = binary.BigEndian.Uint16(raw)
	}
	return netip.AddrPortFrom(ip, n).String()
}

// pcapStream is one TCP connection: the reassembly.Stream.
type pcapStream struct {
	r             *pcapReader
	name          string
	known         bool // the capture holds the handshake: the client is known
	firstIsClient bool // the first packet's sender is the client
	started       [2]bool
	complete      bool
}

// Accept takes every packet. A half whose SYN the capture does not hold starts at its first
// packet.
func (s *pcapStream) Accept(tcp *layers.TCP, _ gopacket.CaptureInfo, _ reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	if !tcp.SYN && nextSeq == -1 {
		*start = true
	}
	return true
}

// ReassembledSG queues the bytes the reassembly hands out, in order.
func (s *pcapStream) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	dir, _, end, skip := sg.Info()
	n, _ := sg.Lengths()
	side := 0
	if dir == reassembly.TCPDirServerToClient {
		side = 1
	}
	if skip > 0 {
		gap := s.segment(side)
		gap.Missing = int64(skip)
		s.r.q.push(gap)
	}
	if n == 0 && !end {
		return
	}
	seg := s.segment(side)
	if skip < 0 && s.started[side] {
		seg.Start = true
	}
	if n > 0 {
		start := len(s.r.arena)
		s.r.arena = append(s.r.arena, sg.Fetch(n)...)
		seg.Data = s.r.arena[start:len(s.r.arena):len(s.r.arena)]
	}
	seg.End = end
	s.r.q.push(seg)
}

func (s *pcapStream) segment(side int) Segment {
	seg := Segment{Conn: s.name, Start: !s.started[side]}
	s.started[side] = true
	switch {
	case !s.known:
		seg.Reverse = side == 1
	case (side == 0) == s.firstIsClient:
		seg.Dir = DirRequest
	default:
		seg.Dir = DirResponse
	}
	return seg
}

// ReassemblyComplete forgets the connection.
func (s *pcapStream) ReassemblyComplete(reassembly.AssemblerContext) bool {
	if !s.complete {
		s.complete = true
		s.r.open--
	}
	return true
}
