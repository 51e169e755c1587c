package parsecwire

// Benchmarks of the hot decode path, with reference points measured in the same run:
//
//	go test -run '^$' -bench . -benchmem
//
// Compare two runs with benchstat (golang.org/x/perf/cmd/benchstat):
//
//	go test -run '^$' -bench . -benchmem -count 10 > old.txt   # then change, and:
//	go test -run '^$' -bench . -benchmem -count 10 > new.txt
//	benchstat old.txt new.txt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

var sampleHeader = header.Header{Provider: 1, Session: 0x1122334455667788, ContentLength: 2, Opcode: 12,
	Status: status.PsaErrorDoesNotExist}

func sampleFrame(b *testing.B) []byte {
	f, err := sampleHeader.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// sink keeps results alive so the compiler cannot drop the work.
var (
	sinkHeader header.Header
	sinkCode   status.Code
)

func BenchmarkUnmarshalBinary(b *testing.B) {
	f := sampleFrame(b)
	var h header.Header
	b.ReportAllocs()
	b.SetBytes(header.Size)
	for b.Loop() {
		if err := h.UnmarshalBinary(f); err != nil {
			b.Fatal(err)
		}
	}
	sinkHeader = h
}

func BenchmarkDecode(b *testing.B) {
	f := sampleFrame(b)
	b.ReportAllocs()
	b.SetBytes(header.Size)
	for b.Loop() {
		h, err := header.Decode(f)
		if err != nil {
			b.Fatal(err)
		}
		sinkHeader = h
	}
}

func BenchmarkStatusDecode(b *testing.B) {
	b.ReportAllocs()
	v := uint16(1140)
	for b.Loop() {
		c, err := status.Decode(v)
		if err != nil {
			b.Fatal(err)
		}
		sinkCode = c
	}
}

func BenchmarkAppendBinary(b *testing.B) {
	buf := make([]byte, 0, header.Size)
	b.ReportAllocs()
	b.SetBytes(header.Size)
	for b.Loop() {
		var err error
		buf, err = sampleHeader.AppendBinary(buf[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
}

// errHand is the hand-written decoder's one error: the lower bound does the checks, not the
// reporting.
var errHand = errors.New("bad header")

// handDecode is the most direct fixed-offset decoder with the same checks as
// (*header.Header).UnmarshalBinary, written inline for this benchmark and used nowhere else:
// the lower bound the library is measured against.
func handDecode(h *header.Header, b []byte) error {
	if len(b) < 36 {
		return errHand
	}
	if binary.LittleEndian.Uint32(b[0:]) != 0x5EC0A710 || binary.LittleEndian.Uint16(b[4:]) != 30 ||
		b[6] != 1 || b[7] != 0 || b[34] != 0 || b[35] != 0 {
		return errHand
	}
	st := binary.LittleEndian.Uint16(b[32:])
	if !(st <= 22 || (st >= 1132 && st <= 1143) || (st >= 1145 && st <= 1153)) {
		return errHand
	}
	h.Flags = binary.LittleEndian.Uint16(b[8:])
	h.Provider = b[10]
	h.Session = binary.LittleEndian.Uint64(b[11:])
	h.ContentType = b[19]
	h.AcceptType = b[20]
	h.AuthType = b[21]
	h.ContentLength = binary.LittleEndian.Uint32(b[22:])
	h.AuthLength = binary.LittleEndian.Uint16(b[26:])
	h.Opcode = binary.LittleEndian.Uint32(b[28:])
	h.Status = status.Code(st)
	return nil
}

func BenchmarkHandWritten(b *testing.B) {
	f := sampleFrame(b)
	var h header.Header
	b.ReportAllocs()
	b.SetBytes(header.Size)
	for b.Loop() {
		if err := handDecode(&h, f); err != nil {
			b.Fatal(err)
		}
	}
	sinkHeader = h
}

// wireLayout is the header as most Go code would decode it: a struct for encoding/binary.
type wireLayout struct {
	Magic         uint32
	HeaderSize    uint16
	Major, Minor  uint8
	Flags         uint16
	Provider      uint8
	Session       uint64
	ContentType   uint8
	AcceptType    uint8
	AuthType      uint8
	ContentLength uint32
	AuthLength    uint16
	Opcode        uint32
	Status        uint16
	Reserved1     uint8
	Reserved2     uint8
}

func BenchmarkBinaryRead(b *testing.B) {
	f := sampleFrame(b)
	r := bytes.NewReader(f)
	var w wireLayout
	b.ReportAllocs()
	b.SetBytes(header.Size)
	for b.Loop() {
		r.Reset(f)
		if err := binary.Read(r, binary.LittleEndian, &w); err != nil {
			b.Fatal(err)
		}
		if w.Magic != header.Magic || w.HeaderSize != 30 || w.Major != 1 || w.Minor != 0 || w.Reserved1 != 0 || w.Reserved2 != 0 {
			b.Fatal("bad header")
		}
		if _, err := status.Decode(w.Status); err != nil {
			b.Fatal(err)
		}
	}
}

// stream returns an in-memory stream of frames with bodies of size n, at least 4 MiB long.
func stream(b *testing.B, n int) (data []byte, frames int) {
	body := bytes.Repeat([]byte{0x5a}, n)
	f, err := wire.AppendResponse(nil, sampleHeader, body)
	if err != nil {
		b.Fatal(err)
	}
	for frames = 0; len(data) < 4<<20 || frames < 64; frames++ {
		data = append(data, f...)
	}
	return data, frames
}

var bodySizes = []struct {
	name string
	n    int
}{{"empty", 0}, {"256B", 256}, {"64KiB", 64 << 10}}

// BenchmarkStream reads frames one after another from a long in-memory stream with the wire
// Reader and its reused body buffer; one iteration is one frame.
func BenchmarkStream(b *testing.B) {
	for _, size := range bodySizes {
		b.Run(size.name, func(b *testing.B) {
			data, _ := stream(b, size.n)
			src := bytes.NewReader(data)
			rd := wire.NewReader(src)
			var h header.Header
			b.ReportAllocs()
			b.SetBytes(int64(header.Size + size.n))
			for b.Loop() {
				body, err := rd.Next(&h)
				if err == io.EOF {
					src.Reset(data)
					rd.Reset(src)
					body, err = rd.Next(&h)
				}
				if err != nil || len(body) != size.n {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkStreamCopy is the memory-bandwidth ceiling of BenchmarkStream: a plain copy of the
// same bytes, frame by frame, with no decoding at all.
func BenchmarkStreamCopy(b *testing.B) {
	for _, size := range bodySizes {
		b.Run(size.name, func(b *testing.B) {
			data, _ := stream(b, size.n)
			frame := header.Size + size.n
			dst := make([]byte, frame)
			off := 0
			b.ReportAllocs()
			b.SetBytes(int64(frame))
			for b.Loop() {
				if off+frame > len(data) {
					off = 0
				}
				copy(dst, data[off:off+frame])
				off += frame
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkRoundTrip is a client round trip over a real Unix socket: a request out, its
// response in, on one kept-alive connection to a server that answers from a fixed buffer.
func BenchmarkRoundTrip(b *testing.B) {
	sock := filepath.Join(b.TempDir(), "bench.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	answer, err := wire.AppendResponse(nil, header.Header{Opcode: header.OpPing}, []byte{8, 1})
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		rd := wire.NewReader(conn)
		var h header.Header
		for {
			if _, _, err := rd.NextRequest(&h); err != nil {
				return
			}
			if _, err := conn.Write(answer); err != nil {
				return
			}
		}
	}()
	c, err := wire.Dial(context.Background(), sock)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	req := header.Header{Opcode: header.OpPing}
	var resp header.Header
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.RoundTrip(ctx, req, nil, nil, &resp); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// TestHandWrittenMatches keeps the lower bound honest: it must accept and refuse exactly what
// UnmarshalBinary does, or it would be measuring less work.
func TestHandWrittenMatches(t *testing.T) {
	base, err := sampleHeader.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < header.Size; off++ {
		for _, v := range []byte{0, 1, 0x1e, 0x78, 0x80, 0xff} {
			f := append([]byte{}, base...)
			f[off] = v
			var want, got header.Header
			werr, gerr := want.UnmarshalBinary(f), handDecode(&got, f)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("byte %d = %#x: UnmarshalBinary %v, hand-written %v", off, v, werr, gerr)
			}
			if werr == nil && want != got {
				t.Fatalf("byte %d = %#x: fields differ: %+v vs %+v", off, v, want, got)
			}
		}
	}
	if handDecode(new(header.Header), base[:35]) == nil {
		t.Fatal("hand-written decoder accepts a short header")
	}
}

// Bodies: operation.Validate against proto.Unmarshal of the same bytes into a dynamicpb
// message built from the same schema (operation's table, turned into a descriptor below), the
// way a Go program without parsecwire reads a body.

// bodyBenchmarks are the two bodies the issue names: a ListOpcodes result listing the 29
// opcodes, and a PsaGenerateKey operation with full key attributes.
func bodyBenchmarks(b *testing.B) []struct {
	name string
	op   uint32
	dir  operation.Dir
	body []byte
} {
	ops, err := operation.Encode(header.OpListOpcodes, operation.Response, operation.Fields{{Name: "opcodes", Value: operation.Opcodes()}})
	if err != nil {
		b.Fatal(err)
	}
	flags := operation.Fields{}
	for _, f := range []string{"export", "copy", "cache", "encrypt", "decrypt", "sign_message", "verify_message", "sign_hash", "verify_hash", "derive"} {
		flags = append(flags, operation.Field{Name: f, Value: true})
	}
	key, err := operation.Encode(2, operation.Request, operation.Fields{
		{Name: "key_name", Value: "parsec-benchmark-ecdsa-signing-key"},
		{Name: "attributes", Value: operation.Fields{
			{Name: "key_type", Value: operation.Fields{{Name: "ecc_key_pair", Value: operation.Fields{{Name: "curve_family", Value: "SECP_R1"}}}}},
			{Name: "key_bits", Value: 256},
			{Name: "key_policy", Value: operation.Fields{
				{Name: "key_usage_flags", Value: flags},
				{Name: "key_algorithm", Value: operation.Fields{{Name: "asymmetric_signature", Value: operation.Fields{
					{Name: "deterministic_ecdsa", Value: operation.Fields{{Name: "hash_alg", Value: operation.Fields{{Name: "specific", Value: "SHA_256"}}}}}}}}},
			}},
		}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return []struct {
		name string
		op   uint32
		dir  operation.Dir
		body []byte
	}{{"ListOpcodes29", header.OpListOpcodes, operation.Response, ops}, {"PsaGenerateKey", 2, operation.Request, key}}
}

func BenchmarkBodyValidate(b *testing.B) {
	for _, c := range bodyBenchmarks(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				if err := operation.Validate(c.op, c.dir, c.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBodyProtoUnmarshal(b *testing.B) {
	for _, c := range bodyBenchmarks(b) {
		b.Run(c.name, func(b *testing.B) {
			m, _ := operation.Lookup(c.op, c.dir)
			msg := dynamicpb.NewMessage(dynamicDescriptor(b, m))
			b.ReportAllocs()
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				if err := proto.Unmarshal(c.body, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// dynamicDescriptor builds a protobuf descriptor of m and every message it uses, from
// operation's table, in one proto3 file.
func dynamicDescriptor(b *testing.B, m *operation.MessageDesc) protoreflect.MessageDescriptor {
	file := &descriptorpb.FileDescriptorProto{Name: proto.String("bench.proto"), Package: proto.String("bench"),
		Syntax: proto.String("proto3")}
	seen := map[string]bool{}
	flat := func(name string) string { return strings.NewReplacer(".", "_").Replace(name) }
	var add func(m *operation.MessageDesc)
	add = func(m *operation.MessageDesc) {
		if seen[m.Name] {
			return
		}
		seen[m.Name] = true
		d := &descriptorpb.DescriptorProto{Name: proto.String(flat(m.Name))}
		if m.Oneof != "" {
			d.OneofDecl = []*descriptorpb.OneofDescriptorProto{{Name: proto.String(m.Oneof)}}
		}
		for _, f := range m.Fields {
			fd := &descriptorpb.FieldDescriptorProto{Name: proto.String(f.Name), Number: proto.Int32(int32(f.Number)),
				Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
			if f.Repeated {
				fd.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
			}
			if f.Oneof {
				fd.OneofIndex = proto.Int32(0)
			}
			switch f.Kind {
			case operation.KindBool:
				fd.Type = descriptorpb.FieldDescriptorProto_TYPE_BOOL.Enum()
			case operation.KindUint32:
				fd.Type = descriptorpb.FieldDescriptorProto_TYPE_UINT32.Enum()
			case operation.KindUint64:
				fd.Type = descriptorpb.FieldDescriptorProto_TYPE_UINT64.Enum()
			case operation.KindString:
				fd.Type = descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
			case operation.KindBytes:
				fd.Type = descriptorpb.FieldDescriptorProto_TYPE_BYTES.Enum()
			case operation.KindEnum:
				fd.Type = descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum()
				fd.TypeName = proto.String(".bench." + flat(f.Enum.Name))
				if !seen[f.Enum.Name] {
					seen[f.Enum.Name] = true
					e := &descriptorpb.EnumDescriptorProto{Name: proto.String(flat(f.Enum.Name))}
					for _, v := range f.Enum.Values {
						e.Value = append(e.Value, &descriptorpb.EnumValueDescriptorProto{
							Name: proto.String(flat(f.Enum.Name) + "_" + v.Name), Number: proto.Int32(v.Number)})
					}
					file.EnumType = append(file.EnumType, e)
				}
			case operation.KindMessage:
				fd.Type = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
				fd.TypeName = proto.String(".bench." + flat(f.Message.Name))
				add(f.Message)
			}
			d.Field = append(d.Field, fd)
		}
		file.MessageType = append(file.MessageType, d)
	}
	add(m)
	fd, err := protodesc.NewFile(file, nil)
	if err != nil {
		b.Fatal(err)
	}
	return fd.Messages().ByName(protoreflect.Name(flat(m.Name)))
}
