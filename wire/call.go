package wire

import (
	"context"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
)

// Call sends one operation and returns its result decoded: the request's body is encoded from
// args (the fields of the opcode's Operation message, by name; nil for none), the request is
// sent with RoundTrip (req's opcode, provider and session; auth as its authentication bytes),
// and the Success response's body is decoded and judged against the opcode's Result message.
//
// The errors are RoundTrip's (a *ServiceError for a status other than Success, matching it
// with errors.Is; a *MismatchError; a connection error), and for the bodies a
// *operation.FieldError: args the schema cannot encode (SerializingBodyFailed), or a result
// the reference would refuse (DeserializingBodyFailed, InvalidEncoding, ...). With a refused
// result the decoded fields are returned too, when its protobuf could be read.
func (c *Client) Call(ctx context.Context, req header.Header, args operation.Fields, auth []byte) (operation.Fields, error) {
	body, err := operation.Encode(req.Opcode, operation.Request, args)
	if err != nil {
		return nil, err
	}
	if auth != nil && req.AuthType == header.AuthNone {
		req.AuthType = header.AuthDirect
	}
	var resp header.Header
	rbody, err := c.RoundTrip(ctx, req, body, auth, &resp)
	if err != nil {
		return nil, err
	}
	if resp.ContentType != header.ContentProtobuf {
		return nil, &header.FieldError{Field: header.FieldContentType, Offset: header.FieldContentType.Offset(),
			Found: uint64(resp.ContentType), Expected: header.ContentProtobuf, Code: status.ContentTypeNotSupported}
	}
	return operation.Decode(req.Opcode, operation.Response, rbody)
}

// Ping asks the service for its wire protocol version (on the core provider).
func (c *Client) Ping(ctx context.Context) (major, minor uint8, err error) {
	fs, err := c.Call(ctx, header.Header{Opcode: header.OpPing}, nil, nil)
	if err != nil {
		return 0, 0, err
	}
	// The schema narrows both to 8 bits: a valid result holds values up to 255.
	return uint8(fs.Get("wire_protocol_version_maj").(uint32)), uint8(fs.Get("wire_protocol_version_min").(uint32)), nil
}

// ListOpcodes asks the core provider which opcodes provider supports.
func (c *Client) ListOpcodes(ctx context.Context, provider uint8) ([]uint32, error) {
	fs, err := c.Call(ctx, header.Header{Opcode: header.OpListOpcodes},
		operation.Fields{{Name: "provider_id", Value: uint32(provider)}}, nil)
	if err != nil {
		return nil, err
	}
	return fs.Get("opcodes").([]uint32), nil
}
