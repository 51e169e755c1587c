package wire_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

func TestAnswers(t *testing.T) {
	req := header.Header{Provider: 1, Session: 9, Opcode: 15, AcceptType: 0}
	echo := header.Header{Provider: 1, Session: 9, Opcode: 15}
	bodyFault := operation.Validate(15, operation.Request, nil) // HASH_NONE: InvalidEncoding
	unreadable := &header.FieldError{Field: header.FieldMagic, Code: status.InvalidHeader}
	statusOnly := func(c status.Code) header.Header { return header.Header{Opcode: header.OpPing, Status: c} }
	with := func(h header.Header, f func(*header.Header)) header.Header { f(&h); return h }
	for _, c := range []struct {
		name    string
		verdict error
		resp    header.Header
		field   header.Field // of the mismatch; FieldMagic: none
	}{
		{"echo", nil, echo, header.FieldMagic},
		{"echo with a provider's status", nil, with(echo, func(h *header.Header) { h.Status = status.PsaErrorDoesNotExist }), header.FieldMagic},
		{"another session", nil, with(echo, func(h *header.Header) { h.Session = 8 }), header.FieldSession},
		{"another opcode", nil, with(echo, func(h *header.Header) { h.Opcode = 1 }), header.FieldOpcode},
		{"not the accept type", nil, with(echo, func(h *header.Header) { h.ContentType = 1 }), header.FieldContentType},
		{"refused body: the converter's status", bodyFault, with(echo, func(h *header.Header) { h.Status = status.InvalidEncoding }), header.FieldMagic},
		{"refused body answered Success", bodyFault, echo, header.FieldStatus},
		{"unreadable: status alone", unreadable, statusOnly(status.InvalidHeader), header.FieldMagic},
		{"unreadable, another status", unreadable, statusOnly(status.ConnectionError), header.FieldStatus},
		{"unreadable, echoed", unreadable, with(echo, func(h *header.Header) { h.Status = status.InvalidHeader }), header.FieldProvider},
	} {
		err := wire.Answers(&req, c.verdict, &c.resp)
		if c.field == header.FieldMagic {
			assert.NoError(t, err, c.name)
			continue
		}
		var me *wire.MismatchError
		if assert.True(t, errors.As(err, &me), c.name) {
			assert.Equal(t, c.field, me.Field, c.name)
			assert.ErrorIs(t, err, wire.ErrMismatch, c.name)
		}
	}
}
