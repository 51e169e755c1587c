package status_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/status"
)

// seedRows are the rows of the seed document (status-codes.seed.md), copied here by hand so
// that the test needs nothing outside the repository: value, name, description.
var seedRows = []struct {
	value uint16
	name  string
	desc  string
}{
	{0, "Success", "successful operation"},
	{1, "WrongProviderID", "requested provider ID does not match that of the backend"},
	{2, "ContentTypeNotSupported", "requested content type is not supported by the backend"},
	{3, "AcceptTypeNotSupported", "requested accept type is not supported by the backend"},
	{4, "VersionTooBig", "requested version is not supported by the backend"},
	{5, "ProviderNotRegistered", "no provider registered for the requested provider ID"},
	{6, "ProviderDoesNotExist", "no provider defined for requested provider ID"},
	{7, "DeserializingBodyFailed", "failed to deserialize the body of the message"},
	{8, "SerializingBodyFailed", "failed to serialize the body of the message"},
	{9, "OpcodeDoesNotExist", "requested operation is not defined"},
	{10, "ResponseTooLarge", "response size exceeds allowed limits"},
	{11, "AuthenticationError", "authentication failed"},
	{12, "AuthenticatorDoesNotExist", "authenticator not supported"},
	{13, "AuthenticatorNotRegistered", "authenticator not supported"},
	{14, "KeyIDManagerError", "internal error in the Key ID Manager"},
	{15, "ConnectionError", "generic input/output error"},
	{16, "InvalidEncoding", "invalid value for this data type"},
	{17, "InvalidHeader", "constant fields in header are invalid"},
	{18, "WrongProviderUuid", "the UUID vector needs to only contain 16 bytes"},
	{19, "NotAuthenticated", "request did not provide a required authentication"},
	{20, "BodySizeExceedsLimit", "request length specified in the header is above defined limit"},
	{1132, "PsaErrorGenericError", "an error occurred that does not correspond to any defined failure cause"},
	{1133, "PsaErrorNotPermitted", "the requested action is denied by a policy"},
	{1134, "PsaErrorNotSupported", "the requested operation or a parameter is not supported by this implementation"},
	{1135, "PsaErrorInvalidArgument", "the parameters passed to the function are invalid"},
	{1136, "PsaErrorInvalidHandle", "the key handle is not valid"},
	{1137, "PsaErrorBadState", "the requested action cannot be performed in the current state"},
	{1138, "PsaErrorBufferTooSmall", "an output buffer is too small"},
	{1139, "PsaErrorAlreadyExists", "asking for an item that already exists"},
	{1140, "PsaErrorDoesNotExist", "asking for an item that doesn't exist"},
	{1141, "PsaErrorInsufficientMemory", "there is not enough runtime memory"},
	{1142, "PsaErrorInsufficientStorage", "there is not enough persistent storage available"},
	{1143, "PsaErrorInssuficientData", "insufficient data when attempting to read from a resource"},
	{1145, "PsaErrorCommunicationFailure", "there was a communication failure inside the implementation"},
	{1146, "PsaErrorStorageFailure", "there was a storage failure that may have led to data loss"},
	{1147, "PsaErrorHardwareFailure", "a hardware failure was detected"},
	{1148, "PsaErrorInsufficientEntropy", "there is not enough entropy to generate random data needed for the requested action"},
	{1149, "PsaErrorInvalidSignature", "the signature, MAC or hash is incorrect"},
	{1150, "PsaErrorInvalidPadding", "the decrypted padding is incorrect"},
	{1151, "PsaErrorTamperingDetected", "a tampering attempt was detected"},
}

// laterRows are the four codes Parsec added after the seed document.
var laterRows = []struct {
	value uint16
	name  string
}{
	{21, "AdminOperation"},
	{22, "DeprecatedPrimitive"},
	{1152, "PsaErrorDataCorrupt"},
	{1153, "PsaErrorDataInvalid"},
}

func TestSeedRows(t *testing.T) {
	require.Len(t, seedRows, 40)
	var want []status.Code
	for _, r := range seedRows {
		c := status.Code(r.value)
		want = append(want, c)
		assert.Equal(t, r.name, c.String(), "value %d", r.value)
		assert.Equal(t, r.desc, c.Description(), "value %d", r.value)
		assert.True(t, status.Seed.Contains(c), "%s in seed set", r.name)
		assert.True(t, status.Current.Contains(c), "%s in current set", r.name)
		got, ok := status.Lookup(r.name)
		assert.True(t, ok, r.name)
		assert.Equal(t, c, got, r.name)
	}
	assert.Equal(t, want, status.Seed.Codes(), "the seed set is exactly the seed's 40 codes, in order")
}

func TestLaterCodes(t *testing.T) {
	for _, r := range laterRows {
		c := status.Code(r.value)
		assert.Equal(t, r.name, c.String())
		assert.True(t, status.Current.Contains(c), r.name)
		assert.False(t, status.Seed.Contains(c), r.name)
		assert.NotEmpty(t, c.Description(), r.name)
		_, err := status.Seed.Decode(r.value)
		assert.ErrorIs(t, err, status.InvalidEncoding, r.name)
		assert.ErrorContains(t, err, strconv.Itoa(int(r.value)))
	}
	assert.Len(t, status.All(), 44)
	assert.True(t, slices.IsSorted(status.All()))
}

func TestConstants(t *testing.T) {
	// The constants and the table are written separately; this keeps them in step.
	named := map[string]status.Code{
		"Success": status.Success, "WrongProviderID": status.WrongProviderID,
		"ContentTypeNotSupported": status.ContentTypeNotSupported, "AcceptTypeNotSupported": status.AcceptTypeNotSupported,
		"VersionTooBig": status.VersionTooBig, "ProviderNotRegistered": status.ProviderNotRegistered,
		"ProviderDoesNotExist": status.ProviderDoesNotExist, "DeserializingBodyFailed": status.DeserializingBodyFailed,
		"SerializingBodyFailed": status.SerializingBodyFailed, "OpcodeDoesNotExist": status.OpcodeDoesNotExist,
		"ResponseTooLarge": status.ResponseTooLarge, "AuthenticationError": status.AuthenticationError,
		"AuthenticatorDoesNotExist": status.AuthenticatorDoesNotExist, "AuthenticatorNotRegistered": status.AuthenticatorNotRegistered,
		"KeyIDManagerError": status.KeyIDManagerError, "ConnectionError": status.ConnectionError,
		"InvalidEncoding": status.InvalidEncoding, "InvalidHeader": status.InvalidHeader,
		"WrongProviderUuid": status.WrongProviderUuid, "NotAuthenticated": status.NotAuthenticated,
		"BodySizeExceedsLimit": status.BodySizeExceedsLimit, "AdminOperation": status.AdminOperation,
		"DeprecatedPrimitive": status.DeprecatedPrimitive, "PsaErrorGenericError": status.PsaErrorGenericError,
		"PsaErrorNotPermitted": status.PsaErrorNotPermitted, "PsaErrorNotSupported": status.PsaErrorNotSupported,
		"PsaErrorInvalidArgument": status.PsaErrorInvalidArgument, "PsaErrorInvalidHandle": status.PsaErrorInvalidHandle,
		"PsaErrorBadState": status.PsaErrorBadState, "PsaErrorBufferTooSmall": status.PsaErrorBufferTooSmall,
		"PsaErrorAlreadyExists": status.PsaErrorAlreadyExists, "PsaErrorDoesNotExist": status.PsaErrorDoesNotExist,
		"PsaErrorInsufficientMemory": status.PsaErrorInsufficientMemory, "PsaErrorInsufficientStorage": status.PsaErrorInsufficientStorage,
		"PsaErrorInssuficientData": status.PsaErrorInssuficientData, "PsaErrorCommunicationFailure": status.PsaErrorCommunicationFailure,
		"PsaErrorStorageFailure": status.PsaErrorStorageFailure, "PsaErrorHardwareFailure": status.PsaErrorHardwareFailure,
		"PsaErrorInsufficientEntropy": status.PsaErrorInsufficientEntropy, "PsaErrorInvalidSignature": status.PsaErrorInvalidSignature,
		"PsaErrorInvalidPadding": status.PsaErrorInvalidPadding, "PsaErrorTamperingDetected": status.PsaErrorTamperingDetected,
		"PsaErrorDataCorrupt": status.PsaErrorDataCorrupt, "PsaErrorDataInvalid": status.PsaErrorDataInvalid,
	}
	require.Len(t, named, 44)
	for name, c := range named {
		assert.Equal(t, name, c.String())
	}
}

func TestAliases(t *testing.T) {
	cases := []struct {
		alias string
		c     status.Code
		seed  string
	}{
		{"WireProtocolVersionNotSupported", status.WireProtocolVersionNotSupported, "VersionTooBig"},
		{"KeyInfoManagerError", status.KeyInfoManagerError, "KeyIDManagerError"},
		{"PsaErrorInsufficientData", status.PsaErrorInsufficientData, "PsaErrorInssuficientData"},
		{"PsaErrorCorruptionDetected", status.PsaErrorCorruptionDetected, "PsaErrorTamperingDetected"},
	}
	for _, tc := range cases {
		seed, ok := status.Lookup(tc.seed)
		require.True(t, ok)
		assert.Equal(t, seed, tc.c, "%s is the same value as %s", tc.alias, tc.seed)
		got, ok := status.Lookup(tc.alias)
		assert.True(t, ok, tc.alias)
		assert.Equal(t, seed, got)
		assert.Equal(t, tc.seed, got.String(), "String keeps the seed's name")
		assert.Equal(t, tc.alias, got.Alias())
	}
	assert.Equal(t, "", status.Success.Alias())
}

func TestDecodeEveryValue(t *testing.T) {
	known := map[uint16]bool{}
	seed := map[uint16]bool{}
	for _, r := range seedRows {
		known[r.value], seed[r.value] = true, true
	}
	for _, r := range laterRows {
		known[r.value] = true
	}
	for v := 0; v <= 0xFFFF; v++ {
		c, err := status.Decode(uint16(v))
		assert.Equal(t, status.Code(v), c)
		if known[uint16(v)] {
			require.NoError(t, err, "value %d", v)
		} else {
			require.ErrorIs(t, err, status.InvalidEncoding, "value %d", v)
			require.Contains(t, err.Error(), strconv.Itoa(v))
			require.False(t, c.Known())
		}
		_, err = status.Seed.Decode(uint16(v))
		require.Equal(t, seed[uint16(v)], err == nil, "seed set, value %d", v)
	}
}

func TestUnknownValues(t *testing.T) {
	for _, v := range []uint16{23, 1131, 1144, 1154, 65535} {
		_, err := status.Decode(v)
		require.Error(t, err)
		assert.ErrorIs(t, err, status.InvalidEncoding)
		assert.NotErrorIs(t, err, status.InvalidHeader)
		var ue *status.UnknownError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, v, ue.Value)
		assert.Equal(t, "Code("+strconv.Itoa(int(v))+")", status.Code(v).String())
		assert.Equal(t, "", status.Code(v).Description())
		c, ok := status.Of(err)
		assert.True(t, ok)
		assert.Equal(t, status.InvalidEncoding, c)
	}
}

func TestFormatting(t *testing.T) {
	assert.Equal(t, "status.PsaErrorDoesNotExist", fmt.Sprintf("%#v", status.PsaErrorDoesNotExist))
	assert.Equal(t, "status.Code(1144)", fmt.Sprintf("%#v", status.Code(1144)))
	assert.Equal(t, "PsaErrorDoesNotExist", fmt.Sprint(status.PsaErrorDoesNotExist))
	assert.Equal(t, "InvalidHeader", status.InvalidHeader.Error())
	assert.Equal(t, "Code(1144)", fmt.Sprintf("%v", status.Code(1144)))
}

func TestClass(t *testing.T) {
	cases := map[status.Code]status.Class{
		0: status.ClassSuccess, 1: status.ClassService, 22: status.ClassService, 999: status.ClassService,
		1000: status.ClassPSA, 1132: status.ClassPSA, 1999: status.ClassPSA, 2000: status.ClassOther, 65535: status.ClassOther,
	}
	for c, want := range cases {
		assert.Equal(t, want, c.Class(), "%d", c)
	}
	assert.Equal(t, "psa", status.ClassPSA.String())
	assert.Equal(t, "service", status.ClassService.String())
}

func TestLookupAndParse(t *testing.T) {
	c, ok := status.Lookup("psaerrordoesnotexist")
	assert.True(t, ok, "lookup ignores case")
	assert.Equal(t, status.PsaErrorDoesNotExist, c)
	_, ok = status.Lookup("NoSuchCode")
	assert.False(t, ok)

	for in, want := range map[string]status.Code{"1140": 1140, "0x474": 1140, "InvalidHeader": 17, "KeyInfoManagerError": 14} {
		got, err := status.Parse(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"1144", "NoSuchCode", "70000", "-1", ""} {
		_, err := status.Parse(in)
		assert.ErrorIs(t, err, status.InvalidEncoding, in)
		assert.Contains(t, err.Error(), in)
	}
}

func TestOf(t *testing.T) {
	_, ok := status.Of(nil)
	assert.False(t, ok)
	_, ok = status.Of(errors.New("plain"))
	assert.False(t, ok)
	c, ok := status.Of(fmt.Errorf("wrapped: %w", status.InvalidHeader))
	assert.True(t, ok)
	assert.Equal(t, status.InvalidHeader, c)
	c, ok = status.Of(errors.Join(errors.New("x"), status.ConnectionError))
	assert.True(t, ok)
	assert.Equal(t, status.ConnectionError, c)
}

func TestSetString(t *testing.T) {
	assert.Equal(t, "seed", status.Seed.String())
	assert.Equal(t, "current", status.Current.String())
}

func ExampleDecode() {
	for _, v := range []uint16{1140, 1144} {
		c, err := status.Decode(v)
		if err != nil {
			fmt.Println(err, errors.Is(err, status.InvalidEncoding))
			continue
		}
		fmt.Println(c, c.Class(), c.Description())
	}
	// Output:
	// PsaErrorDoesNotExist psa asking for an item that doesn't exist
	// status: unknown status value 1144 (InvalidEncoding) true
}
