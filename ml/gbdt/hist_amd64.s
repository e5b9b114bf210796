#include "textflag.h"

// func accumulate16AVX(h *hbin, slots *uint16, rows *int32, pairs int, gp *gpair, nf, f0, w int)
//
// accumulate16's loop over pairs of rows (hist.go): for rows[2k] and
// rows[2k+1], k < pairs, add each row's gradient pair, widened to float64,
// into the slot of its bin for the w features from f0. A slot's (g, h) is
// one 128-bit add, the same two float64 additions the Go loop does, so
// the sums are bit for bit the same; the second row's add reads the first
// row's store when both hit one slot.
TEXT ·accumulate16AVX(SB), NOSPLIT, $0-64
	MOVQ h+0(FP), R8
	MOVQ slots+8(FP), R9
	MOVQ rows+16(FP), R10
	MOVQ pairs+24(FP), R11
	MOVQ gp+32(FP), R12
	MOVQ nf+40(FP), R13
	MOVQ f0+48(FP), DX
	TESTQ R11, R11
	JZ   done

pair:
	MOVLQSX   (R10), AX
	MOVLQSX   4(R10), BX
	VCVTPS2PD (R12)(AX*8), X0 // (g, h) of the first row as float64
	VCVTPS2PD (R12)(BX*8), X1
	IMULQ     R13, AX
	ADDQ      DX, AX
	LEAQ      (R9)(AX*2), SI  // the first row's slots from f0
	IMULQ     R13, BX
	ADDQ      DX, BX
	LEAQ      (R9)(BX*2), DI
	MOVQ      w+56(FP), CX
	TESTQ     CX, CX
	JZ        next

feature:
	MOVWQZX (SI), AX
	MOVWQZX (DI), BX
	SHLQ    $4, AX
	SHLQ    $4, BX
	VADDPD  (R8)(AX*1), X0, X2
	VMOVUPD X2, (R8)(AX*1)
	VADDPD  (R8)(BX*1), X1, X3
	VMOVUPD X3, (R8)(BX*1)
	ADDQ    $2, SI
	ADDQ    $2, DI
	DECQ    CX
	JNZ     feature

next:
	ADDQ $8, R10
	DECQ R11
	JNZ  pair

done:
	VZEROUPPER
	RET
