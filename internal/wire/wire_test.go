package wire

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDecodePredictionLogs(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := PredictionLog{ID: "a", Model: "fraud", Version: 1, Arm: ArmChampion, Output: []float64{0.5}, At: at}
	b := PredictionLog{ID: "b", Model: "fraud", Version: 2, Arm: ArmChallenger, Entity: "c1", At: at}
	one, _ := json.Marshal(a)
	two, _ := json.Marshal([]PredictionLog{a, b})
	for _, tt := range []struct {
		name string
		data string
		want []string
	}{
		{"object", string(one), []string{"a"}},
		{"array", string(two), []string{"a", "b"}},
		{"array after white space", "\n\t [" + string(one) + "]", []string{"a"}},
		{"empty array", "[]", nil},
	} {
		got, err := DecodePredictionLogs([]PredictionLog{{ID: "kept"}}, []byte(tt.data))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(got) != 1+len(tt.want) || got[0].ID != "kept" {
			t.Errorf("%s: got %+v, want kept then %v", tt.name, got, tt.want)
			continue
		}
		for i, id := range tt.want {
			if got[1+i].ID != id || !got[1+i].At.Equal(at) {
				t.Errorf("%s: log %d = %+v, want id %s at %v", tt.name, i, got[1+i], id, at)
			}
		}
	}
	for _, bad := range []string{"", "[", "{", `[1]`, `"x"`, `[{"id":1}]`} {
		if got, err := DecodePredictionLogs(nil, []byte(bad)); err == nil {
			t.Errorf("DecodePredictionLogs(%q) = %+v, want an error", bad, got)
		}
	}
}

// FuzzDecodePredictionLogs: any message decodes or fails without a panic,
// and what decodes encodes and decodes to as many logs.
func FuzzDecodePredictionLogs(f *testing.F) {
	f.Add([]byte(`{"id":"a","model":"fraud","version":1,"arm":"champion","output":[0.5],"latency_us":3,"at":"2026-03-01T12:00:00Z"}`))
	f.Add([]byte(`[{"id":"a","model":"m","at":"2026-03-01T12:00:00Z"},{"id":"b","model":"m","items":["1","2"],"features":{"x":1}}]`))
	f.Add([]byte(" []"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pls, err := DecodePredictionLogs(nil, data)
		if err != nil {
			return
		}
		again, err := json.Marshal(append([]PredictionLog{}, pls...)) // [] rather than null
		if err != nil {
			return // a time json cannot write back (a year past 9999) is not this decoder's concern
		}
		back, err := DecodePredictionLogs(nil, again)
		if err != nil || len(back) != len(pls) {
			t.Fatalf("re-encoded %d logs decode to %d, %v", len(pls), len(back), err)
		}
	})
}
