package ingest

import (
	"context"
	"errors"

	"google.golang.org/grpc"

	ingestv1 "github.com/plinthai/plinth/api/gen/ingest/v1"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// GRPC is the ingest gRPC transport. It maps errors to status codes and
// nothing else. A busy or overloaded bus is not a status: the response
// reports it with the per-event outcome, so clients learn which events to
// send again.
type GRPC struct {
	ingestv1.UnimplementedIngestServiceServer
	api        API
	retryAfter int64
}

// NewGRPC returns the gRPC transport over api; cfg gives the Retry-After advice.
func NewGRPC(api API, cfg Config) *GRPC {
	return &GRPC{api: api, retryAfter: cfg.RetryAfter.Milliseconds()}
}

// Register adds the service to s.
func (g *GRPC) Register(s *grpc.Server) { ingestv1.RegisterIngestServiceServer(s, g) }

// Ingest implements the RPC.
func (g *GRPC) Ingest(ctx context.Context, r *ingestv1.IngestRequest) (*ingestv1.IngestResponse, error) {
	res, err := g.api.Ingest(ctx, r.GetStream(), r.GetEvents())
	busy, overloaded := errors.Is(err, ErrBusy), errors.Is(err, ErrOverloaded)
	if err != nil && !busy && !overloaded {
		return nil, problem.GRPCStatus(err)
	}
	out := ResultToProto(res)
	out.Busy, out.Overloaded = busy, overloaded
	if busy || overloaded {
		out.RetryAfterMs = g.retryAfter
	}
	return out, nil
}

// ResultToProto converts a Result to its message.
func ResultToProto(res Result) *ingestv1.IngestResponse {
	out := &ingestv1.IngestResponse{Accepted: int32(res.Accepted), Duplicates: int32(res.Duplicates)}
	for _, r := range res.Rejected {
		out.Rejected = append(out.Rejected, &ingestv1.Rejection{Index: int32(r.Index), Field: r.Field, Reason: r.Reason, Retryable: r.Retryable})
	}
	return out
}

// ResultFromProto converts the message back, with the error it stands for.
func ResultFromProto(m *ingestv1.IngestResponse) (Result, error) {
	res := Result{Accepted: int(m.GetAccepted()), Duplicates: int(m.GetDuplicates()), Rejected: []Rejection{}}
	for _, r := range m.GetRejected() {
		res.Rejected = append(res.Rejected, Rejection{Index: int(r.GetIndex()), Field: r.GetField(), Reason: r.GetReason(), Retryable: r.GetRetryable()})
	}
	switch {
	case m.GetOverloaded():
		return res, ErrOverloaded
	case m.GetBusy():
		return res, ErrBusy
	}
	return res, nil
}
