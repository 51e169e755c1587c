package operation

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// The schema: every message of the 29 operations of parsec-interface 0.27, written from the
// interface's facts (message and field names, numbers, types, enum values) and from what its
// protobuf converter refuses. Nothing else in the package lists a field.

// Shorthands that keep the table readable.
func message(name string, fields ...FieldDesc) *MessageDesc {
	return &MessageDesc{Name: name, Fields: fields}
}

// oneof makes a message whose fields are all members of one oneof, named "variant" in every
// Parsec message that has one; required says the converter refuses it unset.
func oneof(name string, required bool, fields ...FieldDesc) *MessageDesc {
	for i := range fields {
		fields[i].Oneof = true
	}
	return &MessageDesc{Name: name, Fields: fields, Oneof: "variant", OneofRequired: required}
}

func scalarField(n protowire.Number, name string, k Kind) FieldDesc {
	return FieldDesc{Number: n, Name: name, Kind: k}
}

func enumField(n protowire.Number, name string, e *EnumDesc) FieldDesc {
	return FieldDesc{Number: n, Name: name, Kind: KindEnum, Enum: e}
}

func messageField(n protowire.Number, name string, m *MessageDesc) FieldDesc {
	return FieldDesc{Number: n, Name: name, Kind: KindMessage, Message: m}
}

// required marks a message field the converter refuses to find unset.
func required(f FieldDesc) FieldDesc {
	f.Required = true
	return f
}

func repeated(f FieldDesc) FieldDesc {
	f.Repeated = true
	return f
}

func checked(f FieldDesc, c Check) FieldDesc {
	f.Check = c
	return f
}

// noneRefused builds an enum whose value 0 is a _NONE placeholder the converter refuses.
func enum(name string, unknown status.Code, values ...EnumValueDesc) *EnumDesc {
	return &EnumDesc{Name: name, Values: values, Unknown: unknown}
}

func refused(n int32, name string) EnumValueDesc {
	return EnumValueDesc{Number: n, Name: name, Refused: status.InvalidEncoding}
}

func value(n int32, name string) EnumValueDesc { return EnumValueDesc{Number: n, Name: name} }

// Empty messages.
func empty(name string) *MessageDesc { return &MessageDesc{Name: name} }

// psa_algorithm.

var hashEnum = enum("psa_algorithm.Algorithm.Hash", status.InvalidEncoding,
	refused(0, "HASH_NONE"), value(1, "MD2"), value(2, "MD4"), value(3, "MD5"),
	value(4, "RIPEMD160"), value(5, "SHA_1"), value(6, "SHA_224"), value(7, "SHA_256"),
	value(8, "SHA_384"), value(9, "SHA_512"), value(10, "SHA_512_224"), value(11, "SHA_512_256"),
	value(12, "SHA3_224"), value(13, "SHA3_256"), value(14, "SHA3_384"), value(15, "SHA3_512"))

var cipherEnum = enum("psa_algorithm.Algorithm.Cipher", status.InvalidEncoding,
	refused(0, "CIPHER_NONE"), value(1, "STREAM_CIPHER"), value(2, "CTR"), value(3, "CFB"),
	value(4, "OFB"), value(5, "XTS"), value(6, "ECB_NO_PADDING"), value(7, "CBC_NO_PADDING"),
	value(8, "CBC_PKCS7"))

var aeadDefaultEnum = enum("psa_algorithm.Algorithm.Aead.AeadWithDefaultLengthTag", status.InvalidEncoding,
	refused(0, "AEAD_WITH_DEFAULT_LENGTH_TAG_NONE"), value(1, "CCM"), value(2, "GCM"),
	value(3, "CHACHA20_POLY1305"))

var rawKeyAgreementEnum = enum("psa_algorithm.Algorithm.KeyAgreement.Raw", status.InvalidEncoding,
	refused(0, "RAW_NONE"), value(1, "FFDH"), value(2, "ECDH"))

var fullLengthMac = oneof("psa_algorithm.Algorithm.Mac.FullLength", true,
	messageField(1, "hmac", message("psa_algorithm.Algorithm.Mac.FullLength.Hmac",
		enumField(1, "hash_alg", hashEnum))),
	messageField(2, "cbc_mac", empty("psa_algorithm.Algorithm.Mac.FullLength.CbcMac")),
	messageField(3, "cmac", empty("psa_algorithm.Algorithm.Mac.FullLength.Cmac")))

var macAlgorithm = oneof("psa_algorithm.Algorithm.Mac", true,
	messageField(1, "full_length", fullLengthMac),
	messageField(2, "truncated", message("psa_algorithm.Algorithm.Mac.Truncated",
		required(messageField(1, "mac_alg", fullLengthMac)),
		scalarField(2, "mac_length", KindUint32))))

var aeadAlgorithm = oneof("psa_algorithm.Algorithm.Aead", true,
	enumField(1, "aead_with_default_length_tag", aeadDefaultEnum),
	messageField(2, "aead_with_shortened_tag", message("psa_algorithm.Algorithm.Aead.AeadWithShortenedTag",
		enumField(1, "aead_alg", aeadDefaultEnum),
		scalarField(2, "tag_length", KindUint32))))

var signHash = oneof("psa_algorithm.Algorithm.AsymmetricSignature.SignHash", true,
	messageField(1, "any", empty("psa_algorithm.Algorithm.AsymmetricSignature.SignHash.Any")),
	enumField(2, "specific", hashEnum))

func withSignHash(name string) *MessageDesc {
	return message(name, required(messageField(1, "hash_alg", signHash)))
}

var asymmetricSignature = oneof("psa_algorithm.Algorithm.AsymmetricSignature", true,
	messageField(1, "rsa_pkcs1v15_sign", withSignHash("psa_algorithm.Algorithm.AsymmetricSignature.RsaPkcs1v15Sign")),
	messageField(2, "rsa_pkcs1v15_sign_raw", empty("psa_algorithm.Algorithm.AsymmetricSignature.RsaPkcs1v15SignRaw")),
	messageField(3, "rsa_pss", withSignHash("psa_algorithm.Algorithm.AsymmetricSignature.RsaPss")),
	messageField(4, "ecdsa", withSignHash("psa_algorithm.Algorithm.AsymmetricSignature.Ecdsa")),
	messageField(5, "ecdsa_any", empty("psa_algorithm.Algorithm.AsymmetricSignature.EcdsaAny")),
	messageField(6, "deterministic_ecdsa", withSignHash("psa_algorithm.Algorithm.AsymmetricSignature.DeterministicEcdsa")))

var asymmetricEncryption = oneof("psa_algorithm.Algorithm.AsymmetricEncryption", true,
	messageField(1, "rsa_pkcs1v15_crypt", empty("psa_algorithm.Algorithm.AsymmetricEncryption.RsaPkcs1v15Crypt")),
	messageField(2, "rsa_oaep", message("psa_algorithm.Algorithm.AsymmetricEncryption.RsaOaep",
		enumField(1, "hash_alg", hashEnum))))

var keyDerivation = oneof("psa_algorithm.Algorithm.KeyDerivation", true,
	messageField(1, "hkdf", message("psa_algorithm.Algorithm.KeyDerivation.Hkdf", enumField(1, "hash_alg", hashEnum))),
	messageField(2, "tls12_prf", message("psa_algorithm.Algorithm.KeyDerivation.Tls12Prf", enumField(1, "hash_alg", hashEnum))),
	messageField(3, "tls12_psk_to_ms", message("psa_algorithm.Algorithm.KeyDerivation.Tls12PskToMs", enumField(1, "hash_alg", hashEnum))))

var keyAgreement = oneof("psa_algorithm.Algorithm.KeyAgreement", true,
	enumField(1, "raw", rawKeyAgreementEnum),
	messageField(2, "with_key_derivation", message("psa_algorithm.Algorithm.KeyAgreement.WithKeyDerivation",
		enumField(1, "ka_alg", rawKeyAgreementEnum),
		required(messageField(2, "kdf_alg", keyDerivation)))))

var algorithm = oneof("psa_algorithm.Algorithm", true,
	messageField(1, "none", empty("psa_algorithm.Algorithm.None")),
	enumField(2, "hash", hashEnum),
	messageField(3, "mac", macAlgorithm),
	enumField(4, "cipher", cipherEnum),
	messageField(5, "aead", aeadAlgorithm),
	messageField(6, "asymmetric_signature", asymmetricSignature),
	messageField(7, "asymmetric_encryption", asymmetricEncryption),
	messageField(8, "key_agreement", keyAgreement),
	messageField(9, "key_derivation", keyDerivation))

// psa_key_attributes.

var eccFamilyEnum = enum("psa_key_attributes.KeyType.EccFamily", status.InvalidEncoding,
	refused(0, "ECC_FAMILY_NONE"), value(1, "SECP_K1"), value(2, "SECP_R1"), value(3, "SECP_R2"),
	value(4, "SECT_K1"), value(5, "SECT_R1"), value(6, "SECT_R2"), value(7, "BRAINPOOL_P_R1"),
	value(8, "FRP"), value(9, "MONTGOMERY"))

var dhFamilyEnum = enum("psa_key_attributes.KeyType.DhFamily", status.InvalidEncoding,
	value(0, "RFC7919"))

var keyType = oneof("psa_key_attributes.KeyType", true,
	messageField(1, "raw_data", empty("psa_key_attributes.KeyType.RawData")),
	messageField(2, "hmac", empty("psa_key_attributes.KeyType.Hmac")),
	messageField(3, "derive", empty("psa_key_attributes.KeyType.Derive")),
	messageField(4, "aes", empty("psa_key_attributes.KeyType.Aes")),
	messageField(5, "des", empty("psa_key_attributes.KeyType.Des")),
	messageField(6, "camellia", empty("psa_key_attributes.KeyType.Camellia")),
	messageField(7, "arc4", empty("psa_key_attributes.KeyType.Arc4")),
	messageField(8, "chacha20", empty("psa_key_attributes.KeyType.Chacha20")),
	messageField(9, "rsa_public_key", empty("psa_key_attributes.KeyType.RsaPublicKey")),
	messageField(10, "rsa_key_pair", empty("psa_key_attributes.KeyType.RsaKeyPair")),
	messageField(11, "ecc_key_pair", message("psa_key_attributes.KeyType.EccKeyPair", enumField(1, "curve_family", eccFamilyEnum))),
	messageField(12, "ecc_public_key", message("psa_key_attributes.KeyType.EccPublicKey", enumField(1, "curve_family", eccFamilyEnum))),
	messageField(13, "dh_key_pair", message("psa_key_attributes.KeyType.DhKeyPair", enumField(1, "group_family", dhFamilyEnum))),
	messageField(14, "dh_public_key", message("psa_key_attributes.KeyType.DhPublicKey", enumField(1, "group_family", dhFamilyEnum))))

var usageFlags = message("psa_key_attributes.UsageFlags",
	scalarField(1, "export", KindBool), scalarField(2, "copy", KindBool), scalarField(3, "cache", KindBool),
	scalarField(4, "encrypt", KindBool), scalarField(5, "decrypt", KindBool),
	scalarField(6, "sign_message", KindBool), scalarField(7, "verify_message", KindBool),
	scalarField(8, "sign_hash", KindBool), scalarField(9, "verify_hash", KindBool),
	scalarField(10, "derive", KindBool))

var keyPolicy = message("psa_key_attributes.KeyPolicy",
	required(messageField(1, "key_usage_flags", usageFlags)),
	required(messageField(2, "key_algorithm", algorithm)))

var keyAttributes = message("psa_key_attributes.KeyAttributes",
	required(messageField(1, "key_type", keyType)),
	scalarField(2, "key_bits", KindUint32),
	required(messageField(3, "key_policy", keyPolicy)))

// The operations, in opcode order.

func keyName(n protowire.Number) FieldDesc { return scalarField(n, "key_name", KindString) }

func bytesField(n protowire.Number, name string) FieldDesc { return scalarField(n, name, KindBytes) }

var providerInfo = message("list_providers.ProviderInfo",
	checked(scalarField(1, "uuid", KindString), CheckUUID),
	scalarField(2, "description", KindString),
	scalarField(3, "vendor", KindString),
	scalarField(4, "version_maj", KindUint32),
	scalarField(5, "version_min", KindUint32),
	scalarField(6, "version_rev", KindUint32),
	checked(scalarField(7, "id", KindUint32), CheckProvider))

var authenticatorInfo = message("list_authenticators.AuthenticatorInfo",
	scalarField(1, "description", KindString),
	scalarField(2, "version_maj", KindUint32),
	scalarField(3, "version_min", KindUint32),
	scalarField(4, "version_rev", KindUint32),
	checked(scalarField(5, "id", KindUint32), CheckAuthenticator))

var keyInfo = message("list_keys.KeyInfo",
	checked(scalarField(1, "provider_id", KindUint32), CheckProvider),
	scalarField(2, "name", KindString),
	required(messageField(3, "attributes", keyAttributes)))

var checkTypeEnum = enum("can_do_crypto.CheckType", status.InvalidEncoding,
	refused(0, "CHECKTYPE_NONE"), value(1, "USE"), value(2, "GENERATE"), value(3, "IMPORT"),
	value(4, "DERIVE"))

var table = []entry{
	{op: header.OpPing,
		request: empty("ping.Operation"),
		result: message("ping.Result",
			checked(scalarField(1, "wire_protocol_version_maj", KindUint32), CheckUint8),
			checked(scalarField(2, "wire_protocol_version_min", KindUint32), CheckUint8))},
	{op: 2, // PsaGenerateKey
		request: message("psa_generate_key.Operation", keyName(1), required(messageField(2, "attributes", keyAttributes))),
		result:  empty("psa_generate_key.Result")},
	{op: 3, // PsaDestroyKey
		request: message("psa_destroy_key.Operation", keyName(1)),
		result:  empty("psa_destroy_key.Result")},
	{op: 4, // PsaSignHash
		request: message("psa_sign_hash.Operation", keyName(1), required(messageField(2, "alg", asymmetricSignature)), bytesField(3, "hash")),
		result:  message("psa_sign_hash.Result", bytesField(1, "signature"))},
	{op: 5, // PsaVerifyHash
		request: message("psa_verify_hash.Operation", keyName(1), required(messageField(2, "alg", asymmetricSignature)),
			bytesField(3, "hash"), bytesField(4, "signature")),
		result: empty("psa_verify_hash.Result")},
	{op: 6, // PsaImportKey
		request: message("psa_import_key.Operation", keyName(1), required(messageField(2, "attributes", keyAttributes)), bytesField(3, "data")),
		result:  empty("psa_import_key.Result")},
	{op: 7, // PsaExportPublicKey
		request: message("psa_export_public_key.Operation", keyName(1)),
		result:  message("psa_export_public_key.Result", bytesField(1, "data"))},
	{op: header.OpListProviders,
		request: empty("list_providers.Operation"),
		result:  message("list_providers.Result", repeated(messageField(1, "providers", providerInfo)))},
	{op: header.OpListOpcodes,
		request: message("list_opcodes.Operation", checked(scalarField(1, "provider_id", KindUint32), CheckProvider)),
		result:  message("list_opcodes.Result", checked(repeated(scalarField(1, "opcodes", KindUint32)), CheckOpcode))},
	{op: 10, // PsaAsymmetricEncrypt
		request: message("psa_asymmetric_encrypt.Operation", keyName(1), required(messageField(2, "alg", asymmetricEncryption)),
			bytesField(3, "plaintext"), bytesField(4, "salt")),
		result: message("psa_asymmetric_encrypt.Result", bytesField(1, "ciphertext"))},
	{op: 11, // PsaAsymmetricDecrypt
		request: message("psa_asymmetric_decrypt.Operation", keyName(1), required(messageField(2, "alg", asymmetricEncryption)),
			bytesField(3, "ciphertext"), bytesField(4, "salt")),
		result: message("psa_asymmetric_decrypt.Result", bytesField(1, "plaintext"))},
	{op: 12, // PsaExportKey
		request: message("psa_export_key.Operation", keyName(1)),
		result:  message("psa_export_key.Result", bytesField(1, "data"))},
	{op: 13, // PsaGenerateRandom
		request: message("psa_generate_random.Operation", scalarField(1, "size", KindUint64)),
		result:  message("psa_generate_random.Result", bytesField(1, "random_bytes"))},
	{op: header.OpListAuthenticators,
		request: empty("list_authenticators.Operation"),
		result:  message("list_authenticators.Result", repeated(messageField(1, "authenticators", authenticatorInfo)))},
	{op: 15, // PsaHashCompute
		request: message("psa_hash_compute.Operation", enumField(1, "alg", hashEnum), bytesField(2, "input")),
		result:  message("psa_hash_compute.Result", bytesField(1, "hash"))},
	{op: 16, // PsaHashCompare
		request: message("psa_hash_compare.Operation", enumField(1, "alg", hashEnum), bytesField(2, "input"), bytesField(3, "hash")),
		result:  empty("psa_hash_compare.Result")},
	{op: 17, // PsaAeadEncrypt
		request: message("psa_aead_encrypt.Operation", keyName(1), required(messageField(2, "alg", aeadAlgorithm)),
			bytesField(3, "nonce"), bytesField(4, "additional_data"), bytesField(5, "plaintext")),
		result: message("psa_aead_encrypt.Result", bytesField(1, "ciphertext"))},
	{op: 18, // PsaAeadDecrypt
		request: message("psa_aead_decrypt.Operation", keyName(1), required(messageField(2, "alg", aeadAlgorithm)),
			bytesField(3, "nonce"), bytesField(4, "additional_data"), bytesField(5, "ciphertext")),
		result: message("psa_aead_decrypt.Result", bytesField(1, "plaintext"))},
	{op: 19, // PsaRawKeyAgreement
		request: message("psa_raw_key_agreement.Operation", enumField(1, "alg", rawKeyAgreementEnum),
			scalarField(2, "private_key_name", KindString), bytesField(3, "peer_key")),
		result: message("psa_raw_key_agreement.Result", bytesField(1, "shared_secret"))},
	{op: 20, // PsaCipherEncrypt
		request: message("psa_cipher_encrypt.Operation", keyName(1), enumField(2, "alg", cipherEnum), bytesField(3, "plaintext")),
		result:  message("psa_cipher_encrypt.Result", bytesField(1, "ciphertext"))},
	{op: 21, // PsaCipherDecrypt
		request: message("psa_cipher_decrypt.Operation", keyName(1), enumField(2, "alg", cipherEnum), bytesField(3, "ciphertext")),
		result:  message("psa_cipher_decrypt.Result", bytesField(1, "plaintext"))},
	{op: 24, // PsaSignMessage
		request: message("psa_sign_message.Operation", keyName(1), required(messageField(2, "alg", asymmetricSignature)), bytesField(3, "message")),
		result:  message("psa_sign_message.Result", bytesField(1, "signature"))},
	{op: 25, // PsaVerifyMessage
		request: message("psa_verify_message.Operation", keyName(1), required(messageField(2, "alg", asymmetricSignature)),
			bytesField(3, "message"), bytesField(4, "signature")),
		result: empty("psa_verify_message.Result")},
	{op: 26, // ListKeys
		request: empty("list_keys.Operation"),
		result:  message("list_keys.Result", repeated(messageField(1, "keys", keyInfo)))},
	{op: 27, // ListClients
		request: empty("list_clients.Operation"),
		result:  message("list_clients.Result", repeated(scalarField(1, "clients", KindString)))},
	{op: header.OpDeleteClient,
		request: message("delete_client.Operation", scalarField(1, "client", KindString)),
		result:  empty("delete_client.Result")},
	{op: 30, // AttestKey
		request: message("attest_key.Operation",
			scalarField(1, "attested_key_name", KindString),
			required(messageField(2, "parameters", oneof("attest_key.AttestationMechanismParams", true,
				messageField(1, "activate_credential", message("attest_key.AttestationMechanismParams.ActivateCredential",
					bytesField(1, "credential_blob"), bytesField(2, "secret")))))),
			scalarField(3, "attesting_key_name", KindString)),
		result: message("attest_key.Result",
			required(messageField(1, "output", oneof("attest_key.AttestationOutput", true,
				messageField(1, "activate_credential", message("attest_key.AttestationOutput.ActivateCredential",
					bytesField(1, "credential"))))))),
	},
	{op: 31, // PrepareKeyAttestation
		request: message("prepare_key_attestation.Operation",
			required(messageField(1, "parameters", oneof("prepare_key_attestation.PrepareKeyAttestationParams", true,
				messageField(1, "activate_credential", message("prepare_key_attestation.PrepareKeyAttestationParams.ActivateCredential",
					scalarField(1, "attested_key_name", KindString), scalarField(2, "attesting_key_name", KindString))))))),
		result: message("prepare_key_attestation.Result",
			required(messageField(1, "output", oneof("prepare_key_attestation.PrepareKeyAttestationOutput", true,
				messageField(1, "activate_credential", message("prepare_key_attestation.PrepareKeyAttestationOutput.ActivateCredential",
					bytesField(1, "name"), bytesField(2, "public"), bytesField(3, "attesting_key_pub"))))))),
	},
	{op: 32, // CanDoCrypto
		request: message("can_do_crypto.Operation", enumField(1, "check_type", checkTypeEnum),
			required(messageField(2, "attributes", keyAttributes))),
		result: empty("can_do_crypto.Result")},
}
