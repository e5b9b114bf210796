package httpx

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plinthai/plinth/internal/platform/problem"
)

type body struct {
	Name    string            `json:"name"`
	Version int64             `json:"version"`
	Tags    map[string]string `json:"tags"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, body, ct string
		wantField      string
		wantKind       error
	}{
		{"ok", `{"name":"a","version":2}`, "application/json", "", nil},
		{"wrong type", `{"name":"a","version":"two"}`, "application/json", "version", problem.ErrInvalid},
		{"unknown field", `{"name":"a","colour":1}`, "application/json", "colour", problem.ErrInvalid},
		{"syntax", `{"name":`, "application/json", "body", problem.ErrInvalid},
		{"empty", ``, "", "body", problem.ErrInvalid},
		{"trailing", `{"name":"a"} {}`, "", "body", problem.ErrInvalid},
		{"content type", `{}`, "text/plain", "Content-Type", problem.ErrInvalid},
		{"too large", `{"name":"` + strings.Repeat("x", 200) + `"}`, "", "body", problem.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			var b body
			err := DecodeJSON(r, &b, 100)
			if tt.wantKind == nil {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantKind) || problem.FieldOf(err) != tt.wantField {
				t.Errorf("got %v (field %q), want kind %v field %q", err, problem.FieldOf(err), tt.wantKind, tt.wantField)
			}
		})
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add(`{"name":"a","version":2,"tags":{"k":"v"}}`)
	f.Add(`{"version":1e400}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, s string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(s))
		var b body
		if err := DecodeJSON(r, &b, 1<<16); err != nil && problem.Status(err) >= 500 {
			t.Fatalf("decode error maps to %d: %v", problem.Status(err), err)
		}
	})
}

func TestQueryCount(t *testing.T) {
	for _, tt := range []struct {
		query string
		want  int
		field string // of the error, "" when none
	}{
		{"", 0, ""},
		{"limit=0", 0, ""},
		{"limit=100", 100, ""},
		{"limit=101", 0, "limit"},
		{"limit=-1", 0, "limit"},
		{"limit=ten", 0, "limit"},
	} {
		r := httptest.NewRequest("GET", "/x?"+tt.query, nil)
		got, err := QueryCount(r, "limit", 100)
		if got != tt.want || problem.FieldOf(err) != tt.field || (err == nil) != (tt.field == "") {
			t.Errorf("%q: %d, %v; want %d with field %q", tt.query, got, err, tt.want, tt.field)
		}
	}
}
