package wire

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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

// FuzzDecodePredictionLogs: the decoder gives what encoding/json gives,
// values and failure alike, for any message; the usual form is read by
// hand.
func FuzzDecodePredictionLogs(f *testing.F) {
	f.Add([]byte(`{"id":"a","model":"fraud","version":1,"arm":"champion","output":[0.5],"latency_us":3,"at":"2026-03-01T12:00:00Z"}`))
	f.Add([]byte(`[{"id":"a","model":"m","at":"2026-03-01T12:00:00Z"},{"id":"b","model":"m","items":["1","2"],"features":{"x":1}}]`))
	f.Add([]byte(" []"))
	f.Add([]byte(`{"ID":"a","new":{"x":[1,true,"s"]},"features_hash":"00ff","error":"boom","entity":"e\u00e9"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodePredictionLogs([]PredictionLog{{ID: "kept"}}, data)
		want, wantErr := decodeLogsJSON([]PredictionLog{{ID: "kept"}}, data)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q: error %v, encoding/json's %v", data, err, wantErr)
		}
		if err == nil && !cmp.Equal(got, want) {
			t.Fatalf("%q (-encoding/json +DecodePredictionLogs):\n%s", data, cmp.Diff(want, got))
		}
	})
}

// The inference service's messages take the hand-written path.
func TestUsualFormIsReadByHand(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 5, time.UTC)
	msg, _ := json.Marshal([]PredictionLog{
		{ID: "p1", Model: "fraud", Version: 3, Arm: ArmChampion, Entity: "card-1", FeaturesHash: "0a1b", Output: []float64{0.25, -1e-9}, LatencyUS: 120, At: at},
		{ID: "p2", Model: "movies", Version: 1, Arm: ArmShadow, Features: map[string]float64{"a": 1, "b": -2.5}, Items: []string{"7", "9"}, Output: []float64{}, Error: "e", At: at},
	})
	d := logDecoder{b: msg}
	got, ok := d.logs(nil)
	want, err := decodeLogsJSON(nil, msg)
	if !ok || err != nil || !cmp.Equal(got, want) {
		t.Errorf("hand path ok %v (%v): %s", ok, err, cmp.Diff(want, got))
	}
}

func BenchmarkDecodePredictionLogs(b *testing.B) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 5, time.UTC)
	pls := make([]PredictionLog, 64)
	for i := range pls {
		pls[i] = PredictionLog{ID: "p" + strconv.Itoa(i), Model: "fraud", Version: 3, Arm: ArmChampion, Entity: "card-" + strconv.Itoa(i),
			FeaturesHash: "0a1b2c3d4e5f6071", Output: []float64{0.021634863689541817}, LatencyUS: 120, At: at}
	}
	msg, _ := json.Marshal(pls)
	for _, impl := range []struct {
		name string
		fn   func([]PredictionLog, []byte) ([]PredictionLog, error)
	}{{"hand", DecodePredictionLogs}, {"encoding-json", decodeLogsJSON}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			var dst []PredictionLog
			for b.Loop() {
				var err error
				if dst, err = impl.fn(dst[:0], msg); err != nil || len(dst) != 64 {
					b.Fatal(err)
				}
			}
		})
	}
}
