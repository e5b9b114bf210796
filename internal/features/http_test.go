package features_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plinthai/plinth/internal/features"
	"github.com/plinthai/plinth/internal/platform/bus/bustest"
)

func TestHTTP(t *testing.T) {
	e := newEnv(t, bustest.Embedded(t))
	svc, _ := e.start(t, nil, "", "")
	e.send(t, "h", 10, 2)
	waitCount(t, svc, 2, 10)
	mux := http.NewServeMux()
	features.NewHTTP(svc, discard).Register(mux)
	many := `{"entities":["` + strings.Repeat(`x","`, 1000) + `x"]}`
	tests := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"lookup", "card:lookup", `{"entities":["card0","nobody"]}`, 200, ""},
		{"unknown view", "nope:lookup", `{"entities":["card0"]}`, 404, ""},
		{"unknown method", "card:explode", `{}`, 404, ""},
		{"no entities", "card:lookup", `{"entities":[]}`, 400, "entities"},
		{"unknown field", "card:lookup", `{"entity":"card0"}`, 400, "entity"},
		{"too many entities", "card:lookup", many, 413, "entities"},
		{"training set", "card:training-set", `{"labels":[{"entity":"card0","time":"2030-01-01T00:00:00Z","value":1}]}`, 200, ""},
		{"training set without time", "card:training-set", `{"labels":[{"entity":"card0"}]}`, 400, "labels[0].time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/features/"+tt.path, bytes.NewBufferString(tt.body)))
			var body struct {
				Field  string     `json:"field"`
				Values []*float64 `json:"values"`
				Found  []bool     `json:"found"`
			}
			if rec.Code != tt.status || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Field != tt.field {
				t.Fatalf("got %d %s, want %d naming %q", rec.Code, rec.Body, tt.status, tt.field)
			}
			if tt.name == "lookup" {
				w := len(body.Values) / 2
				if !body.Found[0] || body.Found[1] || body.Values[1] == nil || *body.Values[1] != 5 || body.Values[w] != nil {
					t.Errorf("lookup body %s: want card0 found with 5 in the last hour, nobody all null", rec.Body)
				}
			}
		})
	}
}
