package tabular

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/plinthai/plinth/internal/testdata"
)

func TestSyntheticIsDeterministic(t *testing.T) {
	a, b := Synthetic(1000, 6, 7), Synthetic(1000, 6, 7)
	if diff := cmp.Diff(a.Train.X.Cols, b.Train.X.Cols, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("same seed, different features (-a +b):\n%s", diff)
	}
	if got, want := len(a.Train.Y), 800; got != want {
		t.Errorf("train rows: got %d, want %d", got, want)
	}
	var pos float32
	for _, y := range a.Train.Y {
		pos += y
	}
	if rate := pos / 800; rate < 0.3 || rate > 0.7 {
		t.Errorf("positive rate: got %v, want a balanced set", rate)
	}
}

func TestLoad(t *testing.T) {
	dir := testdata.Dataset(t, "")
	for _, tc := range []struct {
		name            string
		train, test, nf int
	}{
		{"creditcard-ulb-sample", 4329, 1083, 30},
		{"vehicle-claim-fraud", 11337, 4083, 31},
		{"taiwan-credit-default", 24000, 6000, 23},
		{"elec2", 36249, 9063, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Load(dir, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			got := []int{len(set.Train.Y), len(set.Test.Y), set.Train.X.NumCols()}
			if diff := cmp.Diff([]int{tc.train, tc.test, tc.nf}, got); diff != "" {
				t.Errorf("train rows, test rows, features (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := Load(dir, "nope"); err == nil || !strings.Contains(err.Error(), "unknown data set") {
		t.Errorf("unknown name: got %v, want an unknown data set error", err)
	}
}
