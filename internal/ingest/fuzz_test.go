package ingest

import (
	"bytes"
	"encoding/json"
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
		for _, e := range events {
			if !bytes.Contains(body, e) {
				t.Fatalf("event %q is not in the body", e)
			}
		}
	})
}

// FuzzScan holds the one-pass scanner to encoding/json: it accepts exactly
// the texts json.Valid accepts; the members eachMember reports are those
// json.Unmarshal finds (the last one winning when a key repeats); and the
// elements splitArray returns are those json.Unmarshal finds.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{"txn_id":"t","card_id":"c","ts":"2026-03-01T12:00:00Z","amount":1}`,
		`{"a":[1,2,{"b":null}],"c":{"d":"\u00e9\n"},"a":-0.5e+3}`, ` { } `, `{"a":1,}`, `{"a" 1}`,
		`[{"a":1}, 2, "x", true, false, null, [ ]]`, `[1,]`, `[01]`, `[1.]`, `[-]`, `[1e]`, `"\x"`, "\"\x01\"",
		`{"\ud800":"x"}`, `[1] x`, `nul`, `{"a":tru}`, "{\"a\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := valid(b), json.Valid(b); got != want {
			t.Fatalf("valid(%q) = %v, json.Valid says %v", b, got, want)
		}
		checkMembers(t, b)
		checkElements(t, b)
	})
}

func checkMembers(t *testing.T, b []byte) {
	got := map[string]string{}
	ok := eachMember(b, func(key, val []byte) {
		// Decoded as encoding/json decodes keys (invalid UTF-8 replaced).
		var k string
		if err := json.Unmarshal(key, &k); err != nil {
			t.Fatalf("eachMember(%q): key %q: %v", b, key, err)
		}
		got[k] = string(val)
	})
	var want map[string]json.RawMessage
	isObject := json.Valid(b) && json.Unmarshal(b, &want) == nil && want != nil
	if ok != isObject {
		t.Fatalf("eachMember(%q) = %v, want %v", b, ok, isObject)
	}
	if !ok {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("eachMember(%q) found %d keys, json.Unmarshal %d", b, len(got), len(want))
	}
	for k, v := range want {
		if got[k] != string(v) {
			t.Fatalf("eachMember(%q)[%q] = %q, json.Unmarshal says %q", b, k, got[k], v)
		}
	}
}

func checkElements(t *testing.T, b []byte) {
	const max = 4
	got, n, ok := splitArray(b, max, nil)
	var want []json.RawMessage
	isArray := json.Valid(b) && json.Unmarshal(b, &want) == nil && want != nil
	if ok != isArray {
		t.Fatalf("splitArray(%q) = %v, want %v", b, ok, isArray)
	}
	if !ok {
		return
	}
	if n != len(want) || len(got) != min(n, max) {
		t.Fatalf("splitArray(%q) = %d elements (%d kept), json.Unmarshal %d", b, n, len(got), len(want))
	}
	for i := range got {
		if string(got[i]) != string(want[i]) {
			t.Fatalf("splitArray(%q)[%d] = %q, json.Unmarshal says %q", b, i, got[i], want[i])
		}
	}
}

// FuzzCheckEvent: no event makes the checker panic, and an accepted event
// is valid JSON, has its time inside the window and a non-empty id.
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
		`{"txn_id":"t","card_id":"c","ts":"2026-03-01T12:00:00Z","amount":1,}`,
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
		if !json.Valid(raw) || len(ev.ID) == 0 || ev.Time.Before(now.Add(-time.Hour)) || ev.Time.After(now.Add(time.Minute)) {
			t.Fatalf("accepted %s as %+v", raw, ev)
		}
	})
}

// FuzzCheckFeedback: no label makes the check panic, and every label it
// accepts re-encodes to a wire.Feedback of the path's model with an id and
// something to join on.
func FuzzCheckFeedback(f *testing.F) {
	for _, s := range []string{`{"id":"l1","prediction_id":"p1","label":1}`,
		`{"id":"l2","entity":"c7","event_time":"2026-03-01T11:00:00Z","label":0,"at":"2026-03-01T11:30:00Z"}`,
		`{"id":"l3","prediction_id":"p","items":["a","b"]}`, `{"id":1}`, `{"label":1e999}`, `[]`, `{"id":"x"} {"id":"y"}`} {
		f.Add([]byte(s))
	}
	s := &Service{cfg: DefaultConfig()}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := s.checkFeedback(raw, "fraud", now)
		if err != nil {
			return
		}
		var fb struct {
			ID           string `json:"id"`
			Model        string `json:"model"`
			PredictionID string `json:"prediction_id"`
			Entity       string `json:"entity"`
		}
		if err := json.Unmarshal(ev.Data, &fb); err != nil {
			t.Fatalf("accepted label re-encodes to %q: %v", ev.Data, err)
		}
		if fb.ID == "" || fb.Model != "fraud" || (fb.PredictionID == "" && fb.Entity == "") || string(ev.ID) != fb.ID {
			t.Fatalf("accepted %q as %s", raw, ev.Data)
		}
	})
}
