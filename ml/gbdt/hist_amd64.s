#include "textflag.h"

// The vector kernels of accumulate and accumulate16 (hist.go): for rows
// rows[2k] and rows[2k+1], k < pairs, add each row's gradient pair,
// widened to float64, into the slot of its bin for the w features from
// f0. A slot's (g, h) is one 128-bit add: the same two float64 additions
// the Go loop does, in the same order, so the sums are bit for bit the
// same; the second row's add reads the first row's store when both hit one
// slot. Each row's bins are walked with a negative index CX from -w to 0
// (SI and DI point past the row's last feature).

// GRADS reads the pair's row indexes into AX and BX and their gradient
// pairs, widened to float64, into X0 and X1.
#define GRADS \
	MOVLQSX   (R10), AX         \
	MOVLQSX   4(R10), BX        \
	VCVTPS2PD (R12)(AX*8), X0   \
	VCVTPS2PD (R12)(BX*8), X1

// ADDSLOTS adds X0 into the slot AX and X1 into the slot BX of the histogram
// (16 bytes a slot).
#define ADDSLOTS \
	SHLQ    $4, AX             \
	SHLQ    $4, BX             \
	VADDPD  (R8)(AX*1), X0, X2 \
	VMOVUPD X2, (R8)(AX*1)     \
	VADDPD  (R8)(BX*1), X1, X3 \
	VMOVUPD X3, (R8)(BX*1)

// func accumulate16AVX(h *hbin, slots *uint16, rows *int32, pairs int, gp *gpair, nf int, w int)
//
// slots points at the slot matrix's column f0.
TEXT ·accumulate16AVX(SB), NOSPLIT, $0-56
	MOVQ  h+0(FP), R8
	MOVQ  slots+8(FP), R9
	MOVQ  rows+16(FP), R10
	MOVQ  pairs+24(FP), R11
	MOVQ  gp+32(FP), R12
	MOVQ  nf+40(FP), R13
	TESTQ R11, R11
	JZ    done16

pair16:
	GRADS
	MOVQ      w+48(FP), CX
	IMULQ     R13, AX
	ADDQ      CX, AX
	LEAQ      (R9)(AX*2), SI
	IMULQ     R13, BX
	ADDQ      CX, BX
	LEAQ      (R9)(BX*2), DI
	NEGQ      CX
	JZ        next16

feature16:
	MOVWQZX (SI)(CX*2), AX
	MOVWQZX (DI)(CX*2), BX
	ADDSLOTS
	INCQ    CX
	JNZ     feature16

next16:
	ADDQ $8, R10
	DECQ R11
	JNZ  pair16

done16:
	VZEROUPPER
	RET

// func accumulateAVX(h *hbin, bins *uint8, rows *int32, pairs int, gp *gpair, nf int, off *int32, w int)
//
// bins points at the bin matrix's column f0 and off at offset[f0]: a
// feature's slot is its offset plus the row's bin.
TEXT ·accumulateAVX(SB), NOSPLIT, $0-64
	MOVQ  h+0(FP), R8
	MOVQ  bins+8(FP), R9
	MOVQ  rows+16(FP), R10
	MOVQ  pairs+24(FP), R11
	MOVQ  gp+32(FP), R12
	MOVQ  nf+40(FP), R13
	MOVQ  off+48(FP), DX
	MOVQ  w+56(FP), AX
	LEAQ  (DX)(AX*4), DX      // past offset[f0+w-1]
	TESTQ R11, R11
	JZ    done8

pair8:
	GRADS
	MOVQ      w+56(FP), CX
	IMULQ     R13, AX
	ADDQ      CX, AX
	LEAQ      (R9)(AX*1), SI
	IMULQ     R13, BX
	ADDQ      CX, BX
	LEAQ      (R9)(BX*1), DI
	NEGQ      CX
	JZ        next8

feature8:
	MOVBQZX (SI)(CX*1), AX
	MOVBQZX (DI)(CX*1), BX
	ADDL    (DX)(CX*4), AX    // the slot: offset plus bin (32-bit, zero-extended)
	ADDL    (DX)(CX*4), BX
	ADDSLOTS
	INCQ    CX
	JNZ     feature8

next8:
	ADDQ $8, R10
	DECQ R11
	JNZ  pair8

done8:
	VZEROUPPER
	RET
