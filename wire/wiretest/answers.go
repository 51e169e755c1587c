package wiretest

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"hash/fnv"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
)

// The default service's content: what a small Parsec service with the core provider and
// Mbed Crypto answers, so that a real client gets realistic answers.

// Providers is the ListProviders answer: Mbed Crypto, then the core provider, as the Parsec
// service lists them.
var Providers = []operation.Fields{
	{{Name: "uuid", Value: "1c1139dc-ad7c-47dc-ad6b-db6fdb466552"},
		{Name: "description", Value: "User space software provider, based on Mbed Crypto - the reference implementation of the PSA crypto API"},
		{Name: "vendor", Value: "Arm"}, {Name: "version_maj", Value: 0}, {Name: "version_min", Value: 1},
		{Name: "version_rev", Value: 0}, {Name: "id", Value: 1}},
	{{Name: "uuid", Value: "47049873-2a43-4845-9d72-831eab668784"},
		{Name: "description", Value: "Software provider that implements only administrative (i.e. no cryptographic) operations"},
		{Name: "vendor", Value: "Unspecified"}, {Name: "version_maj", Value: 1}, {Name: "version_min", Value: 3},
		{Name: "version_rev", Value: 0}, {Name: "id", Value: 0}},
}

// coreOpcodes and cryptoOpcodes are the opcodes each provider supports: the core provider the
// administrative ones, Mbed Crypto the PSA ones.
var coreOpcodes = []uint32{header.OpPing, header.OpListProviders, header.OpListOpcodes,
	header.OpListAuthenticators, 26, 27, header.OpDeleteClient}

var cryptoOpcodes = []uint32{2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 24, 25, 32}

// Authenticators is the ListAuthenticators answer: direct authentication.
var Authenticators = []operation.Fields{
	{{Name: "description", Value: "Direct authenticator: the application's name, as sent, is its identity"},
		{Name: "version_maj", Value: 0}, {Name: "version_min", Value: 1}, {Name: "version_rev", Value: 0},
		{Name: "id", Value: uint32(header.AuthDirect)}},
}

// Keys is the ListKeys answer: an ECDSA signing key and an AES key, both in Mbed Crypto.
var Keys = []operation.Fields{
	{{Name: "provider_id", Value: 1}, {Name: "name", Value: "app-signing-key"}, {Name: "attributes", Value: operation.Fields{
		{Name: "key_type", Value: operation.Fields{{Name: "ecc_key_pair", Value: operation.Fields{{Name: "curve_family", Value: "SECP_R1"}}}}},
		{Name: "key_bits", Value: 256},
		{Name: "key_policy", Value: operation.Fields{
			{Name: "key_usage_flags", Value: operation.Fields{{Name: "sign_hash", Value: true}, {Name: "verify_hash", Value: true},
				{Name: "sign_message", Value: true}, {Name: "verify_message", Value: true}}},
			{Name: "key_algorithm", Value: operation.Fields{{Name: "asymmetric_signature", Value: operation.Fields{
				{Name: "ecdsa", Value: operation.Fields{{Name: "hash_alg", Value: operation.Fields{{Name: "specific", Value: "SHA_256"}}}}}}}}},
		}},
	}}},
	{{Name: "provider_id", Value: 1}, {Name: "name", Value: "app-storage-key"}, {Name: "attributes", Value: operation.Fields{
		{Name: "key_type", Value: operation.Fields{{Name: "aes", Value: operation.Fields{}}}},
		{Name: "key_bits", Value: 128},
		{Name: "key_policy", Value: operation.Fields{
			{Name: "key_usage_flags", Value: operation.Fields{{Name: "encrypt", Value: true}, {Name: "decrypt", Value: true}}},
			{Name: "key_algorithm", Value: operation.Fields{{Name: "aead", Value: operation.Fields{{Name: "aead_with_default_length_tag", Value: "GCM"}}}}},
		}},
	}}},
}

// Clients is the ListClients answer.
var Clients = []string{"parsec-tool", "app-1"}

// maxRandom bounds PsaGenerateRandom's answer, as a service's response limit does.
const maxRandom = 1 << 20

// answer returns the body and status of the default answer to a readable request whose
// body the reference's converter accepted: args are its fields.
func answer(req header.Header, args operation.Fields) (status.Code, []byte) {
	var res operation.Fields
	switch req.Opcode {
	case header.OpPing:
		res = operation.Fields{{Name: "wire_protocol_version_maj", Value: 1}, {Name: "wire_protocol_version_min", Value: 0}}
	case header.OpListProviders:
		res = operation.Fields{{Name: "providers", Value: Providers}}
	case header.OpListOpcodes:
		var ops []uint32
		switch args.Get("provider_id").(uint32) {
		case header.ProviderCore:
			ops = coreOpcodes
		case 1:
			ops = cryptoOpcodes
		}
		res = operation.Fields{{Name: "opcodes", Value: ops}}
	case header.OpListAuthenticators:
		res = operation.Fields{{Name: "authenticators", Value: Authenticators}}
	case 26: // ListKeys
		res = operation.Fields{{Name: "keys", Value: Keys}}
	case 27: // ListClients
		res = operation.Fields{{Name: "clients", Value: Clients}}
	case 13: // PsaGenerateRandom: as many bytes as asked
		n := args.Get("size").(uint64)
		if n > maxRandom {
			return status.PsaErrorInsufficientMemory, nil
		}
		b := make([]byte, n)
		fill(b, req.Session)
		res = operation.Fields{{Name: "random_bytes", Value: b}}
	case 15, 16: // PsaHashCompute, PsaHashCompare: the real digest
		sum, ok := digest(args.Get("alg").(operation.Enum), args.Get("input").([]byte))
		switch {
		case !ok:
			return status.PsaErrorNotSupported, nil
		case req.Opcode == 15:
			res = operation.Fields{{Name: "hash", Value: sum}}
		case string(sum) != string(args.Get("hash").([]byte)):
			return status.PsaErrorInvalidSignature, nil
		}
	default:
		// The other operations need keys this service does not hold: a result that is valid
		// by the schema, its content drawn from the request so that the same request gets
		// the same answer.
		h := fnv.New64a()
		b, _ := operation.Encode(req.Opcode, operation.Request, args)
		h.Write(b)
		return status.Success, fuzz.RandomBody(req.Opcode, operation.Response, h.Sum64())
	}
	b, err := operation.Encode(req.Opcode, operation.Response, res)
	if err != nil {
		panic("wiretest: a default answer does not encode: " + err.Error()) // a bug in the tables above
	}
	return status.Success, b
}

// digest computes the hashes Go's standard library has (MD2, MD4 and RIPEMD-160 it has not:
// PsaErrorNotSupported, as from a provider built without them).
func digest(alg operation.Enum, input []byte) ([]byte, bool) {
	switch alg.Name {
	case "MD5":
		s := md5.Sum(input)
		return s[:], true
	case "SHA_1":
		s := sha1.Sum(input)
		return s[:], true
	case "SHA_224":
		s := sha256.Sum224(input)
		return s[:], true
	case "SHA_256":
		s := sha256.Sum256(input)
		return s[:], true
	case "SHA_384":
		s := sha512.Sum384(input)
		return s[:], true
	case "SHA_512":
		s := sha512.Sum512(input)
		return s[:], true
	case "SHA_512_224":
		s := sha512.Sum512_224(input)
		return s[:], true
	case "SHA_512_256":
		s := sha512.Sum512_256(input)
		return s[:], true
	case "SHA3_224":
		s := sha3.Sum224(input)
		return s[:], true
	case "SHA3_256":
		s := sha3.Sum256(input)
		return s[:], true
	case "SHA3_384":
		s := sha3.Sum384(input)
		return s[:], true
	case "SHA3_512":
		s := sha3.Sum512(input)
		return s[:], true
	}
	return nil, false
}

// fill writes reproducible bytes (xorshift64*, seeded by seed): a test service's "random".
func fill(b []byte, seed uint64) {
	x := seed | 1
	for i := range b {
		x ^= x >> 12
		x ^= x << 25
		x ^= x >> 27
		b[i] = byte((x * 0x2545F4914F6CDD1D) >> 56)
	}
}
