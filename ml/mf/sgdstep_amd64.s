#include "textflag.h"

// The kernels of sgdStep (sgdstep.go), four float64 values per YMM
// register. Y0 = gain (g), Y1 = decay, Y2 = the four dot-product accumulators.
// Multiplies and adds stay separate (no FMA) so the results equal the Go
// loop's bit for bit. Each block is stored before pn and qn are loaded, so
// pn == pu or qn == qi reads the updated values.

// func sgdStepSeqAVX2(pu, qi, pn, qn *float64, blocks int, gain, decay float64) (s0, s1, s2, s3 float64)
TEXT ·sgdStepSeqAVX2(SB), NOSPLIT, $0-88
	MOVQ         pu+0(FP), AX
	MOVQ         qi+8(FP), BX
	MOVQ         pn+16(FP), CX
	MOVQ         qn+24(FP), DX
	MOVQ         blocks+32(FP), SI
	VBROADCASTSD gain+40(FP), Y0
	VBROADCASTSD decay+48(FP), Y1
	VXORPD       Y2, Y2, Y2

seqloop:
	VMOVUPD (AX), Y3     // p
	VMOVUPD (BX), Y4     // q
	VMULPD  Y1, Y4, Y5   // decay·q
	VMULPD  Y0, Y3, Y6   // g·p
	VADDPD  Y6, Y5, Y5   // q' = decay·q + g·p
	VMOVUPD Y5, (BX)
	VMULPD  Y1, Y3, Y3   // decay·p
	VMULPD  Y0, Y5, Y6   // g·q'
	VADDPD  Y6, Y3, Y3   // p' = decay·p + g·q'
	VMOVUPD Y3, (AX)
	VMOVUPD (CX), Y7
	VMOVUPD (DX), Y8
	VMULPD  Y8, Y7, Y7   // pn·qn
	VADDPD  Y7, Y2, Y2
	ADDQ    $32, AX
	ADDQ    $32, BX
	ADDQ    $32, CX
	ADDQ    $32, DX
	DECQ    SI
	JNZ     seqloop

	VMOVSD       X2, s0+56(FP)
	VMOVHPD      X2, s1+64(FP)
	VEXTRACTF128 $1, Y2, X2
	VMOVSD       X2, s2+72(FP)
	VMOVHPD      X2, s3+80(FP)
	VZEROUPPER
	RET

// func sgdStepSimAVX2(pu, qi, pn, qn *float64, blocks int, gain, decay float64) (s0, s1, s2, s3 float64)
TEXT ·sgdStepSimAVX2(SB), NOSPLIT, $0-88
	MOVQ         pu+0(FP), AX
	MOVQ         qi+8(FP), BX
	MOVQ         pn+16(FP), CX
	MOVQ         qn+24(FP), DX
	MOVQ         blocks+32(FP), SI
	VBROADCASTSD gain+40(FP), Y0
	VBROADCASTSD decay+48(FP), Y1
	VXORPD       Y2, Y2, Y2

simloop:
	VMOVUPD (AX), Y3     // p
	VMOVUPD (BX), Y4     // q
	VMULPD  Y1, Y3, Y5   // decay·p
	VMULPD  Y0, Y4, Y6   // g·q
	VADDPD  Y6, Y5, Y5   // p' = decay·p + g·q
	VMULPD  Y1, Y4, Y4   // decay·q
	VMULPD  Y0, Y3, Y6   // g·p
	VADDPD  Y6, Y4, Y4   // q' = decay·q + g·p
	VMOVUPD Y5, (AX)
	VMOVUPD Y4, (BX)
	VMOVUPD (CX), Y7
	VMOVUPD (DX), Y8
	VMULPD  Y8, Y7, Y7   // pn·qn
	VADDPD  Y7, Y2, Y2
	ADDQ    $32, AX
	ADDQ    $32, BX
	ADDQ    $32, CX
	ADDQ    $32, DX
	DECQ    SI
	JNZ     simloop

	VMOVSD       X2, s0+56(FP)
	VMOVHPD      X2, s1+64(FP)
	VEXTRACTF128 $1, Y2, X2
	VMOVSD       X2, s2+72(FP)
	VMOVHPD      X2, s3+80(FP)
	VZEROUPPER
	RET
