// Package status holds the Parsec response status codes: the u16 carried at offset 32 of every
// Parsec response header.
//
// The names and values are those of the Parsec "Response Status Codes" document (the seed
// table, 40 codes), plus the four codes Parsec added later (AdminOperation, DeprecatedPrimitive,
// PsaErrorDataCorrupt, PsaErrorDataInvalid). Three codes were later renamed upstream without a
// change of value; the later names are declared as aliases of the same values.
//
// A Code is also an error, so the codec's errors are matched against the status that
// classifies them:
//
//	if errors.Is(err, status.InvalidHeader) { ... }
//
// Every property of a code (its name, alias, description, class and membership of a Set) is
// read from one table in this file; nothing else lists the codes.
package status

import "strconv"

// Code is a Parsec response status.
type Code uint16

// The seed document's 40 codes, named exactly as it names them, and the four later ones.
// parsecwire itself produces ConnectionError, VersionTooBig, InvalidEncoding, InvalidHeader
// and BodySizeExceedsLimit (and, in strict mode, ContentTypeNotSupported, ProviderDoesNotExist
// and OpcodeDoesNotExist, plus AcceptTypeNotSupported and AuthenticatorDoesNotExist for
// requests) to classify bad frames; the others it only carries.
const (
	// Success: successful operation.
	Success Code = 0
	// WrongProviderID: requested provider ID does not match that of the backend.
	WrongProviderID Code = 1
	// ContentTypeNotSupported: requested content type is not supported by the backend.
	// parsecwire's strict mode produces it for a content type other than protobuf (0).
	ContentTypeNotSupported Code = 2
	// AcceptTypeNotSupported: requested accept type is not supported by the backend.
	AcceptTypeNotSupported Code = 3
	// VersionTooBig: requested version is not supported by the backend. parsecwire produces
	// it for a wire-protocol version other than 1.0. Upstream later renamed it
	// WireProtocolVersionNotSupported.
	VersionTooBig Code = 4
	// ProviderNotRegistered: no provider registered for the requested provider ID.
	ProviderNotRegistered Code = 5
	// ProviderDoesNotExist: no provider defined for requested provider ID. parsecwire's strict
	// mode produces it for an unknown provider.
	ProviderDoesNotExist Code = 6
	// DeserializingBodyFailed: failed to deserialize the body of the message.
	DeserializingBodyFailed Code = 7
	// SerializingBodyFailed: failed to serialize the body of the message.
	SerializingBodyFailed Code = 8
	// OpcodeDoesNotExist: requested operation is not defined. parsecwire's strict mode
	// produces it for an unknown opcode.
	OpcodeDoesNotExist Code = 9
	// ResponseTooLarge: response size exceeds allowed limits.
	ResponseTooLarge Code = 10
	// AuthenticationError: authentication failed.
	AuthenticationError Code = 11
	// AuthenticatorDoesNotExist: authenticator not supported.
	AuthenticatorDoesNotExist Code = 12
	// AuthenticatorNotRegistered: authenticator not supported.
	AuthenticatorNotRegistered Code = 13
	// KeyIDManagerError: internal error in the Key ID Manager. Upstream later renamed it
	// KeyInfoManagerError.
	KeyIDManagerError Code = 14
	// ConnectionError: generic input/output error. parsecwire produces it when a stream ends
	// inside a frame or a read fails.
	ConnectionError Code = 15
	// InvalidEncoding: invalid value for this data type. parsecwire produces it for a status
	// value that is not in the table.
	InvalidEncoding Code = 16
	// InvalidHeader: constant fields in header are invalid. parsecwire produces it for a wrong
	// magic number, a header size other than 30 and non-zero reserved bytes.
	InvalidHeader Code = 17
	// WrongProviderUuid: the UUID vector needs to only contain 16 bytes.
	WrongProviderUuid Code = 18 //nolint:revive // the seed's spelling
	// NotAuthenticated: request did not provide a required authentication.
	NotAuthenticated Code = 19
	// BodySizeExceedsLimit: request length specified in the header is above defined limit.
	// parsecwire produces it for a content length above the reader's limit.
	BodySizeExceedsLimit Code = 20
	// AdminOperation: the operation requires admin privilege. Added by Parsec after the
	// seed document.
	AdminOperation Code = 21
	// DeprecatedPrimitive: the key template contains a deprecated type or algorithm. Added
	// by Parsec after the seed document.
	DeprecatedPrimitive Code = 22

	// PsaErrorGenericError: an error occurred that does not correspond to any defined failure
	// cause.
	PsaErrorGenericError Code = 1132
	// PsaErrorNotPermitted: the requested action is denied by a policy.
	PsaErrorNotPermitted Code = 1133
	// PsaErrorNotSupported: the requested operation or a parameter is not supported by this
	// implementation.
	PsaErrorNotSupported Code = 1134
	// PsaErrorInvalidArgument: the parameters passed to the function are invalid.
	PsaErrorInvalidArgument Code = 1135
	// PsaErrorInvalidHandle: the key handle is not valid.
	PsaErrorInvalidHandle Code = 1136
	// PsaErrorBadState: the requested action cannot be performed in the current state.
	PsaErrorBadState Code = 1137
	// PsaErrorBufferTooSmall: an output buffer is too small.
	PsaErrorBufferTooSmall Code = 1138
	// PsaErrorAlreadyExists: asking for an item that already exists.
	PsaErrorAlreadyExists Code = 1139
	// PsaErrorDoesNotExist: asking for an item that doesn't exist.
	PsaErrorDoesNotExist Code = 1140
	// PsaErrorInsufficientMemory: there is not enough runtime memory.
	PsaErrorInsufficientMemory Code = 1141
	// PsaErrorInsufficientStorage: there is not enough persistent storage available.
	PsaErrorInsufficientStorage Code = 1142
	// PsaErrorInssuficientData: insufficient data when attempting to read from a resource.
	// The seed's spelling; PsaErrorInsufficientData is the same value.
	PsaErrorInssuficientData Code = 1143
	// PsaErrorCommunicationFailure: there was a communication failure inside the
	// implementation. (1144 is not a Parsec status.)
	PsaErrorCommunicationFailure Code = 1145
	// PsaErrorStorageFailure: there was a storage failure that may have led to data loss.
	PsaErrorStorageFailure Code = 1146
	// PsaErrorHardwareFailure: a hardware failure was detected.
	PsaErrorHardwareFailure Code = 1147
	// PsaErrorInsufficientEntropy: there is not enough entropy to generate random data needed
	// for the requested action.
	PsaErrorInsufficientEntropy Code = 1148
	// PsaErrorInvalidSignature: the signature, MAC or hash is incorrect.
	PsaErrorInvalidSignature Code = 1149
	// PsaErrorInvalidPadding: the decrypted padding is incorrect.
	PsaErrorInvalidPadding Code = 1150
	// PsaErrorTamperingDetected: a tampering attempt was detected. Upstream later renamed it
	// PsaErrorCorruptionDetected.
	PsaErrorTamperingDetected Code = 1151
	// PsaErrorDataCorrupt: stored data has been corrupted. Added by Parsec after the seed
	// document.
	PsaErrorDataCorrupt Code = 1152
	// PsaErrorDataInvalid: data read from storage is not valid for the implementation. Added
	// by Parsec after the seed document.
	PsaErrorDataInvalid Code = 1153
)

// The later upstream names of renamed codes: the same values under their new names.
const (
	// WireProtocolVersionNotSupported is the upstream name of VersionTooBig.
	WireProtocolVersionNotSupported = VersionTooBig
	// KeyInfoManagerError is the upstream name of KeyIDManagerError.
	KeyInfoManagerError = KeyIDManagerError
	// PsaErrorInsufficientData is the corrected spelling of PsaErrorInssuficientData.
	PsaErrorInsufficientData = PsaErrorInssuficientData
	// PsaErrorCorruptionDetected is the upstream name of PsaErrorTamperingDetected.
	PsaErrorCorruptionDetected = PsaErrorTamperingDetected
)

// row is one line of the status table.
type row struct {
	code  Code
	name  string // the seed's name; the upstream name for codes added later
	alias string // the later upstream name of a renamed code, or ""
	desc  string // the seed's description; upstream's for codes added later
	seed  bool   // listed in the seed document
}

// table is the status table, in numeric order. It is the only list of codes in parsecwire.
var table = [...]row{
	{Success, "Success", "", "successful operation", true},
	{WrongProviderID, "WrongProviderID", "", "requested provider ID does not match that of the backend", true},
	{ContentTypeNotSupported, "ContentTypeNotSupported", "", "requested content type is not supported by the backend", true},
	{AcceptTypeNotSupported, "AcceptTypeNotSupported", "", "requested accept type is not supported by the backend", true},
	{VersionTooBig, "VersionTooBig", "WireProtocolVersionNotSupported", "requested version is not supported by the backend", true},
	{ProviderNotRegistered, "ProviderNotRegistered", "", "no provider registered for the requested provider ID", true},
	{ProviderDoesNotExist, "ProviderDoesNotExist", "", "no provider defined for requested provider ID", true},
	{DeserializingBodyFailed, "DeserializingBodyFailed", "", "failed to deserialize the body of the message", true},
	{SerializingBodyFailed, "SerializingBodyFailed", "", "failed to serialize the body of the message", true},
	{OpcodeDoesNotExist, "OpcodeDoesNotExist", "", "requested operation is not defined", true},
	{ResponseTooLarge, "ResponseTooLarge", "", "response size exceeds allowed limits", true},
	{AuthenticationError, "AuthenticationError", "", "authentication failed", true},
	{AuthenticatorDoesNotExist, "AuthenticatorDoesNotExist", "", "authenticator not supported", true},
	{AuthenticatorNotRegistered, "AuthenticatorNotRegistered", "", "authenticator not supported", true},
	{KeyIDManagerError, "KeyIDManagerError", "KeyInfoManagerError", "internal error in the Key ID Manager", true},
	{ConnectionError, "ConnectionError", "", "generic input/output error", true},
	{InvalidEncoding, "InvalidEncoding", "", "invalid value for this data type", true},
	{InvalidHeader, "InvalidHeader", "", "constant fields in header are invalid", true},
	{WrongProviderUuid, "WrongProviderUuid", "", "the UUID vector needs to only contain 16 bytes", true},
	{NotAuthenticated, "NotAuthenticated", "", "request did not provide a required authentication", true},
	{BodySizeExceedsLimit, "BodySizeExceedsLimit", "", "request length specified in the header is above defined limit", true},
	{AdminOperation, "AdminOperation", "", "the operation requires admin privilege", false},
	{DeprecatedPrimitive, "DeprecatedPrimitive", "", "the key template contains a deprecated type or algorithm", false},
	{PsaErrorGenericError, "PsaErrorGenericError", "", "an error occurred that does not correspond to any defined failure cause", true},
	{PsaErrorNotPermitted, "PsaErrorNotPermitted", "", "the requested action is denied by a policy", true},
	{PsaErrorNotSupported, "PsaErrorNotSupported", "", "the requested operation or a parameter is not supported by this implementation", true},
	{PsaErrorInvalidArgument, "PsaErrorInvalidArgument", "", "the parameters passed to the function are invalid", true},
	{PsaErrorInvalidHandle, "PsaErrorInvalidHandle", "", "the key handle is not valid", true},
	{PsaErrorBadState, "PsaErrorBadState", "", "the requested action cannot be performed in the current state", true},
	{PsaErrorBufferTooSmall, "PsaErrorBufferTooSmall", "", "an output buffer is too small", true},
	{PsaErrorAlreadyExists, "PsaErrorAlreadyExists", "", "asking for an item that already exists", true},
	{PsaErrorDoesNotExist, "PsaErrorDoesNotExist", "", "asking for an item that doesn't exist", true},
	{PsaErrorInsufficientMemory, "PsaErrorInsufficientMemory", "", "there is not enough runtime memory", true},
	{PsaErrorInsufficientStorage, "PsaErrorInsufficientStorage", "", "there is not enough persistent storage available", true},
	{PsaErrorInssuficientData, "PsaErrorInssuficientData", "PsaErrorInsufficientData", "insufficient data when attempting to read from a resource", true},
	{PsaErrorCommunicationFailure, "PsaErrorCommunicationFailure", "", "there was a communication failure inside the implementation", true},
	{PsaErrorStorageFailure, "PsaErrorStorageFailure", "", "there was a storage failure that may have led to data loss", true},
	{PsaErrorHardwareFailure, "PsaErrorHardwareFailure", "", "a hardware failure was detected", true},
	{PsaErrorInsufficientEntropy, "PsaErrorInsufficientEntropy", "", "there is not enough entropy to generate random data needed for the requested action", true},
	{PsaErrorInvalidSignature, "PsaErrorInvalidSignature", "", "the signature, MAC or hash is incorrect", true},
	{PsaErrorInvalidPadding, "PsaErrorInvalidPadding", "", "the decrypted padding is incorrect", true},
	{PsaErrorTamperingDetected, "PsaErrorTamperingDetected", "PsaErrorCorruptionDetected", "a tampering attempt was detected", true},
	{PsaErrorDataCorrupt, "PsaErrorDataCorrupt", "", "stored data has been corrupted", false},
	{PsaErrorDataInvalid, "PsaErrorDataInvalid", "", "data read from storage is not valid for the implementation", false},
}

// maxCode is one past the largest value in the table; slot covers [0, maxCode).
const maxCode = PsaErrorDataInvalid + 1

// slot maps a value to 1 + its row index in table, or 0 when the value is not a code. A dense
// array rather than a map: it is read on every decoded frame, and a load is cheaper than a
// hash. It is derived from table in init.
var slot [maxCode]uint8

// member holds, for each value, bit 1<<Set for every Set the value belongs to: Contains is
// one load and no branch on the row, since the decoder calls it on every frame.
var member [maxCode]uint8

func init() {
	for i, r := range table {
		if r.code >= maxCode || slot[r.code] != 0 || (i > 0 && table[i-1].code >= r.code) {
			panic("status: table must be sorted, unique and below maxCode")
		}
		slot[r.code] = uint8(i + 1)
		member[r.code] = 1 << Current
		if r.seed {
			member[r.code] |= 1 << Seed
		}
	}
}

// lookup returns the row of c, or nil when c is not in the table.
func lookup(c Code) *row {
	if c >= maxCode {
		return nil
	}
	if i := slot[c]; i != 0 {
		return &table[i-1]
	}
	return nil
}

// String returns the code's name: the seed's name for the seed's codes, the upstream name for
// the codes added later, and "Code(N)" for a value outside the table.
func (c Code) String() string {
	if r := lookup(c); r != nil {
		return r.name
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// GoString returns the Go syntax of the code, for %#v.
func (c Code) GoString() string {
	if r := lookup(c); r != nil {
		return "status." + r.name
	}
	return "status.Code(" + strconv.Itoa(int(c)) + ")"
}

// Error makes a Code an error, so that the codec's errors can be matched with errors.Is
// against the status that classifies them, and a service's non-success answer can be
// returned as it is. It returns the same text as String: fmt prints an error through Error,
// and a Code printed with %v or %s must read as its name.
func (c Code) Error() string { return c.String() }

// Description returns the seed document's description of the code (upstream's for the
// codes added later), or "" for a value outside the table.
func (c Code) Description() string {
	if r := lookup(c); r != nil {
		return r.desc
	}
	return ""
}

// Alias returns the later upstream name of a renamed code (WireProtocolVersionNotSupported
// for VersionTooBig, say), or "" when the code was not renamed or is unknown.
func (c Code) Alias() string {
	if r := lookup(c); r != nil {
		return r.alias
	}
	return ""
}

// Known reports whether c is in the table (the default set, Current).
func (c Code) Known() bool { return lookup(c) != nil }

// Class is the range a status value falls in.
type Class uint8

// The classes of status values. 1-999 are reserved for the service's own codes and 1000-1999
// for the PSA Crypto API's (PSA error -N is carried as 1000+N).
const (
	ClassSuccess Class = iota // 0
	ClassService              // 1-999
	ClassPSA                  // 1000-1999
	ClassOther                // 2000 and above: no Parsec code lives there
)

var classNames = [...]string{"success", "service", "psa", "other"}

// String returns "success", "service", "psa" or "other".
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Class returns the range c falls in. It is defined for every value, known or not.
func (c Code) Class() Class {
	switch {
	case c == 0:
		return ClassSuccess
	case c < 1000:
		return ClassService
	case c < 2000:
		return ClassPSA
	}
	return ClassOther
}

// Set selects which codes a decoder accepts.
type Set uint8

const (
	// Current is the default: the seed's 40 codes and the 4 Parsec added later, the codes
	// real services send today.
	Current Set = iota
	// Seed is exactly the seed document's 40 codes, for validating against the original
	// specification.
	Seed
)

// String returns "current" or "seed".
func (s Set) String() string {
	if s == Seed {
		return "seed"
	}
	return "current"
}

// Contains reports whether c is a member of s.
func (s Set) Contains(c Code) bool {
	return c < maxCode && member[c]&(1<<(s&7)) != 0
}

// Decode returns v as a Code when it is a member of s, and otherwise an *UnknownError that
// matches InvalidEncoding.
func (s Set) Decode(v uint16) (Code, error) {
	if s.Contains(Code(v)) {
		return Code(v), nil
	}
	return Code(v), &UnknownError{Value: v, Set: s}
}

// Codes returns the members of s in numeric order, in a new slice.
func (s Set) Codes() []Code {
	out := make([]Code, 0, len(table))
	for _, r := range table {
		if s != Seed || r.seed {
			out = append(out, r.code)
		}
	}
	return out
}

// Decode returns v as a Code when it is in the table (Current), and otherwise an
// *UnknownError that matches InvalidEncoding and names the value.
func Decode(v uint16) (Code, error) { return Current.Decode(v) }

// All returns every code of the table (Current) in numeric order, in a new slice.
func All() []Code { return Current.Codes() }

// Lookup returns the code named name: a seed name, a later upstream name or alias, matched
// without regard to case.
func Lookup(name string) (Code, bool) {
	for _, r := range table {
		if equalFold(r.name, name) || (r.alias != "" && equalFold(r.alias, name)) {
			return r.code, true
		}
	}
	return 0, false
}

// Parse returns the code that s names or numbers: a name as Lookup takes it, or a decimal
// (or 0x-prefixed hexadecimal) value in the table. Anything else is an error matching
// InvalidEncoding.
func Parse(s string) (Code, error) {
	if c, ok := Lookup(s); ok {
		return c, nil
	}
	v, err := strconv.ParseUint(s, 0, 16)
	if err != nil {
		return 0, &UnknownError{Name: s}
	}
	return Decode(uint16(v))
}

// Of returns the status that classifies err: the Code that err is or wraps. It returns false
// for nil and for errors that carry no Parsec status.
func Of(err error) (Code, bool) {
	for err != nil {
		switch e := err.(type) {
		case Code:
			return e, true
		case interface{ Status() Code }:
			return e.Status(), true
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if c, ok := Of(inner); ok {
					return c, true
				}
			}
			return 0, false
		default:
			return 0, false
		}
	}
	return 0, false
}

// UnknownError reports a status value (or name) outside the table. It matches InvalidEncoding,
// the status the reference implementation returns for it.
type UnknownError struct {
	Value uint16 // the value that was found
	Name  string // set instead of Value when a name or number could not be parsed
	Set   Set    // the set the value was checked against
}

// Error names the value (or the name) and InvalidEncoding.
func (e *UnknownError) Error() string {
	if e.Name != "" {
		return "status: unknown status " + strconv.Quote(e.Name) + " (InvalidEncoding)"
	}
	s := "status: unknown status value " + strconv.Itoa(int(e.Value))
	if e.Set == Seed && Code(e.Value).Known() {
		s += " (" + Code(e.Value).String() + " is not in the seed table)"
	}
	return s + " (InvalidEncoding)"
}

// Status returns InvalidEncoding.
func (e *UnknownError) Status() Code { return InvalidEncoding }

// Unwrap returns InvalidEncoding, so that errors.Is(err, InvalidEncoding) holds.
func (e *UnknownError) Unwrap() error { return InvalidEncoding }

// equalFold is strings.EqualFold for ASCII names, kept here so that status imports nothing
// but strconv.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
