package operation_test

import (
	"errors"
	"fmt"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
)

// A ListOpcodes answer, as a Parsec service sends it, decoded and judged.
func Example() {
	body := []byte{0x0a, 0x04, 0x01, 0x08, 0x09, 0x0e}
	fs, err := operation.Decode(header.OpListOpcodes, operation.Response, body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(fs)
	fmt.Println(fs.Get("opcodes").([]uint32)[1])
	// Output:
	// opcodes: [1, 8, 9, 14]
	// 8
}

// A body the reference refuses: the error names the field, its offset in the body and the
// status the reference's converter returns.
func ExampleValidate() {
	// A ListProviders result whose ProviderInfo.uuid holds raw bytes.
	body := []byte{0x0a, 0x06, 0x0a, 0x04, 0x30, 0xaa, 0x6f, 0x9b}
	err := operation.Validate(header.OpListProviders, operation.Response, body)
	fmt.Println(err)
	var fe *operation.FieldError
	if errors.As(err, &fe) {
		fmt.Println(fe.Path, fe.Offset, errors.Is(err, status.DeserializingBodyFailed))
	}
	// Output:
	// parsec body: ListProviders response: providers[0].uuid at offset 5: invalid UTF-8 in a string (DeserializingBodyFailed)
	// providers[0].uuid 5 true
}

// Building a body: the Ping result a service sends, and a PsaHashCompute request with an
// enum given by name.
func ExampleEncode() {
	ping, _ := operation.Encode(header.OpPing, operation.Response, operation.Fields{
		{Name: "wire_protocol_version_maj", Value: 1},
		{Name: "wire_protocol_version_min", Value: 0},
	})
	hash, _ := operation.Encode(15, operation.Request, operation.Fields{
		{Name: "alg", Value: "SHA_256"},
		{Name: "input", Value: []byte("abc")},
	})
	fmt.Printf("%x\n%x\n", ping, hash)
	// Output:
	// 0801
	// 08071203616263
}
