// Package client implements features.API over gRPC, so inference in
// another process looks features up exactly as it does in the same
// process. Errors come back as the same problem kinds the service returned.
package client

import (
	"context"

	"google.golang.org/grpc"

	featuresv1 "github.com/plinthai/plinth/api/gen/features/v1"
	"github.com/plinthai/plinth/internal/features"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/wire"
)

// Client is a features.API over a gRPC connection. It is safe for
// concurrent use; the caller owns and closes the connection.
type Client struct {
	rpc featuresv1.FeaturesServiceClient
}

var _ features.API = (*Client)(nil)

// New returns a client over conn.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: featuresv1.NewFeaturesServiceClient(conn)}
}

// Lookup implements features.API.
func (c *Client) Lookup(ctx context.Context, view string, entities []string) (*wire.FeatureValues, error) {
	m, err := c.rpc.Lookup(ctx, &featuresv1.LookupRequest{View: view, Entities: entities})
	if err != nil {
		return nil, problem.FromGRPC(err)
	}
	return features.ValuesFromProto(m), nil
}

// TrainingSet implements features.API.
func (c *Client) TrainingSet(ctx context.Context, view string, labels []features.Label) (*features.TrainingSet, error) {
	m, err := c.rpc.TrainingSet(ctx, &featuresv1.TrainingSetRequest{View: view, Labels: features.LabelsToProto(labels)})
	if err != nil {
		return nil, problem.FromGRPC(err)
	}
	return &features.TrainingSet{View: m.GetView(), Names: m.GetNames(), Labels: features.LabelsFromProto(m.GetLabels()), Values: m.GetValues()}, nil
}
