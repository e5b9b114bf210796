package fraud

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/plinthai/plinth/internal/wire"
)

// Platform is what a replay drives: the ingest stream, the feature view
// the model reads, the model's predictions by card, and FEEDBACK.
type Platform interface {
	// Ingest persists events of stream (all or an error).
	Ingest(ctx context.Context, stream string, events [][]byte) error
	// WaitFeatures returns once view has applied every ingested event.
	WaitFeatures(ctx context.Context, view string) error
	// Predict scores the card's latest transaction by entity key.
	Predict(ctx context.Context, model, entity string) (Scored, error)
	// Feedback publishes labels.
	Feedback(ctx context.Context, fbs ...wire.Feedback) error
}

// Scored is one prediction as the replay keeps it.
type Scored struct {
	ID      string
	Version int64
	Arm     string
	Score   float64
}

// ReplayStats counts what a replay did; read it with Snapshot.
type ReplayStats struct {
	Transactions, Frauds, Labels, Predictions, PredictErrors atomic.Int64
}

// Counts is a copy of ReplayStats.
type Counts struct {
	Transactions, Frauds, Labels, Predictions, PredictErrors int64
}

// Snapshot copies the counters.
func (s *ReplayStats) Snapshot() Counts {
	return Counts{s.Transactions.Load(), s.Frauds.Load(), s.Labels.Load(), s.Predictions.Load(), s.PredictErrors.Load()}
}

// Replay drives the simulator into the platform in accelerated time, one
// step of simulated time at a time: the clock moves to the step's end, the
// step's transactions are ingested, the card view catches up, each
// transaction is scored by its card (when Score is on), and the labels due
// in the step go to FEEDBACK, naming the prediction they judge, the card,
// and the moment of the decision (the clock once the view had the
// transaction, when it was or would have been scored) as the event time.
// So a point-in-time training set reads each card as the model saw it when
// it scored: with the transaction in the view, as at serving, and nothing
// later. Its clock (Now) is the simulated time: its own, which jumps to
// each step's end and is the platform's event clock in one process, or
// Clock, a clock the platform's processes share (see
// internal/platform/clock), which the replay waits for. Run is not safe
// for concurrent use; Now and Stats are.
type Replay struct {
	sim      *Simulator
	platform Platform
	// Step is the simulated time ingested at once (default 10 minutes).
	Step time.Duration
	// Speed is simulated seconds per wall second; 0 runs flat out.
	Speed float64
	// Score turns scoring of each transaction on.
	Score atomic.Bool
	// Clock, when set before Run, is the simulated time, shared with the
	// platform; Speed is then ignored.
	Clock func() time.Time
	// Stats counts the replay's work.
	Stats ReplayStats

	now     atomic.Int64
	held    *Event
	decided map[string]decision // by transaction id, until labelled
	started time.Time           // wall time the pacing counts from
	simFrom time.Time           // simulated time at started
}

// decision is when a transaction was scored, and the prediction's id
// ("" when scoring was off or failed).
type decision struct {
	at           time.Time
	predictionID string
}

// NewReplay returns a replay of sim into p, its clock at sim's start.
func NewReplay(sim *Simulator, p Platform) *Replay {
	r := &Replay{sim: sim, platform: p, Step: 10 * time.Minute, decided: map[string]decision{}}
	r.now.Store(sim.cfg.Start.UnixNano())
	return r
}

// Now is how far the replay has come in simulated time: the end of its
// last step (on a shared Clock, which may run ahead of it, that is not the
// clock's reading).
func (r *Replay) Now() time.Time { return time.Unix(0, r.now.Load()).UTC() }

// clockNow is the simulated time now: the shared Clock's, or Now.
func (r *Replay) clockNow() time.Time {
	if r.Clock != nil {
		return r.Clock().UTC()
	}
	return r.Now()
}

// Run replays until the simulated time reaches until or ctx ends.
func (r *Replay) Run(ctx context.Context, until time.Time) error {
	r.started, r.simFrom = time.Now(), r.Now()
	for r.Now().Before(until) {
		end := r.Now().Add(r.Step)
		if end.After(until) {
			end = until
		}
		if err := r.step(ctx, end); err != nil {
			return err
		}
		if err := r.pace(ctx); err != nil {
			return err
		}
	}
	return nil
}

// pace waits while the simulated time is ahead of Speed.
func (r *Replay) pace(ctx context.Context) error {
	if r.Speed <= 0 || r.Clock != nil {
		return ctx.Err()
	}
	due := r.started.Add(time.Duration(float64(r.Now().Sub(r.simFrom)) / r.Speed))
	wait := time.Until(due)
	if wait <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// step replays the events before end.
func (r *Replay) step(ctx context.Context, end time.Time) error {
	var txs []*Transaction
	var labels []*Label
	for {
		ev := r.next()
		if !ev.Time().Before(end) {
			r.held = &ev
			break
		}
		if ev.Tx != nil {
			txs = append(txs, ev.Tx)
		} else {
			labels = append(labels, ev.Label)
		}
	}
	if err := r.reach(ctx, end); err != nil {
		return err
	}
	if err := r.ingest(ctx, txs); err != nil {
		return err
	}
	if err := r.score(ctx, txs); err != nil {
		return err
	}
	return r.label(ctx, labels)
}

// reach moves the replay to end, first waiting until a shared Clock has
// passed it.
func (r *Replay) reach(ctx context.Context, end time.Time) error {
	for r.Clock != nil {
		ahead := end.Sub(r.Clock())
		if ahead <= 0 {
			break
		}
		t := time.NewTimer(min(ahead, 5*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	r.now.Store(end.UnixNano())
	return nil
}

func (r *Replay) next() Event {
	if r.held != nil {
		ev := *r.held
		r.held = nil
		return ev
	}
	return r.sim.Next()
}

func (r *Replay) ingest(ctx context.Context, txs []*Transaction) error {
	if len(txs) == 0 {
		return nil
	}
	events := make([][]byte, len(txs))
	for i, tx := range txs {
		b, err := json.Marshal(tx)
		if err != nil {
			return fmt.Errorf("encode transaction %s: %w", tx.ID, err)
		}
		events[i] = b
		if tx.Fraud {
			r.Stats.Frauds.Add(1)
		}
	}
	if err := r.platform.Ingest(ctx, Stream, events); err != nil {
		return fmt.Errorf("ingest %d transactions: %w", len(txs), err)
	}
	r.Stats.Transactions.Add(int64(len(txs)))
	return nil
}

// score waits until the view has the step's transactions, whether or not
// they are scored, so that the moment of the decision (the clock then) is
// after they arrived; then it predicts each by its card when Score is on.
func (r *Replay) score(ctx context.Context, txs []*Transaction) error {
	if len(txs) == 0 {
		return nil
	}
	if err := r.platform.WaitFeatures(ctx, View); err != nil {
		return fmt.Errorf("wait for view %s: %w", View, err)
	}
	at := r.clockNow()
	scoring := r.Score.Load()
	for _, tx := range txs {
		d := decision{at: at}
		if scoring {
			s, err := r.platform.Predict(ctx, Model, tx.Card)
			switch {
			case err == nil:
				d.predictionID = s.ID
				r.Stats.Predictions.Add(1)
			case ctx.Err() != nil:
				return ctx.Err()
			default:
				r.Stats.PredictErrors.Add(1)
			}
		}
		r.decided[tx.ID] = d
	}
	return nil
}

// label publishes the labels due, joined to their predictions.
func (r *Replay) label(ctx context.Context, labels []*Label) error {
	if len(labels) == 0 {
		return nil
	}
	fbs := make([]wire.Feedback, len(labels))
	for i, l := range labels {
		d, ok := r.decided[l.TransactionID]
		if !ok { // not replayed by this Replay: judge it as of its own time
			d.at = l.TxTime
		}
		fbs[i] = wire.Feedback{ID: "label-" + l.TransactionID, Model: Model, PredictionID: d.predictionID,
			Entity: l.Card, EventTime: d.at, At: l.At}
		if l.Fraud {
			fbs[i].Label = 1
		}
		delete(r.decided, l.TransactionID)
	}
	if err := r.platform.Feedback(ctx, fbs...); err != nil {
		return fmt.Errorf("feedback of %d labels: %w", len(fbs), err)
	}
	r.Stats.Labels.Add(int64(len(fbs)))
	return nil
}
