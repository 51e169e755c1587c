package capture_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/capture"
)

// ExampleNewPcap reads the TCP streams of a capture (the sample made by
// testdata/captures/make.sh) and the Parsec frames in each.
func ExampleNewPcap() {
	f, err := os.Open("../../testdata/captures/tcp.pcap")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()

	// example:begin
	src, err := capture.NewPcap(f) // or capture.NewStrace(f), capture.NewSocat(f)
	if err != nil {
		fmt.Println(err) // not a pcap or pcapng file
		return
	}
	streams := map[string][]byte{} // by connection and direction
	for {
		seg, err := src.Next()
		if err == io.EOF {
			break
		}
		var bad *capture.InputError
		if errors.As(err, &bad) {
			fmt.Println(err) // a packet (a line) it could not read: the rest is read
			continue
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if seg.Missing > 0 {
			fmt.Println(seg.Conn, seg.Dir, "lost", seg.Missing, "bytes") // the stream stops here
		}
		key := seg.Conn + " " + seg.Dir.String()
		streams[key] = append(streams[key], seg.Data...) // seg.Data is valid until the next call
	}
	for _, key := range slices.Sorted(maps.Keys(streams)) {
		r := wire.NewReader(bytes.NewReader(streams[key]))
		var h header.Header
		n := 0
		for {
			if strings.HasSuffix(key, " request") {
				_, _, err = r.NextRequest(&h)
			} else {
				_, err = r.Next(&h)
			}
			if err != nil {
				break
			}
			n++
		}
		fmt.Printf("%s: %d frames, then %v\n", key, n, err)
	}
	// example:end

	// Output:
	// 127.0.0.1:43902-127.0.0.1:47001 request: 3 frames, then EOF
	// 127.0.0.1:43902-127.0.0.1:47001 response: 3 frames, then EOF
	// 127.0.0.1:43910-127.0.0.1:47001 request: 1 frames, then EOF
	// 127.0.0.1:43910-127.0.0.1:47001 response: 1 frames, then EOF
	// 127.0.0.1:43914-127.0.0.1:47001 request: 1 frames, then EOF
	// 127.0.0.1:43914-127.0.0.1:47001 response: 1 frames, then EOF
}
