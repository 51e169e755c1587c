// Package capture reads the files people capture Parsec traffic into (hex and base64 dumps,
// raw bytes, the Parsec mock service's test cases, xxd, hexdump and od dumps, strace and socat
// logs, pcap and pcapng files) as a sequence of segments: runs of bytes of one direction of one
// connection, in capture order. The caller joins the segments of each connection and direction
// into a stream and reads its frames with wire.Scanner.
//
// Every reader streams: memory does not grow with the size of the input.
package capture

import "strconv"

// Dir is the direction of a segment.
type Dir uint8

const (
	// DirUnknown: the format does not say (a hex dump); the caller decides how to read it.
	DirUnknown Dir = iota
	// DirRequest: client to service.
	DirRequest
	// DirResponse: service to client.
	DirResponse
)

// String returns "unknown", "request" or "response".
func (d Dir) String() string {
	switch d {
	case DirRequest:
		return "request"
	case DirResponse:
		return "response"
	}
	return "unknown"
}

// Segment is a run of captured bytes: part of one direction of one connection.
type Segment struct {
	// Conn names the connection within the capture ("pid 4242 fd 3",
	// "192.0.2.1:40000-192.0.2.2:5000"); "" when the format holds a single stream.
	Conn string
	Dir  Dir
	// Data is the segment's bytes. It is valid until the next call to Next.
	Data []byte
	// Line is the 1-based line of the input where the segment starts; 0 for binary formats.
	Line int
	// Marks, when a segment spans several lines, gives the line of each of them: Data[Off:]
	// starts on Line. A frame is reported with the line of its first byte.
	Marks []Mark
	// Start says that Data starts a new stream that must not be joined to what came before
	// on the same connection and direction: each line of a hex file of frames, each frame of
	// a mock test case.
	Start bool
	// Missing counts bytes that belong after Data but are not in the capture (strace -s cut
	// the buffer, a pcap lost a packet). The stream cannot be read past them.
	Missing int64
	// End says that this direction of the connection ended after Data (close, FIN).
	End bool
	// Reverse tells the two directions of a connection apart when Dir is DirUnknown: the
	// segments with Reverse set travel the other way from those without (strace: read by the
	// traced process rather than written; pcap: towards the side that sent the connection's
	// first packet). The caller that decides which side is the client uses it. It is false
	// whenever Dir is known.
	Reverse bool
}

// Mark is where a line starts inside a segment's Data.
type Mark struct {
	Off  int // offset in Data
	Line int // 1-based line of the input
}

// Source yields the segments of one input, in capture order.
type Source interface {
	// Next returns the next segment, and io.EOF after the last. A part of the input that
	// cannot be read (a line that is not hex) is returned as a *InputError, and Next may be
	// called again: the rest of the input is read.
	Next() (Segment, error)
}

// InputError is a part of an input that the format's reader could not read.
type InputError struct {
	Line   int    // 1-based line, or 0
	Offset int64  // byte offset in the input
	Format string // the format being read ("hex", "strace", "pcapng")
	Reason string // what was wrong
}

// Error names the place and the reason: "line 12: hex: odd number of digits".
func (e *InputError) Error() string {
	s := "offset " + strconv.FormatInt(e.Offset, 10) + ": "
	if e.Line > 0 {
		s = "line " + strconv.Itoa(e.Line) + ": "
	}
	return s + e.Format + ": " + e.Reason
}
