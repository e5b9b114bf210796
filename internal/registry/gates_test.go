package registry_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/platform/sqlstore/sqltest"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
)

// TestForceChampion lets an admin with a reason move champion past a
// failed gate, and records both in the audit log.
func TestForceChampion(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, sqltest.SQLite(t))
	mustDo(t, func() error { _, err := svc.CreateModel(ctx, registry.CreateModelRequest{Name: "f"}); return err })
	a, err := svc.UploadArtifact(ctx, bytesReader("v1"), "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := svc.CreateVersion(ctx, registry.CreateVersionRequest{Model: "f", ArtifactSHA256: a.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	admin := auth.WithPrincipal(ctx, auth.Principal{Subject: "alice", Scopes: []string{registry.ScopeAdmin}})
	tests := []struct {
		name string
		ctx  context.Context
		req  registry.SetAliasRequest
		kind error
	}{
		{"no record", ctx, registry.SetAliasRequest{}, problem.ErrConflict},
		{"force without admin", auth.WithPrincipal(ctx, auth.Principal{Subject: "bob"}), registry.SetAliasRequest{Force: true, Reason: "r"}, problem.ErrForbidden},
		{"force without reason", admin, registry.SetAliasRequest{Force: true}, problem.ErrInvalid},
		{"forced", admin, registry.SetAliasRequest{Force: true, Reason: "incident 42"}, nil},
	}
	for _, tt := range tests {
		tt.req.Model, tt.req.Alias, tt.req.Version = "f", registry.AliasChampion, v.Version
		_, err := svc.SetAlias(tt.ctx, tt.req)
		if tt.kind == nil && err != nil || tt.kind != nil && !errorsIs(err, tt.kind) {
			t.Errorf("%s: got %v, want kind %v", tt.name, err, tt.kind)
		}
	}
	entries, err := svc.ListAudit(ctx, "f", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	var detail map[string]any
	if err := registry.ReadAuditDetail(last, &detail); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"alias": "champion", "from": 0.0, "to": 1.0, "forced": true, "reason": "incident 42",
		"gate": "version 1 has no gate record; evaluate its gate first"}
	if last.Action != registry.EventAliasMoved || last.Actor != "alice" || !cmp.Equal(want, detail) {
		t.Errorf("audit entry %s by %s, detail (-want +got):\n%s", last.Action, last.Actor, cmp.Diff(want, detail))
	}
}

// TestSubmitJobQueuesTrainJob checks that the job's TrainJob message is in
// the outbox, bound for JOBS, once, whatever the resubmissions.
func TestSubmitJobQueuesTrainJob(t *testing.T) {
	ctx := context.Background()
	db := sqltest.SQLite(t)
	svc := newService(t, db)
	mustDo(t, func() error { _, err := svc.CreateModel(ctx, registry.CreateModelRequest{Name: "q.m"}); return err })
	a, err := svc.UploadArtifact(ctx, bytesReader("a,y\n1,0\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	req := registry.SubmitJobRequest{ID: "j-1", Model: "q.m", Algorithm: "linear", Data: wire.TrainData{FileSHA256: a.SHA256, Label: "y"}}
	for range 3 {
		if _, err := svc.SubmitJob(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT payload FROM outbox WHERE subject = $1`, wire.TrainJobSubject("q.m"))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []wire.TrainJob
	for rows.Next() {
		var body []byte
		var job wire.TrainJob
		if err := rows.Scan(&body); err != nil || json.Unmarshal(body, &job) != nil {
			t.Fatalf("scan outbox row: %v", err)
		}
		got = append(got, job)
	}
	if len(got) != 1 || got[0].ID != "j-1" || got[0].Data.Label != "y" || got[0].Data.Split != registry.SplitTime {
		t.Errorf("queued train jobs = %+v, want one for j-1", got)
	}
}
