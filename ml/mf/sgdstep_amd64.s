#include "textflag.h"

// The kernels of sgdStep (sgdstep.go), four float64 values per YMM
// register. Y0 = gain (g), Y1 = decay, Y2 = the four dot-product
// accumulators. Multiplies and adds stay separate (no FMA) so the results
// equal the Go loop's bit for bit. Each block is stored before pn and qn
// are loaded, so pn == pu or qn == qi reads the updated values.

// LOADARGS loads the pointers, the block count and the broadcast scalars, and
// clears the accumulators.
#define LOADARGS \
	MOVQ         pu+0(FP), AX     \
	MOVQ         qi+8(FP), BX     \
	MOVQ         pn+16(FP), CX    \
	MOVQ         qn+24(FP), DX    \
	MOVQ         blocks+32(FP), SI \
	VBROADCASTSD gain+40(FP), Y0  \
	VBROADCASTSD decay+48(FP), Y1 \
	VXORPD       Y2, Y2, Y2

// NEXTDOT adds this block of pn·qn to the accumulators and moves every
// pointer on by four values.
#define NEXTDOT \
	VMOVUPD (CX), Y7     \
	VMOVUPD (DX), Y8     \
	VMULPD  Y8, Y7, Y7   \
	VADDPD  Y7, Y2, Y2   \
	ADDQ    $32, AX      \
	ADDQ    $32, BX      \
	ADDQ    $32, CX      \
	ADDQ    $32, DX

// STORESUMS stores the four accumulators as s0..s3 and returns.
#define STORESUMS \
	VMOVSD       X2, s0+56(FP) \
	VMOVHPD      X2, s1+64(FP) \
	VEXTRACTF128 $1, Y2, X2    \
	VMOVSD       X2, s2+72(FP) \
	VMOVHPD      X2, s3+80(FP) \
	VZEROUPPER                 \
	RET

// func sgdStepSeqAVX2(pu, qi, pn, qn *float64, blocks int, gain, decay float64) (s0, s1, s2, s3 float64)
TEXT ·sgdStepSeqAVX2(SB), NOSPLIT, $0-88
	LOADARGS

seqloop:
	VMOVUPD (AX), Y3   // p
	VMOVUPD (BX), Y4   // q
	VMULPD  Y1, Y4, Y5 // decay·q
	VMULPD  Y0, Y3, Y6 // g·p
	VADDPD  Y6, Y5, Y5 // q' = decay·q + g·p
	VMOVUPD Y5, (BX)
	VMULPD  Y1, Y3, Y3 // decay·p
	VMULPD  Y0, Y5, Y6 // g·q'
	VADDPD  Y6, Y3, Y3 // p' = decay·p + g·q'
	VMOVUPD Y3, (AX)
	NEXTDOT
	DECQ    SI
	JNZ     seqloop
	STORESUMS

// func sgdStepSimAVX2(pu, qi, pn, qn *float64, blocks int, gain, decay float64) (s0, s1, s2, s3 float64)
TEXT ·sgdStepSimAVX2(SB), NOSPLIT, $0-88
	LOADARGS

simloop:
	VMOVUPD (AX), Y3   // p
	VMOVUPD (BX), Y4   // q
	VMULPD  Y1, Y3, Y5 // decay·p
	VMULPD  Y0, Y4, Y6 // g·q
	VADDPD  Y6, Y5, Y5 // p' = decay·p + g·q
	VMULPD  Y1, Y4, Y4 // decay·q
	VMULPD  Y0, Y3, Y6 // g·p
	VADDPD  Y6, Y4, Y4 // q' = decay·q + g·p
	VMOVUPD Y5, (AX)
	VMOVUPD Y4, (BX)
	NEXTDOT
	DECQ    SI
	JNZ     simloop
	STORESUMS
