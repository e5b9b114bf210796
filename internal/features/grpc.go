package features

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	featuresv1 "github.com/plinthai/plinth/api/gen/features/v1"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/wire"
)

// GRPC is the feature store's gRPC transport. It maps errors to status
// codes and nothing else.
type GRPC struct {
	featuresv1.UnimplementedFeaturesServiceServer
	api API
}

// NewGRPC returns the gRPC transport over api.
func NewGRPC(api API) *GRPC { return &GRPC{api: api} }

// Register adds the service to s.
func (g *GRPC) Register(s *grpc.Server) { featuresv1.RegisterFeaturesServiceServer(s, g) }

// Lookup implements the RPC.
func (g *GRPC) Lookup(ctx context.Context, r *featuresv1.LookupRequest) (*featuresv1.FeatureValues, error) {
	fv, err := g.api.Lookup(ctx, r.GetView(), r.GetEntities())
	if err != nil {
		return nil, problem.GRPCStatus(err)
	}
	return ValuesToProto(fv), nil
}

// TrainingSet implements the RPC.
func (g *GRPC) TrainingSet(ctx context.Context, r *featuresv1.TrainingSetRequest) (*featuresv1.TrainingSetResponse, error) {
	ts, err := g.api.TrainingSet(ctx, r.GetView(), LabelsFromProto(r.GetLabels()))
	if err != nil {
		return nil, problem.GRPCStatus(err)
	}
	return &featuresv1.TrainingSetResponse{View: ts.View, Names: ts.Names, Labels: LabelsToProto(ts.Labels), Values: ts.Values}, nil
}

// ValuesToProto converts a lookup answer to its message.
func ValuesToProto(fv *wire.FeatureValues) *featuresv1.FeatureValues {
	return &featuresv1.FeatureValues{View: fv.View, Names: fv.Names, Entities: fv.Entities, Values: fv.Values, Found: fv.Found}
}

// ValuesFromProto converts the message back.
func ValuesFromProto(m *featuresv1.FeatureValues) *wire.FeatureValues {
	return &wire.FeatureValues{View: m.GetView(), Names: m.GetNames(), Entities: m.GetEntities(), Values: m.GetValues(), Found: m.GetFound()}
}

// LabelsToProto converts labels to messages.
func LabelsToProto(ls []Label) []*featuresv1.Label {
	out := make([]*featuresv1.Label, len(ls))
	for i, l := range ls {
		out[i] = &featuresv1.Label{Entity: l.Entity, Time: timestamppb.New(l.Time), Value: l.Value}
	}
	return out
}

// LabelsFromProto converts messages to labels; a missing time stays zero.
func LabelsFromProto(ms []*featuresv1.Label) []Label {
	out := make([]Label, len(ms))
	for i, m := range ms {
		out[i] = Label{Entity: m.GetEntity(), Value: m.GetValue()}
		if m.GetTime() != nil {
			out[i].Time = m.GetTime().AsTime()
		}
	}
	return out
}
