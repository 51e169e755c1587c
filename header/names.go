package header

// ContentProtobuf is the only content type Parsec defines.
const ContentProtobuf = 0

// The opcodes, providers and authentication types Parsec defines today. They are for display
// and for the strict checks; new ones appear over time, so the default decode does not
// reject values missing here.
var (
	opcodes = map[uint32]string{
		1: "Ping", 2: "PsaGenerateKey", 3: "PsaDestroyKey", 4: "PsaSignHash", 5: "PsaVerifyHash",
		6: "PsaImportKey", 7: "PsaExportPublicKey", 8: "ListProviders", 9: "ListOpcodes",
		10: "PsaAsymmetricEncrypt", 11: "PsaAsymmetricDecrypt", 12: "PsaExportKey",
		13: "PsaGenerateRandom", 14: "ListAuthenticators", 15: "PsaHashCompute",
		16: "PsaHashCompare", 17: "PsaAeadEncrypt", 18: "PsaAeadDecrypt",
		19: "PsaRawKeyAgreement", 20: "PsaCipherEncrypt", 21: "PsaCipherDecrypt",
		24: "PsaSignMessage", 25: "PsaVerifyMessage", 26: "ListKeys", 27: "ListClients",
		28: "DeleteClient", 30: "AttestKey", 31: "PrepareKeyAttestation", 32: "CanDoCrypto",
	}
	providers = [...]string{"Core", "MbedCrypto", "Pkcs11", "Tpm", "TrustedService", "CryptoAuthLib"}
	authTypes = [...]string{"NoAuth", "Direct", "Jwt", "UnixPeerCredentials", "JwtSvid"}
)

// Well-known opcodes, for building requests.
const (
	OpPing               = 1
	OpListProviders      = 8
	OpListOpcodes        = 9
	OpListAuthenticators = 14
	OpDeleteClient       = 28
)

// Well-known providers and authentication types.
const (
	ProviderCore = 0
	AuthNone     = 0
	AuthDirect   = 1
)

// OpcodeName returns the name of a known opcode ("Ping").
func OpcodeName(op uint32) (string, bool) {
	s, ok := opcodes[op]
	return s, ok
}

// ProviderName returns the name of a known provider ("Core").
func ProviderName(p uint8) (string, bool) {
	if int(p) < len(providers) {
		return providers[p], true
	}
	return "", false
}

// AuthTypeName returns the name of a known authentication type ("Direct").
func AuthTypeName(a uint8) (string, bool) {
	if int(a) < len(authTypes) {
		return authTypes[a], true
	}
	return "", false
}

// ContentTypeName returns the name of a known content type ("Protobuf").
func ContentTypeName(c uint8) (string, bool) {
	if c == ContentProtobuf {
		return "Protobuf", true
	}
	return "", false
}
