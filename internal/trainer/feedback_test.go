package trainer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/plinthai/plinth/internal/platform/bus/bustest"
	"github.com/plinthai/plinth/internal/trainer"
	"github.com/plinthai/plinth/internal/wire"
)

// TestFeedbackLabels reads more labels than one fetch holds, of two
// models, back from FEEDBACK: a model's labels of the range, in stream
// order, with their items.
func TestFeedbackLabels(t *testing.T) {
	b := bustest.Embedded(t)
	ctx := context.Background()
	t0 := time.Date(1998, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 2500
	for i := range n {
		for _, model := range []string{"rec", "other"} {
			fb := wire.Feedback{ID: fmt.Sprintf("%s-%d", model, i), Model: model, Entity: fmt.Sprintf("u%d", i%7),
				EventTime: t0.Add(time.Duration(i) * time.Minute), Label: 1, Items: []string{fmt.Sprint(i)}, At: t0}
			data, err := json.Marshal(fb)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Publish(ctx, wire.FeedbackSubject(model), data, fb.ID, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	from, to := t0.Add(100*time.Minute), t0.Add(2200*time.Minute)
	rows, err := trainer.FeedbackLabels{Bus: b, FetchWait: 5 * time.Second}.Labels(ctx, "rec", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2100 {
		t.Fatalf("got %d labels, want the 2100 of [100 min, 2200 min)", len(rows))
	}
	for j, r := range rows {
		i := 100 + j
		if !r.At.Equal(t0.Add(time.Duration(i)*time.Minute)) || r.Entity != fmt.Sprintf("u%d", i%7) || len(r.Items) != 1 || r.Items[0] != fmt.Sprint(i) {
			t.Fatalf("label %d = %+v, want the label of minute %d", j, r, i)
		}
	}
}
