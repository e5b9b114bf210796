package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/plinthai/plinth/internal/testdata"
)

// TestLoopShortSlice replays the first eight days through the platform,
// predicting from day 4 and retraining every two days on the last four,
// and checks the loop end to end: both models predict every half-hour
// after warm-up through inference, the monitor joins their labels, the
// trainer builds point-in-time sets from the feature views and each
// retrain is promoted and served.
func TestLoopShortSlice(t *testing.T) {
	path := filepath.Join(testdata.DatasetsDir(), "elec2", "elecNormNew.csv.gz")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("elec2 not available: %v (set PLINTH_DATASETS)", err)
	}
	ctx := context.Background()
	d, err := load(path, 8*day)
	if err != nil {
		t.Fatal(err)
	}
	p := protocol{Warmup: 4 * day, Every: 2 * day, Lookback: 4 * day}
	st, err := runLoop(ctx, d, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := 4 * day; st.Predictions != want {
		t.Errorf("predictions per model = %d, want %d", st.Predictions, want)
	}
	if st.Jobs[triggerInitial] != 2 || st.Jobs[triggerWeekly] != 2 || st.Succeeded < 4 {
		t.Errorf("jobs = %v, succeeded %d; want 2 initial and 2 scheduled, all succeeded", st.Jobs, st.Succeeded)
	}
	for _, name := range []string{"elec2", "elec2-labels"} {
		if st.Promotions[name] < 2 || st.Served[name] < 2 {
			t.Errorf("%s: promotions %d, versions served %d; want at least 2 each", name, st.Promotions[name], st.Served[name])
		}
		if st.Joined[name] < day/2 {
			t.Errorf("%s: monitor joined %d labels in the last day, want at least %d", name, st.Joined[name], day/2)
		}
	}
	// Four days of training data make a weak model, but one the monitor
	// sees ranking the joined labels well above chance.
	if auc := st.AUC["elec2"]; auc < 0.7 {
		t.Errorf("monitor ROC AUC of the last day = %.3f, want at least 0.7", auc)
	}
	t.Logf("%+v", st)
}
