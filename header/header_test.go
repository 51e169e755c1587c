package header_test

import (
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// The worked example of the specification: a DeleteClient (28) response, status 21, no body.
const deleteClientHex = "10a7c05e 1e00 01 00 0000 00 0000000000000000 00 00 00 00000000 0000 1c000000 1500 00 00"

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

var (
	_ encoding.BinaryAppender    = header.Header{}
	_ encoding.BinaryMarshaler   = header.Header{}
	_ encoding.BinaryUnmarshaler = (*header.Header)(nil)
)

func TestWorkedExample(t *testing.T) {
	b := mustHex(t, deleteClientHex)
	require.Len(t, b, header.Size)
	h, err := header.Decode(b)
	require.NoError(t, err)
	assert.Equal(t, header.Header{Opcode: 28, Status: status.AdminOperation}, h)
	out, err := h.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, b, out)
}

// sample is a header with every field set to a distinct value.
func sample() header.Header {
	return header.Header{Flags: 0x0102, Provider: 3, Session: 0x1122334455667788, ContentType: 0,
		AcceptType: 0, AuthType: 0, ContentLength: 0x01020304, AuthLength: 0, Opcode: 0x0A0B0C0D,
		Status: status.PsaErrorDoesNotExist}
}

func TestFieldOffsets(t *testing.T) {
	b, err := sample().MarshalBinary()
	require.NoError(t, err)
	want := "10a7c05e" + "1e00" + "01" + "00" + "0201" + "03" + "8877665544332211" + "00" + "00" + "00" +
		"04030201" + "0000" + "0d0c0b0a" + "7404" + "00" + "00"
	assert.Equal(t, want, hex.EncodeToString(b))
	for f, off := range map[header.Field]int{header.FieldMagic: 0, header.FieldHeaderSize: 4, header.FieldVersion: 6,
		header.FieldFlags: 8, header.FieldProvider: 10, header.FieldSession: 11, header.FieldContentType: 19,
		header.FieldAcceptType: 20, header.FieldAuthType: 21, header.FieldContentLength: 22,
		header.FieldAuthLength: 26, header.FieldOpcode: 28, header.FieldStatus: 32, header.FieldReserved1: 34,
		header.FieldReserved2: 35, header.FieldBody: 36} {
		assert.Equal(t, off, f.Offset(), f.String())
		assert.Equal(t, f, header.FieldAt(off), "field at offset %d", off)
	}
	assert.Equal(t, header.FieldSession, header.FieldAt(18))
	assert.Equal(t, header.FieldBody, header.FieldAt(1000))
	assert.Equal(t, "content length", header.FieldContentLength.String())
}

func TestRoundTrip(t *testing.T) {
	h := sample()
	b, err := h.MarshalBinary()
	require.NoError(t, err)
	var got header.Header
	require.NoError(t, got.UnmarshalBinary(b))
	assert.Equal(t, h, got)
}

func TestRequestOnlyFieldsAreNotValidated(t *testing.T) {
	h := sample()
	h.AcceptType, h.AuthType, h.AuthLength = 7, 9, 512
	b, err := h.MarshalBinary()
	require.NoError(t, err)
	got, err := header.Decode(b)
	require.NoError(t, err, "a response's accept type, auth type and auth length must be ignored")
	assert.Equal(t, h, got, "but they are carried")
}

// TestFaults breaks one field at a time and checks the classification, the field, the offset
// and the values reported.
func TestFaults(t *testing.T) {
	cases := []struct {
		name     string
		off      int
		bytes    string
		code     status.Code
		field    header.Field
		found    uint64
		expected uint64
	}{
		{"magic big-endian", 0, "5ec0a710", status.InvalidHeader, header.FieldMagic, 0x10a7c05e, 0x5ec0a710},
		{"magic zero", 0, "00000000", status.InvalidHeader, header.FieldMagic, 0, 0x5ec0a710},
		{"header size 29", 4, "1d00", status.InvalidHeader, header.FieldHeaderSize, 29, 30},
		{"header size 0", 4, "0000", status.InvalidHeader, header.FieldHeaderSize, 0, 30},
		{"version 2.0", 6, "0200", status.VersionTooBig, header.FieldVersion, 0x0200, 0x0100},
		{"version 1.1", 6, "0101", status.VersionTooBig, header.FieldVersion, 0x0101, 0x0100},
		{"version 0.0", 6, "0000", status.VersionTooBig, header.FieldVersion, 0, 0x0100},
		{"reserved1 set", 34, "01", status.InvalidHeader, header.FieldReserved1, 1, 0},
		{"reserved2 set", 35, "ff", status.InvalidHeader, header.FieldReserved2, 0xff, 0},
		{"status 1144", 32, "7804", status.InvalidEncoding, header.FieldStatus, 1144, 0},
		{"status 23", 32, "1700", status.InvalidEncoding, header.FieldStatus, 23, 0},
		{"status 65535", 32, "ffff", status.InvalidEncoding, header.FieldStatus, 65535, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := sample().MarshalBinary()
			require.NoError(t, err)
			copy(b[tc.off:], mustHex(t, tc.bytes))
			var h header.Header
			err = h.UnmarshalBinary(b)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.code)
			var fe *header.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
			assert.Equal(t, tc.off, fe.Offset)
			assert.Equal(t, tc.found, fe.Found)
			if tc.code != status.InvalidEncoding {
				assert.Equal(t, tc.expected, fe.Expected)
			}
			assert.Contains(t, err.Error(), tc.field.String())
			assert.Contains(t, err.Error(), fmt.Sprintf("offset %d", tc.off))
			assert.Contains(t, err.Error(), tc.code.String())
			c, ok := status.Of(err)
			assert.True(t, ok)
			assert.Equal(t, tc.code, c)
			for _, other := range []status.Code{status.InvalidHeader, status.VersionTooBig, status.InvalidEncoding, status.ConnectionError} {
				if other != tc.code {
					assert.NotErrorIs(t, err, other)
				}
			}
		})
	}
}

func TestVersionErrorCarriesVersion(t *testing.T) {
	b, _ := sample().MarshalBinary()
	b[6], b[7] = 2, 3
	_, err := header.Decode(b)
	var fe *header.FieldError
	require.ErrorAs(t, err, &fe)
	major, minor := fe.Version()
	assert.Equal(t, uint8(2), major)
	assert.Equal(t, uint8(3), minor)
	assert.Contains(t, err.Error(), "found 2.3, expected 1.0")
}

func TestUnknownStatusStillDecodesFields(t *testing.T) {
	h := sample()
	b, _ := h.MarshalBinary()
	b[32], b[33] = 0x78, 0x04 // 1144
	var got header.Header
	err := got.UnmarshalBinary(b)
	require.ErrorIs(t, err, status.InvalidEncoding)
	assert.Contains(t, err.Error(), "1144")
	h.Status = 1144
	assert.Equal(t, h, got, "every field is decoded so that a stream reader can skip the frame")
}

func TestSeedSet(t *testing.T) {
	h := sample()
	h.Status = status.AdminOperation
	b, err := h.MarshalBinary()
	require.NoError(t, err)
	var got header.Header
	require.NoError(t, got.Unmarshal(b, status.Current))
	err = got.Unmarshal(b, status.Seed)
	require.ErrorIs(t, err, status.InvalidEncoding)
	assert.Contains(t, err.Error(), "seed status table")
}

func TestShort(t *testing.T) {
	full, _ := sample().MarshalBinary()
	for n := 0; n < header.Size; n++ {
		_, err := header.Decode(full[:n])
		require.Error(t, err, "length %d", n)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "length %d", n)
		assert.ErrorIs(t, err, status.ConnectionError, "length %d", n)
		assert.NotErrorIs(t, err, status.InvalidHeader, "length %d", n)
		var fe *header.FieldError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, n, fe.Offset)
		assert.Equal(t, header.FieldAt(n), fe.Field)
	}
	// A wrong magic number is InvalidHeader as soon as its four bytes are there.
	bad := append([]byte{}, full...)
	bad[0] = 0
	for n := 4; n <= header.Size; n++ {
		_, err := header.Decode(bad[:n])
		assert.ErrorIs(t, err, status.InvalidHeader, "length %d", n)
	}
}

// TestHeaderSizeBeyondInput follows the reference: the bytes a header size announces are read
// before the size is compared with 30, so a size pointing past the input is a truncation.
func TestHeaderSizeBeyondInput(t *testing.T) {
	full, _ := sample().MarshalBinary()
	b := append([]byte{}, full...)
	b[4], b[5] = 0xff, 0xff
	_, err := header.Decode(b)
	assert.ErrorIs(t, err, status.ConnectionError)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)

	b[4], b[5] = 31, 0
	_, err = header.Decode(b)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "31 bytes announced, 30 there")
	_, err = header.Decode(append(b, 0))
	assert.ErrorIs(t, err, status.InvalidHeader, "31 bytes announced and there")

	b[4], b[5] = 10, 0
	_, err = header.Decode(b[:20])
	assert.ErrorIs(t, err, status.InvalidHeader, "a short header size is wrong even in a short input")
}

func TestLongerInput(t *testing.T) {
	full, _ := sample().MarshalBinary()
	h, err := header.Decode(append(full, 1, 2, 3))
	require.NoError(t, err, "only the first 36 bytes are read")
	assert.Equal(t, sample(), h)
}

func TestAppend(t *testing.T) {
	prefix := []byte("xyz")
	out, err := sample().AppendBinary(prefix[:3:3])
	require.NoError(t, err)
	assert.Equal(t, "xyz", string(out[:3]))
	m, _ := sample().MarshalBinary()
	assert.Equal(t, m, out[3:])
	none, err := sample().AppendBinary(nil)
	require.NoError(t, err)
	assert.Equal(t, m, none, "MarshalBinary means AppendBinary(nil)")

	h := sample()
	h.Status = 1144
	out, err = h.AppendBinary(prefix)
	assert.ErrorIs(t, err, status.InvalidEncoding)
	assert.Equal(t, prefix, out, "b is returned unchanged")
	_, err = h.MarshalBinary()
	assert.ErrorIs(t, err, status.InvalidEncoding)
	raw := h.AppendRaw(nil)
	assert.Equal(t, []byte{0x78, 0x04}, raw[32:34], "AppendRaw writes any status")
	copy(raw, "garbage!")
	raw[34] = 1
	var back header.Header
	back.UnmarshalRaw((*[header.Size]byte)(raw))
	assert.Equal(t, h, back, "UnmarshalRaw reads what AppendRaw wrote, whatever the constant fields say")
}

func TestDecodeAllocatesNothing(t *testing.T) {
	b, _ := sample().MarshalBinary()
	var h header.Header
	allocs := testing.AllocsPerRun(100, func() {
		if err := h.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
	allocs = testing.AllocsPerRun(100, func() {
		if _, err := header.Decode(b); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
	out := make([]byte, 0, header.Size)
	allocs = testing.AllocsPerRun(100, func() { out, _ = h.AppendBinary(out[:0]) })
	assert.Zero(t, allocs)
}

func TestCheckResponse(t *testing.T) {
	ok := header.Header{Provider: 5, Opcode: 32}
	assert.NoError(t, ok.CheckResponse())
	cases := []struct {
		name string
		h    header.Header
		code status.Code
	}{
		{"provider 6", header.Header{Provider: 6, ContentType: 1, Opcode: 0}, status.ProviderDoesNotExist},
		{"content type 1", header.Header{ContentType: 1, Opcode: 0}, status.ContentTypeNotSupported},
		{"opcode 0", header.Header{Opcode: 0}, status.OpcodeDoesNotExist},
		{"opcode 22", header.Header{Opcode: 22}, status.OpcodeDoesNotExist},
	}
	for _, tc := range cases {
		assert.ErrorIs(t, tc.h.CheckResponse(), tc.code, tc.name)
	}
}

func TestCheckRequest(t *testing.T) {
	ok := header.Header{Provider: 1, Opcode: 1, AuthType: 4}
	assert.NoError(t, ok.CheckRequest())
	cases := []struct {
		name string
		h    header.Header
		code status.Code
	}{
		{"content type first", header.Header{ContentType: 1, AcceptType: 1, AuthType: 9, Provider: 9}, status.ContentTypeNotSupported},
		{"accept type", header.Header{AcceptType: 1, AuthType: 9, Provider: 9}, status.AcceptTypeNotSupported},
		{"auth type", header.Header{AuthType: 5, Provider: 9}, status.AuthenticatorDoesNotExist},
		{"opcode before provider", header.Header{Opcode: 99, Provider: 9}, status.OpcodeDoesNotExist},
		{"provider", header.Header{Opcode: 1, Provider: 6}, status.ProviderDoesNotExist},
	}
	for _, tc := range cases {
		assert.ErrorIs(t, tc.h.CheckRequest(), tc.code, tc.name)
	}
}

func TestNames(t *testing.T) {
	n, ok := header.OpcodeName(28)
	assert.True(t, ok)
	assert.Equal(t, "DeleteClient", n)
	_, ok = header.OpcodeName(29)
	assert.False(t, ok)
	n, _ = header.ProviderName(0)
	assert.Equal(t, "Core", n)
	_, ok = header.ProviderName(6)
	assert.False(t, ok)
	n, _ = header.AuthTypeName(3)
	assert.Equal(t, "UnixPeerCredentials", n)
}

func TestFieldErrorMessages(t *testing.T) {
	b, _ := sample().MarshalBinary()
	b[0] = 0
	_, err := header.Decode(b)
	assert.EqualError(t, err, "parsec frame: magic at offset 0: found 0x5ec0a700, expected 0x5ec0a710 (InvalidHeader)")
	_, err = header.Decode(b[:3])
	assert.EqualError(t, err, "parsec frame: magic at offset 3: have 3 of 36 bytes (ConnectionError): unexpected EOF")
	assert.True(t, errors.Is(err, io.ErrUnexpectedEOF))
}

func ExampleHeader_UnmarshalBinary() {
	frame, _ := hex.DecodeString("10a7c05e1e000100000000000000000000000000000000000000" +
		"00001c00000015000000")
	var h header.Header // reuse it: decoding into it allocates nothing
	if err := h.UnmarshalBinary(frame); err != nil {
		fmt.Println(err)
		return
	}
	op, _ := header.OpcodeName(h.Opcode)
	fmt.Println(op, h.Status, h.Status.Class())

	frame[34] = 1 // a reserved byte
	err := h.UnmarshalBinary(frame)
	fmt.Println(errors.Is(err, status.InvalidHeader), err)
	// Output:
	// DeleteClient AdminOperation service
	// true parsec frame: reserved1 at offset 34: found 1, expected 0 (InvalidHeader)
}

func TestErrorsAsCode(t *testing.T) {
	b, _ := sample().MarshalBinary()
	b[6] = 9
	_, err := header.Decode(b)
	var c status.Code
	require.True(t, errors.As(err, &c), "errors.As finds the classifying status")
	assert.Equal(t, status.VersionTooBig, c)
	assert.True(t, errors.Is(err, status.WireProtocolVersionNotSupported), "the upstream alias is the same value")
}
