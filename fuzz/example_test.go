package fuzz_test

import (
	"fmt"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/wire"
)

func ExampleMutateResponse() {
	frame, _ := wire.AppendResponse(nil, header.Header{Opcode: header.OpPing}, []byte{0x08, 0x01})
	for _, seed := range []uint64{1, 2, 3} {
		m := fuzz.MutateResponse(frame, seed) // the same frame and seed give the same mutation
		fmt.Printf("seed %d: %v, %d bytes\n", seed, m, len(m.Frame))
	}
	// Output:
	// seed 1: content-length: content length 2 -> 1048576 [ConnectionError], 38 bytes
	// seed 2: magic: magic 0x5ec0a710 -> 0x10a7c05e [InvalidHeader], 38 bytes
	// seed 3: content-length: content length 2 -> 1048577 [BodySizeExceedsLimit], 38 bytes
}
