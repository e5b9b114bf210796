package monitor

import (
	"github.com/plinthai/plinth/internal/platform/pbtime"
	"time"

	monitorv1 "github.com/plinthai/plinth/api/gen/monitor/v1"
	"github.com/plinthai/plinth/internal/wire"
)

// Conversions between the domain types and their protobuf messages, shared
// by the gRPC server (grpc.go) and client (client/).

// VerdictToProto converts a verdict to its message.
func VerdictToProto(v wire.CanaryVerdict) *monitorv1.CanaryVerdict {
	return &monitorv1.CanaryVerdict{Model: v.Model, Champion: v.Champion, Challenger: v.Challenger, Decision: v.Decision,
		Reason: v.Reason, Metric: v.Metric, ChampionValue: v.ChampionValue, ChallengerValue: v.ChallengerValue,
		ChampionSamples: int64(v.ChampionSamples), ChallengerSamples: int64(v.ChallengerSamples),
		ChampionP99Ms: v.ChampionP99MS, ChallengerP99Ms: v.ChallengerP99MS, At: pbtime.To(v.At)}
}

// VerdictFromProto converts a verdict message back.
func VerdictFromProto(m *monitorv1.CanaryVerdict) wire.CanaryVerdict {
	return wire.CanaryVerdict{Model: m.GetModel(), Champion: m.GetChampion(), Challenger: m.GetChallenger(),
		Decision: m.GetDecision(), Reason: m.GetReason(), Metric: m.GetMetric(), ChampionValue: m.GetChampionValue(),
		ChallengerValue: m.GetChallengerValue(), ChampionSamples: int(m.GetChampionSamples()),
		ChallengerSamples: int(m.GetChallengerSamples()), ChampionP99MS: m.GetChampionP99Ms(),
		ChallengerP99MS: m.GetChallengerP99Ms(), At: pbtime.From(m.GetAt())}
}

// StatusToProto converts a model status to its message.
func StatusToProto(s ModelStatus) *monitorv1.ModelStatus {
	out := &monitorv1.ModelStatus{Model: s.Model, WindowNs: int64(s.Window), At: pbtime.To(s.At)}
	for _, v := range s.Versions {
		pv := &monitorv1.VersionStats{Model: v.Model, Version: v.Version, Arm: v.Arm, Predictions: v.Predictions,
			Errors: v.Errors, ErrorRate: v.ErrorRate, P50Ms: v.P50MS, P99Ms: v.P99MS, Samples: v.Samples,
			Positives: v.Positives, Quality: v.Quality, DriftRows: v.DriftRows}
		for _, d := range v.Drift {
			pv.Drift = append(pv.Drift, &monitorv1.FeatureDrift{Feature: d.Feature, Psi: d.PSI, Ks: d.KS})
		}
		out.Versions = append(out.Versions, pv)
	}
	return out
}

// StatusFromProto converts a model status message back.
func StatusFromProto(m *monitorv1.ModelStatus) ModelStatus {
	out := ModelStatus{Model: m.GetModel(), Window: time.Duration(m.GetWindowNs()), At: pbtime.From(m.GetAt()), Versions: []VersionStats{}}
	for _, pv := range m.GetVersions() {
		v := VersionStats{Model: pv.GetModel(), Version: pv.GetVersion(), Arm: pv.GetArm(), Predictions: pv.GetPredictions(),
			Errors: pv.GetErrors(), ErrorRate: pv.GetErrorRate(), P50MS: pv.GetP50Ms(), P99MS: pv.GetP99Ms(),
			Samples: pv.GetSamples(), Positives: pv.GetPositives(), Quality: pv.GetQuality(), DriftRows: pv.GetDriftRows()}
		if v.Quality == nil {
			v.Quality = map[string]float64{}
		}
		for _, d := range pv.GetDrift() {
			v.Drift = append(v.Drift, FeatureDrift{Feature: d.GetFeature(), PSI: d.GetPsi(), KS: d.GetKs()})
		}
		out.Versions = append(out.Versions, v)
	}
	return out
}
