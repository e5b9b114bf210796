package view

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func loadCard(t testing.TB) *View {
	t.Helper()
	views, err := Load("testdata/views.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return views["card"]
}

// ev builds the row of a transaction at t0+at.
func ev(t testing.TB, v *View, seq uint64, at time.Duration, amount float64, merchant string) Row {
	t.Helper()
	data := fmt.Sprintf(`{"card_id":"c1","amount":%g,"merchant":%q,"country":"FR"}`, amount, merchant)
	r, err := v.Extract([]byte(data), t0.Add(at), seq, fmt.Sprint("e", seq))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func features(v *View, s *State, at time.Duration) map[string]float64 {
	out := make([]float64, v.Width())
	found, _ := v.Compute(s, t0.Add(at), out, &Scratch{})
	if !found {
		return nil
	}
	m := map[string]float64{}
	for i, n := range v.Names() {
		m[n] = out[i]
	}
	return m
}

func TestWindowsLatenessAndDuplicates(t *testing.T) {
	v := loadCard(t)
	s := v.NewState()
	steps := []struct {
		row  Row
		want Outcome
	}{
		{ev(t, v, 1, -2*time.Hour, 100, "m1"), Applied},
		{ev(t, v, 2, -30*time.Minute, 10, "m2"), Applied},
		{ev(t, v, 3, -5*time.Minute, 20, "m2"), Applied},
		{ev(t, v, 3, -5*time.Minute, 20, "m2"), Duplicate}, // redelivery
		{ev(t, v, 4, -12*time.Minute, 5, "m3"), Applied},   // 7m before the watermark: within the 10m lateness
		{ev(t, v, 5, -16*time.Minute, 7, "m4"), Late},      // 11m before the watermark: late
		{ev(t, v, 2, -30*time.Minute, 10, "m2"), Late},     // old redelivery: late, counted once already
		{ev(t, v, 6, -1*time.Minute, 1, "m1"), Applied},
	}
	for i, st := range steps {
		if got := v.Apply(s, &st.row); got != st.want {
			t.Errorf("step %d: got outcome %d, want %d", i, got, st.want)
		}
	}
	got := features(v, s, 0)
	want := map[string]float64{
		"txn_count_10m": 2, "txn_count_1h": 4, "amount_sum_1h": 36, "amount_mean_24h": 136.0 / 5,
		"amount_min_24h": 1, "amount_max_7d": 100, "amount_log_mean_7d": (math.Log1p(100) + math.Log1p(10) + math.Log1p(20) + math.Log1p(5) + math.Log1p(1)) / 5,
		"foreign_sum_24h": 5, "merchants_24h": 3, "last_amount": 1, "last_hour": 11,
		"recent_amounts_1": 1, "recent_amounts_2": 20, "recent_amounts_3": 5,
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("features (-want +got):\n%s", diff)
	}
	// An hour later the 10m and 1h windows have emptied; 24h has not.
	later := features(v, s, 61*time.Minute)
	if later["txn_count_10m"] != 0 || later["txn_count_1h"] != 0 || later["amount_sum_1h"] != 0 || later["amount_mean_24h"] != 136.0/5 {
		t.Errorf("an hour later: %v", later)
	}
	// Past the TTL the entity is forgotten.
	if f := features(v, s, 31*24*time.Hour); f != nil {
		t.Errorf("past the TTL: %v, want not found", f)
	}
}

func TestOutOfOrderLandsInItsBucket(t *testing.T) {
	v := loadCard(t)
	inOrder, shuffled := v.NewState(), v.NewState()
	var rows []Row
	for i := range 50 {
		rows = append(rows, ev(t, v, uint64(i+1), -time.Duration(50-i)*10*time.Second, float64(i), fmt.Sprint("m", i%7)))
	}
	for i := range rows {
		v.Apply(inOrder, &rows[i])
	}
	// Out of order within the lateness: same features (the state may
	// differ only in the order of remembered ids).
	perm := rand.New(rand.NewPCG(1, 2)).Perm(len(rows))
	for _, i := range perm {
		if got := v.Apply(shuffled, &rows[i]); got != Applied {
			t.Fatalf("row %d: outcome %d", i, got)
		}
	}
	for _, at := range []time.Duration{0, 3 * time.Minute, 9 * time.Minute, 2 * time.Hour} {
		// Sums fold in another order, so compare to rounding.
		if diff := cmp.Diff(features(v, inOrder, at), features(v, shuffled, at), cmpopts.EquateNaNs(), cmpopts.EquateApprox(1e-12, 0)); diff != "" {
			t.Errorf("at %s (-in order +shuffled):\n%s", at, diff)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	v := loadCard(t)
	s := v.NewState()
	for i := range 300 {
		r := ev(t, v, uint64(i+1), -time.Duration(300-i)*time.Minute, float64(i%17), fmt.Sprint("m", i))
		v.Apply(s, &r)
	}
	b := v.AppendState(nil, s)
	back, err := v.DecodeState(b)
	if err != nil {
		t.Fatal(err)
	}
	if again := v.AppendState(nil, back); string(again) != string(b) {
		t.Error("re-encoding differs")
	}
	if diff := cmp.Diff(features(v, s, 0), features(v, back, 0), cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("decoded features (-want +got):\n%s", diff)
	}
	for _, bad := range [][]byte{nil, {9}, b[:len(b)/2], append(append([]byte{}, b...), 0)} {
		if _, err := v.DecodeState(bad); err == nil {
			t.Errorf("DecodeState(%d bytes) accepted corrupt bytes", len(bad))
		}
	}
}

func TestHLLAccuracy(t *testing.T) {
	for _, n := range []int{1, 10, 100, 1000, 10000, 100000} {
		var h HLL
		for i := range n {
			h.Add(hashBytes([]byte(fmt.Sprint("v", i))))
			h.Add(hashBytes([]byte(fmt.Sprint("v", i/2)))) // repeats
		}
		if got := h.Estimate(); math.Abs(got-float64(n))/float64(n) > 0.08 {
			t.Errorf("n=%d: estimate %v off by more than 8%%", n, got)
		}
	}
	var a, b, ab HLL
	for i := range 5000 {
		x := hashBytes([]byte(fmt.Sprint(i)))
		ab.Add(x)
		if i%2 == 0 {
			a.Add(x)
		} else {
			b.Add(x)
		}
	}
	a.Merge(&b)
	if a.Estimate() != ab.Estimate() {
		t.Errorf("merged %v, want %v", a.Estimate(), ab.Estimate())
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		def  Def
		want []string
	}{
		{Def{Name: "Bad!", Features: []FeatureDef{{Name: "x", Agg: AggCount}}}, []string{"name must match", "source", "entity"}},
		{Def{Name: "v", Source: "s", Entity: "e", Features: []FeatureDef{
			{Name: "x", Agg: "median", Field: "a"},
			{Name: "y", Agg: AggSum, Window: Duration(7 * time.Minute)},
			{Name: "z", Agg: AggCount, Window: Duration(61 * time.Second)},
			{Name: "z", Agg: AggLastN, Field: "a"},
		}}, []string{`agg "median"`, `"y": sum needs a field`, "does not divide into 60 buckets", `"z" declared twice`, "last_n needs n"}},
	}
	for _, tt := range tests {
		_, err := Compile(tt.def)
		for _, want := range tt.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Compile(%s) = %v, want it to name %q", tt.def.Name, err, want)
			}
		}
	}
	if d, err := ParseDuration("7d"); err != nil || d != 7*24*time.Hour {
		t.Errorf("ParseDuration(7d) = %v, %v", d, err)
	}
}

func FuzzDecodeState(f *testing.F) {
	v := loadCard(f)
	s := v.NewState()
	for i := range 20 {
		r := ev(f, v, uint64(i+1), -time.Duration(i)*time.Hour, float64(i), fmt.Sprint("m", i))
		v.Apply(s, &r)
	}
	f.Add(v.AppendState(nil, s))
	f.Add(v.AppendState(nil, v.NewState()))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := v.DecodeState(b)
		if err != nil {
			return
		}
		out := make([]float64, v.Width())
		v.Compute(s, t0, out, &Scratch{})
	})
}

func BenchmarkCompute(b *testing.B) {
	v := loadCard(b)
	s := v.NewState()
	for i := range 200 {
		r := ev(b, v, uint64(i+1), -time.Duration(200-i)*time.Minute, float64(i), fmt.Sprint("m", i%20))
		v.Apply(s, &r)
	}
	out := make([]float64, v.Width())
	var sc Scratch
	b.ReportAllocs()
	for b.Loop() {
		v.Compute(s, t0, out, &sc)
	}
}
