package capture_test

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/capture"
)

func ExampleDecoder() {
	// A mock-service test case: a request and the response that should echo it.
	req, _ := wire.AppendRequest(nil, header.Header{Provider: 1, Session: 2, Opcode: 12}, []byte{0x0a, 0x01, 'k'}, nil)
	resp, _ := wire.AppendResponse(nil, header.Header{Provider: 1, Session: 2, Opcode: 12, Status: status.PsaErrorDoesNotExist}, nil)
	yaml := "test_data:\n  request: " + base64.StdEncoding.EncodeToString(req) +
		"\n  response: " + base64.StdEncoding.EncodeToString(resp) + "\n"

	// Open detects the format (by extension, else by content) unless it is named.
	src, format, err := capture.Open("case.test.yaml", strings.NewReader(yaml), "auto")
	if err != nil {
		fmt.Println(err)
		return
	}
	d := capture.NewDecoder(capture.Config{Strict: true})
	err = d.Run("case.test.yaml", src, func(r *capture.Record) error {
		// r is valid during the call only.
		fmt.Printf("%s %s %d, exchange %d: ok=%v status=%v echo=%q\n", format, r.KindName(), r.Index, r.Exchange, r.OK, r.Header.Status, r.Echo)
		return nil
	}, func(inputErr error) { fmt.Println("input:", inputErr) })
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// mock request 0, exchange 1: ok=true status=Success echo=""
	// mock response 1, exchange 1: ok=true status=PsaErrorDoesNotExist echo=""
}
