package registry

import (
	registryv1 "github.com/plinthai/plinth/api/gen/registry/v1"
	"github.com/plinthai/plinth/internal/platform/pbtime"
	"github.com/plinthai/plinth/internal/wire"
)

// Conversions of jobs and gates, shared by the gRPC server and client.

// TrainDataToProto converts a wire.TrainData.
func TrainDataToProto(d wire.TrainData) *registryv1.TrainData {
	return &registryv1.TrainData{FileSha256: d.FileSHA256, Label: d.Label, View: d.View, From: pbtime.To(d.From), To: pbtime.To(d.To),
		Split: d.Split, Holdout: d.Holdout}
}

// TrainDataFromProto converts a TrainData message.
func TrainDataFromProto(p *registryv1.TrainData) wire.TrainData {
	return wire.TrainData{FileSHA256: p.GetFileSha256(), Label: p.GetLabel(), View: p.GetView(), From: pbtime.From(p.GetFrom()),
		To: pbtime.From(p.GetTo()), Split: p.GetSplit(), Holdout: p.GetHoldout()}
}

// JobToProto converts a Job.
func JobToProto(j Job) *registryv1.Job {
	return &registryv1.Job{Id: j.ID, Model: j.Model, Algorithm: j.Algorithm, Params: j.Params, Data: TrainDataToProto(j.Data),
		Reason: j.Reason, Status: j.Status, Progress: j.Progress, Message: j.Message, Error: j.Error,
		Attempts: int32(min(j.Attempts, 1<<30)), Version: j.Version, CreatedAt: pbtime.To(j.CreatedAt), UpdatedAt: pbtime.To(j.UpdatedAt),
		CreatedBy: j.CreatedBy}
}

// JobFromProto converts a Job message.
func JobFromProto(p *registryv1.Job) Job {
	return Job{ID: p.GetId(), Model: p.GetModel(), Algorithm: p.GetAlgorithm(), Params: nilIfEmpty(p.GetParams()),
		Data: TrainDataFromProto(p.GetData()), Reason: p.GetReason(), Status: p.GetStatus(), Progress: p.GetProgress(),
		Message: p.GetMessage(), Error: p.GetError(), Attempts: int(p.GetAttempts()), Version: p.GetVersion(),
		CreatedAt: pbtime.From(p.GetCreatedAt()), UpdatedAt: pbtime.From(p.GetUpdatedAt()), CreatedBy: p.GetCreatedBy()}
}

// GatePolicyToProto converts a GatePolicy.
func GatePolicyToProto(g GatePolicy) *registryv1.GatePolicy {
	return &registryv1.GatePolicy{Model: g.Model, Floors: g.Floors, MaxRegression: g.MaxRegression,
		LatencyP99Us: g.LatencyP99US, SkipSchemaCheck: g.SkipSchemaCheck, AutoRollout: g.AutoRollout,
		Revision: g.Revision, UpdatedAt: pbtime.To(g.UpdatedAt), UpdatedBy: g.UpdatedBy}
}

// GatePolicyFromProto converts a GatePolicy message.
func GatePolicyFromProto(p *registryv1.GatePolicy) GatePolicy {
	return GatePolicy{Model: p.GetModel(), Floors: nilIfEmpty(p.GetFloors()), MaxRegression: nilIfEmpty(p.GetMaxRegression()),
		LatencyP99US: p.GetLatencyP99Us(), SkipSchemaCheck: p.GetSkipSchemaCheck(), AutoRollout: p.GetAutoRollout(),
		Revision: p.GetRevision(), UpdatedAt: pbtime.From(p.GetUpdatedAt()), UpdatedBy: p.GetUpdatedBy()}
}

// GateRecordToProto converts a GateRecord.
func GateRecordToProto(r GateRecord) *registryv1.GateRecord {
	return &registryv1.GateRecord{Model: r.Model, Version: r.Version, Passed: r.Passed, Failures: r.Failures,
		Checks: r.Checks, Champion: r.Champion, PolicyRevision: r.PolicyRevision, EvaluatedAt: pbtime.To(r.EvaluatedAt),
		EvaluatedBy: r.EvaluatedBy}
}

// GateRecordFromProto converts a GateRecord message.
func GateRecordFromProto(p *registryv1.GateRecord) GateRecord {
	return GateRecord{Model: p.GetModel(), Version: p.GetVersion(), Passed: p.GetPassed(), Failures: p.GetFailures(),
		Checks: p.GetChecks(), Champion: p.GetChampion(), PolicyRevision: p.GetPolicyRevision(),
		EvaluatedAt: pbtime.From(p.GetEvaluatedAt()), EvaluatedBy: p.GetEvaluatedBy()}
}
