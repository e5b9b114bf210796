// Package client implements ingest.API over gRPC, so a producer in another
// process ingests exactly as one in the same process does. Errors come back
// as the same problem kinds and sentinels the service returned.
package client

import (
	"context"

	"google.golang.org/grpc"

	ingestv1 "github.com/plinthai/plinth/api/gen/ingest/v1"
	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// Client is an ingest.API over a gRPC connection. It is safe for concurrent
// use; the caller owns and closes the connection.
type Client struct {
	rpc ingestv1.IngestServiceClient
}

var _ ingest.API = (*Client)(nil)

// New returns a client over conn.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: ingestv1.NewIngestServiceClient(conn)}
}

// Ingest implements ingest.API.
func (c *Client) Ingest(ctx context.Context, stream string, events [][]byte) (ingest.Result, error) {
	resp, err := c.rpc.Ingest(ctx, &ingestv1.IngestRequest{Stream: stream, Events: events})
	if err != nil {
		return ingest.Result{}, problem.FromGRPC(err)
	}
	return ingest.ResultFromProto(resp)
}
