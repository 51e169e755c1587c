package capture

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStraceLongLine: a line longer than the limit is reported and skipped, and the lines
// after it are read (the limit is made small here; it is maxLogLine in use).
func TestStraceLongLine(t *testing.T) {
	attached := "10  clone(CLONE_FILESstrace: Process 11 attached\n"
	log := "10  connect(3, {}, 1) = 0\n" +
		"10  write(3, \"" + strings.Repeat(`\x01`, 100) + "\", 100) = 100\n" +
		"10  write(3, \"\\x02\", 1) = 1\n" +
		strings.Repeat(attached, 4) + // joined, they pass the limit
		"12  write(3, \"\\x03\", 1) = 1\n"
	src := NewStrace(strings.NewReader(log)).(*straceReader)
	src.lines.max = 64
	var got []string
	for {
		seg, err := src.Next()
		if err == io.EOF {
			break
		}
		got = append(got, render(seg, err))
	}
	assert.Equal(t, []string{
		"error: line longer than 64 bytes: skipped",
		"pid 10 fd 3|request|\x02|start",
		"error: line longer than 64 bytes: skipped",
		"pid 12 fd 3|unknown|\x03|start",
	}, got)
}

// benchLog repeats a client's exchange: a request written, a response read in three reads.
func benchLog(n int) []byte {
	var b bytes.Buffer
	req := straceQuote(bytes.Repeat([]byte{0x10, 0xa7, 0xc0, 0x5e}, 16), false)
	for i := range n {
		fd := 3 + i%4
		b.WriteString("4242  connect(")
		b.WriteString(string(rune('0' + fd)))
		b.WriteString("<UNIX-STREAM:[100]>, {sa_family=AF_UNIX, sun_path=\"/run/parsec/parsec.sock\"}, 25) = 0\n")
		for range 3 {
			b.WriteString("4242  write(" + string(rune('0'+fd)) + "<UNIX-STREAM:[100->101]>, " + req + ", 64) = 64\n")
			b.WriteString("4243  read(" + string(rune('0'+fd)) + "<UNIX-STREAM:[100->101]>, " + req + ", 4096) = 64\n")
		}
		b.WriteString("4242  close(" + string(rune('0'+fd)) + "<UNIX-STREAM:[100->101]>) = 0\n")
	}
	return b.Bytes()
}

func BenchmarkStrace(b *testing.B) {
	log := benchLog(1000)
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	for b.Loop() {
		src := NewStrace(bytes.NewReader(log))
		for {
			if _, err := src.Next(); err == io.EOF {
				break
			}
		}
	}
}

func BenchmarkSocat(b *testing.B) {
	var ops []genOp
	for i := range 2000 {
		ops = append(ops, genOp{conn: 0, dir: Dir(1 + i%2), data: bytes.Repeat([]byte{0x10, 0xa7}, 18)})
	}
	log, _ := genSocat(ops)
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	for b.Loop() {
		src := NewSocat(bytes.NewReader(log))
		for {
			if _, err := src.Next(); err == io.EOF {
				break
			}
		}
	}
}

func BenchmarkPcap(b *testing.B) {
	var ops []genOp
	for i := range 2000 {
		ops = append(ops, genOp{conn: i % 3, dir: Dir(1 + i%2), data: bytes.Repeat([]byte{0x10, 0xa7}, 18)})
	}
	file, _ := genPcap(ops, false)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		src, err := NewPcap(bytes.NewReader(file))
		require.NoError(b, err)
		for {
			if _, err := src.Next(); err == io.EOF {
				break
			}
		}
	}
}
