package inference

import (
	"math"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// maxTensors bounds the inputs and outputs one request may name.
const maxTensors = 1024

// requestedOutput is one entry of an infer request's "outputs".
type requestedOutput struct {
	name   []byte
	binary int8 // -1 unset, 0 JSON, 1 binary
}

// inferRequest is a decoded Open Inference Protocol infer request, from
// REST (JSON, with or without binary tensors) or gRPC. It is pooled: its
// slices are reused, and byte slices point into the body it was decoded
// from, which must outlive it.
type inferRequest struct {
	id           []byte
	inputs       []tensor // inputs[:nIn] are in use
	nIn          int
	outputs      []requestedOutput
	binaryOutput bool
	rawInputs    bool // gRPC raw_input_contents or a REST binary body
	sc           scanner
	// wireInputs and raw are a gRPC request's encoded input tensors and
	// raw_input_contents, kept while decodeWire reads them.
	wireInputs, raw [][]byte
}

func (r *inferRequest) reset() {
	r.id, r.nIn, r.outputs, r.binaryOutput, r.rawInputs = nil, 0, r.outputs[:0], false, false
}

// in returns the in-use inputs.
func (r *inferRequest) in() []tensor { return r.inputs[:r.nIn] }

// newInput returns a cleared tensor at the end of the inputs.
func (r *inferRequest) newInput() (*tensor, error) {
	if r.nIn >= maxTensors {
		return nil, problem.Field("inputs", "more than %d inputs", maxTensors)
	}
	if r.nIn == len(r.inputs) {
		r.inputs = append(r.inputs, tensor{})
	}
	t := &r.inputs[r.nIn]
	r.nIn++
	t.reset()
	return t, nil
}

// decodeInferJSON decodes an infer request whose JSON part is body[:jsonLen]
// and whose binary tensors follow it. jsonLen < 0 means the whole body is
// JSON. Errors are problem field errors naming the offending input.
func (r *inferRequest) decodeInferJSON(body []byte, jsonLen int) error {
	r.reset()
	js, bin := body, []byte(nil)
	if jsonLen >= 0 {
		if jsonLen > len(body) {
			return problem.Field("Inference-Header-Content-Length", "%d is beyond the body's %d bytes", jsonLen, len(body))
		}
		js, bin = body[:jsonLen], body[jsonLen:]
	}
	s := &r.sc
	s.reset(js)
	if err := s.object(r.topKey); err != nil {
		return syntaxOr(err, "body")
	}
	if !s.end() {
		return problem.Field("body", "unexpected data after the JSON object")
	}
	if r.nIn == 0 {
		return problem.Field("inputs", "at least one input is required")
	}
	return r.attachBinary(bin)
}

func (r *inferRequest) topKey(s *scanner, key []byte) error {
	switch string(key) {
	case "id":
		if s.ws() == 'n' {
			return s.want(s.lit("null"))
		}
		id, err := s.str()
		if err != nil {
			return problem.Field("id", "want a string")
		}
		r.id = id
		return nil
	case "parameters":
		return syntaxOr(s.object(r.paramKey), "parameters")
	case "inputs":
		return s.array(r.input)
	case "outputs":
		return syntaxOr(s.array(r.output), "outputs")
	default:
		return s.skip(0)
	}
}

func (r *inferRequest) paramKey(s *scanner, key []byte) error {
	if string(key) == "binary_data_output" {
		switch {
		case s.lit("true"):
			r.binaryOutput = true
			return nil
		case s.lit("false"):
			return nil
		}
		return problem.Field("parameters.binary_data_output", "want a boolean")
	}
	return s.skip(1)
}

func (r *inferRequest) output(s *scanner) error {
	if len(r.outputs) >= maxTensors {
		return problem.Field("outputs", "more than %d outputs", maxTensors)
	}
	o := requestedOutput{binary: -1}
	err := s.object(func(s *scanner, key []byte) error {
		switch string(key) {
		case "name":
			name, err := s.str()
			o.name = name
			return err
		case "parameters":
			return s.object(func(s *scanner, key []byte) error {
				if string(key) != "binary_data" {
					return s.skip(2)
				}
				switch {
				case s.lit("true"):
					o.binary = 1
				case s.lit("false"):
					o.binary = 0
				default:
					return errSyntax
				}
				return nil
			})
		default:
			return s.skip(1)
		}
	})
	if err != nil {
		return err
	}
	if len(o.name) == 0 {
		return problem.Field("outputs", "an output has no name")
	}
	r.outputs = append(r.outputs, o)
	return nil
}

func (r *inferRequest) input(s *scanner) error {
	t, err := r.newInput()
	if err != nil {
		return err
	}
	field := func() string {
		if len(t.name) == 0 {
			return "inputs"
		}
		return t.field()
	}
	if err := s.object(func(s *scanner, key []byte) error { return t.key(s, key) }); err != nil {
		return syntaxOr(err, field())
	}
	return t.finishJSON(s)
}

// key reads one key of an input object.
func (t *tensor) key(s *scanner, key []byte) error {
	switch string(key) {
	case "name":
		name, err := s.str()
		t.name = name
		return err
	case "datatype":
		name, err := s.str()
		if err != nil {
			return err
		}
		if t.dt = parseDtype(name); t.dt == dtInvalid {
			return problem.Field(t.fieldOr(), "unknown datatype %q", name)
		}
		return nil
	case "shape":
		return t.readShape(s)
	case "parameters":
		return s.object(t.paramKey)
	case "data":
		t.hasData = true
		if t.dt == dtInvalid {
			t.dataAt = s.i
			err := s.skip(0)
			t.dataEnd = s.i
			return err
		}
		return t.readData(s, 0)
	default:
		return s.skip(0)
	}
}

func (t *tensor) fieldOr() string {
	if len(t.name) == 0 {
		return "inputs"
	}
	return t.field()
}

func (t *tensor) readShape(s *scanner) error {
	t.ndim = 0
	return s.array(func(s *scanner) error {
		v, err := s.num()
		if err != nil {
			return err
		}
		if t.ndim == maxDims {
			return problem.Field(t.fieldOr(), "shape has more than %d dimensions", maxDims)
		}
		if v != math.Trunc(v) || v < 0 || v > math.MaxInt32 {
			return problem.Field(t.fieldOr(), "shape dimension %g is not a non-negative integer", v)
		}
		t.shape[t.ndim] = int64(v)
		t.ndim++
		return nil
	})
}

func (t *tensor) paramKey(s *scanner, key []byte) error {
	if string(key) != "binary_data_size" {
		return s.skip(2)
	}
	v, err := s.num()
	if err != nil || v < 0 || v != math.Trunc(v) || v > math.MaxInt32 {
		return problem.Field(t.fieldOr(), "parameters.binary_data_size must be a non-negative integer")
	}
	t.binSize = int64(v)
	return nil
}

// readData reads a (possibly nested) data array, flattening it.
func (t *tensor) readData(s *scanner, depth int) error {
	if depth > maxDims {
		return problem.Field(t.fieldOr(), "data is nested deeper than %d", maxDims)
	}
	return s.array(func(s *scanner) error {
		switch c := s.ws(); {
		case c == '[':
			return t.readData(s, depth+1)
		case c == '"':
			v, err := s.str()
			if err != nil {
				return err
			}
			if t.dt != dtBytes {
				return problem.Field(t.fieldOr(), "datatype %s cannot hold the string %q", t.dt, v)
			}
			t.strs = append(t.strs, v)
			return nil
		case c == 't' || c == 'f':
			v := float64(0)
			if s.lit("true") {
				v = 1
			} else if !s.lit("false") {
				return errSyntax
			}
			if t.dt != dtBool {
				return problem.Field(t.fieldOr(), "datatype %s cannot hold a boolean", t.dt)
			}
			t.f32 = append(t.f32, float32(v))
			return nil
		default:
			v, err := s.num()
			if err != nil {
				return err
			}
			return t.addNumber(v)
		}
	})
}

// finishJSON checks an input once its object is read, decoding data that
// came before the datatype.
func (t *tensor) finishJSON(s *scanner) error {
	if len(t.name) == 0 {
		return problem.Field("inputs", "an input has no name")
	}
	if t.dt == dtInvalid {
		return problem.Field(t.field(), "datatype is missing")
	}
	if t.ndim == 0 {
		return problem.Field(t.field(), "shape is missing")
	}
	if t.dataEnd > t.dataAt {
		sub := scanner{b: s.b[:t.dataEnd], i: t.dataAt, arena: s.arena}
		if err := t.readData(&sub, 0); err != nil {
			return syntaxOr(err, t.field())
		}
		s.arena = sub.arena
	}
	switch {
	case t.hasData && t.binSize >= 0:
		return problem.Field(t.field(), "has both data and parameters.binary_data_size")
	case !t.hasData && t.binSize < 0:
		return problem.Field(t.field(), "has neither data nor parameters.binary_data_size")
	case t.hasData:
		return t.checkShape()
	}
	return nil
}

// attachBinary hands each binary input its bytes, in input order.
func (r *inferRequest) attachBinary(bin []byte) error {
	for i := range r.in() {
		t := &r.inputs[i]
		if t.binSize < 0 {
			continue
		}
		if int64(len(bin)) < t.binSize {
			return problem.Field(t.field(), "binary_data_size %d overruns the body", t.binSize)
		}
		if err := t.setRaw(bin[:t.binSize]); err != nil {
			return err
		}
		if err := t.checkShape(); err != nil {
			return err
		}
		bin = bin[t.binSize:]
		r.rawInputs = true
	}
	if len(bin) != 0 {
		return problem.Field("body", "%d bytes of binary data follow the last binary input", len(bin))
	}
	return nil
}

// syntaxOr turns a bare syntax error into a field error naming where it
// happened; problem errors pass through.
func syntaxOr(err error, field string) error {
	if err == errSyntax {
		return problem.Field(field, "malformed JSON")
	}
	return err
}
