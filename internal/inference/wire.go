package inference

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// The gRPC ModelInfer call reads and writes the protocol's protobuf
// messages by hand (decodeWire, appendWireResponse): the generated
// structs cost nine allocations and a reflective walk per request, on
// a call whose model takes a few microseconds. The field numbers are the
// upstream ones (api/proto/inference/grpc_service.proto). Decoding follows
// the protobuf rules a generated decoder follows: fields in any order, the
// last value of a singular field wins, repeated scalars packed or not, an
// embedded message given twice is merged, a known field with another wire
// type is skipped as unknown, strings must be UTF-8. Request parameters
// are skipped (the gRPC protocol's infer takes none that change the
// answer). FuzzDecodeWire checks all this against the generated decoder.

// ModelInferRequest.
const (
	reqModelName    protowire.Number = 1
	reqModelVersion protowire.Number = 2
	reqID           protowire.Number = 3
	reqInputs       protowire.Number = 5
	reqOutputs      protowire.Number = 6
	reqRawInputs    protowire.Number = 7
)

// ModelInferRequest.InferInputTensor and the response's InferOutputTensor,
// and InferRequestedOutputTensor (whose name is field 1 too).
const (
	tensorName     protowire.Number = 1
	tensorDatatype protowire.Number = 2
	tensorShape    protowire.Number = 3
	tensorContents protowire.Number = 5
)

// InferTensorContents.
const (
	contentsBool   protowire.Number = 1
	contentsInt    protowire.Number = 2
	contentsInt64  protowire.Number = 3
	contentsUint   protowire.Number = 4
	contentsUint64 protowire.Number = 5
	contentsFP32   protowire.Number = 6
	contentsFP64   protowire.Number = 7
	contentsBytes  protowire.Number = 8
)

// ModelInferResponse.
const (
	respModelName    protowire.Number = 1
	respModelVersion protowire.Number = 2
	respID           protowire.Number = 3
	respOutputs      protowire.Number = 5
	respRawOutputs   protowire.Number = 6
)

// wireFields walks the fields of one protobuf message, calling f with each
// field's number, wire type and value: the bytes of a length-delimited
// field, else nil with the varint or fixed value in v. It stops at the
// first malformed field or error of f.
func wireFields(b []byte, f func(num protowire.Number, typ protowire.Type, data []byte, v uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return malformed(n)
		}
		b = b[n:]
		var data []byte
		var v uint64
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v = uint64(x)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			data, n = protowire.ConsumeBytes(b)
		default: // groups, deprecated: skipped whole
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return malformed(n)
		}
		b = b[n:]
		if typ == protowire.StartGroupType {
			continue
		}
		if err := f(num, typ, data, v); err != nil {
			return err
		}
	}
	return nil
}

// malformed is the error for a field protowire could not read (n < 0).
// protowire's own messages vary their spacing on purpose, so the message
// is ours.
func malformed(n int) error {
	why := "a field is malformed"
	if errors.Is(protowire.ParseError(n), io.ErrUnexpectedEOF) {
		why = "it ends inside a field"
	}
	return problem.Field("request", "is not a valid protobuf ModelInferRequest: %s", why)
}

// wireString checks that a string field is UTF-8, as protobuf requires.
func wireString(field string, data []byte) ([]byte, error) {
	if !utf8.Valid(data) {
		return nil, problem.Field(field, "is not valid UTF-8")
	}
	return data, nil
}

// decodeWire reads the protobuf encoding of a ModelInferRequest: it
// returns the model name and version and keeps the id, the requested
// outputs and the encoded inputs in r, for decodeWireInputs. Byte slices
// point into b, which must outlive r's use. Errors are field errors.
func (r *inferRequest) decodeWire(b []byte) (model, version []byte, err error) {
	r.reset()
	r.wireInputs, r.raw = r.wireInputs[:0], r.raw[:0]
	err = wireFields(b, func(num protowire.Number, typ protowire.Type, data []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		var err error
		switch num {
		case reqModelName:
			model, err = wireString("model_name", data)
		case reqModelVersion:
			version, err = wireString("model_version", data)
		case reqID:
			r.id, err = wireString("id", data)
		case reqInputs:
			r.wireInputs = append(r.wireInputs, data)
		case reqOutputs:
			var name []byte
			if name, err = wireName("outputs", data); err == nil {
				r.outputs = append(r.outputs, requestedOutput{name: name, binary: -1})
			}
		case reqRawInputs:
			r.raw = append(r.raw, data)
		}
		return err
	})
	return model, version, err
}

// decodeWireInputs decodes the inputs decodeWire kept, with their typed
// contents or raw_input_contents, and checks each against its shape.
func (r *inferRequest) decodeWireInputs() error {
	if len(r.raw) > 0 && len(r.raw) != len(r.wireInputs) {
		return problem.Field("raw_input_contents", "has %d entries for %d inputs", len(r.raw), len(r.wireInputs))
	}
	if len(r.wireInputs) == 0 {
		return problem.Field("inputs", "at least one input is required")
	}
	for i, data := range r.wireInputs {
		t, err := r.newInput()
		if err != nil {
			return err
		}
		if err := t.decodeWire(data); err != nil {
			return err
		}
		if len(r.raw) > 0 {
			if len(t.contents) > 0 {
				return problem.Field(t.field(), "has contents while the request uses raw_input_contents")
			}
			if err := t.setRaw(r.raw[i]); err != nil {
				return err
			}
			r.rawInputs = true
		} else if err := t.wireContents(); err != nil {
			return err
		}
		if err := t.checkShape(); err != nil {
			return err
		}
	}
	return nil
}

// wireName returns the name (field 1) of a requested output tensor.
func wireName(field string, b []byte) (name []byte, err error) {
	err = wireFields(b, func(num protowire.Number, typ protowire.Type, data []byte, _ uint64) error {
		if num == tensorName && typ == protowire.BytesType {
			name, err = wireString(field, data)
		}
		return err
	})
	return name, err
}

// decodeWire reads an InferInputTensor's name, datatype and shape, and
// keeps its contents message(s) for wireContents, which needs the
// datatype, a field that may come after them.
func (t *tensor) decodeWire(b []byte) error {
	var dt []byte
	err := wireFields(b, func(num protowire.Number, typ protowire.Type, data []byte, v uint64) error {
		var err error
		switch {
		case num == tensorName && typ == protowire.BytesType:
			t.name, err = wireString("inputs", data)
		case num == tensorDatatype && typ == protowire.BytesType:
			dt, err = wireString("inputs", data)
		case num == tensorShape && typ == protowire.VarintType:
			t.addDim(int64(v))
		case num == tensorShape && typ == protowire.BytesType:
			for len(data) > 0 {
				d, n := protowire.ConsumeVarint(data)
				if n < 0 {
					return malformed(n)
				}
				data = data[n:]
				t.addDim(int64(d))
			}
		case num == tensorContents && typ == protowire.BytesType:
			t.contents = append(t.contents, data)
		}
		return err
	})
	if err != nil {
		return err
	}
	if len(t.name) == 0 {
		return problem.Field("inputs", "an input has no name")
	}
	if t.dt = parseDtype(dt); t.dt == dtInvalid {
		return problem.Field(t.field(), "unknown datatype %q", dt)
	}
	if t.ndim == 0 || t.ndim > maxDims {
		return problem.Field(t.field(), "shape must have 1 to %d dimensions", maxDims)
	}
	return nil
}

// addDim appends one shape dimension. ndim counts past maxDims so that
// decodeWire can report the rank.
func (t *tensor) addDim(d int64) {
	if t.ndim < maxDims {
		t.shape[t.ndim] = d
	}
	if t.ndim <= maxDims {
		t.ndim++
	}
}

// wireContents decodes the contents field of the tensor's datatype from
// its contents message(s), as fromContents does from generated ones.
func (t *tensor) wireContents() error {
	t.hasData = true
	var want protowire.Number
	switch t.dt {
	case dtFP16, dtBF16:
		return problem.Field(t.field(), "datatype %s must be sent in raw_input_contents", t.dt)
	case dtBool:
		want = contentsBool
	case dtInt8, dtInt16, dtInt32:
		want = contentsInt
	case dtInt64:
		want = contentsInt64
	case dtUint8, dtUint16, dtUint32:
		want = contentsUint
	case dtUint64:
		want = contentsUint64
	case dtFP32:
		want = contentsFP32
	case dtFP64:
		want = contentsFP64
	case dtBytes:
		want = contentsBytes
	}
	for _, c := range t.contents {
		err := wireFields(c, func(num protowire.Number, typ protowire.Type, data []byte, v uint64) error {
			if num != want {
				return nil
			}
			if want == contentsBytes {
				if typ == protowire.BytesType {
					t.strs = append(t.strs, data[:len(data):len(data)])
				}
				return nil
			}
			if typ == protowire.BytesType {
				return t.addPacked(data)
			}
			if typ == t.scalarType() {
				return t.addWire(v)
			}
			return nil // a known field with another wire type is unknown
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// scalarType is the wire type of one element of the tensor's contents
// field.
func (t *tensor) scalarType() protowire.Type {
	switch t.dt {
	case dtFP32:
		return protowire.Fixed32Type
	case dtFP64:
		return protowire.Fixed64Type
	}
	return protowire.VarintType
}

// addPacked appends the elements of a packed repeated field.
func (t *tensor) addPacked(b []byte) error {
	typ := t.scalarType()
	if typ == protowire.Fixed32Type && len(b)%4 == 0 {
		// The common case, FP32 features: no per-element dispatch.
		for ; len(b) >= 4; b = b[4:] {
			t.f32 = append(t.f32, math.Float32frombits(binary.LittleEndian.Uint32(b)))
		}
		return nil
	}
	for len(b) > 0 {
		var v uint64
		var n int
		switch typ {
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v = uint64(x)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		default:
			v, n = protowire.ConsumeVarint(b)
		}
		if n < 0 {
			return malformed(n)
		}
		b = b[n:]
		if err := t.addWire(v); err != nil {
			return err
		}
	}
	return nil
}

// addWire appends one element from its wire value, read as the contents
// field of the tensor's datatype reads it.
func (t *tensor) addWire(v uint64) error {
	switch t.dt {
	case dtFP32:
		t.f32 = append(t.f32, math.Float32frombits(uint32(v)))
		return nil
	case dtBool:
		t.f32 = append(t.f32, float32(b2f(v != 0)))
		return nil
	case dtFP64:
		return t.addNumber(math.Float64frombits(v))
	case dtInt8, dtInt16, dtInt32:
		return t.addNumber(float64(int32(v)))
	case dtInt64:
		return t.addNumber(float64(int64(v)))
	case dtUint8, dtUint16, dtUint32:
		return t.addNumber(float64(uint32(v)))
	}
	return t.addNumber(math.Min(float64(v), math.MaxUint64)) // dtUint64
}

// appendWireResponse appends the protobuf encoding of the ModelInferResponse
// that answers c: the model, version and id, then each selected output as
// typed contents, or as raw_output_contents when the request sent raw
// inputs (as Triton does).
func appendWireResponse(b []byte, c *call, l *loaded, id []byte, sel []oipOutput) []byte {
	b = appendWireString(b, respModelName, l.model)
	b = appendWireString(b, respModelVersion, l.versionStr)
	b = appendWireString(b, respID, id)
	for _, o := range sel {
		name, dt := o.spec.name, o.spec.dt.String()
		shape := [2]uint64{uint64(c.n), uint64(o.spec.width)}
		shapeLen := protowire.SizeVarint(shape[0]) + protowire.SizeVarint(shape[1])
		size := wireStringSize(tensorName, name) + wireStringSize(tensorDatatype, dt) +
			protowire.SizeTag(tensorShape) + protowire.SizeBytes(shapeLen)
		contents := 0
		if !c.req.rawInputs {
			contents = contentsSize(o)
			size += protowire.SizeTag(tensorContents) + protowire.SizeBytes(contents)
		}
		b = protowire.AppendTag(b, respOutputs, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		b = appendWireString(b, tensorName, name)
		b = appendWireString(b, tensorDatatype, dt)
		b = protowire.AppendTag(b, tensorShape, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(shapeLen))
		b = protowire.AppendVarint(b, shape[0])
		b = protowire.AppendVarint(b, shape[1])
		if !c.req.rawInputs {
			b = protowire.AppendTag(b, tensorContents, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(contents))
			b = appendContents(b, o)
		}
	}
	if c.req.rawInputs {
		for _, o := range sel {
			raw := appendRaw(nil, o.spec.dt, o.vals)
			b = protowire.AppendTag(b, respRawOutputs, protowire.BytesType)
			b = protowire.AppendBytes(b, raw)
		}
	}
	return b
}

// contentsSize is the encoded size of o's InferTensorContents: INT64
// outputs as int64_contents, every other as fp32_contents, packed.
func contentsSize(o oipOutput) int {
	if len(o.vals) == 0 {
		return 0
	}
	n := 4 * len(o.vals)
	num := contentsFP32
	if o.spec.dt == dtInt64 {
		num, n = contentsInt64, 0
		for _, v := range o.vals {
			n += protowire.SizeVarint(uint64(int64(v)))
		}
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func appendContents(b []byte, o oipOutput) []byte {
	if len(o.vals) == 0 {
		return b
	}
	if o.spec.dt == dtInt64 {
		n := 0
		for _, v := range o.vals {
			n += protowire.SizeVarint(uint64(int64(v)))
		}
		b = protowire.AppendTag(b, contentsInt64, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(n))
		for _, v := range o.vals {
			b = protowire.AppendVarint(b, uint64(int64(v)))
		}
		return b
	}
	b = protowire.AppendTag(b, contentsFP32, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(4*len(o.vals)))
	for _, v := range o.vals {
		b = protowire.AppendFixed32(b, math.Float32bits(float32(v)))
	}
	return b
}

// appendWireString appends a string field, omitted when empty as proto3
// does.
func appendWireString[S string | []byte](b []byte, num protowire.Number, s S) []byte {
	if len(s) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func wireStringSize(num protowire.Number, s string) int {
	if len(s) == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(s))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
