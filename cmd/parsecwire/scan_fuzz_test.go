package main

import (
	"testing"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/wire"
)

// FuzzScan: any bytes, read as responses or as requests, with any flags: the scanner never
// panics, reports frames at strictly increasing offsets inside the input, and stops.
func FuzzScan(f *testing.F) {
	ok, _ := wire.AppendResponse(nil, header.Header{Opcode: 1}, []byte{8, 1})
	req, _ := wire.AppendRequest(nil, header.Header{Opcode: 1}, []byte{1}, []byte{2})
	f.Add(append(ok, ok...), false, uint8(0))
	f.Add(append([]byte{1, 2, 3}, req...), true, uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, request bool, flags uint8) {
		c := chunk{source: "fuzz", kind: "response", data: data}
		if request {
			c.kind = "request"
		}
		df := decodeFlags{limit: uint64(flags) * 4, seed: flags&1 != 0, strict: flags&2 != 0}
		last, n := -1, 0
		scan(c, &df, func(r *record) {
			n++
			if r.Offset <= last || r.Offset >= len(data) {
				t.Fatalf("record %d at offset %d after %d, input %d bytes", n, r.Offset, last, len(data))
			}
			last = r.Offset
			if !r.OK && (r.Code == nil || r.CodeName == "") {
				t.Fatalf("invalid frame without a classifying status: %+v", r)
			}
		})
		if n > len(data) {
			t.Fatalf("%d records from %d bytes", n, len(data))
		}
	})
}
