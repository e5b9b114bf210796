package registry

import (
	"github.com/plinthai/plinth/internal/platform/pbtime"

	registryv1 "github.com/plinthai/plinth/api/gen/registry/v1"
)

// Conversions between the domain types and their protobuf messages, shared
// by the gRPC server (grpc.go) and client (client/).

func nilIfEmpty[V any](m map[string]V) map[string]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

// ModelToProto converts a Model.
func ModelToProto(m Model) *registryv1.Model {
	return &registryv1.Model{Name: m.Name, Description: m.Description, Tags: m.Tags, LatestVersion: m.LatestVersion,
		Aliases: m.Aliases, CreatedAt: pbtime.To(m.CreatedAt), UpdatedAt: pbtime.To(m.UpdatedAt), CreatedBy: m.CreatedBy,
		Traffic: TrafficToProto(m.Traffic)}
}

// TrafficToProto converts a Traffic.
func TrafficToProto(t Traffic) *registryv1.Traffic {
	return &registryv1.Traffic{ChallengerPercent: t.ChallengerPercent, Shadow: t.Shadow}
}

// TrafficFromProto converts a Traffic message.
func TrafficFromProto(p *registryv1.Traffic) Traffic {
	return Traffic{ChallengerPercent: p.GetChallengerPercent(), Shadow: p.GetShadow()}
}

// ModelFromProto converts a Model message.
func ModelFromProto(p *registryv1.Model) Model {
	return Model{Name: p.GetName(), Description: p.GetDescription(), Tags: nilIfEmpty(p.GetTags()),
		LatestVersion: p.GetLatestVersion(), Aliases: nilIfEmpty(p.GetAliases()), CreatedAt: pbtime.From(p.GetCreatedAt()),
		UpdatedAt: pbtime.From(p.GetUpdatedAt()), CreatedBy: p.GetCreatedBy(), Traffic: TrafficFromProto(p.GetTraffic())}
}

// LineageToProto converts a Lineage.
func LineageToProto(l Lineage) *registryv1.Lineage {
	return &registryv1.Lineage{Dataset: l.Dataset, ParentVersion: l.ParentVersion, Params: l.Params,
		CodeVersion: l.CodeVersion, JobId: l.JobID}
}

// LineageFromProto converts a Lineage message.
func LineageFromProto(p *registryv1.Lineage) Lineage {
	return Lineage{Dataset: p.GetDataset(), ParentVersion: p.GetParentVersion(), Params: nilIfEmpty(p.GetParams()),
		CodeVersion: p.GetCodeVersion(), JobID: p.GetJobId()}
}

// VersionToProto converts a Version.
func VersionToProto(v Version) *registryv1.Version {
	return &registryv1.Version{Model: v.Model, Version: v.Version, Description: v.Description,
		ArtifactSha256: v.ArtifactSHA256, ArtifactSize: v.ArtifactSize, Format: v.Format, Uri: v.URI,
		Metrics: v.Metrics, Tags: v.Tags, Lineage: LineageToProto(v.Lineage), Status: v.Status,
		CreatedAt: pbtime.To(v.CreatedAt), CreatedBy: v.CreatedBy}
}

// VersionFromProto converts a Version message.
func VersionFromProto(p *registryv1.Version) Version {
	return Version{Model: p.GetModel(), Version: p.GetVersion(), Description: p.GetDescription(),
		ArtifactSHA256: p.GetArtifactSha256(), ArtifactSize: p.GetArtifactSize(), Format: p.GetFormat(), URI: p.GetUri(),
		Metrics: nilIfEmpty(p.GetMetrics()), Tags: nilIfEmpty(p.GetTags()), Lineage: LineageFromProto(p.GetLineage()),
		Status: p.GetStatus(), CreatedAt: pbtime.From(p.GetCreatedAt()), CreatedBy: p.GetCreatedBy()}
}

// AliasToProto converts an Alias.
func AliasToProto(a Alias) *registryv1.Alias {
	return &registryv1.Alias{Model: a.Model, Name: a.Name, Version: a.Version, Revision: a.Revision,
		UpdatedAt: pbtime.To(a.UpdatedAt), UpdatedBy: a.UpdatedBy}
}

// AliasFromProto converts an Alias message.
func AliasFromProto(p *registryv1.Alias) Alias {
	return Alias{Model: p.GetModel(), Name: p.GetName(), Version: p.GetVersion(), Revision: p.GetRevision(),
		UpdatedAt: pbtime.From(p.GetUpdatedAt()), UpdatedBy: p.GetUpdatedBy()}
}

// AuditToProto converts an AuditEntry.
func AuditToProto(e AuditEntry) *registryv1.AuditEntry {
	return &registryv1.AuditEntry{Id: e.ID, At: pbtime.To(e.At), Actor: e.Actor, Action: e.Action, Model: e.Model,
		Version: e.Version, Detail: e.Detail}
}

// AuditFromProto converts an AuditEntry message.
func AuditFromProto(p *registryv1.AuditEntry) AuditEntry {
	return AuditEntry{ID: p.GetId(), At: pbtime.From(p.GetAt()), Actor: p.GetActor(), Action: p.GetAction(),
		Model: p.GetModel(), Version: p.GetVersion(), Detail: p.GetDetail()}
}
