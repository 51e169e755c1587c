//go:build !amd64 || purego

package operation

// haveAVX2 is false in builds without the vector encoder; tests switch it like the amd64
// one.
var haveAVX2 = false

// encodeBlocks encodes nothing here: appendBase64's portable loop does it all.
func encodeBlocks(dst, src []byte) (in, out int) { return 0, 0 }
