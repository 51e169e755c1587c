package operation

import (
	"reflect"
	"testing"

	"github.com/parsecwire/parsecwire/status"
)

// FuzzBody: any bytes as the body of any opcode, in either direction. No panic; Validate and
// Decode agree; a fault is classified by one of the statuses the reference's converter
// returns; a valid body decodes to a tree that encodes canonically to a body that is valid
// and decodes to the same tree.
//
// It lives in package operation, not operation_test, so that OSS-Fuzz's go-118-fuzz-build
// can build it.
func FuzzBody(f *testing.F) {
	f.Add(uint8(1), true, []byte{0x08, 0x01})
	f.Add(uint8(8), true, []byte{0x0a, 0x05, 0x0a, 0x01, 0x78, 0x38, 0x01})
	f.Add(uint8(9), true, []byte{0x0a, 0x03, 0x01, 0x02, 0x63})
	f.Add(uint8(2), false, []byte{0x0a, 0x01, 0x6b, 0x12, 0x0f, 0x0a, 0x02, 0x22, 0x00, 0x10, 0x80, 0x01, 0x1a, 0x06, 0x0a, 0x00, 0x12, 0x02, 0x0a, 0x00})
	f.Add(uint8(4), false, []byte{0x12, 0x06, 0x22, 0x04, 0x0a, 0x02, 0x10, 0x07})
	f.Add(uint8(15), false, []byte{0x08, 0x87, 0x80, 0x80, 0x80, 0x10})
	f.Add(uint8(1), false, []byte{0x0b, 0x0b, 0x0c, 0x0c})
	f.Fuzz(func(t *testing.T, op uint8, response bool, body []byte) {
		d := Request
		if response {
			d = Response
		}
		verr := Validate(uint32(op), d, body)
		fs, derr := Decode(uint32(op), d, body)
		if !reflect.DeepEqual(verr, derr) {
			t.Fatalf("Validate says %v, Decode says %v", verr, derr)
		}
		if _, ok := Lookup(uint32(op), d); !ok {
			if verr == nil {
				t.Fatal("a body of an opcode without a schema was accepted")
			}
			return
		}
		if verr != nil {
			fe, ok := verr.(*FieldError)
			if !ok {
				t.Fatalf("not a *FieldError: %T", verr)
			}
			switch fe.Code {
			case status.DeserializingBodyFailed, status.InvalidEncoding, status.ProviderDoesNotExist,
				status.OpcodeDoesNotExist, status.AuthenticatorDoesNotExist, status.WrongProviderUuid:
			default:
				t.Fatalf("classified as %v: %v", fe.Code, verr)
			}
			if fe.Offset < 0 || fe.Offset > len(body) {
				t.Fatalf("offset %d outside a %d-byte body", fe.Offset, len(body))
			}
			if fe.Code == status.DeserializingBodyFailed {
				if fs != nil {
					t.Fatal("a body that does not parse was decoded")
				}
				return
			}
		}
		again, err := Encode(uint32(op), d, fs)
		if err != nil {
			t.Fatalf("a decoded tree does not encode: %v", err)
		}
		fs2, err := Decode(uint32(op), d, again)
		if (err == nil) != (verr == nil) {
			t.Fatalf("re-encoded %x: verdict %v, the original's %v", again, err, verr)
		}
		if !reflect.DeepEqual(fs, fs2) {
			t.Fatalf("re-encoded %x decodes to\n%v\nnot\n%v", again, fs2, fs)
		}
	})
}
