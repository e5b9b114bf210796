// Package registrytest is the behaviour suite of registry.API. Every
// implementation (the in-process Service on each SQL backend, the gRPC
// client) must pass it unchanged: that is the contract test.
package registrytest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
)

// MaxArtifactBytes is the artifact limit the factory must configure.
const MaxArtifactBytes = 1 << 20

// Factory returns a fresh, empty registry for one test.
type Factory func(t *testing.T) registry.API

// Run runs the whole suite.
func Run(t *testing.T, newAPI Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, registry.API)
	}{
		{"Models", testModels},
		{"ListModelsPages", testListModelsPages},
		{"Artifacts", testArtifacts},
		{"Versions", testVersions},
		{"Aliases", testAliases},
		{"Archive", testArchive},
		{"ConcurrentVersions", testConcurrentVersions},
		{"Audit", testAudit},
		{"Traffic", testTraffic},
		{"Jobs", testJobs},
		{"JobCancel", testJobCancel},
		{"VersionPerJob", testVersionPerJob},
		{"GateFloorsAndLatency", testGateFloorsAndLatency},
		{"GateRelative", testGateRelative},
		{"GateSchema", testGateSchema},
		{"GateStale", testGateStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newAPI(t)) })
	}
}

// wantErr fails unless err is of kind and, when field is not empty, names it.
func wantErr(t *testing.T, what string, err, kind error, field string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: got error %v, want kind %v", what, err, kind)
		return
	}
	if field != "" && problem.FieldOf(err) != field {
		t.Errorf("%s: got field %q, want %q (error %v)", what, problem.FieldOf(err), field, err)
	}
}

// must returns a check of a call's result: must(api.GetModel(ctx, n))(t)
// fails the test on error and returns the value.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func upload(t *testing.T, api registry.API, data []byte) registry.Artifact {
	t.Helper()
	return must(api.UploadArtifact(context.Background(), bytes.NewReader(data), hexSHA(data)))(t)
}

func testModels(t *testing.T, api registry.API) {
	ctx := context.Background()
	m := must(api.CreateModel(ctx, registry.CreateModelRequest{Name: "fraud", Description: "cards", Tags: map[string]string{"team": "risk"}}))(t)
	if m.Name != "fraud" || m.CreatedAt.IsZero() || m.LatestVersion != 0 {
		t.Errorf("created model = %+v", m)
	}
	got := must(api.GetModel(ctx, "fraud"))(t)
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("GetModel (-created +got):\n%s", diff)
	}
	_, err := api.CreateModel(ctx, registry.CreateModelRequest{Name: "fraud"})
	wantErr(t, "duplicate", err, problem.ErrConflict, "")
	for _, bad := range []string{"", "Fraud", "-x", "a b", "a/b", string(make([]byte, 64))} {
		_, err := api.CreateModel(ctx, registry.CreateModelRequest{Name: bad})
		wantErr(t, fmt.Sprintf("name %q", bad), err, problem.ErrInvalid, "name")
	}
	_, err = api.GetModel(ctx, "nope")
	wantErr(t, "unknown model", err, problem.ErrNotFound, "")
	_, err = api.CreateModel(ctx, registry.CreateModelRequest{Name: "x.y-z_0"})
	if err != nil {
		t.Errorf("name with dot, dash, underscore: %v", err)
	}
}

func testListModelsPages(t *testing.T, api registry.API) {
	ctx := context.Background()
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("m%d", i)
		must(api.CreateModel(ctx, registry.CreateModelRequest{Name: name}))(t)
		want = append(want, name)
	}
	var got []string
	token := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		ms, next, err := api.ListModels(ctx, 2, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			got = append(got, m.Name)
		}
		if next == "" {
			break
		}
		token = next
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paged names (-want +got):\n%s", diff)
	}
	_, _, err := api.ListModels(ctx, 0, "%%%")
	wantErr(t, "bad token", err, problem.ErrInvalid, "page_token")
}

func testArtifacts(t *testing.T, api registry.API) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("plinth-artifact-"), 40_000) // 640 KB: several stream chunks
	a := upload(t, api, data)
	if a.SHA256 != hexSHA(data) || a.Size != int64(len(data)) {
		t.Errorf("artifact = %+v", a)
	}
	rc, info, err := api.OpenArtifact(ctx, a.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(back, data) || info.Size != a.Size {
		t.Errorf("download: %d bytes (size %d), err %v; want %d bytes", len(back), info.Size, err, len(data))
	}
	// Without a declared checksum the server computes it.
	again := must(api.UploadArtifact(ctx, bytes.NewReader(data), ""))(t)
	if again != a {
		t.Errorf("re-upload = %+v, want %+v", again, a)
	}
	other := []byte("something else")
	_, err = api.UploadArtifact(ctx, bytes.NewReader(other), hexSHA([]byte("not this")))
	wantErr(t, "checksum mismatch", err, problem.ErrUnprocessable, "sha256")
	_, _, err = api.OpenArtifact(ctx, hexSHA(other))
	wantErr(t, "mismatched upload must store nothing", err, problem.ErrNotFound, "")
	big := make([]byte, MaxArtifactBytes+1)
	_, err = api.UploadArtifact(ctx, bytes.NewReader(big), "")
	wantErr(t, "over limit", err, problem.ErrTooLarge, "")
	_, _, err = api.OpenArtifact(ctx, hexSHA(big))
	wantErr(t, "oversize upload must store nothing", err, problem.ErrNotFound, "")
	_, _, err = api.OpenArtifact(ctx, "xyz")
	wantErr(t, "bad sha", err, problem.ErrInvalid, "sha256")
}

func testVersions(t *testing.T, api registry.API) {
	ctx := context.Background()
	must(api.CreateModel(ctx, registry.CreateModelRequest{Name: "fraud"}))(t)
	a := upload(t, api, []byte("model one"))
	v1 := must(api.CreateVersion(ctx, registry.CreateVersionRequest{Model: "fraud", ArtifactSHA256: a.SHA256,
		Metrics: map[string]float64{"auprc": 0.8}, Lineage: registry.Lineage{Dataset: "s3://d/1", Params: map[string]string{"eta": "0.1"}, CodeVersion: "abc"}}))(t)
	if v1.Version != 1 || v1.Format != registry.FormatPlinth || v1.ArtifactSize != 9 || v1.Status != registry.StatusActive {
		t.Errorf("v1 = %+v", v1)
	}
	v2 := must(api.CreateVersion(ctx, registry.CreateVersionRequest{Model: "fraud", Format: registry.FormatRemote,
		URI: "http://127.0.0.1:9000/v2/models/fraud", Lineage: registry.Lineage{ParentVersion: 1}}))(t)
	if v2.Version != 2 {
		t.Errorf("second version numbered %d, want 2", v2.Version)
	}
	got := must(api.GetVersion(ctx, "fraud", 1))(t)
	if diff := cmp.Diff(v1, got); diff != "" {
		t.Errorf("GetVersion (-created +got):\n%s", diff)
	}
	if m := must(api.GetModel(ctx, "fraud"))(t); m.LatestVersion != 2 {
		t.Errorf("latest version = %d, want 2", m.LatestVersion)
	}
	desc := "retrained"
	up := must(api.UpdateVersion(ctx, registry.UpdateVersionRequest{Model: "fraud", Version: 1,
		Metrics: map[string]float64{"auc": 0.95}, Tags: map[string]string{"stage": "prod"}, Description: &desc}))(t)
	if diff := cmp.Diff(map[string]float64{"auprc": 0.8, "auc": 0.95}, up.Metrics); diff != "" {
		t.Errorf("merged metrics (-want +got):\n%s", diff)
	}
	if up.Description != desc || up.Tags["stage"] != "prod" {
		t.Errorf("updated = %+v", up)
	}
	vs := must(api.ListVersions(ctx, "fraud", false))(t)
	if len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 {
		t.Errorf("ListVersions = %+v", vs)
	}

	bad := []struct {
		name  string
		req   registry.CreateVersionRequest
		kind  error
		field string
	}{
		{"unknown model", registry.CreateVersionRequest{Model: "nope", ArtifactSHA256: a.SHA256}, problem.ErrNotFound, ""},
		{"missing artifact", registry.CreateVersionRequest{Model: "fraud", ArtifactSHA256: hexSHA([]byte("never"))}, problem.ErrNotFound, "artifact_sha256"},
		{"bad sha", registry.CreateVersionRequest{Model: "fraud", ArtifactSHA256: "abc"}, problem.ErrInvalid, "artifact_sha256"},
		{"bad format", registry.CreateVersionRequest{Model: "fraud", Format: "onnx", ArtifactSHA256: a.SHA256}, problem.ErrInvalid, "format"},
		{"remote without uri", registry.CreateVersionRequest{Model: "fraud", Format: registry.FormatRemote}, problem.ErrInvalid, "uri"},
		{"unknown parent", registry.CreateVersionRequest{Model: "fraud", ArtifactSHA256: a.SHA256, Lineage: registry.Lineage{ParentVersion: 99}}, problem.ErrNotFound, "lineage.parent_version"},
		{"bad model name", registry.CreateVersionRequest{Model: "Bad", ArtifactSHA256: a.SHA256}, problem.ErrInvalid, "model"},
	}
	for _, tt := range bad {
		_, err := api.CreateVersion(ctx, tt.req)
		wantErr(t, tt.name, err, tt.kind, tt.field)
	}
	if m := must(api.GetModel(ctx, "fraud"))(t); m.LatestVersion != 2 {
		t.Errorf("failed creates moved latest version to %d, want 2", m.LatestVersion)
	}
	_, err := api.GetVersion(ctx, "fraud", 3)
	wantErr(t, "unknown version", err, problem.ErrNotFound, "")
	_, err = api.GetVersion(ctx, "fraud", 0)
	wantErr(t, "version 0", err, problem.ErrInvalid, "version")
	_, err = api.GetVersion(ctx, "nope", 1)
	wantErr(t, "version of unknown model", err, problem.ErrNotFound, "")
}

// passGate evaluates a version's gate and fails the test unless it passed.
func passGate(t *testing.T, api registry.API, model string, version int64) registry.GateRecord {
	t.Helper()
	r := must(api.EvaluateGate(context.Background(), model, version))(t)
	if !r.Passed {
		t.Fatalf("gate of %s v%d failed: %v", model, version, r.Failures)
	}
	return r
}

func twoVersions(t *testing.T, api registry.API, model string) {
	t.Helper()
	ctx := context.Background()
	must(api.CreateModel(ctx, registry.CreateModelRequest{Name: model}))(t)
	for i := range 2 {
		a := upload(t, api, []byte(fmt.Sprintf("%s v%d", model, i+1)))
		must(api.CreateVersion(ctx, registry.CreateVersionRequest{Model: model, ArtifactSHA256: a.SHA256}))(t)
	}
}

func testAliases(t *testing.T, api registry.API) {
	ctx := context.Background()
	twoVersions(t, api, "rec")
	must(api.SetGatePolicy(ctx, registry.GatePolicy{Model: "rec", SkipSchemaCheck: true}))(t)
	passGate(t, api, "rec", 1)
	a1 := must(api.SetAlias(ctx, registry.SetAliasRequest{Model: "rec", Alias: "champion", Version: 1, IfMatch: "0"}))(t)
	if a1.Revision != 1 || a1.Version != 1 {
		t.Errorf("created alias = %+v", a1)
	}
	_, err := api.SetAlias(ctx, registry.SetAliasRequest{Model: "rec", Alias: "champion", Version: 2, IfMatch: "0"})
	wantErr(t, "create-only on existing alias", err, problem.ErrPrecondition, "")
	passGate(t, api, "rec", 2)
	a2 := must(api.SetAlias(ctx, registry.SetAliasRequest{Model: "rec", Alias: "champion", Version: 2, IfMatch: `"1"`}))(t)
	if a2.Revision != 2 || a2.Version != 2 {
		t.Errorf("moved alias = %+v", a2)
	}
	_, err = api.SetAlias(ctx, registry.SetAliasRequest{Model: "rec", Alias: "champion", Version: 1, IfMatch: "1"})
	wantErr(t, "stale If-Match", err, problem.ErrPrecondition, "")
	if got := must(api.GetAlias(ctx, "rec", "champion"))(t); got.Version != 2 || got.Revision != 2 {
		t.Errorf("after refused move, alias = %+v, want version 2 revision 2", got)
	}
	must(api.SetAlias(ctx, registry.SetAliasRequest{Model: "rec", Alias: "challenger", Version: 1}))(t)
	m := must(api.GetModel(ctx, "rec"))(t)
	if diff := cmp.Diff(map[string]int64{"champion": 2, "challenger": 1}, m.Aliases); diff != "" {
		t.Errorf("model aliases (-want +got):\n%s", diff)
	}
	_, err = api.SetAlias(ctx, registry.SetAliasRequest{Model: "rec", Alias: "champion", Version: 9})
	wantErr(t, "alias to unknown version", err, problem.ErrNotFound, "")
	_, err = api.SetAlias(ctx, registry.SetAliasRequest{Model: "rec", Alias: "Champ", Version: 1})
	wantErr(t, "bad alias name", err, problem.ErrInvalid, "alias")
	_, err = api.SetAlias(ctx, registry.SetAliasRequest{Model: "rec", Alias: "x", Version: 1, IfMatch: "abc"})
	wantErr(t, "bad If-Match", err, problem.ErrInvalid, "if_match")
	wantErr(t, "delete with stale If-Match", api.DeleteAlias(ctx, "rec", "challenger", "7"), problem.ErrPrecondition, "")
	if err := api.DeleteAlias(ctx, "rec", "challenger", "1"); err != nil {
		t.Fatal(err)
	}
	_, err = api.GetAlias(ctx, "rec", "challenger")
	wantErr(t, "deleted alias", err, problem.ErrNotFound, "")
	wantErr(t, "delete missing alias", api.DeleteAlias(ctx, "rec", "challenger", ""), problem.ErrNotFound, "")
}

func testArchive(t *testing.T, api registry.API) {
	ctx := context.Background()
	twoVersions(t, api, "arc")
	passGate(t, api, "arc", 2)
	must(api.SetAlias(ctx, registry.SetAliasRequest{Model: "arc", Alias: "champion", Version: 2}))(t)
	_, err := api.ArchiveVersion(ctx, "arc", 2)
	wantErr(t, "archive aliased version", err, problem.ErrConflict, "")
	v := must(api.ArchiveVersion(ctx, "arc", 1))(t)
	if v.Status != registry.StatusArchived {
		t.Errorf("archived status = %q", v.Status)
	}
	must(api.ArchiveVersion(ctx, "arc", 1))(t) // idempotent
	_, err = api.SetAlias(ctx, registry.SetAliasRequest{Model: "arc", Alias: "challenger", Version: 1})
	wantErr(t, "alias to archived version", err, problem.ErrConflict, "version")
	if vs := must(api.ListVersions(ctx, "arc", false))(t); len(vs) != 1 || vs[0].Version != 2 {
		t.Errorf("active versions = %+v, want only 2", vs)
	}
	if vs := must(api.ListVersions(ctx, "arc", true))(t); len(vs) != 2 {
		t.Errorf("all versions = %d, want 2", len(vs))
	}
}

func testConcurrentVersions(t *testing.T, api registry.API) {
	ctx := context.Background()
	must(api.CreateModel(ctx, registry.CreateModelRequest{Name: "busy"}))(t)
	a := upload(t, api, []byte("shared artifact"))
	const n = 8
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := api.CreateVersion(ctx, registry.CreateVersionRequest{Model: "busy", ArtifactSHA256: a.SHA256})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got = append(got, int(v.Version))
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Ints(got)
	want := []int{1, 2, 3, 4, 5, 6, 7, 8}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("concurrent version numbers (-want +got):\n%s", diff)
	}
}

func testAudit(t *testing.T, api registry.API) {
	ctx := context.Background()
	twoVersions(t, api, "aud")
	passGate(t, api, "aud", 1)
	must(api.SetAlias(ctx, registry.SetAliasRequest{Model: "aud", Alias: "champion", Version: 1}))(t)
	must(api.ArchiveVersion(ctx, "aud", 2))(t)
	entries := must(api.ListAudit(ctx, "aud", 0, 0))(t)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if e.Actor == "" || e.At.IsZero() || e.Model != "aud" {
			t.Errorf("incomplete audit entry %+v", e)
		}
	}
	want := []string{registry.EventModelCreated, registry.EventVersionCreated, registry.EventVersionCreated,
		registry.EventGateEvaluated, registry.EventAliasMoved, registry.EventVersionArchived}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
	rest := must(api.ListAudit(ctx, "aud", entries[2].ID, 1))(t)
	if len(rest) != 1 || rest[0].ID != entries[3].ID {
		t.Errorf("ListAudit after %d limit 1 = %+v", entries[2].ID, rest)
	}
	_, err := api.ListAudit(ctx, "aud", 0, -1)
	wantErr(t, "negative limit", err, problem.ErrInvalid, "limit")
}

func testTraffic(t *testing.T, api registry.API) {
	ctx := context.Background()
	twoVersions(t, api, "split")
	if m := must(api.GetModel(ctx, "split"))(t); m.Traffic != (registry.Traffic{}) {
		t.Errorf("new model traffic = %+v, want zero", m.Traffic)
	}
	m := must(api.SetTraffic(ctx, "split", registry.Traffic{ChallengerPercent: 12.5, Shadow: true}))(t)
	want := registry.Traffic{ChallengerPercent: 12.5, Shadow: true}
	if m.Traffic != want {
		t.Errorf("SetTraffic returned %+v, want %+v", m.Traffic, want)
	}
	if got := must(api.GetModel(ctx, "split"))(t).Traffic; got != want {
		t.Errorf("GetModel traffic = %+v, want %+v", got, want)
	}
	for _, p := range []float64{-1, 100.5} {
		_, err := api.SetTraffic(ctx, "split", registry.Traffic{ChallengerPercent: p})
		wantErr(t, fmt.Sprintf("percent %v", p), err, problem.ErrInvalid, "challenger_percent")
	}
	_, err := api.SetTraffic(ctx, "nope", registry.Traffic{})
	wantErr(t, "unknown model", err, problem.ErrNotFound, "")
}
