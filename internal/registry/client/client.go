// Package client implements registry.API over gRPC, so a service in another
// process uses the registry exactly as one in the same process does. Errors
// come back as the same problem kinds the service returned.
package client

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"

	registryv1 "github.com/plinthai/plinth/api/gen/registry/v1"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
)

// Client is a registry.API over a gRPC connection. It is safe for
// concurrent use; the caller owns and closes the connection.
type Client struct {
	rpc registryv1.RegistryServiceClient
}

var _ registry.API = (*Client)(nil)

// New returns a client over conn.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: registryv1.NewRegistryServiceClient(conn)}
}

func e(err error) error { return problem.FromGRPC(err) }

// CreateModel implements registry.API.
func (c *Client) CreateModel(ctx context.Context, req registry.CreateModelRequest) (registry.Model, error) {
	m, err := c.rpc.CreateModel(ctx, &registryv1.CreateModelRequest{Name: req.Name, Description: req.Description, Tags: req.Tags})
	if err != nil {
		return registry.Model{}, e(err)
	}
	return registry.ModelFromProto(m), nil
}

// GetModel implements registry.API.
func (c *Client) GetModel(ctx context.Context, name string) (registry.Model, error) {
	m, err := c.rpc.GetModel(ctx, &registryv1.GetModelRequest{Name: name})
	if err != nil {
		return registry.Model{}, e(err)
	}
	return registry.ModelFromProto(m), nil
}

// ListModels implements registry.API.
func (c *Client) ListModels(ctx context.Context, pageSize int, pageToken string) ([]registry.Model, string, error) {
	resp, err := c.rpc.ListModels(ctx, &registryv1.ListModelsRequest{PageSize: int32(min(pageSize, 1<<30)), PageToken: pageToken})
	if err != nil {
		return nil, "", e(err)
	}
	var out []registry.Model
	for _, m := range resp.GetModels() {
		out = append(out, registry.ModelFromProto(m))
	}
	return out, resp.GetNextPageToken(), nil
}

// UploadArtifact implements registry.API, streaming r in chunks.
func (c *Client) UploadArtifact(ctx context.Context, r io.Reader, wantSHA256 string) (registry.Artifact, error) {
	stream, err := c.rpc.UploadArtifact(ctx)
	if err != nil {
		return registry.Artifact{}, e(err)
	}
	buf := make([]byte, registry.ChunkSize)
	first := true
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 || first {
			msg := &registryv1.UploadArtifactRequest{Data: buf[:n]}
			if first {
				msg.Sha256, first = wantSHA256, false
			}
			if err := stream.Send(msg); err != nil {
				// The server ended the stream (for example: too large);
				// CloseAndRecv returns its status.
				break
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			_ = stream.CloseSend()
			return registry.Artifact{}, rerr
		}
	}
	a, err := stream.CloseAndRecv()
	if err != nil {
		return registry.Artifact{}, e(err)
	}
	return registry.Artifact{SHA256: a.GetSha256(), Size: a.GetSize()}, nil
}

// OpenArtifact implements registry.API. Closing the reader ends the stream.
func (c *Client) OpenArtifact(ctx context.Context, sha256 string) (io.ReadCloser, registry.Artifact, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := c.rpc.DownloadArtifact(ctx, &registryv1.DownloadArtifactRequest{Sha256: sha256})
	if err != nil {
		cancel()
		return nil, registry.Artifact{}, e(err)
	}
	first, err := stream.Recv()
	if err != nil {
		cancel()
		return nil, registry.Artifact{}, e(err)
	}
	return &download{stream: stream, buf: first.GetData(), cancel: cancel},
		registry.Artifact{SHA256: sha256, Size: first.GetSize()}, nil
}

type download struct {
	stream grpc.ServerStreamingClient[registryv1.DownloadArtifactResponse]
	buf    []byte
	cancel context.CancelFunc
}

func (d *download) Read(p []byte) (int, error) {
	for len(d.buf) == 0 {
		msg, err := d.stream.Recv()
		if errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		if err != nil {
			return 0, e(err)
		}
		d.buf = msg.GetData()
	}
	n := copy(p, d.buf)
	d.buf = d.buf[n:]
	return n, nil
}

func (d *download) Close() error { d.cancel(); return nil }

// CreateVersion implements registry.API.
func (c *Client) CreateVersion(ctx context.Context, req registry.CreateVersionRequest) (registry.Version, error) {
	v, err := c.rpc.CreateVersion(ctx, &registryv1.CreateVersionRequest{Model: req.Model, Description: req.Description,
		ArtifactSha256: req.ArtifactSHA256, Format: req.Format, Uri: req.URI, Metrics: req.Metrics, Tags: req.Tags,
		Lineage: registry.LineageToProto(req.Lineage)})
	if err != nil {
		return registry.Version{}, e(err)
	}
	return registry.VersionFromProto(v), nil
}

// GetVersion implements registry.API.
func (c *Client) GetVersion(ctx context.Context, model string, version int64) (registry.Version, error) {
	v, err := c.rpc.GetVersion(ctx, &registryv1.GetVersionRequest{Model: model, Version: version})
	if err != nil {
		return registry.Version{}, e(err)
	}
	return registry.VersionFromProto(v), nil
}

// ListVersions implements registry.API.
func (c *Client) ListVersions(ctx context.Context, model string, includeArchived bool) ([]registry.Version, error) {
	resp, err := c.rpc.ListVersions(ctx, &registryv1.ListVersionsRequest{Model: model, IncludeArchived: includeArchived})
	if err != nil {
		return nil, e(err)
	}
	var out []registry.Version
	for _, v := range resp.GetVersions() {
		out = append(out, registry.VersionFromProto(v))
	}
	return out, nil
}

// UpdateVersion implements registry.API.
func (c *Client) UpdateVersion(ctx context.Context, req registry.UpdateVersionRequest) (registry.Version, error) {
	v, err := c.rpc.UpdateVersion(ctx, &registryv1.UpdateVersionRequest{Model: req.Model, Version: req.Version,
		Metrics: req.Metrics, Tags: req.Tags, Description: req.Description})
	if err != nil {
		return registry.Version{}, e(err)
	}
	return registry.VersionFromProto(v), nil
}

// ArchiveVersion implements registry.API.
func (c *Client) ArchiveVersion(ctx context.Context, model string, version int64) (registry.Version, error) {
	v, err := c.rpc.ArchiveVersion(ctx, &registryv1.ArchiveVersionRequest{Model: model, Version: version})
	if err != nil {
		return registry.Version{}, e(err)
	}
	return registry.VersionFromProto(v), nil
}

// SetAlias implements registry.API.
func (c *Client) SetAlias(ctx context.Context, req registry.SetAliasRequest) (registry.Alias, error) {
	a, err := c.rpc.SetAlias(ctx, &registryv1.SetAliasRequest{Model: req.Model, Alias: req.Alias, Version: req.Version, IfMatch: req.IfMatch,
		Force: req.Force, Reason: req.Reason})
	if err != nil {
		return registry.Alias{}, e(err)
	}
	return registry.AliasFromProto(a), nil
}

// GetAlias implements registry.API.
func (c *Client) GetAlias(ctx context.Context, model, alias string) (registry.Alias, error) {
	a, err := c.rpc.GetAlias(ctx, &registryv1.GetAliasRequest{Model: model, Alias: alias})
	if err != nil {
		return registry.Alias{}, e(err)
	}
	return registry.AliasFromProto(a), nil
}

// DeleteAlias implements registry.API.
func (c *Client) DeleteAlias(ctx context.Context, model, alias, ifMatch string) error {
	_, err := c.rpc.DeleteAlias(ctx, &registryv1.DeleteAliasRequest{Model: model, Alias: alias, IfMatch: ifMatch})
	return e(err)
}

// SetTraffic implements registry.API.
func (c *Client) SetTraffic(ctx context.Context, model string, t registry.Traffic) (registry.Model, error) {
	m, err := c.rpc.SetTraffic(ctx, &registryv1.SetTrafficRequest{Model: model, Traffic: registry.TrafficToProto(t)})
	if err != nil {
		return registry.Model{}, e(err)
	}
	return registry.ModelFromProto(m), nil
}

// ListAudit implements registry.API.
func (c *Client) ListAudit(ctx context.Context, model string, afterID int64, limit int) ([]registry.AuditEntry, error) {
	resp, err := c.rpc.ListAudit(ctx, &registryv1.ListAuditRequest{Model: model, AfterId: afterID, Limit: int32(min(limit, 1<<30))})
	if err != nil {
		return nil, e(err)
	}
	var out []registry.AuditEntry
	for _, a := range resp.GetEntries() {
		out = append(out, registry.AuditFromProto(a))
	}
	return out, nil
}
