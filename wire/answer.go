package wire

import (
	"errors"
	"strconv"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
)

// MismatchError is a response that does not answer its request: which field, what it
// holds, what the request called for, and the rule it breaks. It matches ErrMismatch.
type MismatchError struct {
	Field     header.Field
	Got, Want uint64
	Why       string // the rule; "" for a Success response that does not echo its request
}

// Error names the field, both values and the rule.
func (e *MismatchError) Error() string {
	if e.Why == "" {
		return "wire: response " + e.Field.String() + " " + strconv.FormatUint(e.Got, 10) +
			" does not echo the request's " + strconv.FormatUint(e.Want, 10)
	}
	return "response " + e.Field.String() + " " + strconv.FormatUint(e.Got, 10) + ", expected " +
		strconv.FormatUint(e.Want, 10) + ": " + e.Why
}

// Unwrap returns ErrMismatch.
func (e *MismatchError) Unwrap() error { return ErrMismatch }

// Answers judges whether resp answers a request as a service on the reference implementation
// answers it. verdict is the reference's verdict on the request: nil for a request it reads
// whose body its converter accepts; the *operation.FieldError for one whose body it refuses;
// the reader's error for one it cannot read.
//
//   - A request it cannot read gets the status-only response: provider 0, session 0, opcode
//     1 (Ping), content type protobuf, with the status that classifies the failure.
//   - A readable request gets an echo of its provider, session and opcode, with its accept
//     type as content type; with the converter's status when it refuses the body, with any
//     status otherwise (the provider's).
//
// It returns nil or a *MismatchError. A service that answers a readable request with the
// status alone classifies it otherwise than the reference does (or has another limit).
func Answers(req *header.Header, verdict error, resp *header.Header) error {
	var body *operation.FieldError
	if errors.As(verdict, &body) {
		if resp.Status != body.Code {
			return &MismatchError{header.FieldStatus, uint64(resp.Status), uint64(body.Code),
				"the reference's converter refuses the request's body"}
		}
	} else if verdict != nil {
		code, _ := status.Of(verdict)
		why := "the request is unreadable (" + code.String() + "): the reference answers with the status alone"
		switch {
		case resp.Provider != 0:
			return &MismatchError{header.FieldProvider, uint64(resp.Provider), 0, why}
		case resp.Session != 0:
			return &MismatchError{header.FieldSession, resp.Session, 0, why}
		case resp.Opcode != header.OpPing:
			return &MismatchError{header.FieldOpcode, uint64(resp.Opcode), header.OpPing, why}
		case resp.ContentType != header.ContentProtobuf:
			return &MismatchError{header.FieldContentType, uint64(resp.ContentType), header.ContentProtobuf, why}
		case resp.Status != code:
			return &MismatchError{header.FieldStatus, uint64(resp.Status), uint64(code), why}
		}
		return nil
	}
	const why = "a response echoes its request"
	switch {
	case resp.Provider != req.Provider:
		return &MismatchError{header.FieldProvider, uint64(resp.Provider), uint64(req.Provider), why}
	case resp.Session != req.Session:
		return &MismatchError{header.FieldSession, resp.Session, req.Session, why}
	case resp.Opcode != req.Opcode:
		return &MismatchError{header.FieldOpcode, uint64(resp.Opcode), uint64(req.Opcode), why}
	case resp.ContentType != req.AcceptType:
		return &MismatchError{header.FieldContentType, uint64(resp.ContentType), uint64(req.AcceptType),
			"a response's content type is its request's accept type"}
	}
	return nil
}
