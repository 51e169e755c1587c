package operation_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

// A key-attributes message for AES-128 with every usage flag clear and algorithm None, as the
// reference writes it: key_type {aes {}}, key_bits 128, key_policy {flags {}, algorithm {none {}}}.
const aesAttributes = "0a02 2200 108001 1a06 0a00 1202 0a00"

func TestValidateFaults(t *testing.T) {
	for _, c := range []struct {
		name   string
		op     uint32
		dir    operation.Dir
		body   string
		code   status.Code
		path   string
		offset int
	}{
		// The wire pass: DeserializingBodyFailed, wherever the fault is.
		{"truncated varint", header.OpPing, operation.Response, "08 80", status.DeserializingBodyFailed, "wire_protocol_version_maj", 1},
		{"field number 0", header.OpPing, operation.Response, "00 01", status.DeserializingBodyFailed, "", 0},
		{"wire type 7", header.OpPing, operation.Request, "0f", status.DeserializingBodyFailed, "", 0},
		{"key above 32 bits", header.OpPing, operation.Request, "ffffffff7f 00", status.DeserializingBodyFailed, "", 0},
		{"10-byte varint ending in 2", header.OpPing, operation.Response, "08 ffffffffffffffffff02", status.DeserializingBodyFailed, "wire_protocol_version_maj", 1},
		{"known varint as length-delimited", header.OpPing, operation.Response, "0a 01 01", status.DeserializingBodyFailed, "wire_protocol_version_maj", 0},
		{"length past the end", 13, operation.Response, "0a 05 0102", status.DeserializingBodyFailed, "random_bytes", 1},
		{"invalid UTF-8", 3, operation.Request, "0a 03 6b ff 79", status.DeserializingBodyFailed, "key_name", 3},
		{"surrogate in UTF-8", 3, operation.Request, "0a 03 eda080", status.DeserializingBodyFailed, "key_name", 2},
		{"bad UTF-8 deep in a list", header.OpListProviders, operation.Response,
			"0a 03 1201 41  0a 03 1201 c0", status.DeserializingBodyFailed, "providers[1].description", 9},
		{"unknown field cut short", header.OpPing, operation.Request, "7a 05 00", status.DeserializingBodyFailed, "", 1},
		{"end group without a start", header.OpPing, operation.Request, "0c", status.DeserializingBodyFailed, "", 0},
		{"group closed by another number", header.OpPing, operation.Request, "0b 14", status.DeserializingBodyFailed, "", 1},
		{"packed run that ends mid-value", header.OpListOpcodes, operation.Response, "0a 02 01 80", status.DeserializingBodyFailed, "opcodes[1]", 3},
		{"field crossing its message's end", header.OpListProviders, operation.Response, "0a 02 12 05 4142434445", status.DeserializingBodyFailed, "providers[0].description", 3},
		// The value pass: what the converter refuses.
		{"missing attributes", 2, operation.Request, "0a 01 6b", status.InvalidEncoding, "attributes", 0},
		{"empty algorithm oneof", 4, operation.Request, "12 00", status.InvalidEncoding, "alg", 2},
		{"hash none", 15, operation.Request, "", status.InvalidEncoding, "alg", 0},
		{"hash out of range", 15, operation.Request, "08 10", status.InvalidEncoding, "alg", 1},
		{"negative enum", 15, operation.Request, "08 ffffffff0f", status.InvalidEncoding, "alg", 1},
		{"ping version 256", header.OpPing, operation.Response, "08 8002", status.InvalidEncoding, "wire_protocol_version_maj", 1},
		{"unknown opcode in a list", header.OpListOpcodes, operation.Response, "0a 03 010263", status.OpcodeDoesNotExist, "opcodes[2]", 4},
		{"unknown provider", header.OpListOpcodes, operation.Request, "08 06", status.ProviderDoesNotExist, "provider_id", 1},
		{"provider 257 is not cut to 8 bits", header.OpListOpcodes, operation.Request, "08 8102", status.ProviderDoesNotExist, "provider_id", 1},
		{"unknown authenticator", header.OpListAuthenticators, operation.Response, "0a 02 2805", status.AuthenticatorDoesNotExist, "authenticators[0].id", 3},
		{"uuid before provider id", header.OpListProviders, operation.Response, "0a 05 0a01 78 3809", status.WrongProviderUuid, "providers[0].uuid", 4},
		{"provider before attributes", 26, operation.Response, "0a 02 0809", status.ProviderDoesNotExist, "keys[0].provider_id", 3},
		{"truncated mac without its algorithm", 2, operation.Request,
			"12 10 0a02 2200 1a0a 0a00 1206 1a04 1202 1010", status.InvalidEncoding, "attributes.key_policy.key_algorithm.mac.truncated.mac_alg", 16},
		{"no attestation output", 30, operation.Response, "", status.InvalidEncoding, "output", 0},
		{"the last oneof member wins", 15, operation.Request, "08 07 08 00", status.InvalidEncoding, "alg", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := unhex(t, c.body)
			err := operation.Validate(c.op, c.dir, body)
			require.Error(t, err)
			var fe *operation.FieldError
			require.ErrorAs(t, err, &fe)
			assert.ErrorIs(t, err, c.code)
			assert.Equal(t, c.code, fe.Code)
			assert.Equal(t, c.path, fe.Path)
			assert.Equal(t, c.offset, fe.Offset)
			assert.Contains(t, err.Error(), "("+c.code.String()+")")
			code, ok := status.Of(err)
			assert.True(t, ok)
			assert.Equal(t, c.code, code)
			// Decode gives the same verdict.
			_, derr := operation.Decode(c.op, c.dir, body)
			assert.Equal(t, err, derr)
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	for _, c := range []struct {
		name string
		op   uint32
		dir  operation.Dir
		body string
	}{
		{"empty ping", header.OpPing, operation.Request, ""},
		{"empty list", header.OpListProviders, operation.Response, ""},
		{"unknown fields of every wire type", header.OpPing, operation.Request, "7801 790102030405060708 7a0100 7b 7801 7c 7d01020304"},
		{"overlong varint", header.OpPing, operation.Response, "08 8100"},
		{"uint32 keeps the low 32 bits", header.OpListOpcodes, operation.Request, "08 8180808010"},
		{"unpacked and packed opcodes mixed", header.OpListOpcodes, operation.Response, "08 01 0a02 0203 08 04"},
		{"hash 2^32+7 reads as SHA_256", 15, operation.Request, "08 8780808010"},
		{"deprecated hash", 15, operation.Request, "08 03"},
		{"uuid in braces", header.OpListProviders, operation.Response, "0a 28 0a26 7b" + hex.EncodeToString([]byte("1c1139dc-ad7c-47dc-ad6b-db6fdb466552")) + "7d"},
		{"aes key", 2, operation.Request, "0a 01 6b 12 0f " + aesAttributes},
		{"attributes merged from two occurrences", 2, operation.Request, "12 04 0a02 2200  12 0b 108001 1a06 0a00 1202 0a00"},
		{"alg switched back starts afresh", 4, operation.Request, "12 04 2202 0a00  12 02 2a00  12 06 2204 0a02 1007"},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.NoError(t, operation.Validate(c.op, c.dir, unhex(t, c.body)))
		})
	}
}

func TestUnknownOpcode(t *testing.T) {
	err := operation.Validate(99, operation.Request, nil)
	assert.ErrorIs(t, err, operation.ErrUnknownOpcode)
	assert.ErrorIs(t, err, status.OpcodeDoesNotExist)
	_, err = operation.Decode(23, operation.Response, nil)
	assert.ErrorIs(t, err, operation.ErrUnknownOpcode)
	_, err = operation.Encode(0, operation.Response, nil)
	assert.ErrorIs(t, err, operation.ErrUnknownOpcode)
	assert.NotErrorIs(t, operation.Validate(15, operation.Request, nil), operation.ErrUnknownOpcode)
}

func TestDecode(t *testing.T) {
	fs, err := operation.Decode(2, operation.Request, unhex(t, "0a 01 6b 12 0f "+aesAttributes))
	require.NoError(t, err)
	assert.Equal(t, "k", fs.Get("key_name"))
	attrs, ok := fs.Get("attributes").(operation.Fields)
	require.True(t, ok)
	assert.Equal(t, uint32(128), attrs.Get("key_bits"))
	assert.Equal(t, operation.Fields{{Name: "aes", Value: operation.Fields{}}}, attrs.Get("key_type"))
	assert.Equal(t, `key_name: "k"
attributes:
  key_type:
    aes:
  key_bits: 128
  key_policy:
    key_usage_flags:
      export: false
      copy: false
      cache: false
      encrypt: false
      decrypt: false
      sign_message: false
      verify_message: false
      sign_hash: false
      verify_hash: false
      derive: false
    key_algorithm:
      none:
`, fs.String())

	fs, err = operation.Decode(header.OpListOpcodes, operation.Response, unhex(t, "08 01 0a02 0203"))
	require.NoError(t, err)
	assert.Equal(t, operation.Fields{{Name: "opcodes", Value: []uint32{1, 2, 3}}}, fs)
	assert.Equal(t, "opcodes: [1, 2, 3]\n", fs.String())

	// A refused value is still decoded, so that it can be shown.
	fs, err = operation.Decode(15, operation.Request, unhex(t, "08 63 12 02 0102"))
	assert.ErrorIs(t, err, status.InvalidEncoding)
	assert.Equal(t, operation.Fields{{Name: "alg", Value: operation.Enum{Number: 99}}, {Name: "input", Value: []byte{1, 2}}}, fs)
	j, err := json.Marshal(fs)
	require.NoError(t, err)
	assert.JSONEq(t, `{"alg":99,"input":"AQI="}`, string(j))
}

func TestText(t *testing.T) {
	fs := operation.Fields{
		{Name: "providers", Value: []operation.Fields{
			{{Name: "uuid", Value: "u1"}, {Name: "id", Value: uint32(1)}},
			{},
		}},
		{Name: "clients", Value: []string{"a", "b\n"}},
		{Name: "blob", Value: []byte{0xde, 0xad}},
		{Name: "long", Value: bytes.Repeat([]byte{0xab}, 65)},
		{Name: "none", Value: []byte{}},
		{Name: "alg", Value: operation.Enum{Number: 7, Name: "SHA_256"}},
		{Name: "size", Value: uint64(1) << 60},
		{Name: "empty", Value: []operation.Fields{}},
	}
	assert.Equal(t, `    providers:
      - uuid: "u1"
        id: 1
      - {}
    clients: ["a", "b\n"]
    blob: dead
    long: abababababababababababababababababababababababababababababababab ... (65 bytes)
    none: ""
    alg: SHA_256
    size: 1152921504606846976
    empty: []
`, string(fs.AppendText(nil, "    ")))
	j, err := json.Marshal(fs)
	require.NoError(t, err)
	assert.JSONEq(t, `{"providers":[{"uuid":"u1","id":1},{}],"clients":["a","b\n"],"blob":"3q0=","long":"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=","none":"",
		"alg":"SHA_256","size":"1152921504606846976","empty":[]}`, string(j))
}

func TestEncode(t *testing.T) {
	b, err := operation.Encode(header.OpPing, operation.Response, operation.Fields{
		{Name: "wire_protocol_version_maj", Value: 1}, {Name: "wire_protocol_version_min", Value: uint32(0)}})
	require.NoError(t, err)
	assert.Equal(t, []byte{0x08, 0x01}, b, "a default value is left out")

	b, err = operation.Encode(2, operation.Request, operation.Fields{
		{Name: "attributes", Value: operation.Fields{
			{Name: "key_policy", Value: operation.Fields{
				{Name: "key_algorithm", Value: operation.Fields{{Name: "none", Value: operation.Fields{}}}},
				{Name: "key_usage_flags", Value: operation.Fields{}},
			}},
			{Name: "key_bits", Value: 128},
			{Name: "key_type", Value: operation.Fields{{Name: "aes", Value: operation.Fields{}}}},
		}},
		{Name: "key_name", Value: "k"},
	})
	require.NoError(t, err)
	assert.Equal(t, unhex(t, "0a 01 6b 12 0f "+aesAttributes), b, "fields in number order, as the reference writes them")

	b, err = operation.Encode(header.OpListOpcodes, operation.Response, operation.Fields{{Name: "opcodes", Value: []uint32{1, 300}}})
	require.NoError(t, err)
	assert.Equal(t, unhex(t, "0a 03 01 ac02"), b, "packed")

	b, err = operation.Encode(15, operation.Request, operation.Fields{{Name: "alg", Value: "SHA_256"}})
	require.NoError(t, err)
	assert.Equal(t, unhex(t, "08 07"), b, "an enum by name")

	// A long message moves its payload behind a two-byte length.
	long := strings.Repeat("x", 200)
	b, err = operation.Encode(header.OpListProviders, operation.Response, operation.Fields{
		{Name: "providers", Value: []operation.Fields{{{Name: "uuid", Value: "1c1139dcad7c47dcad6bdb6fdb466552"}, {Name: "description", Value: long}}}}})
	require.NoError(t, err)
	fs, err := operation.Decode(header.OpListProviders, operation.Response, b)
	require.NoError(t, err)
	assert.Equal(t, long, fs.Get("providers").([]operation.Fields)[0].Get("description"))

	for _, c := range []struct {
		name string
		fs   operation.Fields
		path string
	}{
		{"no such field", operation.Fields{{Name: "nope", Value: 1}}, "nope"},
		{"wrong type", operation.Fields{{Name: "alg", Value: []byte{1}}}, "alg"},
		{"no such enum value", operation.Fields{{Name: "alg", Value: "SHA_999"}}, "alg"},
	} {
		_, err := operation.Encode(15, operation.Request, c.fs)
		var fe *operation.FieldError
		require.ErrorAs(t, err, &fe, c.name)
		assert.Equal(t, c.path, fe.Path, c.name)
		assert.ErrorIs(t, err, status.SerializingBodyFailed, c.name)
	}
	_, err = operation.Encode(4, operation.Request, operation.Fields{{Name: "alg", Value: operation.Fields{
		{Name: "ecdsa_any", Value: operation.Fields{}}, {Name: "rsa_pss", Value: operation.Fields{}}}}})
	assert.ErrorContains(t, err, "two members of the variant oneof")
	prefix := []byte{0xAA}
	out, err := operation.Append(prefix, 15, operation.Request, operation.Fields{{Name: "nope"}})
	assert.Error(t, err)
	assert.Equal(t, prefix, out, "b is returned unchanged on error")
}

// TestValidateAllocatesNothing: the rule, on valid bodies of both benchmarks' shapes.
func TestValidateAllocatesNothing(t *testing.T) {
	list := unhex(t, "0a1d 0102030405060708090a0b0c0d0e0f101112131415 18191a1b1c 1e1f20")
	key := unhex(t, "0a 01 6b 12 0f "+aesAttributes)
	for _, c := range []struct {
		op   uint32
		dir  operation.Dir
		body []byte
	}{{header.OpListOpcodes, operation.Response, list}, {2, operation.Request, key}} {
		require.NoError(t, operation.Validate(c.op, c.dir, c.body))
		assert.Zero(t, testing.AllocsPerRun(100, func() { _ = operation.Validate(c.op, c.dir, c.body) }))
	}
}

func TestErrorMessage(t *testing.T) {
	err := operation.Validate(header.OpListProviders, operation.Response, unhex(t, "0a03 0a01ff"))
	assert.EqualError(t, err, "parsec body: ListProviders response: providers[0].uuid at offset 4: invalid UTF-8 in a string (DeserializingBodyFailed)")
	err = operation.Validate(header.OpListOpcodes, operation.Response, unhex(t, "0a01 63"))
	assert.EqualError(t, err, "parsec body: ListOpcodes response: opcodes[0] at offset 2: not an opcode the reference knows, found 99 (OpcodeDoesNotExist)")
	assert.True(t, errors.Is(err, status.OpcodeDoesNotExist))
}

func TestFrame(t *testing.T) {
	bad := []byte{0x08, 0x80, 0x02} // a Ping result announcing version 256
	for _, c := range []struct {
		name string
		h    header.Header
		dir  operation.Dir
		read bool
	}{
		{"success response", header.Header{Opcode: header.OpPing}, operation.Response, true},
		{"failed response", header.Header{Opcode: header.OpPing, Status: status.PsaErrorGenericError}, operation.Response, false},
		{"not protobuf", header.Header{Opcode: header.OpPing, ContentType: 1}, operation.Response, false},
		{"unknown opcode", header.Header{Opcode: 23}, operation.Response, false},
		{"request", header.Header{Opcode: header.OpPing}, operation.Request, true},
	} {
		_, read := operation.ForFrame(&c.h, c.dir)
		assert.Equal(t, c.read, read, c.name)
		err := operation.ValidateFrame(&c.h, c.dir, bad)
		fs, derr := operation.DecodeFrame(&c.h, c.dir, bad)
		if c.read && c.dir == operation.Response {
			assert.ErrorIs(t, err, status.InvalidEncoding, c.name)
			assert.Equal(t, err, derr, c.name)
			assert.Equal(t, uint32(256), fs.Get("wire_protocol_version_maj"), c.name)
			continue
		}
		if !c.read {
			assert.NoError(t, err, c.name)
			assert.NoError(t, derr, c.name)
			assert.Nil(t, fs, c.name)
		}
	}
}

func TestJSONBytesAreBase64(t *testing.T) {
	for n := 0; n < 200; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		j, err := json.Marshal(operation.Fields{{Name: "data", Value: b}})
		require.NoError(t, err)
		var back struct{ Data []byte } // encoding/json reads []byte as standard base64
		require.NoError(t, json.Unmarshal(j, &back))
		assert.Equal(t, b, back.Data, "%d bytes", n)
	}
}
