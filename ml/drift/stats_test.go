package drift

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// scipyFixture is written by testdata/gen_scipy.py.
type scipyFixture struct {
	KS []struct {
		A, B   []float64
		D      float64
		PAsymp float64 `json:"p_asymp"`
	}
	Chi []struct {
		Ref, Live []float64
		Stat, P   float64
		DF        int
	}
}

func loadScipy(t *testing.T) scipyFixture {
	t.Helper()
	b, err := os.ReadFile("testdata/scipy_fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx scipyFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	return fx
}

func TestKSMatchesSciPy(t *testing.T) {
	for i, c := range loadScipy(t).KS {
		d, p, err := KS(c.A, c.B)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(d-c.D) > 1e-12 {
			t.Errorf("case %d: D got %v, want %v", i, d, c.D)
		}
		if math.Abs(p-c.PAsymp) > 1e-9 {
			t.Errorf("case %d: p got %v, want %v", i, p, c.PAsymp)
		}
	}
}

func TestKSByHand(t *testing.T) {
	// F_a steps 1/3 at 1, 2, 3; F_b steps 1/2 at 2 and 4. At x = 3:
	// F_a = 1, F_b = 1/2, the largest gap. The tie at 2 moves both at once.
	d, _, err := KS([]float64{3, 1, 2}, []float64{4, 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d, 0.5; got != want {
		t.Errorf("got D %v, want %v", got, want)
	}
}

func TestChiSquareMatchesSciPy(t *testing.T) {
	for i, c := range loadScipy(t).Chi {
		stat, df, p, err := ChiSquare(c.Ref, c.Live)
		if err != nil {
			t.Fatal(err)
		}
		got := []float64{stat, float64(df), p}
		want := []float64{c.Stat, float64(c.DF), c.P}
		if diff := cmp.Diff(want, got, cmpopts.EquateApprox(1e-9, 1e-300)); diff != "" {
			t.Errorf("case %d (-scipy +got):\n%s", i, diff)
		}
	}
}

func TestPSIByHand(t *testing.T) {
	// p = (.5, .5), q = (.25, .75):
	// (.25−.5)·ln(.5) + (.75−.5)·ln(1.5) = .25·(ln 2 + ln 1.5).
	got, err := PSI([]float64{10, 10}, []float64{1, 3})
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.25 * (math.Ln2 + math.Log(1.5)); math.Abs(got-want) > 1e-15 {
		t.Errorf("got %v, want %v", got, want)
	}
	// An empty live bin is floored, not infinite.
	got, _ = PSI([]float64{1, 1}, []float64{0, 1})
	if want := (PSIFloor-0.5)*math.Log(PSIFloor/0.5) + 0.5*math.Log(2); math.Abs(got-want) > 1e-12 {
		t.Errorf("empty bin: got %v, want %v", got, want)
	}
}

func TestStatsBadInput(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		fn   func() error
	}{
		{"psi lengths", func() error { _, err := PSI([]float64{1}, []float64{1, 2}); return err }},
		{"psi empty", func() error { _, err := PSI(nil, nil); return err }},
		{"psi zero total", func() error { _, err := PSI([]float64{0}, []float64{1}); return err }},
		{"psi negative", func() error { _, err := PSI([]float64{-1, 2}, []float64{1, 1}); return err }},
		{"psi NaN", func() error { _, err := PSI([]float64{nan, 2}, []float64{1, 1}); return err }},
		{"ks empty", func() error { _, _, err := KS(nil, []float64{1}); return err }},
		{"ks NaN", func() error { _, _, err := KS([]float64{nan}, []float64{1}); return err }},
		{"chi lengths", func() error { _, _, _, err := ChiSquare([]float64{1}, nil); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.fn(); !errors.Is(err, ErrInput) {
				t.Errorf("got %v, want an error wrapping ErrInput", err)
			}
		})
	}
}
