// Package fuzz holds parsecwire's fuzzing tools: a deliberately plain second decoder that
// keeps the fast one honest, mutators that turn valid Parsec frames into broken ones for
// fuzzing other people's clients and services, and gofuzz functions biased toward the edges
// of the protocol. The native fuzz targets live in this package's tests.
package fuzz

import (
	"bytes"
	"encoding/binary"
	"io"
)

// PlainHeader is the wire layout of the header after the size field, field for field, as
// encoding/binary reads it.
type PlainHeader struct {
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

// Verdict is the outcome of a decode, named by the Parsec status that classifies it.
type Verdict string

// The verdicts of PlainDecode.
const (
	OK              Verdict = "ok"
	InvalidHeader   Verdict = "InvalidHeader"
	VersionTooBig   Verdict = "VersionTooBig"
	InvalidEncoding Verdict = "InvalidEncoding"
	ConnectionError Verdict = "ConnectionError"
)

// PlainDecode decodes a response header from b the way the reference implementation reads
// one from a stream that holds exactly b, written as plainly as possible: encoding/binary.Read
// field after field, a fresh buffer for the announced header bytes, and its own list of
// status values. It shares nothing with package header on purpose: it is the second opinion
// of a differential test, and slow is fine.
func PlainDecode(b []byte) (PlainHeader, Verdict) {
	var h PlainHeader
	r := bytes.NewReader(b)
	var magic uint32
	if err := binary.Read(r, binary.LittleEndian, &magic); err != nil {
		return h, ConnectionError
	}
	if magic != 0x5EC0A710 {
		return h, InvalidHeader
	}
	var size uint16
	if err := binary.Read(r, binary.LittleEndian, &size); err != nil {
		return h, ConnectionError
	}
	rest := make([]byte, size)
	if _, err := io.ReadFull(r, rest); err != nil {
		return h, ConnectionError
	}
	if size != 30 {
		return h, InvalidHeader
	}
	if err := binary.Read(bytes.NewReader(rest), binary.LittleEndian, &h); err != nil {
		return h, ConnectionError
	}
	if h.Major != 1 || h.Minor != 0 {
		return h, VersionTooBig
	}
	if h.Reserved1 != 0 || h.Reserved2 != 0 {
		return h, InvalidHeader
	}
	if !PlainKnownStatus(h.Status) {
		return h, InvalidEncoding
	}
	return h, OK
}

// PlainKnownStatus is the status table as ranges, written independently of package status:
// 0-22 (the seed's 0-20 and the later 21, 22), 1132-1143 and 1145-1153 (the seed's PSA codes
// and the later 1152, 1153). 1144 is not a Parsec status.
func PlainKnownStatus(v uint16) bool {
	return v <= 22 || (v >= 1132 && v <= 1143) || (v >= 1145 && v <= 1153)
}
