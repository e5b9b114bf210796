package monitor

import (
	"context"

	"google.golang.org/grpc"

	monitorv1 "github.com/plinthai/plinth/api/gen/monitor/v1"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// GRPC is the monitor's gRPC transport. It maps errors to status codes and
// nothing else.
type GRPC struct {
	monitorv1.UnimplementedMonitorServiceServer
	api API
}

// NewGRPC returns the gRPC transport over api.
func NewGRPC(api API) *GRPC { return &GRPC{api: api} }

// Register adds the service to s.
func (g *GRPC) Register(s *grpc.Server) { monitorv1.RegisterMonitorServiceServer(s, g) }

// GetVerdict implements the RPC.
func (g *GRPC) GetVerdict(ctx context.Context, r *monitorv1.GetVerdictRequest) (*monitorv1.CanaryVerdict, error) {
	v, err := g.api.Verdict(ctx, r.GetModel(), r.GetChampion(), r.GetChallenger())
	if err != nil {
		return nil, problem.GRPCStatus(err)
	}
	return VerdictToProto(v), nil
}

// GetStatus implements the RPC.
func (g *GRPC) GetStatus(ctx context.Context, r *monitorv1.GetStatusRequest) (*monitorv1.ModelStatus, error) {
	s, err := g.api.Status(ctx, r.GetModel())
	if err != nil {
		return nil, problem.GRPCStatus(err)
	}
	return StatusToProto(s), nil
}
