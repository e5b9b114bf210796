package registry_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/plinthai/plinth/client"
	"github.com/plinthai/plinth/internal/platform/sqlstore/sqltest"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/registry/registrytest"
)

// TestTrafficOverREST: the public client sets and reads a model's traffic
// split through the REST routes; an out-of-range percentage is a 400
// naming the field.
func TestTrafficOverREST(t *testing.T) {
	svc := newService(t, sqltest.SQLite(t))
	mux := http.NewServeMux()
	registry.NewHTTP(svc, registrytest.MaxArtifactBytes, slog.New(slog.NewTextHandler(io.Discard, nil))).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cl, err := client.New(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateModel(t.Context(), "split", "", nil); err != nil {
		t.Fatal(err)
	}
	want := client.Traffic{ChallengerPercent: 12.5, Shadow: true}
	if m, err := cl.SetTraffic(t.Context(), "split", want); err != nil || m.Traffic != want {
		t.Errorf("SetTraffic = %+v, %v; want traffic %+v", m.Traffic, err, want)
	}
	if m, err := cl.GetModel(t.Context(), "split"); err != nil || m.Traffic != want {
		t.Errorf("GetModel traffic = %+v, %v; want %+v", m.Traffic, err, want)
	}
	_, err = cl.SetTraffic(t.Context(), "split", client.Traffic{ChallengerPercent: 120})
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Field != "challenger_percent" {
		t.Errorf("120%%: %v, want a 400 naming challenger_percent", err)
	}
}
