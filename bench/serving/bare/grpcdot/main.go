// Command grpcdot is the gRPC limit of bench/serving: a bare grpc-go
// server (no interceptors, no stats handler) whose unary ModelInfer, on the
// same Open Inference Protocol messages Plinth serves, returns the dot
// product of the FP32 contents with fixed weights.
package main

import (
	"context"
	"flag"
	"log"
	"net"

	"google.golang.org/grpc"

	pb "github.com/plinthai/plinth/api/gen/inference"
)

type server struct {
	pb.UnimplementedGRPCInferenceServiceServer
	weights []float32
}

func (s *server) ModelInfer(_ context.Context, req *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	var sum float32
	for i, v := range req.GetInputs()[0].GetContents().GetFp32Contents() {
		sum += v * s.weights[i%len(s.weights)]
	}
	return &pb.ModelInferResponse{
		ModelName: req.GetModelName(), Id: req.GetId(),
		Outputs: []*pb.ModelInferResponse_InferOutputTensor{{
			Name: "score", Datatype: "FP32", Shape: []int64{1, 1},
			Contents: &pb.InferTensorContents{Fp32Contents: []float32{sum}},
		}},
	}, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18501", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	w := make([]float32, 30)
	for i := range w {
		w[i] = float32(i%7) / 10
	}
	srv := grpc.NewServer()
	pb.RegisterGRPCInferenceServiceServer(srv, &server{weights: w})
	log.Fatal(srv.Serve(ln))
}
