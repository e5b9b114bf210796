// Package client implements monitor.API over gRPC, so the rollout saga in
// another process asks for verdicts exactly as it would in the same
// process. Errors come back as the same problem kinds the service returned.
package client

import (
	"context"

	"google.golang.org/grpc"

	monitorv1 "github.com/plinthai/plinth/api/gen/monitor/v1"
	"github.com/plinthai/plinth/internal/monitor"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/wire"
)

// Client is a monitor.API over a gRPC connection. It is safe for
// concurrent use; the caller owns and closes the connection.
type Client struct {
	rpc monitorv1.MonitorServiceClient
}

var _ monitor.API = (*Client)(nil)

// New returns a client over conn.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: monitorv1.NewMonitorServiceClient(conn)}
}

// Verdict implements monitor.API.
func (c *Client) Verdict(ctx context.Context, model string, champion, challenger int64) (wire.CanaryVerdict, error) {
	v, err := c.rpc.GetVerdict(ctx, &monitorv1.GetVerdictRequest{Model: model, Champion: champion, Challenger: challenger})
	if err != nil {
		return wire.CanaryVerdict{}, problem.FromGRPC(err)
	}
	return monitor.VerdictFromProto(v), nil
}

// Status implements monitor.API.
func (c *Client) Status(ctx context.Context, model string) (monitor.ModelStatus, error) {
	s, err := c.rpc.GetStatus(ctx, &monitorv1.GetStatusRequest{Model: model})
	if err != nil {
		return monitor.ModelStatus{}, problem.FromGRPC(err)
	}
	return monitor.StatusFromProto(s), nil
}
