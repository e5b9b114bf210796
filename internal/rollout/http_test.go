package rollout_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plinthai/plinth/client"
	"github.com/plinthai/plinth/internal/platform/sqlstore/sqltest"
	"github.com/plinthai/plinth/internal/rollout"
)

// TestAutoStartOverREST: a trainer in another process starts automatic
// rollouts through the REST route; a repeat answers with the same
// rollout, and an automatic start refuses a policy of its own.
func TestAutoStartOverREST(t *testing.T) {
	db := sqltest.SQLite(t)
	reg := setup(t, db)
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	svc := newController(t, db, reg, &verdicts{script: []string{"wait"}}, c, "a")
	mux := http.NewServeMux()
	rollout.NewHTTP(svc, quiet()).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cl, err := client.New(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	first, err := cl.StartAutoRollout(t.Context(), "m", 2, "job-7")
	if err != nil {
		t.Fatal(err)
	}
	if first.Version != 2 || first.JobID != "job-7" || !first.Policy.Auto || first.State != rollout.StatePending {
		t.Errorf("first = %+v, want a pending automatic rollout of v2 by job-7", first)
	}
	again, err := cl.StartAutoRollout(t.Context(), "m", 2, "job-7")
	if err != nil || again.ID != first.ID {
		t.Errorf("again = %+v, %v, want rollout %s", again, err, first.ID)
	}
	resp, err := http.Post(srv.URL+"/v1/models/m/rollouts", "application/json", strings.NewReader(`{"version":2,"auto":true,"min_samples":3}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("auto with a policy = %d, want 400", resp.StatusCode)
	}
}
