//go:build ignore

// gen writes the inputs of run.sh: go run testdata/bench/gen.go KIND SIZE > FILE
//
//	raw64k   PsaGenerateRandom responses with 64 KiB bodies, raw
//	raw0     header-only responses, raw
//	magic    the magic number 10 A7 C0 5E repeated
//	hs65535  headers announcing a header size of 65535, back to back
//	hex      hex lines of mixed responses (one line, about 4 KiB, per 40 frames)
//	base64   the same in base64
//	mock     mock-service test cases, one per YAML document, 48 KiB bodies
//	xxd      an xxd dump of the raw mix
//
// SIZE is in bytes (suffix M or G allowed); the output stops at the first whole unit past it.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func frame(provider uint8, session uint64, opcode uint32, st uint16, body []byte) []byte {
	b := make([]byte, 36, 36+len(body))
	binary.LittleEndian.PutUint32(b, 0x5EC0A710)
	binary.LittleEndian.PutUint16(b[4:], 30)
	b[6] = 1
	b[10] = provider
	binary.LittleEndian.PutUint64(b[11:], session)
	binary.LittleEndian.PutUint32(b[22:], uint32(len(body)))
	binary.LittleEndian.PutUint32(b[28:], opcode)
	binary.LittleEndian.PutUint16(b[32:], st)
	return append(b, body...)
}

func request(provider uint8, session uint64, opcode uint32, body []byte) []byte {
	b := frame(provider, session, opcode, 0, body)
	return b
}

// randomBytes is a PsaGenerateRandom result of exactly n bytes (n = 0 or n >= 4): field 1,
// a length, and bytes counting up from first. The bodies of Success responses must be valid
// protobuf: decode and validate judge them as the reference does.
func randomBytes(n int, first byte) []byte {
	if n == 0 {
		return nil
	}
	payload := n - 2
	for payload+1+varintLen(payload) > n {
		payload--
	}
	b := binary.AppendUvarint([]byte{0x0a}, uint64(payload))
	for len(b) < n {
		b = append(b, first+byte(len(b)))
	}
	return b
}

func varintLen(v int) int { return len(binary.AppendUvarint(nil, uint64(v))) }

// mix is a run of responses of varied sizes and statuses, all valid: a Success answers
// PsaGenerateRandom with its bytes; the others carry their status and a body no one reads.
func mix() []byte {
	var out []byte
	statuses := []uint16{0, 0, 0, 1140, 21, 1139, 0, 16}
	for i := 0; i < 40; i++ {
		n := (i * 37) % 200
		if n < 4 {
			n = 0
		}
		st, op := statuses[i%len(statuses)], uint32(1+i%20)
		body := make([]byte, n)
		for j := range body {
			body[j] = byte(i + j)
		}
		if st == 0 {
			op, body = 13, randomBytes(n, byte(i))
		}
		out = append(out, frame(uint8(i%4), uint64(i), op, st, body)...)
	}
	return out
}

func main() {
	kind, size := os.Args[1], parseSize(os.Args[2])
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	var unit []byte
	switch kind {
	case "raw64k":
		unit = frame(1, 7, 13, 0, randomBytes(64<<10, 0))
	case "raw0":
		unit = frame(1, 7, 12, 1140, nil)
		unit = []byte(strings.Repeat(string(unit), 1000))
	case "magic":
		unit = []byte(strings.Repeat("\x10\xa7\xc0\x5e", 1<<14))
	case "hs65535":
		h := frame(0, 0, 1, 0, nil)
		h[4], h[5] = 0xff, 0xff
		unit = []byte(strings.Repeat(string(h), 1000))
	case "hex":
		unit = []byte(hex.EncodeToString(mix()) + "\n")
	case "base64":
		unit = []byte(base64.StdEncoding.EncodeToString(mix()) + "\n")
	case "xxd":
		unit = nil
	case "mock":
		req := request(1, 5, 13, []byte{8, 32})
		resp := frame(1, 5, 13, 0, randomBytes(48<<10, 0))
		unit = []byte("---\nspec:\n  name: generated\ntest_data:\n  request: " + base64.StdEncoding.EncodeToString(req) +
			"\n  response: " + base64.StdEncoding.EncodeToString(resp) + "\n")
	default:
		fmt.Fprintln(os.Stderr, "unknown kind", kind)
		os.Exit(2)
	}
	if kind == "xxd" {
		m := mix()
		var off, written int64
		line := make([]byte, 0, 80)
		for written < size { // SIZE counts the dump's text, as for the other formats
			for i := 0; i < len(m); i += 16 {
				chunk := m[i:min(i+16, len(m))]
				line = append(line[:0], fmt.Sprintf("%08x:", off)...)
				for j := 0; j < len(chunk); j += 2 {
					line = append(line, ' ')
					line = hex.AppendEncode(line, chunk[j:min(j+2, len(chunk))])
				}
				line = append(line, "  ................\n"...)
				w.Write(line)
				off += int64(len(chunk))
				written += int64(len(line))
			}
		}
		return
	}
	for n := int64(0); n < size; n += int64(len(unit)) {
		w.Write(unit)
	}
}

func parseSize(s string) int64 {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return n * mult
}
