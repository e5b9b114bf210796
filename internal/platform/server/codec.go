package server

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the codec wireCodec falls back to
	"google.golang.org/grpc/mem"
)

// WireDecoder is a gRPC request message that decodes its own protobuf
// encoding, for a handler that reads the wire format by hand. b is valid
// only during the call.
type WireDecoder interface {
	DecodeWire(b []byte) error
}

// WireEncoder is a gRPC response message that is its own protobuf
// encoding.
type WireEncoder interface {
	WireBytes() []byte
}

// GRPCCodec is the server option New sets: the protobuf codec, except that
// messages implementing WireDecoder or WireEncoder encode themselves. A
// test or tool that builds its own grpc.Server for a service with such
// handlers (the inference protocol's ModelInfer) must pass it too.
func GRPCCodec() grpc.ServerOption {
	return grpc.ForceServerCodecV2(wireCodec{proto: encoding.GetCodecV2("proto")})
}

type wireCodec struct{ proto encoding.CodecV2 }

func (c wireCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(WireEncoder); ok {
		return mem.BufferSlice{mem.SliceBuffer(m.WireBytes())}, nil
	}
	return c.proto.Marshal(v)
}

func (c wireCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(WireDecoder)
	if !ok {
		return c.proto.Unmarshal(data, v)
	}
	if len(data) == 1 {
		return m.DecodeWire(data[0].ReadOnlyData())
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return m.DecodeWire(buf.ReadOnlyData())
}

func (wireCodec) Name() string { return "proto" }
