package inference

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
)

// xgbHarness serves the tiny XGBoost fixture (6 features, 3 trees) as
// model "tiny", version 1 champion.
func xgbHarness(t testing.TB) *harness {
	reg := newFakeRegistry()
	v := reg.addVersion("tiny", registry.FormatXGBoost, readFile(t, "testdata/tiny_xgb.json"), nil)
	reg.setAlias("tiny", aliasChampion, v)
	return start(t, reg, testConfig(t), nil)
}

const tinyRow = `[1.18533623,-2.16157317,0.777643561,1.08358669,-1.39212918,2.3458817]`

// TestOIPRESTGolden checks every /v2 endpoint's answer against golden
// files (go test -run TestOIPRESTGolden -update rewrites them).
func TestOIPRESTGolden(t *testing.T) {
	h := xgbHarness(t)
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"server_metadata", "GET", "/v2", "", 200},
		{"server_live", "GET", "/v2/health/live", "", 200},
		{"server_ready", "GET", "/v2/health/ready", "", 200},
		{"model_list", "GET", "/v2/models", "", 200},
		{"model_metadata", "GET", "/v2/models/tiny", "", 200},
		{"model_metadata_version", "GET", "/v2/models/tiny/versions/1", "", 200},
		{"model_ready", "GET", "/v2/models/tiny/ready", "", 200},
		{"infer", "POST", "/v2/models/tiny/infer", `{"id":"r1","inputs":[{"name":"features","shape":[1,6],"datatype":"FP32","data":` + tinyRow + `}]}`, 200},
		{"infer_nested_two_rows", "POST", "/v2/models/tiny/versions/1/infer", `{"id":"r2","inputs":[{"name":"features","shape":[2,6],"datatype":"FP64","data":[` + tinyRow + `,` + tinyRow + `]}],"outputs":[{"name":"score"}]}`, 200},
		{"infer_columns", "POST", "/v2/models/tiny/infer", `{"id":"r3","inputs":[` + columns() + `]}`, 200},
		{"unknown_model", "POST", "/v2/models/nope/infer", `{}`, 404},
		{"unknown_version", "GET", "/v2/models/tiny/versions/x", "", 404},
		{"unknown_route", "GET", "/v2/nothing/here", "", 404},
		{"bad_shape", "POST", "/v2/models/tiny/infer", `{"inputs":[{"name":"features","shape":[1,5],"datatype":"FP32","data":[1,2,3,4,5]}]}`, 400},
		{"bad_datatype", "POST", "/v2/models/tiny/infer", `{"inputs":[{"name":"features","shape":[1,6],"datatype":"FP8","data":[1,2,3,4,5,6]}]}`, 400},
		{"missing_input", "POST", "/v2/models/tiny/infer", `{"inputs":[{"name":"f0","shape":[1],"datatype":"FP32","data":[1]}]}`, 400},
		{"unknown_output", "POST", "/v2/models/tiny/infer", `{"inputs":[{"name":"features","shape":[1,6],"datatype":"FP32","data":` + tinyRow + `}],"outputs":[{"name":"proba"}]}`, 400},
		{"int8_out_of_range", "POST", "/v2/models/tiny/infer", `{"inputs":[{"name":"features","shape":[1,6],"datatype":"INT8","data":[1,2,3,4,5,300]}]}`, 400},
		{"malformed", "POST", "/v2/models/tiny/infer", `{"inputs":[{"name":"features",`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := h.do(tt.method, tt.path, []byte(tt.body), nil)
			if status != tt.status {
				t.Errorf("%s %s = %d %s, want %d", tt.method, tt.path, status, body, tt.status)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if status != 200 {
				var e map[string]string
				if err := json.Unmarshal(body, &e); err != nil || e["error"] == "" || len(e) != 1 {
					t.Errorf("error body %s, want {\"error\": …}", body)
				}
			}
			golden(t, filepath.Join("testdata", "rest", tt.name+".json"), body)
		})
	}
}

func columns() string {
	var parts []string
	for j, v := range strings.Split(strings.Trim(tinyRow, "[]"), ",") {
		parts = append(parts, `{"name":"f`+strconv.Itoa(j)+`","shape":[1],"datatype":"FP32","data":[`+v+`]}`)
	}
	return strings.Join(parts, ",")
}

// golden compares got with a file, rewriting it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func TestBinaryTensorRoundTrip(t *testing.T) {
	h := xgbHarness(t)
	var raw []byte
	for _, s := range strings.Split(strings.Trim(tinyRow, "[]"), ",") {
		v, _ := strconv.ParseFloat(s, 32)
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(v)))
	}
	header := `{"id":"b1","inputs":[{"name":"features","shape":[1,6],"datatype":"FP32","parameters":{"binary_data_size":24}}],"parameters":{"binary_data_output":true}}`
	body := append([]byte(header), raw...)
	status, hdr, resp := h.do("POST", "/v2/models/tiny/infer", body, map[string]string{
		"Inference-Header-Content-Length": strconv.Itoa(len(header)), "Content-Type": "application/octet-stream",
	})
	if status != 200 {
		t.Fatalf("binary infer = %d %s", status, resp)
	}
	n, err := strconv.Atoi(hdr.Get("Inference-Header-Content-Length"))
	if err != nil || n > len(resp) {
		t.Fatalf("Inference-Header-Content-Length = %q", hdr.Get("Inference-Header-Content-Length"))
	}
	var head struct {
		ID      string `json:"id"`
		Outputs []struct {
			Name       string         `json:"name"`
			Datatype   string         `json:"datatype"`
			Shape      []int64        `json:"shape"`
			Parameters map[string]int `json:"parameters"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(resp[:n], &head); err != nil {
		t.Fatal(err)
	}
	if head.ID != "b1" || len(head.Outputs) != 1 || head.Outputs[0].Parameters["binary_data_size"] != 4 || len(resp)-n != 4 {
		t.Fatalf("binary answer header %s with %d bytes after", resp[:n], len(resp)-n)
	}
	got := math.Float32frombits(binary.LittleEndian.Uint32(resp[n:]))
	_, _, jsonResp := h.do("POST", "/v2/models/tiny/infer", []byte(`{"inputs":[{"name":"features","shape":[1,6],"datatype":"FP32","data":`+tinyRow+`}]}`), nil)
	var js struct {
		Outputs []struct{ Data []float32 } `json:"outputs"`
	}
	if err := json.Unmarshal(jsonResp, &js); err != nil {
		t.Fatal(err)
	}
	if got != js.Outputs[0].Data[0] || math.Abs(float64(got)-0.774358928) > 1e-6 {
		t.Errorf("binary score %v, JSON score %v, want equal and ≈ the fixture's", got, js.Outputs[0].Data[0])
	}

	// Raw body without a JSON header: the single input, batch 1, binary answer.
	status, hdr, resp = h.do("POST", "/v2/models/tiny/infer", raw, map[string]string{"Inference-Header-Content-Length": "0"})
	if n, _ := strconv.Atoi(hdr.Get("Inference-Header-Content-Length")); status != 200 || math.Float32frombits(binary.LittleEndian.Uint32(resp[n:])) != got {
		t.Errorf("raw binary request = %d %q", status, resp)
	}
}

func TestDatatypes(t *testing.T) {
	h := xgbHarness(t)
	le := binary.LittleEndian
	tests := []struct {
		dt   string
		json string
		raw  []byte
		want []float32
	}{
		{"BOOL", "[true,false,true,true,false,true]", []byte{1, 0, 1, 1, 0, 1}, []float32{1, 0, 1, 1, 0, 1}},
		{"UINT8", "[0,1,2,3,4,255]", []byte{0, 1, 2, 3, 4, 255}, []float32{0, 1, 2, 3, 4, 255}},
		{"INT8", "[-128,1,2,3,4,127]", []byte{0x80, 1, 2, 3, 4, 127}, []float32{-128, 1, 2, 3, 4, 127}},
		{"UINT16", "[0,1,2,3,4,65535]", le16(0, 1, 2, 3, 4, 65535), []float32{0, 1, 2, 3, 4, 65535}},
		{"INT16", "[-2,1,2,3,4,5]", le16(0xfffe, 1, 2, 3, 4, 5), []float32{-2, 1, 2, 3, 4, 5}},
		{"UINT32", "[0,1,2,3,4,70000]", le32(0, 1, 2, 3, 4, 70000), []float32{0, 1, 2, 3, 4, 70000}},
		{"INT32", "[-7,1,2,3,4,5]", le32(0xfffffff9, 1, 2, 3, 4, 5), []float32{-7, 1, 2, 3, 4, 5}},
		{"UINT64", "[0,1,2,3,4,5]", le64(0, 1, 2, 3, 4, 5), []float32{0, 1, 2, 3, 4, 5}},
		{"INT64", "[-9,1,2,3,4,5]", le64(uint64(1<<64-9), 1, 2, 3, 4, 5), []float32{-9, 1, 2, 3, 4, 5}},
		{"FP32", "[0.5,1,2,3,4,5]", le32(math.Float32bits(0.5), math.Float32bits(1), math.Float32bits(2), math.Float32bits(3), math.Float32bits(4), math.Float32bits(5)), []float32{0.5, 1, 2, 3, 4, 5}},
		{"FP64", "[0.25,1,2,3,4,5]", le64(math.Float64bits(0.25), math.Float64bits(1), math.Float64bits(2), math.Float64bits(3), math.Float64bits(4), math.Float64bits(5)), []float32{0.25, 1, 2, 3, 4, 5}},
		{"FP16", "", le16(0x3c00, 0x4000, 0xc000, 0x3800, 0, 0x7bff), []float32{1, 2, -2, 0.5, 0, 65504}},
		{"BF16", "", le16(0x3f80, 0x4000, 0xc000, 0x3f00, 0, 0x4080), []float32{1, 2, -2, 0.5, 0, 4}},
	}
	_ = le
	for _, tt := range tests {
		t.Run(tt.dt, func(t *testing.T) {
			var r inferRequest
			if tt.json != "" {
				body := `{"inputs":[{"name":"features","shape":[1,6],"datatype":"` + tt.dt + `","data":` + tt.json + `}]}`
				if err := r.decodeInferJSON([]byte(body), -1); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, r.inputs[0].f32); diff != "" {
					t.Errorf("JSON %s (-want +got):\n%s", tt.dt, diff)
				}
			}
			header := `{"inputs":[{"name":"features","shape":[1,6],"datatype":"` + tt.dt + `","parameters":{"binary_data_size":` + strconv.Itoa(len(tt.raw)) + `}}]}`
			if err := r.decodeInferJSON(append([]byte(header), tt.raw...), len(header)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, r.inputs[0].f32); diff != "" {
				t.Errorf("binary %s (-want +got):\n%s", tt.dt, diff)
			}
			// And the server takes it.
			status, _, resp := h.do("POST", "/v2/models/tiny/infer", append([]byte(header), tt.raw...), map[string]string{"Inference-Header-Content-Length": strconv.Itoa(len(header))})
			if status != 200 {
				t.Errorf("infer %s = %d %s", tt.dt, status, resp)
			}
		})
	}
	t.Run("BYTES", func(t *testing.T) {
		var r inferRequest
		if err := r.decodeInferJSON([]byte(`{"inputs":[{"name":"s","shape":[2],"datatype":"BYTES","data":["a\"b","\u00e9"]}]}`), -1); err != nil {
			t.Fatal(err)
		}
		raw := append(le32(3), 'a', '"', 'b')
		raw = append(append(raw, le32(2)...), 0xc3, 0xa9)
		var rb inferRequest
		header := `{"inputs":[{"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":` + strconv.Itoa(len(raw)) + `}}]}`
		if err := rb.decodeInferJSON(append([]byte(header), raw...), len(header)); err != nil {
			t.Fatal(err)
		}
		want := []string{`a"b`, "é"}
		for _, got := range [][][]byte{r.inputs[0].strs, rb.inputs[0].strs} {
			var s []string
			for _, b := range got {
				s = append(s, string(b))
			}
			if diff := cmp.Diff(want, s); diff != "" {
				t.Errorf("BYTES (-want +got):\n%s", diff)
			}
		}
		status, _, resp := h.do("POST", "/v2/models/tiny/infer", []byte(`{"inputs":[{"name":"features","shape":[1,6],"datatype":"BYTES","data":["1","2","3","4","5","6"]}]}`), nil)
		if status != 400 || !bytes.Contains(resp, []byte("inputs.features")) {
			t.Errorf("BYTES to a numeric model = %d %s, want 400 naming the input", status, resp)
		}
	})
}

func le16(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

func le32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func le64(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func TestV1PredictAndProblems(t *testing.T) {
	h := xgbHarness(t)
	named := `{"id":"p1","features":{"f0":1.18533623,"f1":-2.16157317,"f2":0.777643561,"f3":1.08358669,"f4":-1.39212918,"f5":2.3458817}}`
	tests := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"named", "/v1/models/tiny:predict", named, 200, ""},
		{"positional", "/v1/models/tiny:predict", `{"id":"p2","features":` + tinyRow + `}`, 200, ""},
		{"null_is_missing", "/v1/models/tiny:predict", `{"id":"p3","features":{"f0":null,"f1":-2.16157317,"f2":7.50328016,"f3":1.08358669,"f4":-1.02936924,"f5":0.612975895}}`, 200, ""},
		{"missing_feature", "/v1/models/tiny:predict", `{"features":{"f0":1}}`, 400, "features.f1"},
		{"unknown_feature", "/v1/models/tiny:predict", `{"features":{"amount":1}}`, 400, "features.amount"},
		{"wrong_width", "/v1/models/tiny:predict", `{"features":[1,2]}`, 400, "features"},
		{"bad_value", "/v1/models/tiny:predict", `{"features":{"f0":"x"}}`, 400, "features.f0"},
		{"unknown_field", "/v1/models/tiny:predict", `{"colour":"red"}`, 400, "colour"},
		{"entity_without_store", "/v1/models/tiny:predict", `{"entity":"card-1"}`, 400, "entity"},
		{"unknown_model", "/v1/models/nope:predict", `{"features":[1]}`, 404, ""},
		{"unknown_op", "/v1/models/tiny:explain", `{}`, 404, ""},
		{"unknown_version", "/v1/models/tiny:predict", `{"version":9,"features":` + tinyRow + `}`, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := h.do("POST", tt.path, []byte(tt.body), map[string]string{"Content-Type": "application/json"})
			if status != tt.status {
				t.Fatalf("= %d %s, want %d", status, body, tt.status)
			}
			if status == 200 {
				golden(t, filepath.Join("testdata", "rest", "v1_"+tt.name+".json"), body)
				return
			}
			var d problem.Details
			if hdr.Get("Content-Type") != problem.ContentType || json.Unmarshal(body, &d) != nil || d.Field != tt.field {
				t.Errorf("= %s %s, want a problem naming %q", hdr.Get("Content-Type"), body, tt.field)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	reg := newFakeRegistry()
	reg.setAlias("m", aliasChampion, reg.addVersion("m", "test:const", nil, nil))
	cfg := testConfig(t)
	cfg.MaxBodyBytes = 64
	h := start(t, reg, cfg, nil)
	big := `{"features":[1,2,3],"id":"` + strings.Repeat("x", 100) + `"}`
	if status, _, body := h.do("POST", "/v1/models/m:predict", []byte(big), nil); status != 413 {
		t.Errorf("/v1 big body = %d %s, want 413", status, body)
	}
	if status, _, body := h.do("POST", "/v2/models/m/infer", []byte(big), nil); status != 413 || !bytes.Contains(body, []byte(`"error"`)) {
		t.Errorf("/v2 big body = %d %s, want 413 {error}", status, body)
	}
}

func TestModelPanicFailsOnlyThatRequest(t *testing.T) {
	reg := newFakeRegistry()
	reg.setAlias("m", aliasChampion, reg.addVersion("m", "test:const", nil, nil))
	h := start(t, reg, testConfig(t), nil)
	status, _, body := h.do("POST", "/v1/models/m:predict", []byte(`{"features":[666,0,0]}`), nil)
	if status != 500 {
		t.Errorf("panicking model = %d %s, want 500", status, body)
	}
	status, _, body = h.do("POST", "/v2/models/m/infer", []byte(`{"inputs":[{"name":"features","shape":[1,3],"datatype":"FP32","data":[666,0,0]}]}`), nil)
	if status != 500 || !bytes.Contains(body, []byte(`"error"`)) {
		t.Errorf("panicking model over /v2 = %d %s, want 500", status, body)
	}
	if status, _, body := h.do("POST", "/v1/models/m:predict", []byte(`{"features":[1,2,3]}`), nil); status != 200 {
		t.Errorf("after a panic = %d %s, want 200", status, body)
	}
}

func TestLoadingIs503(t *testing.T) {
	reg := newFakeRegistry()
	reg.setAlias("m", aliasChampion, reg.addVersion("m", "test:const", nil, nil))
	reg.addVersion("m", "test:const", nil, nil)
	h := start(t, reg, testConfig(t), nil)
	// Version 2 exists but is not loaded: pinning it starts a load and
	// answers 503 meanwhile; then 200 from version 2.
	status, _, body := h.do("POST", "/v2/models/m/versions/2/infer", []byte(`{"inputs":[{"name":"features","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`), nil)
	if status != 503 || !bytes.Contains(body, []byte("loading")) {
		t.Fatalf("pinned unloaded version = %d %s, want 503", status, body)
	}
	waitFor(t, "version 2 to load", func() bool {
		status, _, body = h.do("POST", "/v1/models/m:predict", []byte(`{"version":2,"features":[1,2,3]}`), nil)
		return status == 200
	})
	if !bytes.Contains(body, []byte(`"version":2,"arm":"pinned","score":2`)) {
		t.Errorf("pinned answer %s", body)
	}
	// A model registered without a champion loaded: 503.
	h.s.models.getOrAdd("empty", h.s.metrics.inflight.WithLabelValues("empty"))
	if status, _, body := h.do("POST", "/v1/models/empty:predict", []byte(`{"features":[1,2,3]}`), nil); status != 503 {
		t.Errorf("model without champion = %d %s, want 503", status, body)
	}
}
