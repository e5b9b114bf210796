package inference

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	pb "github.com/plinthai/plinth/api/gen/inference"
	"github.com/plinthai/plinth/internal/platform/server"
)

// nopWriter is a reusable ResponseWriter, so the benchmarks measure the
// handlers, not the recorder.
type nopWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }
func (w *nopWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

// benchHandler runs the handler on one reused request per iteration.
func benchHandler(b *testing.B, method, path string, body []byte) {
	h := xgbHarness(b)
	mux := http.NewServeMux()
	NewHTTP(h.s, "bench", h.s.logger).Register(mux)
	rd := bytes.NewReader(body)
	req, err := http.NewRequest(method, path, io.NopCloser(rd))
	if err != nil {
		b.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rd.Reset(body)
		w.code = 0
		mux.ServeHTTP(w, req)
		if w.code != 0 && w.code != 200 {
			b.Fatalf("status %d", w.code)
		}
	}
}

func BenchmarkV1PredictNamed(b *testing.B) {
	benchHandler(b, "POST", "/v1/models/tiny:predict",
		[]byte(`{"features":{"f0":1.18533623,"f1":-2.16157317,"f2":0.777643561,"f3":1.08358669,"f4":-1.39212918,"f5":2.3458817}}`))
}

func BenchmarkV1PredictArray(b *testing.B) {
	benchHandler(b, "POST", "/v1/models/tiny:predict", []byte(`{"features":`+tinyRow+`}`))
}

func BenchmarkOIPInferJSON(b *testing.B) {
	benchHandler(b, "POST", "/v2/models/tiny/infer",
		[]byte(`{"id":"x","inputs":[{"name":"features","shape":[1,6],"datatype":"FP32","data":`+tinyRow+`}]}`))
}

func BenchmarkDecodeInferJSON(b *testing.B) {
	body := []byte(`{"id":"x","inputs":[{"name":"features","shape":[1,6],"datatype":"FP32","data":` + tinyRow + `}]}`)
	var r inferRequest
	b.ReportAllocs()
	for b.Loop() {
		if err := r.decodeInferJSON(body, -1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGRPCModelInfer runs the gRPC handler as grpc-go does with
// server.GRPCCodec, from the request's encoding to the reply's: a
// ModelInferRequest with FP32 contents, metadata carrying a credential but
// no route key.
func BenchmarkGRPCModelInfer(b *testing.B) {
	h := xgbHarness(b)
	g := NewGRPC(h.s, "bench", h.s.logger)
	req, err := proto.Marshal(&pb.ModelInferRequest{ModelName: "tiny", Inputs: []*pb.ModelInferRequest_InferInputTensor{{
		Name: "features", Datatype: "FP32", Shape: []int64{1, 6},
		Contents: &pb.InferTensorContents{Fp32Contents: tinyFloats()},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	dec := func(m any) error { return m.(server.WireDecoder).DecodeWire(req) }
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer plk_x"))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := g.modelInferHandler(g, ctx, dec, nil)
		if err != nil || len(resp.(server.WireEncoder).WireBytes()) == 0 {
			b.Fatalf("got %v, %v", resp, err)
		}
	}
}

// BenchmarkDecodeV1Sample decodes bench/serving's payload: 30 features at
// full float64 precision (17 significant digits), where float parsing is
// most of the work.
func BenchmarkDecodeV1Sample(b *testing.B) {
	body := readFile(b, "testdata/sample30.json")
	c := newCall()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		c.ent = nil
		if err := c.decodeV1(body); err != nil || len(c.v1.positional) != 30 {
			b.Fatalf("got %d features, %v", len(c.v1.positional), err)
		}
	}
}
