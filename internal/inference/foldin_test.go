package inference

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/frame"
	"github.com/plinthai/plinth/ml/mf"
)

// blockRecommender is implicit ALS on two blocks of users: users 0-5 use
// items 0, 1, 2 (ids 101, 102, 103), users 6-11 items 3, 4, 5 (ids 201,
// 202, 203). With schema set, its artifact carries the item space and
// reads recent_items_1..3, as the trainer writes it.
func blockRecommender(t *testing.T, schema bool) []byte {
	t.Helper()
	var r mf.Ratings
	for u := range 12 {
		for i := range 3 {
			r.Users, r.Items, r.Values = append(r.Users, int32(u)), append(r.Items, int32(3*(u/6)+i)), append(r.Values, 1)
		}
	}
	r.NumUsers, r.NumItems = 12, 6
	cfg := mf.DefaultALSConfig()
	cfg.Factors, cfg.Iterations, cfg.Reg, cfg.Alpha = 4, 20, 0.05, 10
	m, err := mf.TrainALS(r, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var h artifact.Header
	if schema {
		h.Schema = []artifact.Field{{Name: "recent_items_1", Type: frame.TypeInt}, {Name: "recent_items_2", Type: frame.TypeInt},
			{Name: "recent_items_3", Type: frame.TypeInt},
			{Name: itemSpaceField, Type: frame.TypeCategory, Categories: []string{"101", "102", "103", "201", "202", "203"}}}
	}
	var buf bytes.Buffer
	if err := m.Save(&buf, h); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type recommendation struct {
	ID     string    `json:"id"`
	Items  []int64   `json:"items"`
	Scores []float64 `json:"scores"`
}

func TestFoldInRecommender(t *testing.T) {
	reg := newFakeRegistry()
	v := reg.addVersion("rec", registry.FormatPlinth, blockRecommender(t, true), map[string]string{"k": "2"})
	reg.setAlias("rec", aliasChampion, v)
	rec := &recorder{}
	cfg := testConfig(t)
	cfg.LogSampleRate = 1
	h := start(t, reg, cfg, rec)
	tests := []struct {
		name     string
		features string
		want     []int64 // the top items, or nil: anything but excluded
		excluded []int64
	}{
		{"the block's unseen item first", `{"recent_items_1":102,"recent_items_2":101,"recent_items_3":null}`, []int64{103}, []int64{101, 102}},
		{"other block", `{"recent_items_1":203,"recent_items_2":null,"recent_items_3":201}`, []int64{202}, []int64{201, 203}},
		{"unknown ids are skipped", `{"recent_items_1":999,"recent_items_2":202,"recent_items_3":203}`, []int64{201}, []int64{202, 203}},
		{"nothing known: the most consumed first", `{"recent_items_1":999,"recent_items_2":null,"recent_items_3":null}`, []int64{101, 102}, nil},
	}
	for _, tt := range tests {
		status, _, body := h.do("POST", "/v1/models/rec:predict", []byte(`{"features":`+tt.features+`}`), map[string]string{"Content-Type": "application/json"})
		var got recommendation
		if status != 200 || json.Unmarshal(body, &got) != nil {
			t.Fatalf("%s: = %d %s", tt.name, status, body)
		}
		if len(got.Items) != 2 || len(got.Scores) != 2 || !slices.Equal(got.Items[:len(tt.want)], tt.want) {
			t.Errorf("%s: items %v scores %v, want %v first of 2", tt.name, got.Items, got.Scores, tt.want)
		}
		for _, id := range tt.excluded {
			if slices.Contains(got.Items, id) {
				t.Errorf("%s: items %v recommend recent item %d", tt.name, got.Items, id)
			}
		}
	}
	// The prediction log names the recommended item ids, for the monitor
	// to join with what the user goes on to rate.
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.logs)
		rec.mu.Unlock()
		if n == len(tests) || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.logs) != len(tests) {
		t.Fatalf("%d prediction logs, want %d", len(rec.logs), len(tests))
	}
	for _, l := range rec.logs {
		if len(l.Items) != 2 || len(l.Output) != 2 || l.Items[0] == "-1" {
			t.Errorf("log %s: items %v output %v, want 2 item ids and their scores", l.ID, l.Items, l.Output)
		}
	}
}

// TestUserIndexRecommender keeps MF artifacts without an item space
// served by user index.
func TestUserIndexRecommender(t *testing.T) {
	reg := newFakeRegistry()
	v := reg.addVersion("rec", registry.FormatPlinth, blockRecommender(t, false), nil)
	reg.setAlias("rec", aliasChampion, v)
	h := start(t, reg, testConfig(t), nil)
	status, _, body := h.do("POST", "/v1/models/rec:predict", []byte(`{"features":{"user":7}}`), map[string]string{"Content-Type": "application/json"})
	var got recommendation
	if status != 200 || json.Unmarshal(body, &got) != nil {
		t.Fatalf("= %d %s", status, body)
	}
	// User 7 used items 3-5: the other 3 come back (by index), then -1.
	slices.Sort(got.Items[:3])
	if want := []int64{0, 1, 2, -1, -1, -1, -1, -1, -1, -1}; !slices.Equal(got.Items, want) {
		t.Errorf("items %v for user 7, want %v", got.Items, want)
	}
}

func TestFoldInRejectsBadItemSpace(t *testing.T) {
	data := blockRecommender(t, true)
	m, h, err := mf.Load(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, space := range [][]string{{"101", "102"}, {"101", "102", "103", "201", "202", "x"}} {
		h.Schema[len(h.Schema)-1].Categories = space
		var buf bytes.Buffer
		if err := m.Save(&buf, h); err != nil {
			t.Fatal(err)
		}
		if _, _, err := nativeRuntime(buf.Bytes(), nil); err == nil {
			t.Errorf("item space %v loaded", space)
		}
	}
}
