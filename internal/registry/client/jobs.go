package client

import (
	"context"

	registryv1 "github.com/plinthai/plinth/api/gen/registry/v1"
	"github.com/plinthai/plinth/internal/registry"
)

// SubmitJob implements registry.API.
func (c *Client) SubmitJob(ctx context.Context, req registry.SubmitJobRequest) (registry.Job, error) {
	j, err := c.rpc.SubmitJob(ctx, &registryv1.SubmitJobRequest{Id: req.ID, Model: req.Model, Algorithm: req.Algorithm,
		Params: req.Params, Data: registry.TrainDataToProto(req.Data), Reason: req.Reason})
	return job(j, err)
}

// GetJob implements registry.API.
func (c *Client) GetJob(ctx context.Context, id string) (registry.Job, error) {
	return job(c.rpc.GetJob(ctx, &registryv1.GetJobRequest{Id: id}))
}

// ListJobs implements registry.API.
func (c *Client) ListJobs(ctx context.Context, req registry.ListJobsRequest) ([]registry.Job, error) {
	resp, err := c.rpc.ListJobs(ctx, &registryv1.ListJobsRequest{Model: req.Model, Status: req.Status,
		Limit: int32(min(req.Limit, 1<<30))})
	if err != nil {
		return nil, e(err)
	}
	var out []registry.Job
	for _, j := range resp.GetJobs() {
		out = append(out, registry.JobFromProto(j))
	}
	return out, nil
}

// CancelJob implements registry.API.
func (c *Client) CancelJob(ctx context.Context, id string) (registry.Job, error) {
	return job(c.rpc.CancelJob(ctx, &registryv1.CancelJobRequest{Id: id}))
}

// UpdateJob implements registry.API.
func (c *Client) UpdateJob(ctx context.Context, req registry.UpdateJobRequest) (registry.Job, error) {
	return job(c.rpc.UpdateJob(ctx, &registryv1.UpdateJobRequest{Id: req.ID, Status: req.Status, Progress: req.Progress,
		Message: req.Message, Error: req.Error, Attempt: int32(min(req.Attempt, 1<<30)), Version: req.Version}))
}

func job(j *registryv1.Job, err error) (registry.Job, error) {
	if err != nil {
		return registry.Job{}, e(err)
	}
	return registry.JobFromProto(j), nil
}

// SetGatePolicy implements registry.API.
func (c *Client) SetGatePolicy(ctx context.Context, p registry.GatePolicy) (registry.GatePolicy, error) {
	out, err := c.rpc.SetGatePolicy(ctx, registry.GatePolicyToProto(p))
	if err != nil {
		return registry.GatePolicy{}, e(err)
	}
	return registry.GatePolicyFromProto(out), nil
}

// GetGatePolicy implements registry.API.
func (c *Client) GetGatePolicy(ctx context.Context, model string) (registry.GatePolicy, error) {
	out, err := c.rpc.GetGatePolicy(ctx, &registryv1.GetGatePolicyRequest{Model: model})
	if err != nil {
		return registry.GatePolicy{}, e(err)
	}
	return registry.GatePolicyFromProto(out), nil
}

// EvaluateGate implements registry.API.
func (c *Client) EvaluateGate(ctx context.Context, model string, version int64) (registry.GateRecord, error) {
	return record(c.rpc.EvaluateGate(ctx, &registryv1.EvaluateGateRequest{Model: model, Version: version}))
}

// GetGateRecord implements registry.API.
func (c *Client) GetGateRecord(ctx context.Context, model string, version int64) (registry.GateRecord, error) {
	return record(c.rpc.GetGateRecord(ctx, &registryv1.GetGateRecordRequest{Model: model, Version: version}))
}

func record(r *registryv1.GateRecord, err error) (registry.GateRecord, error) {
	if err != nil {
		return registry.GateRecord{}, e(err)
	}
	return registry.GateRecordFromProto(r), nil
}
