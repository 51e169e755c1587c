package operation

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
)

// base64Pairs maps 12 bits to the two base64 characters that write them, so that the
// portable encoder writes 6 bytes as one 8-byte store: half again as fast as encoding/base64.
var base64Pairs = func() (t [4096]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = uint16(alphabet[i>>6]) | uint16(alphabet[i&63])<<8
	}
	return t
}()

// appendBase64 appends the standard, padded base64 encoding of src to b. It is decode
// -json's hot loop: every byte of a large bytes field is printed, and encoding them is most
// of the work, so the bulk goes to a vector encoder where the CPU has one (encodeBlocks).
func appendBase64(b, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	b = slices.Grow(b, n)
	dst := b[len(b) : len(b)+n]
	in, out := encodeBlocks(dst, src)
	for ; in+8 <= len(src); in, out = in+6, out+8 {
		// One 8-byte load of which the first 6 bytes are encoded: the loop stops while 8 remain.
		v := binary.BigEndian.Uint64(src[in:]) >> 16
		binary.LittleEndian.PutUint64(dst[out:], uint64(base64Pairs[v>>36])|uint64(base64Pairs[v>>24&0xfff])<<16|
			uint64(base64Pairs[v>>12&0xfff])<<32|uint64(base64Pairs[v&0xfff])<<48)
	}
	base64.StdEncoding.Encode(dst[out:], src[in:])
	return b[:len(b)+n]
}
