package inference

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// fillOIP maps an infer request's tensors onto a version's rows: either
// the model's one input ("features" [n, width], or "user" [n]) or one [n]
// column per feature, by name. It also checks the requested outputs.
func fillOIP(c *call, l *loaded) error {
	sig := l.sig
	in := c.req.in()
	if err := checkOutputs(&c.req, sig); err != nil {
		return err
	}
	for i := range in {
		if string(in[i].name) == sig.input {
			if len(in) > 1 {
				other := &in[(i+1)%len(in)]
				return problem.Field(other.field(), "unexpected input beside %s; model %s takes %s %s", sig.input, l.model, sig.input, inputShape(sig))
			}
			return fillTensor(c, &in[i], sig)
		}
	}
	if sig.input == inputUser {
		return problem.Field("inputs."+inputUser, "missing input; model %s takes %s %s", l.model, inputUser, inputShape(sig))
	}
	return fillColumns(c, in, l)
}

func inputShape(sig *signature) string {
	if sig.input == inputUser {
		return "INT64 [-1]"
	}
	return "FP32 [-1," + strconv.Itoa(sig.width()) + "] or one [-1] input per feature"
}

func numeric(t *tensor) error {
	if t.dt == dtBytes {
		return problem.Field(t.field(), "datatype BYTES is not accepted by this model; send numbers")
	}
	return nil
}

// fillTensor takes rows from the model's input tensor without copying.
func fillTensor(c *call, t *tensor, sig *signature) error {
	if err := numeric(t); err != nil {
		return err
	}
	w := int64(sig.width())
	dims := t.shape[:t.ndim]
	var n int64
	switch {
	case len(dims) == 1 && sig.input == inputUser:
		n = dims[0]
	case len(dims) == 1 && dims[0] == w:
		n = 1
	case len(dims) == 2 && dims[1] == w:
		n = dims[0]
	default:
		return problem.Field(t.field(), "shape %s does not fit %s", appendShape(nil, dims), inputShape(sig))
	}
	if n == 0 {
		return problem.Field(t.field(), "holds no rows")
	}
	c.rows, c.n = t.f32, int(n)
	return nil
}

// fillColumns assembles rows from one input per feature.
func fillColumns(c *call, in []tensor, l *loaded) error {
	sig := l.sig
	w := sig.width()
	n := -1
	c.set = grow(c.set, (w+63)/64)
	clear(c.set)
	for i := range in {
		t := &in[i]
		j, ok := sig.index[string(t.name)]
		if !ok {
			return problem.Field(t.field(), "model %s has no input or feature of this name; it takes %s %s", l.model, sig.input, inputShape(sig))
		}
		if err := numeric(t); err != nil {
			return err
		}
		if t.ndim > 2 || (t.ndim == 2 && t.shape[1] != 1) || (n >= 0 && t.shape[0] != int64(n)) {
			return problem.Field(t.field(), "shape %s: want [n] or [n,1] with one n for every feature", appendShape(nil, t.shape[:t.ndim]))
		}
		if n < 0 {
			n = int(t.shape[0])
			c.rows = grow(c.rows, n*w)
		}
		for r := range n {
			c.rows[r*w+j] = t.f32[r]
		}
		c.set[j/64] |= 1 << (j % 64)
	}
	for j, name := range sig.features {
		if c.set[j/64]&(1<<(j%64)) == 0 {
			return problem.Field("inputs."+name, "missing input; model %s takes %s %s", l.model, sig.input, inputShape(sig))
		}
	}
	if n <= 0 {
		return problem.Field("inputs", "hold no rows")
	}
	c.n = n
	return nil
}

// fillRaw serves a binary request without a JSON header
// (Inference-Header-Content-Length: 0): the body is the model's single
// input as FP32 (INT64 for a user input), batch 1 unless the length says
// more rows.
func fillRaw(c *call, l *loaded) error {
	sig := l.sig
	dt, w := dtFP32, sig.width()
	if sig.input == inputUser {
		dt = dtInt64
	}
	row := dt.size() * w
	if len(c.body) == 0 || len(c.body)%row != 0 {
		return problem.Field("body", "%d bytes is not a whole number of %s rows of %d values", len(c.body), dt, w)
	}
	c.rows, c.n = decodeLE(c.rows[:0], dt, c.body), len(c.body)/row
	c.req.binaryOutput = true
	return nil
}

// checkOutputs verifies the requested output names.
func checkOutputs(r *inferRequest, sig *signature) error {
	for _, o := range r.outputs {
		if sig.outputIndex(o.name) < 0 {
			return problem.Field("outputs."+string(o.name), "the model has no such output")
		}
	}
	return nil
}

// oipOutput is one output to send: its spec, values and encoding.
type oipOutput struct {
	spec   outputSpec
	vals   []float64
	binary bool
}

// selectOutputs lists the outputs to send, in request order (all, in
// model order, when none were named).
func selectOutputs(dst []oipOutput, c *call, l *loaded) []oipOutput {
	dst = dst[:0]
	sig, n := l.sig, c.n
	add := func(i int, bin int8) {
		off := 0
		for _, o := range sig.outputs[:i] {
			off += o.width
		}
		o := sig.outputs[i]
		dst = append(dst, oipOutput{o, c.out[off*n : (off+o.width)*n], bin == 1 || (bin < 0 && c.req.binaryOutput)})
	}
	if len(c.req.outputs) == 0 {
		for i := range sig.outputs {
			add(i, -1)
		}
		return dst
	}
	for _, o := range c.req.outputs {
		add(sig.outputIndex(o.name), o.binary)
	}
	return dst
}

// appendInferJSON writes the infer response. Binary outputs carry
// parameters.binary_data_size and their bytes follow the JSON; jsonLen is
// the JSON's length, for Inference-Header-Content-Length.
func (s *Service) appendInferJSON(b []byte, c *call, l *loaded, outs []oipOutput) (out []byte, jsonLen int, binary bool) {
	b = append(b, `{"model_name":`...)
	b = appendJSONString(b, []byte(l.model))
	b = append(b, `,"model_version":"`...)
	b = append(b, l.versionStr...)
	b = append(b, `","id":`...)
	b = s.appendID(b, c)
	b = append(b, `,"outputs":[`...)
	for i, o := range outs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendOutputHead(b, o, c.n)
		if o.binary {
			b = append(b, `,"parameters":{"binary_data_size":`...)
			b = strconv.AppendInt(b, int64(len(o.vals)*o.spec.dt.size()), 10)
			b = append(b, "}}"...)
			binary = true
			continue
		}
		b = append(b, `,"data":[`...)
		if o.spec.dt == dtInt64 {
			b = appendItems(b, o.vals)
		} else {
			b = appendFloats(b, o.vals)
		}
		b = append(b, "]}"...)
	}
	b = append(b, "]}"...)
	jsonLen = len(b)
	for _, o := range outs {
		if o.binary {
			b = appendRaw(b, o.spec.dt, o.vals)
		}
	}
	return b, jsonLen, binary
}

func appendOutputHead(b []byte, o oipOutput, n int) []byte {
	b = append(b, `{"name":"`...)
	b = append(b, o.spec.name...)
	b = append(b, `","datatype":"`...)
	b = append(b, o.spec.dt.String()...)
	b = append(b, `","shape":[`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(o.spec.width), 10)
	return append(b, ']')
}

// appendRaw writes values little-endian as FP32 or INT64.
func appendRaw(b []byte, dt dtype, vals []float64) []byte {
	for _, v := range vals {
		if dt == dtInt64 {
			b = binary.LittleEndian.AppendUint64(b, uint64(int64(v)))
		} else {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
		}
	}
	return b
}
