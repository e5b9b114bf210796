package fraud

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/plinthai/plinth/internal/wire"
)

// recorder is a Platform that keeps what a replay did, in order.
type recorder struct {
	clock    func() time.Time
	ingested map[string]time.Time // transaction id → replay clock when ingested
	waits    int
	pending  int            // transactions ingested and not yet waited for
	predicts map[string]int // card → predictions
	feedback []wire.Feedback
	txTime   map[string]time.Time // transaction id → its own time
}

func newRecorder() *recorder {
	return &recorder{ingested: map[string]time.Time{}, predicts: map[string]int{}, txTime: map[string]time.Time{}}
}

func (p *recorder) Ingest(_ context.Context, _ string, events [][]byte) error {
	for _, e := range events {
		var tx Transaction
		if err := json.Unmarshal(e, &tx); err != nil {
			return err
		}
		p.ingested[tx.ID], p.txTime[tx.ID] = p.clock(), tx.Time
	}
	p.pending += len(events)
	return nil
}

func (p *recorder) WaitFeatures(context.Context, string) error {
	p.waits++
	p.pending = 0
	return nil
}

func (p *recorder) Predict(_ context.Context, _, card string) (Scored, error) {
	if p.pending != 0 {
		return Scored{}, fmt.Errorf("predict before the view caught up")
	}
	p.predicts[card]++
	return Scored{ID: fmt.Sprintf("p-%s-%d", card, p.predicts[card]), Version: 1}, nil
}

func (p *recorder) Feedback(_ context.Context, fbs ...wire.Feedback) error {
	p.feedback = append(p.feedback, fbs...)
	return nil
}

// TestReplayLabelsAsOfTheDecision pins what point-in-time training relies
// on: the view has caught up with a step before anything is scored or the
// clock moves on, scored or not, and each label's event time is the end of
// its transaction's step (the moment of the decision), never before the
// transaction, and names the prediction when there was one.
func TestReplayLabelsAsOfTheDecision(t *testing.T) {
	cfg := Config{Seed: 3, Customers: 100, Merchants: 30, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		FraudLabelDelay: [2]time.Duration{time.Hour, 2 * time.Hour}, LegitLabelDelay: [2]time.Duration{time.Hour, 3 * time.Hour}}
	sim, err := NewSimulator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := newRecorder()
	r := NewReplay(sim, p)
	p.clock = r.Now
	ctx := t.Context()
	if err := r.Run(ctx, cfg.Start.Add(12*time.Hour)); err != nil { // unscored, flat out
		t.Fatal(err)
	}
	r.Score.Store(true)
	if err := r.Run(ctx, cfg.Start.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if p.pending != 0 || p.waits == 0 {
		t.Fatalf("%d transactions never waited for (waits %d)", p.pending, p.waits)
	}
	if len(p.feedback) == 0 {
		t.Fatal("no labels")
	}
	scored := 0
	for _, fb := range p.feedback {
		txID := fb.ID[len("label-"):]
		txAt, decided := p.txTime[txID], p.ingested[txID]
		if !fb.EventTime.Equal(decided) || fb.EventTime.Before(txAt) || fb.EventTime.Sub(txAt) >= r.Step {
			t.Fatalf("label of %s at %v: transaction at %v, its step ended %v; want the step's end", txID, fb.EventTime, txAt, decided)
		}
		if fb.PredictionID != "" {
			scored++
			if decided.Before(cfg.Start.Add(12 * time.Hour)) {
				t.Errorf("label of %s names prediction %s, but it was replayed unscored", txID, fb.PredictionID)
			}
		}
	}
	if scored == 0 {
		t.Error("no label names its prediction")
	}
}

// TestReplayOnASharedClock: on a clock the platform shares, the replay
// waits for it to pass each step and labels as of the clock's reading once
// the view caught up, which is never before the transaction.
func TestReplayOnASharedClock(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	cfg := Config{Seed: 3, Customers: 50, Merchants: 20, Start: start,
		FraudLabelDelay: [2]time.Duration{time.Hour, 2 * time.Hour}, LegitLabelDelay: [2]time.Duration{time.Hour, 3 * time.Hour}}
	sim, err := NewSimulator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := newRecorder()
	r := NewReplay(sim, p)
	wall0 := time.Now()
	r.Clock = func() time.Time { return start.Add(time.Since(wall0) * 3600 * 24) } // a day a second
	p.clock = r.Now
	if err := r.Run(t.Context(), start.Add(12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r.Now().Before(start.Add(12 * time.Hour)) {
		t.Errorf("Run returned at %v, before its end", r.Now())
	}
	if len(p.feedback) == 0 {
		t.Fatal("no labels")
	}
	for _, fb := range p.feedback {
		txID := fb.ID[len("label-"):]
		if at := p.ingested[txID]; fb.EventTime.Before(at) || fb.EventTime.Before(p.txTime[txID]) {
			t.Fatalf("label of %s at %v, before its transaction (%v) or its ingest (%v)", txID, fb.EventTime, p.txTime[txID], at)
		}
	}
}
