package registrytest

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/ml/artifact"
)

func testGateFloorsAndLatency(t *testing.T, api registry.API) {
	ctx := context.Background()
	must(api.CreateModel(ctx, registry.CreateModelRequest{Name: "floors"}))(t)
	p := must(api.SetGatePolicy(ctx, registry.GatePolicy{Model: "floors", SkipSchemaCheck: true, Floors: map[string]float64{"auprc": 0.7, "rmse": 2},
		LatencyP99US: 500}))(t)
	if p.Revision != 1 || p.UpdatedAt.IsZero() {
		t.Errorf("policy = %+v, want revision 1 and a time", p)
	}
	if got := must(api.GetGatePolicy(ctx, "floors"))(t); !cmp.Equal(p, got) {
		t.Errorf("GetGatePolicy (-set +got):\n%s", cmp.Diff(p, got))
	}
	tests := []struct {
		name     string
		metrics  map[string]float64
		failures int
	}{
		{"all good", map[string]float64{"auprc": 0.8, "rmse": 1.5, registry.MetricPredictP99US: 120}, 0},
		{"low auprc", map[string]float64{"auprc": 0.6, "rmse": 1.5, registry.MetricPredictP99US: 120}, 1},
		{"high rmse and slow", map[string]float64{"auprc": 0.9, "rmse": 2.5, registry.MetricPredictP99US: 900}, 2},
		{"missing everything", nil, 3},
	}
	for _, tt := range tests {
		v := versionWith(t, api, "floors", tt.metrics)
		r := must(api.EvaluateGate(ctx, "floors", v))(t)
		if r.Passed != (tt.failures == 0) || len(r.Failures) != tt.failures || r.PolicyRevision != 1 {
			t.Errorf("%s: record %+v, want %d failures", tt.name, r, tt.failures)
		}
		if got := must(api.GetGateRecord(ctx, "floors", v))(t); !cmp.Equal(r, got, ignoreGateTimes) {
			t.Errorf("%s: GetGateRecord (-evaluated +got):\n%s", tt.name, cmp.Diff(r, got, ignoreGateTimes))
		}
		_, err := api.SetAlias(ctx, registry.SetAliasRequest{Model: "floors", Alias: registry.AliasChampion, Version: v})
		if tt.failures == 0 && err != nil {
			t.Errorf("%s: champion refused after a passed gate: %v", tt.name, err)
		}
		if tt.failures > 0 {
			wantErr(t, tt.name+": champion after a failed gate", err, problem.ErrConflict, "")
		}
	}
	if champ := must(api.GetAlias(ctx, "floors", registry.AliasChampion))(t); champ.Version != 1 {
		t.Errorf("champion is version %d, want 1 (the only one that passed)", champ.Version)
	}
	_, err := api.SetGatePolicy(ctx, registry.GatePolicy{Model: "floors", MaxRegression: map[string]float64{"auprc": -1}})
	wantErr(t, "negative epsilon", err, problem.ErrInvalid, "max_regression.auprc")
	_, err = api.GetGateRecord(ctx, "floors", 99)
	wantErr(t, "record of unknown version", err, problem.ErrNotFound, "")
	_, err = api.SetAlias(ctx, registry.SetAliasRequest{Model: "floors", Alias: registry.AliasChampion, Version: 2, Force: true, Reason: "hotfix"})
	wantErr(t, "force without admin scope", err, problem.ErrForbidden, "")
}

func testGateRelative(t *testing.T, api registry.API) {
	ctx := context.Background()
	must(api.CreateModel(ctx, registry.CreateModelRequest{Name: "rel"}))(t)
	must(api.SetGatePolicy(ctx, registry.GatePolicy{Model: "rel", SkipSchemaCheck: true,
		MaxRegression: map[string]float64{"auprc": 0.01, "rmse": 0.1}}))(t)
	v1 := versionWith(t, api, "rel", map[string]float64{"auprc": 0.8, "rmse": 1})
	if r := passGate(t, api, "rel", v1); r.Champion != 0 {
		t.Errorf("first version compared with champion %d, want none", r.Champion)
	}
	must(api.SetAlias(ctx, registry.SetAliasRequest{Model: "rel", Alias: registry.AliasChampion, Version: v1}))(t)
	cv := float64(v1)
	tests := []struct {
		name    string
		metrics map[string]float64
		pass    bool
	}{
		{"within epsilon", map[string]float64{"auprc": 0.795, "champion:auprc": 0.8, "rmse": 1.05, "champion:rmse": 1, registry.MetricChampionVersion: cv}, true},
		{"worse auprc", map[string]float64{"auprc": 0.7, "champion:auprc": 0.8, "rmse": 1, "champion:rmse": 1, registry.MetricChampionVersion: cv}, false},
		{"worse rmse", map[string]float64{"auprc": 0.9, "champion:auprc": 0.8, "rmse": 1.5, "champion:rmse": 1, registry.MetricChampionVersion: cv}, false},
		{"other champion", map[string]float64{"auprc": 0.9, "champion:auprc": 0.8, "rmse": 1, "champion:rmse": 1, registry.MetricChampionVersion: 99}, false},
		{"no champion figures", map[string]float64{"auprc": 0.9, "rmse": 1, registry.MetricChampionVersion: cv}, false},
	}
	for _, tt := range tests {
		v := versionWith(t, api, "rel", tt.metrics)
		r := must(api.EvaluateGate(ctx, "rel", v))(t)
		if r.Passed != tt.pass || r.Champion != v1 {
			t.Errorf("%s: passed %v against champion %d (failures %v), want %v against %d", tt.name, r.Passed, r.Champion, r.Failures, tt.pass, v1)
		}
	}
}

// plinthArtifact uploads a Plinth artifact whose header declares schema.
func plinthArtifact(t *testing.T, api registry.API, fields ...artifact.Field) string {
	t.Helper()
	data, err := artifact.Marshal(artifact.Header{Kind: "test", KindVersion: 1, Schema: fields}, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	return upload(t, api, data).SHA256
}

func testGateSchema(t *testing.T, api registry.API) {
	ctx := context.Background()
	must(api.CreateModel(ctx, registry.CreateModelRequest{Name: "schema"}))(t)
	f := func(name, typ string) artifact.Field { return artifact.Field{Name: name, Type: typ} }
	create := func(sha string) int64 {
		return must(api.CreateVersion(ctx, registry.CreateVersionRequest{Model: "schema", ArtifactSHA256: sha}))(t).Version
	}
	champ := create(plinthArtifact(t, api, f("amount", "float"), f("country", "category"), f("hour", "int")))
	passGate(t, api, "schema", champ)
	must(api.SetAlias(ctx, registry.SetAliasRequest{Model: "schema", Alias: registry.AliasChampion, Version: champ}))(t)
	tests := []struct {
		name   string
		sha    string
		pass   bool
		reason string
	}{
		{"same inputs", plinthArtifact(t, api, f("amount", "float"), f("country", "category"), f("hour", "int")), true, ""},
		{"fewer inputs", plinthArtifact(t, api, f("amount", "float")), true, ""},
		{"new input", plinthArtifact(t, api, f("amount", "float"), f("merchant", "category")), false, `"merchant" is new`},
		{"changed type", plinthArtifact(t, api, f("amount", "float"), f("hour", "category")), false, "changed type"},
		{"not an artifact", upload(t, api, []byte("opaque bytes")).SHA256, false, "read artifact"},
	}
	for _, tt := range tests {
		r := must(api.EvaluateGate(ctx, "schema", create(tt.sha)))(t)
		if r.Passed != tt.pass || (tt.reason != "" && !strings.Contains(strings.Join(r.Failures, ";"), tt.reason)) {
			t.Errorf("%s: passed %v failures %v, want passed %v mentioning %q", tt.name, r.Passed, r.Failures, tt.pass, tt.reason)
		}
	}
}

// testGateStale moves champion only on a record that is still current:
// a new policy revision or another champion makes it stale.
func testGateStale(t *testing.T, api registry.API) {
	ctx := context.Background()
	must(api.CreateModel(ctx, registry.CreateModelRequest{Name: "stale"}))(t)
	must(api.SetGatePolicy(ctx, registry.GatePolicy{Model: "stale", SkipSchemaCheck: true}))(t)
	v1 := versionWith(t, api, "stale", map[string]float64{"auprc": 0.8})
	v2 := versionWith(t, api, "stale", map[string]float64{"auprc": 0.81})
	passGate(t, api, "stale", v1)
	passGate(t, api, "stale", v2)
	must(api.SetAlias(ctx, registry.SetAliasRequest{Model: "stale", Alias: registry.AliasChampion, Version: v1}))(t)
	_, err := api.SetAlias(ctx, registry.SetAliasRequest{Model: "stale", Alias: registry.AliasChampion, Version: v2})
	wantErr(t, "record evaluated before champion existed", err, problem.ErrConflict, "")
	passGate(t, api, "stale", v2)
	must(api.SetGatePolicy(ctx, registry.GatePolicy{Model: "stale", SkipSchemaCheck: true, Floors: map[string]float64{"auprc": 0.5}}))(t)
	_, err = api.SetAlias(ctx, registry.SetAliasRequest{Model: "stale", Alias: registry.AliasChampion, Version: v2})
	wantErr(t, "record under an older policy", err, problem.ErrConflict, "")
	passGate(t, api, "stale", v2)
	must(api.SetAlias(ctx, registry.SetAliasRequest{Model: "stale", Alias: registry.AliasChampion, Version: v2}))(t)
	// Setting champion to the version it is already needs no new record.
	must(api.SetAlias(ctx, registry.SetAliasRequest{Model: "stale", Alias: registry.AliasChampion, Version: v2}))(t)
}
