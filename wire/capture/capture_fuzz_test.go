package capture

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/wire"
)

// FuzzCapture: any bytes read in any format this package builds in (and by detection): no
// panic, every failure is an *InputError (the rest is read), and the Decoder numbers the
// frames 0, 1, 2... with each invalid one classified and each offset inside its stream.
func FuzzCapture(f *testing.F) {
	fr, _ := wire.AppendResponse(nil, header.Header{Opcode: 1}, []byte{8, 1})
	f.Add([]byte("10a7c05e1e0001000000\n# c\nzz\n"), uint8(0))
	f.Add([]byte("00000000: 10a7 c05e 1e00 0100  ...^....\n*\n00000020: 0000\n"), uint8(1))
	f.Add([]byte("test_data:\n  request: EKfAXh4AAQ==\n---\nx: 1\n"), uint8(2))
	f.Add(fr, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		var built []Format
		for _, fm := range formats {
			if fm.Open != nil {
				built = append(built, fm)
			}
		}
		name := "auto"
		if i := int(which); i < len(built) {
			name = built[i].Name
		}
		src, _, err := Open("fuzz", bytes.NewReader(data), name)
		if err != nil {
			return
		}
		d := NewDecoder(Config{Limit: 256, Hold: 128})
		next := int64(0)
		err = d.Run("fuzz", src, func(r *Record) error {
			if r.Index != next {
				t.Fatalf("index %d after %d", r.Index, next-1)
			}
			next++
			if r.Offset < 0 || !r.OK && r.Missing == 0 && r.Code == 0 {
				t.Fatalf("record %+v", r)
			}
			return nil
		}, func(e error) {
			var ie *InputError
			if !errors.As(e, &ie) {
				t.Fatalf("not an input error: %v", e)
			}
		})
		if err != nil && err != io.EOF {
			t.Fatalf("run: %v", err)
		}
	})
}
