package recommend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plinthai/plinth/internal/wire"
)

// Platform is what a replay drives: the ingest stream, the feature view
// the model reads, the model's recommendations by user, and FEEDBACK.
type Platform interface {
	// Ingest persists events of stream (all or an error).
	Ingest(ctx context.Context, stream string, events [][]byte) error
	// WaitFeatures returns once view has applied every ingested event.
	WaitFeatures(ctx context.Context, view string) error
	// Recommend asks model for the user's top items by entity key.
	Recommend(ctx context.Context, model, user string) (Recommended, error)
	// Feedback publishes labels.
	Feedback(ctx context.Context, fbs ...wire.Feedback) error
}

// Recommended is one recommendation as the replay keeps it.
type Recommended struct {
	ID      string
	Version int64
	Arm     string
	Items   []string
}

// ErrExhausted means the replay has no ratings left.
var ErrExhausted = errors.New("recommend: the ratings are exhausted")

// ReplayStats counts what a replay did; read it with Snapshot.
type ReplayStats struct {
	Ratings, Visits, Predictions, PredictErrors, Hits atomic.Int64
}

// Counts is a copy of ReplayStats. Hits counts the recommendations that
// held an item the user then rated in the visit.
type Counts struct {
	Ratings, Visits, Predictions, PredictErrors, Hits int64
}

// Snapshot copies the counters.
func (s *ReplayStats) Snapshot() Counts {
	return Counts{s.Ratings.Load(), s.Visits.Load(), s.Predictions.Load(), s.PredictErrors.Load(), s.Hits.Load()}
}

// Tally is one version's recommendations and hits in a replay.
type Tally struct{ Predictions, Hits int64 }

// HR is the version's hit rate over the replay, NaN before any
// recommendation.
func (t Tally) HR() float64 { return float64(t.Hits) / float64(t.Predictions) }

// Replay drives time-ordered ratings into the platform in accelerated time,
// one step of event time (Step, aligned to the Unix epoch) at a time, and
// skips steps without ratings. A user's ratings within a step are one
// visit. At the step's start, each visiting user the platform already
// knows (one with ratings in an earlier step) is recommended items by the
// user view (when Score is on); then the clock moves to the step's end,
// the step's ratings are ingested and the view catches up; then each visit
// goes to FEEDBACK as one label: the user, the items rated in the visit,
// the recommendation it judges (none when it was not scored), and the
// decision time (the step's start) as event time. So a point-in-time set
// of the view at a label's event time holds the user's items as the model
// saw them when it recommended: everything before the visit, nothing of
// it. First visits are never scored: the model has nothing to fold the
// user in from. Its clock (Now) is the event time, for the platform's
// event clock. Run is not safe for concurrent use; Now, Stats and Tallies
// are.
type Replay struct {
	ratings  []Rating
	platform Platform
	// Step is the event time of one visit (default 5 minutes).
	Step time.Duration
	// Rate paces the replay at that many scored visits per wall second; 0
	// runs flat out. Pacing by visits rather than by event time keeps the
	// monitor's wall-clock windows evenly fed across quiet and busy days.
	Rate float64
	// Score turns recommending at visits on.
	Score atomic.Bool
	// Stats counts the replay's work.
	Stats ReplayStats

	now     atomic.Int64
	next    int
	known   map[string]bool
	started time.Time // wall time the pacing counts from
	paced   int64     // scored visits since started

	mu      sync.Mutex
	tallies map[int64]Tally
}

// visit is one user's ratings in a step.
type visit struct {
	user  string
	items []string
}

// NewReplay returns a replay of ratings (in time order) into p, its clock
// at the step of the first rating.
func NewReplay(ratings []Rating, p Platform) *Replay {
	r := &Replay{ratings: ratings, platform: p, Step: 5 * time.Minute, known: map[string]bool{}, tallies: map[int64]Tally{}}
	if len(ratings) > 0 {
		r.now.Store(ratings[0].Time.Truncate(r.Step).UnixNano())
	}
	return r
}

// Now is the replay's event time.
func (r *Replay) Now() time.Time { return time.Unix(0, r.now.Load()).UTC() }

// Remaining is the number of ratings not replayed yet.
func (r *Replay) Remaining() int { return len(r.ratings) - r.next }

// Tallies returns each version's recommendations and hits so far.
func (r *Replay) Tallies() map[int64]Tally {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[int64]Tally, len(r.tallies))
	for v, t := range r.tallies {
		out[v] = t
	}
	return out
}

// Run replays every step that starts before until, and moves the clock to
// until at least. It returns ErrExhausted once no rating is left.
func (r *Replay) Run(ctx context.Context, until time.Time) error {
	r.started, r.paced = time.Now(), 0
	for {
		if r.next >= len(r.ratings) {
			return ErrExhausted
		}
		start := r.ratings[r.next].Time.Truncate(r.Step)
		if !start.Before(until) {
			if r.Now().Before(until) {
				r.now.Store(until.UnixNano())
			}
			return ctx.Err()
		}
		if err := r.step(ctx, start, start.Add(r.Step)); err != nil {
			return err
		}
		if err := r.pace(ctx); err != nil {
			return err
		}
	}
}

// pace waits while the scored visits are ahead of Rate.
func (r *Replay) pace(ctx context.Context) error {
	if r.Rate <= 0 {
		return ctx.Err()
	}
	wait := time.Until(r.started.Add(time.Duration(float64(r.paced) / r.Rate * float64(time.Second))))
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

// step replays the ratings of [start, end).
func (r *Replay) step(ctx context.Context, start, end time.Time) error {
	from := r.next
	for r.next < len(r.ratings) && r.ratings[r.next].Time.Before(end) {
		r.next++
	}
	batch := r.ratings[from:r.next]
	visits := groupVisits(batch)
	r.now.Store(start.UnixNano())
	recs, err := r.recommend(ctx, visits)
	if err != nil {
		return err
	}
	r.now.Store(end.UnixNano())
	if err := r.ingest(ctx, batch); err != nil {
		return err
	}
	for _, v := range visits {
		r.known[v.user] = true
	}
	return r.label(ctx, start, end, visits, recs)
}

// groupVisits groups a step's ratings by user, users in order of their
// first rating, each user's items in rating order.
func groupVisits(batch []Rating) []visit {
	var out []visit
	at := map[string]int{}
	for _, rt := range batch {
		i, ok := at[rt.User]
		if !ok {
			i = len(out)
			at[rt.User] = i
			out = append(out, visit{user: rt.User})
		}
		out[i].items = append(out[i].items, strconv.FormatInt(rt.Item, 10))
	}
	return out
}

// recommend asks for the known visitors' items when Score is on; a failed
// request is counted and leaves its visit unscored.
func (r *Replay) recommend(ctx context.Context, visits []visit) ([]Recommended, error) {
	recs := make([]Recommended, len(visits))
	if !r.Score.Load() {
		return recs, nil
	}
	for i, v := range visits {
		if !r.known[v.user] {
			continue
		}
		r.paced++
		rec, err := r.platform.Recommend(ctx, Model, v.user)
		switch {
		case err == nil:
			recs[i] = rec
			r.Stats.Predictions.Add(1)
			r.count(rec, v)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			r.Stats.PredictErrors.Add(1)
		}
	}
	return recs, nil
}

func (r *Replay) count(rec Recommended, v visit) {
	hit := slices.ContainsFunc(rec.Items, func(it string) bool { return slices.Contains(v.items, it) })
	r.mu.Lock()
	t := r.tallies[rec.Version]
	t.Predictions++
	if hit {
		t.Hits++
	}
	r.tallies[rec.Version] = t
	r.mu.Unlock()
	if hit {
		r.Stats.Hits.Add(1)
	}
}

// ratingEvent is a rating as the ratings stream declares it.
type ratingEvent struct {
	ID     string    `json:"id"`
	User   string    `json:"user"`
	Item   int64     `json:"item"`
	Rating float64   `json:"rating"`
	Time   time.Time `json:"time"`
}

// ingest persists a step's ratings and waits until the user view has
// applied them, so they arrive at the step's end on the event clock.
func (r *Replay) ingest(ctx context.Context, batch []Rating) error {
	events := make([][]byte, len(batch))
	for i, rt := range batch {
		b, err := json.Marshal(ratingEvent{ID: rt.ID(), User: rt.User, Item: rt.Item, Rating: rt.Rating, Time: rt.Time})
		if err != nil {
			return fmt.Errorf("encode rating %s: %w", rt.ID(), err)
		}
		events[i] = b
	}
	if err := r.platform.Ingest(ctx, Stream, events); err != nil {
		return fmt.Errorf("ingest %d ratings: %w", len(batch), err)
	}
	if err := r.platform.WaitFeatures(ctx, View); err != nil {
		return fmt.Errorf("wait for view %s: %w", View, err)
	}
	r.Stats.Ratings.Add(int64(len(batch)))
	return nil
}

// label publishes one label per visit: what the user rated, as of the
// decision at start.
func (r *Replay) label(ctx context.Context, start, end time.Time, visits []visit, recs []Recommended) error {
	fbs := make([]wire.Feedback, len(visits))
	for i, v := range visits {
		fbs[i] = wire.Feedback{ID: fmt.Sprintf("visit-%s-%d", v.user, start.Unix()), Model: Model, PredictionID: recs[i].ID,
			Entity: v.user, EventTime: start, Label: 1, Items: v.items, At: end}
	}
	if err := r.platform.Feedback(ctx, fbs...); err != nil {
		return fmt.Errorf("feedback of %d visits: %w", len(fbs), err)
	}
	r.Stats.Visits.Add(int64(len(fbs)))
	return nil
}
