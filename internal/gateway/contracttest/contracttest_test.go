package contracttest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestCatchesViolations proves the checker can fail: a response with an
// undocumented field, a wrong type or an undocumented status is refused.
func TestCatchesViolations(t *testing.T) {
	tests := []struct {
		name, path, body string
		status           int
		wantErr          bool
	}{
		{"valid", "/v1/models/m", `{"name":"m","latest_version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`, 200, false},
		{"extra field", "/v1/models/m", `{"name":"m","colour":"red","latest_version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`, 200, true},
		{"wrong type", "/v1/models/m", `{"name":"m","latest_version":"one","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`, 200, true},
		{"problem", "/v1/models/m", `{"type":"urn:plinth:problem:not-found","title":"Not Found","status":404}`, 404, false},
		{"undocumented route", "/v1/nowhere", `{}`, 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				ct := "application/json"
				if tt.status >= 400 {
					ct = "application/problem+json"
				}
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			_, router := Load(t)
			tr := &transport{tb: t, next: http.DefaultTransport, router: router}
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err := tr.validate(req, resp, body); (err != nil) != tt.wantErr {
				t.Errorf("validate = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
