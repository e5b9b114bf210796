package inference

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/plinthai/plinth/api/gen/inference"
	"github.com/plinthai/plinth/internal/platform/server"
)

// grpcClient serves h's service over gRPC on a loopback port.
func grpcClient(t *testing.T, h *harness) pb.GRPCInferenceServiceClient {
	t.Helper()
	return pb.NewGRPCInferenceServiceClient(grpcConn(t, h))
}

// grpcConn serves h's service over gRPC on a loopback port, as the
// platform's server does, and returns a connection to it.
func grpcConn(t *testing.T, h *harness, opts ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts == nil {
		opts = []grpc.ServerOption{server.GRPCCodec()}
	}
	srv := grpc.NewServer(opts...)
	NewGRPC(h.s, "test", slog.New(slog.NewTextHandler(io.Discard, nil))).Register(srv)
	reflection.Register(srv)
	go func() { _ = srv.Serve(ln) }()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); srv.Stop() })
	return conn
}

func tinyFloats() []float32 {
	return []float32{1.18533623, -2.16157317, 0.777643561, 1.08358669, -1.39212918, 2.3458817}
}

func TestGRPCGolden(t *testing.T) {
	h := xgbHarness(t)
	c := grpcClient(t, h)
	ctx := context.Background()
	var raw []byte
	for _, v := range tinyFloats() {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	in := func() []*pb.ModelInferRequest_InferInputTensor {
		return []*pb.ModelInferRequest_InferInputTensor{{Name: "features", Datatype: "FP32", Shape: []int64{1, 6}}}
	}
	withContents := in()
	withContents[0].Contents = &pb.InferTensorContents{Fp32Contents: tinyFloats()}
	tests := []struct {
		name string
		call func() (proto.Message, error)
	}{
		{"server_live", func() (proto.Message, error) { return c.ServerLive(ctx, &pb.ServerLiveRequest{}) }},
		{"server_ready", func() (proto.Message, error) { return c.ServerReady(ctx, &pb.ServerReadyRequest{}) }},
		{"server_metadata", func() (proto.Message, error) { return c.ServerMetadata(ctx, &pb.ServerMetadataRequest{}) }},
		{"model_ready", func() (proto.Message, error) { return c.ModelReady(ctx, &pb.ModelReadyRequest{Name: "tiny"}) }},
		{"model_not_ready", func() (proto.Message, error) { return c.ModelReady(ctx, &pb.ModelReadyRequest{Name: "nope"}) }},
		{"model_metadata", func() (proto.Message, error) { return c.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "tiny"}) }},
		{"infer_contents", func() (proto.Message, error) {
			return c.ModelInfer(ctx, &pb.ModelInferRequest{ModelName: "tiny", Id: "g1", Inputs: withContents})
		}},
		{"infer_raw", func() (proto.Message, error) {
			return c.ModelInfer(ctx, &pb.ModelInferRequest{ModelName: "tiny", ModelVersion: "1", Id: "g2", Inputs: in(), RawInputContents: [][]byte{raw}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "grpc", tt.name+".json"), stableJSON(t, m))
		})
	}
	errs := []struct {
		name string
		req  *pb.ModelInferRequest
		code codes.Code
		msg  string
	}{
		{"unknown model", &pb.ModelInferRequest{ModelName: "nope", Inputs: in()}, codes.NotFound, `model "nope" is not served`},
		{"unknown version", &pb.ModelInferRequest{ModelName: "tiny", ModelVersion: "7", Inputs: withContents}, codes.NotFound, `model "tiny" has no version 7`},
		{"bad shape", &pb.ModelInferRequest{ModelName: "tiny", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "features", Datatype: "FP32", Shape: []int64{1, 5}, Contents: &pb.InferTensorContents{Fp32Contents: tinyFloats()[:5]}}}}, codes.InvalidArgument, "inputs.features: shape [1,5] does not fit FP32 [-1,6] or one [-1] input per feature"},
		{"raw count", &pb.ModelInferRequest{ModelName: "tiny", Inputs: in(), RawInputContents: [][]byte{raw, raw}}, codes.InvalidArgument, "raw_input_contents: has 2 entries for 1 inputs"},
		{"short raw", &pb.ModelInferRequest{ModelName: "tiny", Inputs: in(), RawInputContents: [][]byte{raw[:8]}}, codes.InvalidArgument, "inputs.features: binary data has 8 bytes, shape [1,6] of FP32 needs 24"},
	}
	for _, tt := range errs {
		_, err := c.ModelInfer(ctx, tt.req)
		if st := status.Convert(err); st.Code() != tt.code || st.Message() != tt.msg {
			t.Errorf("%s: %v, want %s %q", tt.name, err, tt.code, tt.msg)
		}
	}
}

// rawCodec sends and receives messages as bytes, for requests no
// generated client would encode.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*(v.(*[]byte)) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// A request that is not valid protobuf is the client's mistake: an
// INVALID_ARGUMENT naming what is wrong, and the server serves on.
func TestGRPCMalformedIsInvalidArgument(t *testing.T) {
	conn := grpcConn(t, xgbHarness(t))
	valid, err := proto.Marshal(&pb.ModelInferRequest{ModelName: "tiny", Inputs: []*pb.ModelInferRequest_InferInputTensor{{
		Name: "features", Datatype: "FP32", Shape: []int64{1, 6}, Contents: &pb.InferTensorContents{Fp32Contents: tinyFloats()}}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
		msg  string
	}{
		{"truncated", valid[:len(valid)-2], "request: is not a valid protobuf ModelInferRequest: it ends inside a field"},
		{"field zero", []byte{0, 0}, "request: is not a valid protobuf ModelInferRequest: a field is malformed"},
		// valid starts with model_name "tiny" (tag, length, 4 bytes): swap it for 2 bytes that are not UTF-8
		{"model name not UTF-8", append([]byte{0x0a, 2, 0xc3, 0x28}, valid[6:]...), "model_name: is not valid UTF-8"},
	}
	for _, tt := range tests {
		var out []byte
		err := conn.Invoke(context.Background(), pb.GRPCInferenceService_ModelInfer_FullMethodName, tt.b, &out, grpc.ForceCodecV2(rawCodec{}))
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || st.Message() != tt.msg {
			t.Errorf("%s: %v, want INVALID_ARGUMENT %q", tt.name, err, tt.msg)
		}
	}
	var out []byte
	if err := conn.Invoke(context.Background(), pb.GRPCInferenceService_ModelInfer_FullMethodName, valid, &out, grpc.ForceCodecV2(rawCodec{})); err != nil {
		t.Fatalf("a valid request after the bad ones: %v", err)
	}
	var resp pb.ModelInferResponse
	if err := proto.Unmarshal(out, &resp); err != nil || len(resp.GetOutputs()) != 1 {
		t.Errorf("reply %v: %v", &resp, err)
	}
}

// On a server with grpc-go's own codec, and called in process, ModelInfer
// answers through the generated messages the same as over the wire codec.
func TestGRPCWithoutTheWireCodec(t *testing.T) {
	h := xgbHarness(t)
	wire := grpcClient(t, h)
	plain := pb.NewGRPCInferenceServiceClient(grpcConn(t, h, grpc.MaxRecvMsgSize(1<<20)))
	direct := NewGRPC(h.s, "test", h.s.logger)
	callers := map[string]func(context.Context, *pb.ModelInferRequest) (*pb.ModelInferResponse, error){
		"grpc-go's codec": func(ctx context.Context, r *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
			return plain.ModelInfer(ctx, r)
		},
		"in process": direct.ModelInfer,
	}
	ctx := context.Background()
	for name, infer := range callers {
		for _, version := range []string{"", "1"} {
			req := &pb.ModelInferRequest{ModelName: "tiny", ModelVersion: version, Id: "w1", Inputs: []*pb.ModelInferRequest_InferInputTensor{{
				Name: "features", Datatype: "FP32", Shape: []int64{1, 6}, Contents: &pb.InferTensorContents{Fp32Contents: tinyFloats()}}}}
			want, err := wire.ModelInfer(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := infer(ctx, req)
			if err != nil {
				t.Fatalf("%s, version %q: %v", name, version, err)
			}
			if !proto.Equal(got, want) {
				t.Errorf("%s, version %q: answered %v, the wire codec %v", name, version, got, want)
			}
		}
		_, err := infer(ctx, &pb.ModelInferRequest{ModelName: "tiny"})
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || st.Message() != "inputs: at least one input is required" {
			t.Errorf("%s, no inputs: %v, want INVALID_ARGUMENT naming inputs", name, err)
		}
	}
}

func TestGRPCPanicIsInternal(t *testing.T) {
	reg := newFakeRegistry()
	reg.setAlias("m", aliasChampion, reg.addVersion("m", "test:const", nil, nil))
	c := grpcClient(t, start(t, reg, testConfig(t), nil))
	req := func(first float32) *pb.ModelInferRequest {
		return &pb.ModelInferRequest{ModelName: "m", Inputs: []*pb.ModelInferRequest_InferInputTensor{{
			Name: "features", Datatype: "FP32", Shape: []int64{1, 3}, Contents: &pb.InferTensorContents{Fp32Contents: []float32{first, 0, 0}}}}}
	}
	if _, err := c.ModelInfer(context.Background(), req(666)); status.Code(err) != codes.Internal {
		t.Errorf("panicking model = %v, want INTERNAL", err)
	}
	if r, err := c.ModelInfer(context.Background(), req(1)); err != nil || r.Outputs[0].Contents.Fp32Contents[0] != 1 {
		t.Errorf("after a panic = %v %v", r, err)
	}
}

// stableJSON renders m as JSON with sorted keys and no random spacing
// (protobuf's text formats vary their spacing on purpose).
func stableJSON(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func TestGoldenDirs(t *testing.T) {
	for _, d := range []string{"testdata/rest", "testdata/grpc"} {
		if _, err := os.Stat(d); err != nil && !*update {
			t.Errorf("%s: %v", d, err)
		}
	}
}
