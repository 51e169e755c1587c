package capture

// Native fuzz targets for the strace, socat and pcap readers. Each input is used twice: as
// a capture (the reader must not panic, and must not hand out more bytes than the input
// holds), and as a script from which a well-formed capture is generated (the reader must
// give back exactly the generated streams, without an error).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// genOp is one write of a generated capture: data sent on a connection in one direction.
type genOp struct {
	conn    int
	dir     Dir
	data    []byte
	variant byte // how the generator writes it (format-specific)
}

// genOps reads a script: per op, a byte for connection, direction and variant, a length
// byte, then the data. Each connection starts with a request, as Parsec does.
func genOps(b []byte) []genOp {
	var ops []genOp
	seen := map[int]bool{}
	for len(b) >= 2 && len(ops) < 64 {
		c, n := b[0], int(b[1])%48+1
		b = b[2:]
		if n > len(b) {
			n = len(b)
		}
		if n == 0 {
			break
		}
		op := genOp{conn: int(c % 3), dir: DirRequest, data: b[:n], variant: c >> 3}
		if c&4 != 0 && seen[op.conn] {
			op.dir = DirResponse
		}
		seen[op.conn] = true
		ops = append(ops, op)
		b = b[n:]
	}
	return ops
}

func checkGenerated(t *testing.T, src Source, want map[streamKey][]byte) {
	t.Helper()
	got, errs, _ := readAll(t, src)
	if len(errs) > 0 {
		t.Fatalf("errors on a well-formed capture: %v", errs)
	}
	for k, w := range want {
		if !bytes.Equal(got[k], w) {
			t.Fatalf("%v: got %x, want %x", k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && len(g) > 0 {
			t.Fatalf("%v: unexpected %d bytes", k, len(g))
		}
	}
}

// genStrace writes the strace log of a client that makes the ops' connections.
func genStrace(ops []genOp) ([]byte, map[streamKey][]byte) {
	var b bytes.Buffer
	want := map[streamKey][]byte{}
	open := map[int]bool{}
	prefix := func(v byte) string {
		switch v % 4 {
		case 0:
			return "100  "
		case 1:
			return "[pid   100] "
		case 2:
			return "100  09:00:00.000001 "
		}
		return "[pid 100] 1700000000.000001 "
	}
	deco := func(conn int, v byte) string {
		if v&4 != 0 {
			return ""
		}
		return fmt.Sprintf("<UNIX-STREAM:[%d->%d]>", 9000+conn, 9100+conn)
	}
	b.WriteString("100  execve(\"/usr/bin/client\", [\"client\"], 0x7ffd /* 3 vars */) = 0\n")
	b.WriteString("100  openat(AT_FDCWD<\\x2f>, \"\\x2f\\x65\\x74\\x63\", O_RDONLY) = 9<\\x2f\\x65\\x74\\x63>\n")
	b.WriteString("100  read(9<\\x2f\\x65\\x74\\x63>, \"\\x10\\xa7\\xc0\\x5e\", 4096) = 4\n")
	for _, op := range ops {
		fd := 3 + op.conn
		v := op.variant
		if !open[op.conn] {
			open[op.conn] = true
			fmt.Fprintf(&b, "%ssocket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = %d%s\n", prefix(v), fd, deco(op.conn, v))
			fmt.Fprintf(&b, "%sconnect(%d%s, {sa_family=AF_UNIX, sun_path=\"/run/parsec/parsec.sock\"}, 25) = 0\n", prefix(v), fd, deco(op.conn, v))
		}
		name := fmt.Sprintf("pid 100 fd %d", fd)
		want[streamKey{name, op.dir}] = append(want[streamKey{name, op.dir}], op.data...)
		str := straceQuote(op.data, v&8 != 0)
		fdArg := fmt.Sprintf("%d%s", fd, deco(op.conn, v))
		suffix := ""
		if v&16 != 0 {
			suffix = " <0.000012>"
		}
		n := len(op.data)
		if op.dir == DirRequest {
			switch v % 3 {
			case 0:
				fmt.Fprintf(&b, "%swrite(%s, %s, %d) = %d%s\n", prefix(v), fdArg, str, n, n, suffix)
			case 1:
				fmt.Fprintf(&b, "%ssendmsg(%s, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=%s, iov_len=%d}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_NOSIGNAL) = %d%s\n", prefix(v), fdArg, str, n, n, suffix)
			default:
				// unfinished, with another thread's line in between
				fmt.Fprintf(&b, "%swrite(%s, %s, %d <unfinished ...>\n", prefix(1), fdArg, str, n)
				b.WriteString("[pid   101] futex(0x1234, FUTEX_WAKE_PRIVATE, 1) = 0\n")
				fmt.Fprintf(&b, "[pid   100] <... write resumed>) = %d%s\n", n, suffix)
			}
			continue
		}
		switch v % 3 {
		case 0:
			fmt.Fprintf(&b, "%sread(%s, %s, 4096) = %d%s\n", prefix(v), fdArg, str, n, suffix)
		case 1:
			fmt.Fprintf(&b, "%srecvfrom(%s, %s, 65536, 0, NULL, NULL) = %d%s\n", prefix(v), fdArg, str, n, suffix)
		default:
			fmt.Fprintf(&b, "%sread(%s,  <unfinished ...>\n", prefix(1), fdArg)
			b.WriteString("[pid   101] --- SIGURG {si_signo=SIGURG, si_code=SI_TKILL, si_pid=100, si_uid=0} ---\n")
			fmt.Fprintf(&b, "[pid   100] <... read resumed>%s, 4096) = %d%s\n", str, n, suffix)
		}
	}
	for c := range 3 {
		if open[c] {
			fmt.Fprintf(&b, "100  close(%d) = 0\n", 3+c)
		}
	}
	b.WriteString("100  +++ exited with 0 +++\n")
	return b.Bytes(), want
}

// straceQuote writes data as strace -xx does, or as strace without -x (octal and C escapes).
func straceQuote(data []byte, plain bool) string {
	var s strings.Builder
	s.WriteByte('"')
	for i, c := range data {
		switch {
		case !plain:
			fmt.Fprintf(&s, "\\x%02x", c)
		case c == '"' || c == '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c == '\n':
			s.WriteString("\\n")
		case c >= 0x20 && c < 0x7f:
			s.WriteByte(c)
		case i+1 < len(data) && data[i+1] >= '0' && data[i+1] <= '7':
			fmt.Fprintf(&s, "\\%03o", c) // a digit follows: all three octal digits
		default:
			fmt.Fprintf(&s, "\\%o", c)
		}
	}
	s.WriteByte('"')
	return s.String()
}

// genSocat writes the socat -x -v dump of the ops' connections, one after another.
func genSocat(ops []genOp) ([]byte, map[streamKey][]byte) {
	var b bytes.Buffer
	want := map[streamKey][]byte{}
	// socat's connections follow each other: group the ops by connection, in order of
	// first appearance.
	var order []int
	byConn := map[int][]genOp{}
	for _, op := range ops {
		if _, ok := byConn[op.conn]; !ok {
			order = append(order, op.conn)
		}
		byConn[op.conn] = append(byConn[op.conn], op)
	}
	for i, c := range order {
		name := fmt.Sprintf("conn %d", i+1)
		var off [2]int
		for _, op := range byConn[c] {
			d, side := byte('>'), 0
			if op.dir == DirResponse {
				d, side = '<', 1
			}
			n := len(op.data)
			fmt.Fprintf(&b, "%c 2026/11/29 09:00:00.%06d  length=%d from=%d to=%d\n", d, off[side], n, off[side], off[side]+n-1)
			for j := 0; j < n; j += 16 {
				line := op.data[j:min(j+16, n)]
				var hex, text strings.Builder
				for _, x := range line {
					fmt.Fprintf(&hex, " %02x", x)
					if x >= 0x20 && x < 0x7f {
						text.WriteByte(x)
					} else {
						text.WriteByte('.')
					}
				}
				fmt.Fprintf(&b, "%-49s  %s\n", hex.String(), text.String())
			}
			b.WriteString("--\n")
			off[side] += n
			want[streamKey{name, op.dir}] = append(want[streamKey{name, op.dir}], op.data...)
		}
	}
	return b.Bytes(), want
}

// genPcap writes a pcap of the ops' connections over TCP, with the handshakes, some
// segments out of order and some sent twice.
func genPcap(ops []genOp, ng bool) ([]byte, map[streamKey][]byte) {
	var b bytes.Buffer
	want := map[streamKey][]byte{}
	type conn struct {
		cli, srv net.IP
		cport    layers.TCPPort
		seq      [2]uint32
	}
	conns := map[int]*conn{}
	ts := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	var write func(data []byte)
	flush := func() {}
	if ng {
		w, err := pcapgo.NewNgWriter(&b, layers.LinkTypeEthernet)
		if err != nil {
			panic(err)
		}
		flush = func() { _ = w.Flush() }
		write = func(data []byte) {
			ts = ts.Add(time.Millisecond)
			_ = w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}, data)
		}
	} else {
		w := pcapgo.NewWriterNanos(&b)
		_ = w.WriteFileHeader(65536, layers.LinkTypeEthernet)
		write = func(data []byte) {
			ts = ts.Add(time.Millisecond)
			_ = w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}, data)
		}
	}
	packet := func(c *conn, side int, flags string, payload []byte, seq uint32) {
		src, dst := c.cli, c.srv
		sport, dport := c.cport, layers.TCPPort(5000)
		if side == 1 {
			src, dst, sport, dport = dst, src, dport, sport
		}
		tcp := &layers.TCP{SrcPort: sport, DstPort: dport, Seq: seq, Window: 65535,
			SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "A"), FIN: strings.Contains(flags, "F"), PSH: len(payload) > 0}
		if tcp.ACK {
			tcp.Ack = c.seq[1-side]
		}
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
		var nl gopacket.SerializableLayer
		if src.To4() != nil {
			eth.EthernetType = layers.EthernetTypeIPv4
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
			_ = tcp.SetNetworkLayerForChecksum(ip)
			nl = ip
		} else {
			eth.EthernetType = layers.EthernetTypeIPv6
			ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
			_ = tcp.SetNetworkLayerForChecksum(ip)
			nl = ip
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			eth, nl, tcp, gopacket.Payload(payload)); err != nil {
			panic(err)
		}
		write(buf.Bytes())
	}
	names := map[int]string{}
	for _, op := range ops {
		c := conns[op.conn]
		if c == nil {
			c = &conn{cli: net.IPv4(192, 0, 2, 1).To4(), srv: net.IPv4(192, 0, 2, 2).To4(), cport: layers.TCPPort(40000 + op.conn),
				seq: [2]uint32{1000 * uint32(op.conn+1), 0xfffffff0}} // the service's sequence wraps
			if op.conn == 2 {
				c.cli, c.srv = net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::2")
			}
			conns[op.conn] = c
			packet(c, 0, "S", nil, c.seq[0])
			c.seq[0]++
			packet(c, 1, "SA", nil, c.seq[1])
			c.seq[1]++
			packet(c, 0, "A", nil, c.seq[0])
			names[op.conn] = net.JoinHostPort(c.cli.String(), fmt.Sprint(int(c.cport))) + "-" + net.JoinHostPort(c.srv.String(), "5000")
		}
		side := 0
		if op.dir == DirResponse {
			side = 1
		}
		want[streamKey{names[op.conn], op.dir}] = append(want[streamKey{names[op.conn], op.dir}], op.data...)
		seq := c.seq[side]
		c.seq[side] += uint32(len(op.data))
		switch {
		case op.variant&1 != 0 && len(op.data) > 1:
			// the second half overtakes the first
			h := len(op.data) / 2
			packet(c, side, "A", op.data[h:], seq+uint32(h))
			packet(c, side, "A", op.data[:h], seq)
		case op.variant&2 != 0:
			// retransmitted
			packet(c, side, "A", op.data, seq)
			packet(c, side, "A", op.data, seq)
		default:
			packet(c, side, "A", op.data, seq)
		}
	}
	for i := range 3 {
		if c := conns[i]; c != nil {
			packet(c, 0, "FA", nil, c.seq[0])
			c.seq[0]++
			packet(c, 1, "FA", nil, c.seq[1])
			c.seq[1]++
		}
	}
	flush()
	return b.Bytes(), want
}

var fuzzScripts = [][]byte{
	{0x00, 35, 0x10, 0xa7, 0xc0, 0x5e, 0x1e, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0,
		0x04, 3, 0x10, 0xa7, 0xc0, 0x5e},
	[]byte("\x01\x05hello\x05\x03abc\x0a\x07request\x0e\x02ok\x0b\x10 retransmitted \x4c\x04more"),
	[]byte("\x3a\x20\"quoted\\\" and\n new lines\t and \x00\x01\x02\x03digits 0123\x3c\x02\x08\x01"),
}

func FuzzStrace(f *testing.F) {
	for _, s := range fuzzScripts {
		log, _ := genStrace(genOps(s))
		f.Add(log)
		f.Add(s)
	}
	f.Add([]byte("123 read(3<UNIX-STREAM:[1->2]>, \"\\x10\\xa7\"..., 4096) = 4000\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		_, _, total := readAll(t, NewStrace(bytes.NewReader(in)))
		if total > len(in) {
			t.Fatalf("%d bytes out of %d bytes of input", total, len(in))
		}
		log, want := genStrace(genOps(in))
		checkGenerated(t, NewStrace(bytes.NewReader(log)), want)
	})
}

func FuzzSocat(f *testing.F) {
	for _, s := range fuzzScripts {
		log, _ := genSocat(genOps(s))
		f.Add(log)
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		_, _, total := readAll(t, NewSocat(bytes.NewReader(in)))
		if total > len(in) {
			t.Fatalf("%d bytes out of %d bytes of input", total, len(in))
		}
		log, want := genSocat(genOps(in))
		checkGenerated(t, NewSocat(bytes.NewReader(log)), want)
	})
}

func FuzzPcap(f *testing.F) {
	for _, s := range fuzzScripts {
		for _, ng := range []bool{false, true} {
			file, _ := genPcap(genOps(s), ng)
			f.Add(file)
		}
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if src, err := NewPcap(bytes.NewReader(in)); err == nil {
			_, _, total := readAll(t, src)
			if total > len(in) {
				t.Fatalf("%d bytes out of %d bytes of input", total, len(in))
			}
		}
		ops := genOps(in)
		for _, ng := range []bool{false, true} {
			file, want := genPcap(ops, ng)
			src, err := NewPcap(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			checkGenerated(t, src, want)
		}
	})
}

type streamKey struct {
	conn string
	dir  Dir
}

// readAll (here, beside the targets that use it: go-118-fuzz-build compiles a target's
// file alone) reads a source to its end, joining the data of each connection and direction.
func readAll(t *testing.T, src Source) (map[streamKey][]byte, []error, int) {
	got := map[streamKey][]byte{}
	var errs []error
	total := 0
	for i := 0; ; i++ {
		if i > 1<<20 {
			t.Fatal("the source does not end")
		}
		seg, err := src.Next()
		if err == io.EOF {
			return got, errs, total
		}
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				errs = append(errs, err)
				return got, errs, total
			}
			errs = append(errs, err)
			continue
		}
		if seg.Missing < 0 {
			t.Fatalf("negative Missing: %+v", seg)
		}
		total += len(seg.Data)
		k := streamKey{seg.Conn, seg.Dir}
		got[k] = append(got[k], seg.Data...)
	}
}
