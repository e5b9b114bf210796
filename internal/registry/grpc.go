package registry

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"

	registryv1 "github.com/plinthai/plinth/api/gen/registry/v1"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// ChunkSize is the size of artifact chunks streamed over gRPC.
const ChunkSize = 256 << 10

// GRPC is the registry's gRPC transport. It maps errors to status codes
// and nothing else.
type GRPC struct {
	registryv1.UnimplementedRegistryServiceServer
	api API
}

// NewGRPC returns the gRPC transport over api.
func NewGRPC(api API) *GRPC { return &GRPC{api: api} }

// Register adds the service to s.
func (g *GRPC) Register(s *grpc.Server) { registryv1.RegisterRegistryServiceServer(s, g) }

func st(err error) error { return problem.GRPCStatus(err) }

// CreateModel implements the RPC.
func (g *GRPC) CreateModel(ctx context.Context, r *registryv1.CreateModelRequest) (*registryv1.Model, error) {
	m, err := g.api.CreateModel(ctx, CreateModelRequest{Name: r.GetName(), Description: r.GetDescription(), Tags: r.GetTags()})
	return ModelToProto(m), st(err)
}

// GetModel implements the RPC.
func (g *GRPC) GetModel(ctx context.Context, r *registryv1.GetModelRequest) (*registryv1.Model, error) {
	m, err := g.api.GetModel(ctx, r.GetName())
	return ModelToProto(m), st(err)
}

// ListModels implements the RPC.
func (g *GRPC) ListModels(ctx context.Context, r *registryv1.ListModelsRequest) (*registryv1.ListModelsResponse, error) {
	ms, next, err := g.api.ListModels(ctx, int(r.GetPageSize()), r.GetPageToken())
	out := &registryv1.ListModelsResponse{NextPageToken: next}
	for _, m := range ms {
		out.Models = append(out.Models, ModelToProto(m))
	}
	return out, st(err)
}

// uploadReader turns the request stream into an io.Reader.
type uploadReader struct {
	stream grpc.ClientStreamingServer[registryv1.UploadArtifactRequest, registryv1.Artifact]
	buf    []byte
	first  *registryv1.UploadArtifactRequest
}

func (u *uploadReader) Read(p []byte) (int, error) {
	for len(u.buf) == 0 {
		if u.first != nil {
			u.buf, u.first = u.first.GetData(), nil
			continue
		}
		msg, err := u.stream.Recv()
		if err != nil {
			return 0, err // io.EOF at the end of the upload
		}
		u.buf = msg.GetData()
	}
	n := copy(p, u.buf)
	u.buf = u.buf[n:]
	return n, nil
}

// UploadArtifact implements the RPC.
func (g *GRPC) UploadArtifact(stream grpc.ClientStreamingServer[registryv1.UploadArtifactRequest, registryv1.Artifact]) error {
	first, err := stream.Recv()
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if first == nil {
		first = &registryv1.UploadArtifactRequest{}
	}
	a, err := g.api.UploadArtifact(stream.Context(), &uploadReader{stream: stream, first: first}, first.GetSha256())
	if err != nil {
		return st(err)
	}
	return stream.SendAndClose(&registryv1.Artifact{Sha256: a.SHA256, Size: a.Size})
}

// DownloadArtifact implements the RPC.
func (g *GRPC) DownloadArtifact(r *registryv1.DownloadArtifactRequest, stream grpc.ServerStreamingServer[registryv1.DownloadArtifactResponse]) error {
	rc, a, err := g.api.OpenArtifact(stream.Context(), r.GetSha256())
	if err != nil {
		return st(err)
	}
	defer rc.Close()
	buf := make([]byte, ChunkSize)
	first := true
	for {
		n, err := io.ReadFull(rc, buf)
		if n > 0 || first {
			msg := &registryv1.DownloadArtifactResponse{Data: buf[:n]}
			if first {
				msg.Size, first = a.Size, false
			}
			if serr := stream.Send(msg); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return st(err)
		}
	}
}

// CreateVersion implements the RPC.
func (g *GRPC) CreateVersion(ctx context.Context, r *registryv1.CreateVersionRequest) (*registryv1.Version, error) {
	v, err := g.api.CreateVersion(ctx, CreateVersionRequest{Model: r.GetModel(), Description: r.GetDescription(),
		ArtifactSHA256: r.GetArtifactSha256(), Format: r.GetFormat(), URI: r.GetUri(), Metrics: r.GetMetrics(),
		Tags: r.GetTags(), Lineage: LineageFromProto(r.GetLineage())})
	return VersionToProto(v), st(err)
}

// GetVersion implements the RPC.
func (g *GRPC) GetVersion(ctx context.Context, r *registryv1.GetVersionRequest) (*registryv1.Version, error) {
	v, err := g.api.GetVersion(ctx, r.GetModel(), r.GetVersion())
	return VersionToProto(v), st(err)
}

// ListVersions implements the RPC.
func (g *GRPC) ListVersions(ctx context.Context, r *registryv1.ListVersionsRequest) (*registryv1.ListVersionsResponse, error) {
	vs, err := g.api.ListVersions(ctx, r.GetModel(), r.GetIncludeArchived())
	out := &registryv1.ListVersionsResponse{}
	for _, v := range vs {
		out.Versions = append(out.Versions, VersionToProto(v))
	}
	return out, st(err)
}

// UpdateVersion implements the RPC.
func (g *GRPC) UpdateVersion(ctx context.Context, r *registryv1.UpdateVersionRequest) (*registryv1.Version, error) {
	v, err := g.api.UpdateVersion(ctx, UpdateVersionRequest{Model: r.GetModel(), Version: r.GetVersion(),
		Metrics: r.GetMetrics(), Tags: r.GetTags(), Description: r.Description})
	return VersionToProto(v), st(err)
}

// ArchiveVersion implements the RPC.
func (g *GRPC) ArchiveVersion(ctx context.Context, r *registryv1.ArchiveVersionRequest) (*registryv1.Version, error) {
	v, err := g.api.ArchiveVersion(ctx, r.GetModel(), r.GetVersion())
	return VersionToProto(v), st(err)
}

// SetAlias implements the RPC.
func (g *GRPC) SetAlias(ctx context.Context, r *registryv1.SetAliasRequest) (*registryv1.Alias, error) {
	a, err := g.api.SetAlias(ctx, SetAliasRequest{Model: r.GetModel(), Alias: r.GetAlias(), Version: r.GetVersion(), IfMatch: r.GetIfMatch(),
		Force: r.GetForce(), Reason: r.GetReason()})
	return AliasToProto(a), st(err)
}

// GetAlias implements the RPC.
func (g *GRPC) GetAlias(ctx context.Context, r *registryv1.GetAliasRequest) (*registryv1.Alias, error) {
	a, err := g.api.GetAlias(ctx, r.GetModel(), r.GetAlias())
	return AliasToProto(a), st(err)
}

// DeleteAlias implements the RPC.
func (g *GRPC) DeleteAlias(ctx context.Context, r *registryv1.DeleteAliasRequest) (*registryv1.DeleteAliasResponse, error) {
	return &registryv1.DeleteAliasResponse{}, st(g.api.DeleteAlias(ctx, r.GetModel(), r.GetAlias(), r.GetIfMatch()))
}

// SetTraffic implements the RPC.
func (g *GRPC) SetTraffic(ctx context.Context, r *registryv1.SetTrafficRequest) (*registryv1.Model, error) {
	m, err := g.api.SetTraffic(ctx, r.GetModel(), TrafficFromProto(r.GetTraffic()))
	return ModelToProto(m), st(err)
}

// ListAudit implements the RPC.
func (g *GRPC) ListAudit(ctx context.Context, r *registryv1.ListAuditRequest) (*registryv1.ListAuditResponse, error) {
	es, err := g.api.ListAudit(ctx, r.GetModel(), r.GetAfterId(), int(r.GetLimit()))
	out := &registryv1.ListAuditResponse{}
	for _, e := range es {
		out.Entries = append(out.Entries, AuditToProto(e))
	}
	return out, st(err)
}
