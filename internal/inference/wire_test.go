package inference

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/plinthai/plinth/api/gen/inference"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// The reference for decodeWire: the request decoded by the generated
// protobuf code, then read into an inferRequest field by field (the gRPC
// path before the hand-written decoder).

// fromProto decodes a gRPC infer request into r. Byte slices point into
// req, which must outlive r's use.
func (r *inferRequest) fromProto(req *pb.ModelInferRequest) error {
	r.reset()
	r.id = bytesOf(req.GetId())
	raw := req.GetRawInputContents()
	if len(raw) > 0 && len(raw) != len(req.GetInputs()) {
		return problem.Field("raw_input_contents", "has %d entries for %d inputs", len(raw), len(req.GetInputs()))
	}
	if len(req.GetInputs()) == 0 {
		return problem.Field("inputs", "at least one input is required")
	}
	for _, o := range req.GetOutputs() {
		r.outputs = append(r.outputs, requestedOutput{name: bytesOf(o.GetName()), binary: -1})
	}
	for i, in := range req.GetInputs() {
		t, err := r.newInput()
		if err != nil {
			return err
		}
		if err := t.fromProto(in); err != nil {
			return err
		}
		if len(raw) > 0 {
			if in.GetContents() != nil {
				return problem.Field(t.field(), "has contents while the request uses raw_input_contents")
			}
			if err := t.setRaw(raw[i]); err != nil {
				return err
			}
			r.rawInputs = true
		} else if err := t.fromContents(in.GetContents()); err != nil {
			return err
		}
		if err := t.checkShape(); err != nil {
			return err
		}
	}
	return nil
}

func (t *tensor) fromProto(in *pb.ModelInferRequest_InferInputTensor) error {
	t.name = bytesOf(in.GetName())
	if len(t.name) == 0 {
		return problem.Field("inputs", "an input has no name")
	}
	if t.dt = parseDtype(bytesOf(in.GetDatatype())); t.dt == dtInvalid {
		return problem.Field(t.field(), "unknown datatype %q", in.GetDatatype())
	}
	shape := in.GetShape()
	if len(shape) == 0 || len(shape) > maxDims {
		return problem.Field(t.field(), "shape must have 1 to %d dimensions", maxDims)
	}
	t.ndim = copy(t.shape[:], shape)
	return nil
}

// fromContents takes the typed contents field of the tensor's datatype.
func (t *tensor) fromContents(c *pb.InferTensorContents) error {
	t.hasData = true
	switch t.dt {
	case dtFP32:
		t.f32 = append(t.f32[:0], c.GetFp32Contents()...)
		return nil
	case dtBytes:
		t.strs = append(t.strs[:0], c.GetBytesContents()...)
		return nil
	case dtBool:
		for _, b := range c.GetBoolContents() {
			t.f32 = append(t.f32, float32(b2f(b)))
		}
		return nil
	case dtFP16, dtBF16:
		return problem.Field(t.field(), "datatype %s must be sent in raw_input_contents", t.dt)
	}
	return t.numericContents(c)
}

func (t *tensor) numericContents(c *pb.InferTensorContents) error {
	var err error
	add := func(v float64) {
		if err == nil {
			err = t.addNumber(v)
		}
	}
	switch t.dt {
	case dtFP64:
		for _, v := range c.GetFp64Contents() {
			add(v)
		}
	case dtInt8, dtInt16, dtInt32:
		for _, v := range c.GetIntContents() {
			add(float64(v))
		}
	case dtInt64:
		for _, v := range c.GetInt64Contents() {
			add(float64(v))
		}
	case dtUint8, dtUint16, dtUint32:
		for _, v := range c.GetUintContents() {
			add(float64(v))
		}
	case dtUint64:
		for _, v := range c.GetUint64Contents() {
			add(math.Min(float64(v), math.MaxUint64))
		}
	}
	return err
}

// decodeBoth decodes b by hand and through the generated code. ok is false
// when the generated decoder refuses b, where decodeWire need only not
// panic.
func decodeBoth(b []byte) (got, want string, ok bool) {
	var r inferRequest
	got = describeWire(&r, b)
	var req pb.ModelInferRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		return got, "", false
	}
	var ref inferRequest
	want = fmt.Sprintf("model %q version %q: ", req.GetModelName(), req.GetModelVersion())
	if err := ref.fromProto(&req); err != nil {
		return got, want + "error " + err.Error(), true
	}
	return got, want + describe(&ref), true
}

func describeWire(r *inferRequest, b []byte) string {
	model, version, err := r.decodeWire(b)
	if err == nil {
		err = r.decodeWireInputs()
	}
	head := fmt.Sprintf("model %q version %q: ", model, version)
	if err != nil {
		return head + "error " + err.Error()
	}
	return head + describe(r)
}

// describe prints everything a decoded request carries, floats by bits.
func describe(r *inferRequest) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "id %q raw %v outputs", r.id, r.rawInputs)
	for _, o := range r.outputs {
		fmt.Fprintf(&b, " %q/%d", o.name, o.binary)
	}
	for _, t := range r.in() {
		fmt.Fprintf(&b, "; input %q %s %v data %v:", t.name, t.dt, t.shape[:t.ndim], t.hasData)
		for _, v := range t.f32 {
			fmt.Fprintf(&b, " %08x", math.Float32bits(v))
		}
		for _, s := range t.strs {
			fmt.Fprintf(&b, " %q", s)
		}
	}
	return b.String()
}

// wireCases are requests through every datatype and both ways of sending
// data, valid and not, as the generated code encodes them.
func wireCases() []*pb.ModelInferRequest {
	in := func(name, dt string, shape []int64, c *pb.InferTensorContents) *pb.ModelInferRequest_InferInputTensor {
		return &pb.ModelInferRequest_InferInputTensor{Name: name, Datatype: dt, Shape: shape, Contents: c}
	}
	one := func(t *pb.ModelInferRequest_InferInputTensor) *pb.ModelInferRequest {
		return &pb.ModelInferRequest{ModelName: "m", Id: "r1", Inputs: []*pb.ModelInferRequest_InferInputTensor{t}}
	}
	raw := &pb.ModelInferRequest{ModelName: "m", ModelVersion: "2",
		Inputs:           []*pb.ModelInferRequest_InferInputTensor{in("x", "FP32", []int64{1, 2}, nil), in("s", "BYTES", []int64{1}, nil)},
		RawInputContents: [][]byte{{0, 0, 128, 63, 0, 0, 0, 64}, {2, 0, 0, 0, 'h', 'i'}},
		Outputs:          []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: "score"}, {Name: "label"}},
	}
	return []*pb.ModelInferRequest{
		one(in("features", "FP32", []int64{1, 3}, &pb.InferTensorContents{Fp32Contents: []float32{1.5, float32(math.Inf(-1)), -0}})),
		one(in("x", "FP64", []int64{2}, &pb.InferTensorContents{Fp64Contents: []float64{0.1, -3}})),
		one(in("x", "FP64", []int64{1}, &pb.InferTensorContents{Fp64Contents: []float64{math.Inf(1)}})),
		one(in("x", "INT8", []int64{3}, &pb.InferTensorContents{IntContents: []int32{-128, 0, 127}})),
		one(in("x", "INT8", []int64{1}, &pb.InferTensorContents{IntContents: []int32{200}})),
		one(in("x", "INT32", []int64{1}, &pb.InferTensorContents{IntContents: []int32{math.MinInt32}})),
		one(in("x", "INT64", []int64{2}, &pb.InferTensorContents{Int64Contents: []int64{-1 << 40, 7}})),
		one(in("x", "UINT16", []int64{1}, &pb.InferTensorContents{UintContents: []uint32{65535}})),
		one(in("x", "UINT16", []int64{1}, &pb.InferTensorContents{UintContents: []uint32{65536}})),
		one(in("x", "UINT64", []int64{1}, &pb.InferTensorContents{Uint64Contents: []uint64{math.MaxUint64}})),
		one(in("x", "BOOL", []int64{3}, &pb.InferTensorContents{BoolContents: []bool{true, false, true}})),
		one(in("x", "BYTES", []int64{2}, &pb.InferTensorContents{BytesContents: [][]byte{[]byte("a"), {}}})),
		one(in("x", "FP16", []int64{1}, &pb.InferTensorContents{})),
		one(in("x", "FP32", []int64{1}, &pb.InferTensorContents{IntContents: []int32{3}})),
		one(in("x", "FP32", []int64{2, 2}, &pb.InferTensorContents{Fp32Contents: []float32{1, 2, 3}})),
		one(in("x", "FP32", []int64{-1}, &pb.InferTensorContents{})),
		one(in("x", "FP32", nil, &pb.InferTensorContents{})),
		one(in("x", "FP32", []int64{1, 1, 1, 1, 1, 1, 1, 1, 1}, &pb.InferTensorContents{Fp32Contents: []float32{1}})),
		one(in("x", "COMPLEX", []int64{1}, nil)),
		one(in("", "FP32", []int64{1}, nil)),
		one(in("x", "FP32", []int64{1}, nil)),
		{ModelName: "m"},
		raw,
		{ModelName: "m", Inputs: raw.Inputs, RawInputContents: raw.RawInputContents[:1]},
		{ModelName: "m", Inputs: raw.Inputs[:1], RawInputContents: [][]byte{{1, 2, 3}}},
		{ModelName: "m", Inputs: []*pb.ModelInferRequest_InferInputTensor{in("x", "FP32", []int64{1}, &pb.InferTensorContents{Fp32Contents: []float32{1}})}, RawInputContents: [][]byte{{0, 0, 0, 0}}},
		{ModelName: "m", Parameters: map[string]*pb.InferParameter{"p": {ParameterChoice: &pb.InferParameter_Int64Param{Int64Param: 3}}},
			Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: []int64{1},
				Parameters: map[string]*pb.InferParameter{"binary_data_size": {ParameterChoice: &pb.InferParameter_Int64Param{Int64Param: 4}}},
				Contents:   &pb.InferTensorContents{Fp32Contents: []float32{2}}}}},
	}
}

func TestDecodeWireMatchesGenerated(t *testing.T) {
	for i, req := range wireCases() {
		b, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		got, want, ok := decodeBoth(b)
		if !ok {
			t.Fatalf("case %d: the generated decoder refused its own encoding", i)
		}
		if got != want {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// Encodings the generated encoder never writes but every protobuf decoder
// must read: fields out of order, unpacked repeated scalars, a message
// field given twice (merged), a singular field given twice (last wins),
// unknown fields and known fields with another wire type (both skipped).
func TestDecodeWireProtobufRules(t *testing.T) {
	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
	}
	msg := func(b []byte, num protowire.Number, m []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), m)
	}
	fixed32 := func(b []byte, num protowire.Number, v float32) []byte {
		return protowire.AppendFixed32(protowire.AppendTag(b, num, protowire.Fixed32Type), math.Float32bits(v))
	}
	varint := func(b []byte, num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
	}
	contentsA := fixed32(fixed32(nil, contentsFP32, 1), contentsFP32, 2)                            // unpacked
	contentsB := msg(varint(nil, 99, 5), contentsFP32, []byte{0, 0, 64, 64})                        // unknown, then packed
	contentsC := varint(fixed32(nil, contentsInt, 7), contentsFP32, 9)                              // wrong wire types
	tensor := msg(msg(nil, tensorContents, contentsA), tensorContents, contentsB)                   // contents before the rest
	tensor = msg(tensor, tensorContents, contentsC)                                                 // and merged thrice
	tensor = varint(varint(varint(tensor, tensorShape, 1), tensorShape, 3), tensorShape+100, 4)     // unpacked shape
	tensor = str(str(str(tensor, tensorDatatype, "INT8"), tensorDatatype, "FP32"), tensorName, "x") // last datatype wins
	req := msg(nil, reqInputs, tensor)
	req = str(str(req, reqModelName, "old"), reqModelName, "m")
	req = varint(req, reqID, 5) // id with the wrong wire type: skipped
	req = append(protowire.AppendTag(req, 21, protowire.StartGroupType), protowire.AppendTag(nil, 21, protowire.EndGroupType)...)
	req = protowire.AppendFixed64(protowire.AppendTag(req, 22, protowire.Fixed64Type), 1)
	got, want, ok := decodeBoth(req)
	if !ok {
		t.Fatal("the generated decoder refused the request")
	}
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	if wantPart := `input "x" FP32 [1 3] data true: 3f800000 40000000 40400000`; !bytes.Contains([]byte(got), []byte(wantPart)) {
		t.Errorf("got %s, want it to contain %s", got, wantPart)
	}
}

// Malformed or hostile encodings are field errors naming the request or
// the string, never a panic.
func TestDecodeWireRefuses(t *testing.T) {
	valid, _ := proto.Marshal(wireCases()[0])
	tests := []struct {
		name  string
		b     []byte
		field string
	}{
		{"truncated", valid[:len(valid)-3], "request"},
		{"field zero", []byte{0, 1}, "request"},
		{"length past the end", []byte{0x2a, 0x7f, 1}, "request"},
		{"varint overflow", []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "request"},
		{"end group alone", []byte{0x0c}, "request"},
		{"bad utf-8 model", []byte{0x0a, 2, 0xc3, 0x28}, "model_name"},
		{"bad utf-8 id", []byte{0x1a, 1, 0xff}, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r inferRequest
			_, _, err := r.decodeWire(tt.b)
			if got := problem.FieldOf(err); got != tt.field {
				t.Errorf("got error %v (field %q), want a field error on %q", err, got, tt.field)
			}
		})
	}
}

// FuzzDecodeWire: any bytes decode without a panic, and whatever the
// generated decoder accepts decodes to the same request, or the same error.
func FuzzDecodeWire(f *testing.F) {
	for _, req := range wireCases() {
		b, _ := proto.Marshal(req)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want, ok := decodeBoth(b)
		if ok && got != want {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	})
}
