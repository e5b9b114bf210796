package inference

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"unsafe"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/plinthai/plinth/api/gen/inference"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// GRPC serves the Open Inference Protocol's GRPCInferenceService. It maps
// errors to status codes: INVALID_ARGUMENT (naming the input), NOT_FOUND,
// UNAVAILABLE while loading, INTERNAL when the model fails.
type GRPC struct {
	pb.UnimplementedGRPCInferenceServiceServer
	s           *Service
	logger      *slog.Logger
	version     string
	routeHeader string
}

// NewGRPC returns the gRPC service of s; version is the server version
// ServerMetadata reports.
func NewGRPC(s *Service, version string, logger *slog.Logger) *GRPC {
	return &GRPC{s: s, logger: logger, version: version, routeHeader: lowerASCII(s.cfg.RouteHeader)}
}

// Register adds the service to srv.
func (g *GRPC) Register(srv *grpc.Server) { pb.RegisterGRPCInferenceServiceServer(srv, g) }

// ServerLive implements the protocol: a server that answers is live.
func (g *GRPC) ServerLive(context.Context, *pb.ServerLiveRequest) (*pb.ServerLiveResponse, error) {
	return &pb.ServerLiveResponse{Live: true}, nil
}

// ServerReady implements the protocol.
func (g *GRPC) ServerReady(ctx context.Context, _ *pb.ServerReadyRequest) (*pb.ServerReadyResponse, error) {
	return &pb.ServerReadyResponse{Ready: g.s.CheckReady(ctx) == nil}, nil
}

// ModelReady implements the protocol: false (not an error) for a model
// that is loading or unknown.
func (g *GRPC) ModelReady(_ context.Context, req *pb.ModelReadyRequest) (*pb.ModelReadyResponse, error) {
	v, err := parseVersion(req.GetVersion())
	if err == nil {
		err = g.s.ModelReady(req.GetName(), v)
	}
	return &pb.ModelReadyResponse{Ready: err == nil}, nil
}

// ServerMetadata implements the protocol.
func (g *GRPC) ServerMetadata(context.Context, *pb.ServerMetadataRequest) (*pb.ServerMetadataResponse, error) {
	md := g.s.ServerMetadata(g.version)
	return &pb.ServerMetadataResponse{Name: md.Name, Version: md.Version, Extensions: md.Extensions}, nil
}

// ModelMetadata implements the protocol.
func (g *GRPC) ModelMetadata(_ context.Context, req *pb.ModelMetadataRequest) (*pb.ModelMetadataResponse, error) {
	v, err := parseVersion(req.GetVersion())
	if err != nil {
		return nil, grpcError(err)
	}
	md, err := g.s.ModelMetadata(req.GetName(), v)
	if err != nil {
		return nil, grpcError(err)
	}
	out := &pb.ModelMetadataResponse{Name: md.Name, Versions: md.Versions, Platform: md.Platform, Properties: md.Properties}
	for _, t := range md.Inputs {
		out.Inputs = append(out.Inputs, &pb.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape})
	}
	for _, t := range md.Outputs {
		out.Outputs = append(out.Outputs, &pb.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape})
	}
	return out, nil
}

// ModelInfer implements the protocol. Inputs come as typed contents or as
// raw_input_contents; a request with raw inputs is answered with
// raw_output_contents, as Triton does.
func (g *GRPC) ModelInfer(ctx context.Context, req *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	s := g.s
	e, err := s.entry(req.GetModelName())
	if err != nil {
		return nil, grpcError(err)
	}
	c := s.getCall()
	defer s.putCall(c)
	if c.pin, err = parseVersion(req.GetModelVersion()); err != nil {
		return nil, grpcError(err)
	}
	if err := c.req.fromProto(req); err != nil {
		return nil, grpcError(err)
	}
	c.id = c.req.id
	c.key = g.key(ctx, e.name)
	res, err := s.predict(ctx, e, c, fillOIP)
	if err != nil {
		if errors.Is(err, ErrModelFailed) {
			g.logger.ErrorContext(ctx, "prediction failed", "model", e.name, "err", err)
		}
		return nil, grpcError(err)
	}
	id := req.GetId() // c.id still views it when the request had one
	if id == "" {
		id = s.idString(c) // the prediction log's, or a new one
	}
	return g.response(c, res.l, id), nil
}

// key is the routing key: the route header's value, else random. It reads
// the one metadata key rather than copying the whole incoming metadata.
func (g *GRPC) key(ctx context.Context, model string) uint64 {
	if v := metadata.ValueFromIncomingContext(ctx, g.routeHeader); len(v) > 0 && v[0] != "" {
		return routeKey(model, bytesOf(v[0]))
	}
	return randomKey()
}

// scoreReply is the usual answer, one FP32 output of one row, built in a
// single allocation.
type scoreReply struct {
	resp     pb.ModelInferResponse
	out      pb.ModelInferResponse_InferOutputTensor
	contents pb.InferTensorContents
	outs     [1]*pb.ModelInferResponse_InferOutputTensor
	shape    [2]int64
	score    [1]float32
}

// response builds the answer to c; id is the prediction id.
func (g *GRPC) response(c *call, l *loaded, id string) *pb.ModelInferResponse {
	var outs [4]oipOutput
	sel := selectOutputs(outs[:0], c, l)
	if len(sel) == 1 && len(sel[0].vals) == 1 && sel[0].spec.dt == dtFP32 && !c.req.rawInputs {
		return scoreResponse(c, l, id, sel[0])
	}
	resp := &pb.ModelInferResponse{ModelName: l.model, ModelVersion: l.versionStr, Id: id}
	for _, o := range sel {
		t := &pb.ModelInferResponse_InferOutputTensor{Name: o.spec.name, Datatype: o.spec.dt.String(), Shape: []int64{int64(c.n), int64(o.spec.width)}}
		switch {
		case c.req.rawInputs:
			resp.RawOutputContents = append(resp.RawOutputContents, appendRaw(nil, o.spec.dt, o.vals))
		case o.spec.dt == dtInt64:
			t.Contents = &pb.InferTensorContents{Int64Contents: toInt64(o.vals)}
		default:
			t.Contents = &pb.InferTensorContents{Fp32Contents: toFloat32(o.vals)}
		}
		resp.Outputs = append(resp.Outputs, t)
	}
	return resp
}

func scoreResponse(c *call, l *loaded, id string, o oipOutput) *pb.ModelInferResponse {
	r := &scoreReply{shape: [2]int64{int64(c.n), int64(o.spec.width)}, score: [1]float32{float32(o.vals[0])}}
	r.contents.Fp32Contents = r.score[:]
	r.out.Name, r.out.Datatype, r.out.Shape, r.out.Contents = o.spec.name, o.spec.dt.String(), r.shape[:], &r.contents
	r.outs[0] = &r.out
	r.resp.ModelName, r.resp.ModelVersion, r.resp.Id, r.resp.Outputs = l.model, l.versionStr, id, r.outs[:]
	return &r.resp
}

func toFloat32(vs []float64) []float32 {
	out := make([]float32, len(vs))
	for i, v := range vs {
		out[i] = float32(v)
	}
	return out
}

func toInt64(vs []float64) []int64 {
	out := make([]int64, len(vs))
	for i, v := range vs {
		out[i] = int64(v)
	}
	return out
}

// grpcError maps err's kind to a status; the message names the input for
// bad input, since clients such as tritonclient show only the message.
func grpcError(err error) error {
	if errors.Is(err, ErrModelFailed) {
		return status.Error(codes.Internal, "the model failed on this request")
	}
	st, _ := status.FromError(problem.GRPCStatus(err))
	if st.Code() == codes.Internal {
		return st.Err()
	}
	return status.Error(st.Code(), err.Error())
}

// bytesOf views a string's bytes without copying; callers never write.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

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

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
