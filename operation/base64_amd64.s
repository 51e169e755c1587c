//go:build amd64 && !purego

#include "textflag.h"

// Each 128-bit lane of a YMM register takes 12 input bytes: four groups of three bytes
// (b0 b1 b2). The shuffle spreads each group over a 32-bit word as b1 b0 b2 b1, which puts
// every 6-bit index within one of the word's two 16-bit halves; two multiplications then
// shift the four indices into the word's four bytes, and a 16-entry table of offsets
// turns each index into its character.

// shuffle: for group g of the lane, bytes 3g+1, 3g, 3g+2, 3g+1.
DATA b64shuf<>+0x00(SB)/8, $0x0405030401020001
DATA b64shuf<>+0x08(SB)/8, $0x0a0b090a07080607
DATA b64shuf<>+0x10(SB)/8, $0x0405030401020001
DATA b64shuf<>+0x18(SB)/8, $0x0a0b090a07080607
GLOBL b64shuf<>(SB), RODATA|NOPTR, $32

// The first and third indices (bits 10-15 and 22-27 of a word after the shuffle) are
// shifted right, by 10 and 6, with an unsigned high multiplication by 2^6 and 2^10.
DATA b64mask1<>+0x00(SB)/8, $0x0fc0fc000fc0fc00
DATA b64mask1<>+0x08(SB)/8, $0x0fc0fc000fc0fc00
DATA b64mask1<>+0x10(SB)/8, $0x0fc0fc000fc0fc00
DATA b64mask1<>+0x18(SB)/8, $0x0fc0fc000fc0fc00
GLOBL b64mask1<>(SB), RODATA|NOPTR, $32
DATA b64mul1<>+0x00(SB)/8, $0x0400004004000040
DATA b64mul1<>+0x08(SB)/8, $0x0400004004000040
DATA b64mul1<>+0x10(SB)/8, $0x0400004004000040
DATA b64mul1<>+0x18(SB)/8, $0x0400004004000040
GLOBL b64mul1<>(SB), RODATA|NOPTR, $32

// The second and fourth (bits 4-9 and 16-21) are shifted left, by 4 and 8, with a low
// multiplication by 2^4 and 2^8.
DATA b64mask2<>+0x00(SB)/8, $0x003f03f0003f03f0
DATA b64mask2<>+0x08(SB)/8, $0x003f03f0003f03f0
DATA b64mask2<>+0x10(SB)/8, $0x003f03f0003f03f0
DATA b64mask2<>+0x18(SB)/8, $0x003f03f0003f03f0
GLOBL b64mask2<>(SB), RODATA|NOPTR, $32
DATA b64mul2<>+0x00(SB)/8, $0x0100001001000010
DATA b64mul2<>+0x08(SB)/8, $0x0100001001000010
DATA b64mul2<>+0x10(SB)/8, $0x0100001001000010
DATA b64mul2<>+0x18(SB)/8, $0x0100001001000010
GLOBL b64mul2<>(SB), RODATA|NOPTR, $32

// Character = index + offset, the offset chosen by the index's range: 0-25 'A' (class 0),
// 26-51 'a'-26 (class 1), 52-61 '0'-52 (classes 2-11), 62 '+'-62 (12), 63 '/'-63 (13).
// The class is the index minus 51, saturated at 0, plus 1 when the index exceeds 25.
DATA b64c51<>+0x00(SB)/8, $0x3333333333333333
DATA b64c51<>+0x08(SB)/8, $0x3333333333333333
DATA b64c51<>+0x10(SB)/8, $0x3333333333333333
DATA b64c51<>+0x18(SB)/8, $0x3333333333333333
GLOBL b64c51<>(SB), RODATA|NOPTR, $32
DATA b64c25<>+0x00(SB)/8, $0x1919191919191919
DATA b64c25<>+0x08(SB)/8, $0x1919191919191919
DATA b64c25<>+0x10(SB)/8, $0x1919191919191919
DATA b64c25<>+0x18(SB)/8, $0x1919191919191919
GLOBL b64c25<>(SB), RODATA|NOPTR, $32
DATA b64offset<>+0x00(SB)/8, $0xfcfcfcfcfcfc4741
DATA b64offset<>+0x08(SB)/8, $0x0000f0edfcfcfcfc
DATA b64offset<>+0x10(SB)/8, $0xfcfcfcfcfcfc4741
DATA b64offset<>+0x18(SB)/8, $0x0000f0edfcfcfcfc
GLOBL b64offset<>(SB), RODATA|NOPTR, $32

// func encodeAVX2(dst, src *byte, blocks int)
TEXT ·encodeAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ blocks+16(FP), CX
	TESTQ CX, CX
	JZ   done
	VMOVDQU b64shuf<>(SB), Y8
	VMOVDQU b64mask1<>(SB), Y9
	VMOVDQU b64mul1<>(SB), Y10
	VMOVDQU b64mask2<>(SB), Y11
	VMOVDQU b64mul2<>(SB), Y12
	VMOVDQU b64c51<>(SB), Y13
	VMOVDQU b64c25<>(SB), Y14
	VMOVDQU b64offset<>(SB), Y15

loop:
	// Bytes 0-11 in the low lane, 12-23 in the high one (each load takes 16).
	VMOVDQU     (SI), X0
	VINSERTI128 $1, 12(SI), Y0, Y0
	VPSHUFB     Y8, Y0, Y0
	VPAND       Y9, Y0, Y1
	VPMULHUW    Y10, Y1, Y1
	VPAND       Y11, Y0, Y2
	VPMULLW     Y12, Y2, Y2
	VPOR        Y1, Y2, Y0
	VPSUBUSB    Y13, Y0, Y1
	VPCMPGTB    Y14, Y0, Y2
	VPSUBB      Y2, Y1, Y1
	VPSHUFB     Y1, Y15, Y1
	VPADDB      Y1, Y0, Y0
	VMOVDQU     Y0, (DI)
	ADDQ        $24, SI
	ADDQ        $32, DI
	DECQ        CX
	JNZ         loop
	VZEROUPPER

done:
	RET

// func cpuid(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET

// func xgetbv() (lo, hi uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, lo+0(FP)
	MOVL DX, hi+4(FP)
	RET
