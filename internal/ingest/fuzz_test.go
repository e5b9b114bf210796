package ingest

import (
	"testing"
	"time"
)

// FuzzSplitBody: no body makes the splitter panic, every event it returns
// lies inside the body, and it never returns more than the batch limit.
func FuzzSplitBody(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[{"a":1},{"b":2}]`, "{\"a\":1}\n\n{\"b\"", `[`, ` `, `[1,"x",null]`} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, ndjson bool) {
		events, _, err := SplitBody(body, ndjson, 5)
		if err != nil {
			return
		}
		if len(events) == 0 || len(events) > 5 {
			t.Fatalf("%d events", len(events))
		}
	})
}

// FuzzCheckEvent: no event makes the checker panic, and an accepted event
// has its time inside the window and a non-empty id.
func FuzzCheckEvent(f *testing.F) {
	streams, err := LoadStreams("testdata/streams.yaml")
	if err != nil {
		f.Fatal(err)
	}
	st := streams["transactions"]
	for _, s := range []string{
		`{"txn_id":"t","card_id":"c","ts":"2026-03-01T12:00:00Z","amount":1}`,
		`{"txn_id":1,"card_id":"c","ts":1772366400000,"amount":-1e308,"items":3}`,
		`{"txn_id":"t","card_id":"c","ts":"2026-03-01T12:00:00+01:00","amount":1e999}`,
		`{"txn_id":"t","card_id":"\u0000","ts":"x","amount":1,"online":true}`,
		`[]`, `null`, `{}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w := window{now: now, maxAge: time.Hour, maxFuture: time.Minute}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := st.checkEvent(raw, w, make([][]byte, len(st.Fields)))
		if err != nil {
			return
		}
		if ev.ID == "" || ev.Time.Before(now.Add(-time.Hour)) || ev.Time.After(now.Add(time.Minute)) {
			t.Fatalf("accepted %s as %+v", raw, ev)
		}
	})
}
