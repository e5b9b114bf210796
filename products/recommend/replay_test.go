package recommend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plinthai/plinth/internal/wire"
)

// fakeView is a Platform with a user view of its own: ingested ratings
// become visible at the next WaitFeatures, and it recommends the items
// 7, 8 and 9 to everybody. It checks what a point-in-time training set
// relies on: the clock and the view as each call sees them.
type fakeView struct {
	t       *testing.T
	clock   func() time.Time
	pending []ratingEvent
	seen    map[string][]int64 // user → items visible in the view
	steps   []time.Time        // the clock at each Ingest
	asked   []string           // "user@clock" per Recommend
	labels  []wire.Feedback
	n       int
}

func (f *fakeView) Ingest(_ context.Context, stream string, events [][]byte) error {
	if stream != Stream {
		return fmt.Errorf("stream %q", stream)
	}
	for _, e := range events {
		var r ratingEvent
		if err := json.Unmarshal(e, &r); err != nil {
			return err
		}
		if !r.Time.Before(f.clock()) {
			f.t.Errorf("rating %s at %s ingested with the clock at %s, not after it", r.ID, r.Time, f.clock())
		}
		f.pending = append(f.pending, r)
	}
	f.steps = append(f.steps, f.clock())
	return nil
}

func (f *fakeView) WaitFeatures(_ context.Context, view string) error {
	if view != View {
		return fmt.Errorf("view %q", view)
	}
	for _, r := range f.pending {
		f.seen[r.User] = append(f.seen[r.User], r.Item)
	}
	f.pending = nil
	return nil
}

func (f *fakeView) Recommend(_ context.Context, model, user string) (Recommended, error) {
	if model != Model || len(f.pending) > 0 {
		return Recommended{}, fmt.Errorf("recommend %s for %s with %d ratings not in the view", model, user, len(f.pending))
	}
	if len(f.seen[user]) == 0 {
		f.t.Errorf("recommend for %s, whom the view does not know", user)
	}
	f.n++
	f.asked = append(f.asked, user+"@"+f.clock().Format("15:04"))
	return Recommended{ID: "p" + strconv.Itoa(f.n), Version: 1, Arm: wire.ArmChampion, Items: []string{"7", "8", "9"}}, nil
}

func (f *fakeView) Feedback(_ context.Context, fbs ...wire.Feedback) error {
	f.labels = append(f.labels, fbs...)
	return nil
}

func TestReplayVisits(t *testing.T) {
	t0 := time.Date(1997, 9, 20, 10, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	ratings := []Rating{
		{User: "u1", Item: 1, Rating: 4, Time: at(1)}, {User: "u1", Item: 2, Rating: 3, Time: at(2)},
		{User: "u2", Item: 3, Rating: 5, Time: at(3)},
		{User: "u1", Item: 7, Rating: 5, Time: at(21)}, {User: "u1", Item: 4, Rating: 2, Time: at(22)},
		{User: "u3", Item: 5, Rating: 1, Time: at(23)},
		{User: "u2", Item: 6, Rating: 3, Time: at(65)},
	}
	f := &fakeView{t: t, seen: map[string][]int64{}}
	r := NewReplay(ratings, f)
	f.clock = r.Now
	r.Score.Store(true)
	if err := r.Run(context.Background(), at(60)); err != nil {
		t.Fatal(err)
	}
	if !r.Now().Equal(at(60)) || r.Remaining() != 1 {
		t.Errorf("after Run to 11:00: clock %s, %d ratings left; want 11:00 and 1", r.Now(), r.Remaining())
	}
	if err := r.Run(context.Background(), at(120)); !errors.Is(err, ErrExhausted) {
		t.Errorf("Run past the last rating: got %v, want ErrExhausted", err)
	}
	// Three steps with ratings, the empty ones skipped; each ingested with
	// the clock at the step's end.
	if diff := cmp.Diff([]time.Time{at(5), at(25), at(70)}, f.steps); diff != "" {
		t.Errorf("ingest clocks (-want +got):\n%s", diff)
	}
	// Only returning users are recommended, at the start of their visit.
	if diff := cmp.Diff([]string{"u1@10:20", "u2@11:05"}, f.asked); diff != "" {
		t.Errorf("recommendations (-want +got):\n%s", diff)
	}
	want := []wire.Feedback{
		{ID: "visit-u1-" + unix(at(0)), Model: Model, Entity: "u1", EventTime: at(0), Label: 1, Items: []string{"1", "2"}, At: at(5)},
		{ID: "visit-u2-" + unix(at(0)), Model: Model, Entity: "u2", EventTime: at(0), Label: 1, Items: []string{"3"}, At: at(5)},
		{ID: "visit-u1-" + unix(at(20)), Model: Model, PredictionID: "p1", Entity: "u1", EventTime: at(20), Label: 1, Items: []string{"7", "4"}, At: at(25)},
		{ID: "visit-u3-" + unix(at(20)), Model: Model, Entity: "u3", EventTime: at(20), Label: 1, Items: []string{"5"}, At: at(25)},
		{ID: "visit-u2-" + unix(at(65)), Model: Model, PredictionID: "p2", Entity: "u2", EventTime: at(65), Label: 1, Items: []string{"6"}, At: at(70)},
	}
	if diff := cmp.Diff(want, f.labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	// u1 went on to rate 7, which was recommended; u2 rated 6, which was not.
	c := r.Stats.Snapshot()
	if c != (Counts{Ratings: 7, Visits: 5, Predictions: 2, Hits: 1}) {
		t.Errorf("counts %+v", c)
	}
	if got := r.Tallies(); !cmp.Equal(got, map[int64]Tally{1: {Predictions: 2, Hits: 1}}) || got[1].HR() != 0.5 {
		t.Errorf("tallies %v, want version 1 with 2 recommendations and 1 hit", got)
	}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestReplayUnscored(t *testing.T) {
	t0 := time.Date(1997, 9, 20, 10, 0, 0, 0, time.UTC)
	ratings := []Rating{{User: "u1", Item: 1, Rating: 4, Time: t0}, {User: "u1", Item: 2, Rating: 4, Time: t0.Add(time.Hour)}}
	f := &fakeView{t: t, seen: map[string][]int64{}}
	r := NewReplay(ratings, f)
	f.clock = r.Now
	if err := r.Run(context.Background(), t0.Add(2*time.Hour)); !errors.Is(err, ErrExhausted) {
		t.Fatalf("Run: got %v, want ErrExhausted", err)
	}
	if len(f.asked) != 0 || len(f.labels) != 2 || slices.ContainsFunc(f.labels, func(fb wire.Feedback) bool { return fb.PredictionID != "" }) {
		t.Errorf("with scoring off: %d recommendations, labels %+v; want none and 2 labels without predictions", len(f.asked), f.labels)
	}
}

func TestReissue(t *testing.T) {
	t0 := time.Date(1997, 9, 20, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	ratings := []Rating{
		{User: "a", Item: 1, Time: at(1)}, {User: "b", Item: 2, Time: at(2)},
		{User: "a", Item: 2, Time: at(10)}, {User: "b", Item: 1, Time: at(11)}, {User: "c", Item: 2, Time: at(12)},
		{User: "c", Item: 3, Time: at(13)}, {User: "d", Item: 3, Time: at(14)}, {User: "d", Item: 4, Time: at(15)},
	}
	// After hour 10, item 2 is rated twice, 3 twice, 1 and 4 once: the two
	// most rated are 2 and 3 (ties to the lower id), re-issued from then.
	got, ids := Reissue{At: at(10), Titles: 2, Offset: 100}.Apply(ratings)
	if diff := cmp.Diff([]int64{2, 3}, ids); diff != "" {
		t.Errorf("re-issued ids (-want +got):\n%s", diff)
	}
	var items []int64
	for _, r := range got {
		items = append(items, r.Item)
	}
	if diff := cmp.Diff([]int64{1, 2, 102, 1, 102, 103, 103, 4}, items); diff != "" {
		t.Errorf("items after the re-issue (-want +got):\n%s", diff)
	}
	if ratings[2].Item != 2 {
		t.Error("Apply changed its input")
	}
}
