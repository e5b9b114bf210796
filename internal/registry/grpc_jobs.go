package registry

import (
	"context"

	registryv1 "github.com/plinthai/plinth/api/gen/registry/v1"
)

// SubmitJob implements the RPC.
func (g *GRPC) SubmitJob(ctx context.Context, r *registryv1.SubmitJobRequest) (*registryv1.Job, error) {
	j, err := g.api.SubmitJob(ctx, SubmitJobRequest{ID: r.GetId(), Model: r.GetModel(), Algorithm: r.GetAlgorithm(),
		Params: r.GetParams(), Data: TrainDataFromProto(r.GetData()), Reason: r.GetReason()})
	return JobToProto(j), st(err)
}

// GetJob implements the RPC.
func (g *GRPC) GetJob(ctx context.Context, r *registryv1.GetJobRequest) (*registryv1.Job, error) {
	j, err := g.api.GetJob(ctx, r.GetId())
	return JobToProto(j), st(err)
}

// ListJobs implements the RPC.
func (g *GRPC) ListJobs(ctx context.Context, r *registryv1.ListJobsRequest) (*registryv1.ListJobsResponse, error) {
	js, err := g.api.ListJobs(ctx, ListJobsRequest{Model: r.GetModel(), Status: r.GetStatus(), Limit: int(r.GetLimit())})
	out := &registryv1.ListJobsResponse{}
	for _, j := range js {
		out.Jobs = append(out.Jobs, JobToProto(j))
	}
	return out, st(err)
}

// CancelJob implements the RPC.
func (g *GRPC) CancelJob(ctx context.Context, r *registryv1.CancelJobRequest) (*registryv1.Job, error) {
	j, err := g.api.CancelJob(ctx, r.GetId())
	return JobToProto(j), st(err)
}

// UpdateJob implements the RPC.
func (g *GRPC) UpdateJob(ctx context.Context, r *registryv1.UpdateJobRequest) (*registryv1.Job, error) {
	j, err := g.api.UpdateJob(ctx, UpdateJobRequest{ID: r.GetId(), Status: r.GetStatus(), Progress: r.GetProgress(),
		Message: r.GetMessage(), Error: r.GetError(), Attempt: int(r.GetAttempt()), Version: r.GetVersion()})
	return JobToProto(j), st(err)
}

// SetGatePolicy implements the RPC.
func (g *GRPC) SetGatePolicy(ctx context.Context, r *registryv1.GatePolicy) (*registryv1.GatePolicy, error) {
	p, err := g.api.SetGatePolicy(ctx, GatePolicyFromProto(r))
	return GatePolicyToProto(p), st(err)
}

// GetGatePolicy implements the RPC.
func (g *GRPC) GetGatePolicy(ctx context.Context, r *registryv1.GetGatePolicyRequest) (*registryv1.GatePolicy, error) {
	p, err := g.api.GetGatePolicy(ctx, r.GetModel())
	return GatePolicyToProto(p), st(err)
}

// EvaluateGate implements the RPC.
func (g *GRPC) EvaluateGate(ctx context.Context, r *registryv1.EvaluateGateRequest) (*registryv1.GateRecord, error) {
	rec, err := g.api.EvaluateGate(ctx, r.GetModel(), r.GetVersion())
	return GateRecordToProto(rec), st(err)
}

// GetGateRecord implements the RPC.
func (g *GRPC) GetGateRecord(ctx context.Context, r *registryv1.GetGateRecordRequest) (*registryv1.GateRecord, error) {
	rec, err := g.api.GetGateRecord(ctx, r.GetModel(), r.GetVersion())
	return GateRecordToProto(rec), st(err)
}
