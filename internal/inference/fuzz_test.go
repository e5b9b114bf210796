package inference

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeInferJSON feeds the OIP JSON decoder arbitrary bodies: it must
// never panic, and what it accepts must be valid JSON with consistent
// shapes.
func FuzzDecodeInferJSON(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","inputs":[{"name":"features","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`,
		`{"inputs":[{"data":[[1,2],[3,4]],"datatype":"INT64","shape":[2,2],"name":"x"}],"outputs":[{"name":"score","parameters":{"binary_data":true}}]}`,
		`{"inputs":[{"name":"s","shape":[2],"datatype":"BYTES","data":["a\u00e9","\"b"]}],"parameters":{"binary_data_output":true}}`,
		`{"inputs":[{"name":"b","shape":[2],"datatype":"BOOL","data":[true,false]}]}`,
		`{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1e308]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r inferRequest
		if err := r.decodeInferJSON(body, -1); err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		for _, in := range r.in() {
			if int64(in.count()) != in.elems() {
				t.Fatalf("accepted %s with %d elements", in.String(), in.count())
			}
		}
	})
}

// FuzzDecodeBinary feeds the binary tensor extension arbitrary bodies
// behind a fixed JSON header.
func FuzzDecodeBinary(f *testing.F) {
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}`), []byte{0, 0, 128, 63, 0, 0, 0, 64})
	f.Add([]byte(`{"inputs":[{"name":"s","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":5}}]}`), []byte{1, 0, 0, 0, 'a'})
	f.Add([]byte(`{"inputs":[{"name":"h","shape":[1],"datatype":"FP16","parameters":{"binary_data_size":2}}]}`), []byte{0, 60})
	f.Fuzz(func(t *testing.T, header, bin []byte) {
		var r inferRequest
		body := append(append([]byte(nil), header...), bin...)
		if err := r.decodeInferJSON(body, len(header)); err != nil {
			return
		}
		for _, in := range r.in() {
			if int64(in.count()) != in.elems() {
				t.Fatalf("accepted %s with %d elements", in.String(), in.count())
			}
		}
	})
}

// FuzzDecodeV1 feeds the /v1 predict decoder arbitrary bodies.
func FuzzDecodeV1(f *testing.F) {
	for _, s := range []string{
		`{"features":{"a":1,"b":null,"c":true}}`,
		`{"id":"x","entity":"card-1","version":2,"features":[1.5,-2e3,0]}`,
		`{"entity":"u\u0031"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c := newCall()
		if err := c.decodeV1(body); err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
	})
}
