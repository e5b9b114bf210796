package inference

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"unsafe"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

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

// Register adds the service to srv. ModelInfer's handler reads and writes
// the protocol's messages by hand (wire.go) when srv is built with
// server.GRPCCodec, as the platform's server is; with grpc-go's own codec
// it works too, through the generated messages.
func (g *GRPC) Register(srv *grpc.Server) {
	desc := pb.GRPCInferenceService_ServiceDesc
	desc.Methods = slices.Clone(desc.Methods)
	for i := range desc.Methods {
		if desc.Methods[i].MethodName == "ModelInfer" {
			desc.Methods[i].Handler = g.modelInferHandler
		}
	}
	srv.RegisterService(&desc, g)
}

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

// ModelInfer implements the protocol for callers in the same process: the
// request goes through the server's handler (modelInferHandler) as it
// would with grpc-go's own codec.
func (g *GRPC) ModelInfer(ctx context.Context, req *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	b, err := proto.Marshal(req)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	reply, err := g.modelInferHandler(g, ctx, func(m any) error { return proto.Unmarshal(b, m.(proto.Message)) }, nil)
	if err != nil {
		return nil, err
	}
	return reply.(*pb.ModelInferResponse), nil
}

// protoReply decodes infer's reply into the generated message.
func protoReply(reply any) (*pb.ModelInferResponse, error) {
	resp := new(pb.ModelInferResponse)
	if err := proto.Unmarshal(reply.(wireReply), resp); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return resp, nil
}

// modelInferHandler is ModelInfer as the gRPC server runs it: the codec
// (server.GRPCCodec) copies the request's bytes into a pooled call, which
// infer decodes in place, and sends the reply's bytes as they are. With
// grpc-go's own codec the request's fields arrive as the unknown fields of
// an empty message and the reply goes out as the generated message: the
// same answers, at the generated code's cost.
func (g *GRPC) modelInferHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	c := g.s.getCall()
	defer g.s.putCall(c)
	in := &c.grpcIn
	in.decoded, c.body = false, c.body[:0]
	if err := dec(in); err != nil {
		return nil, err
	}
	plain := !in.decoded
	if plain {
		c.body = append(c.body, in.ProtoReflect().GetUnknown()...)
		proto.Reset(&in.Empty)
	}
	if interceptor == nil {
		return g.answer(ctx, c, plain)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: pb.GRPCInferenceService_ModelInfer_FullMethodName}
	return interceptor(ctx, in, info, func(ctx context.Context, _ any) (any, error) { return g.answer(ctx, c, plain) })
}

// answer is infer's reply, as the generated message when plain.
func (g *GRPC) answer(ctx context.Context, c *call, plain bool) (any, error) {
	reply, err := g.infer(ctx, c)
	if err != nil || !plain {
		return reply, err
	}
	return protoReply(reply)
}

// grpcRequest is the ModelInfer request of call c as a gRPC codec sees it. With
// server.GRPCCodec, DecodeWire copies the encoding into the call's body.
// Any other protobuf codec sees the embedded Empty, a message with no
// fields, and keeps every field of the request as an unknown field.
type grpcRequest struct {
	emptypb.Empty
	c       *call
	decoded bool
}

// DecodeWire keeps a copy of the encoded request in the call's body.
func (r *grpcRequest) DecodeWire(b []byte) error {
	r.c.body = append(r.c.body[:0], b...)
	r.decoded = true
	return nil
}

// wireReply is an encoded ModelInferResponse.
type wireReply []byte

// WireBytes returns the encoding, for the gRPC codec.
func (r wireReply) WireBytes() []byte { return r }

// infer answers the ModelInferRequest encoded in c.body. Inputs come as
// typed contents or as raw_input_contents; a request with raw inputs is
// answered with raw_output_contents, as Triton does. An unknown model or
// version is reported before anything wrong with the inputs.
func (g *GRPC) infer(ctx context.Context, c *call) (any, error) {
	s := g.s
	model, version, err := c.req.decodeWire(c.body)
	if err != nil {
		return nil, grpcError(err)
	}
	e, err := s.entry(stringOf(model))
	if err != nil {
		return nil, grpcError(err)
	}
	if c.pin, err = parseVersion(stringOf(version)); err != nil {
		return nil, grpcError(err)
	}
	if err := c.req.decodeWireInputs(); err != nil {
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
	var buf [64]byte
	id := c.req.id
	if len(id) == 0 {
		id = s.predictionID(buf[:0], c) // the prediction log's, or a new one
	}
	var outs [4]oipOutput
	sel := selectOutputs(outs[:0], c, res.l)
	b := make([]byte, 0, 96+len(res.l.model)+len(res.l.versionStr)+len(id))
	return wireReply(appendWireResponse(b, c, res.l, id, sel)), nil
}

// key is the routing key: the route header's value, else random. It reads
// the one metadata key rather than copying the whole incoming metadata.
func (g *GRPC) key(ctx context.Context, model string) uint64 {
	if v := metadata.ValueFromIncomingContext(ctx, g.routeHeader); len(v) > 0 && v[0] != "" {
		return routeKey(model, bytesOf(v[0]))
	}
	return randomKey()
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

// stringOf views bytes as a string without copying, for a lookup or a
// message that copies it; b must not change while the string is in use.
func stringOf(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
