package ingest

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// Event is one checked event, ready to publish.
type Event struct {
	// Data is the event's JSON as the client sent it.
	Data []byte
	// Time is the event time: the time field, or the time of intake when
	// the stream declares none.
	Time time.Time
	// ID is the event id, unquoted (empty when the stream declares no id
	// field); it aliases Data unless the id holds escapes.
	ID []byte
}

// window bounds acceptable event times.
type window struct {
	now       time.Time
	maxAge    time.Duration // 0: no bound in the past
	maxFuture time.Duration
}

// checkEvent validates one event's JSON against s. The error is a
// problem.FieldError naming the offending field ("body" when the event is
// not a JSON object). vals is scratch space of len(s.Fields).
func (s *Stream) checkEvent(raw []byte, w window, vals [][]byte) (Event, error) {
	clear(vals)
	extra, ok := s.collect(raw, vals)
	if !ok {
		return Event{}, problem.Field("body", "event is not a JSON object")
	}
	ev := Event{Data: raw, Time: w.now}
	for i := range s.Fields {
		t, err := checkField(&s.Fields[i], vals[i])
		if err != nil {
			return Event{}, err
		}
		if i == s.timeIdx {
			ev.Time = t
		}
	}
	if extra != "" {
		return Event{}, problem.Field(extra, "unknown field (the stream %q does not declare it)", s.Name)
	}
	if s.TimeField != "" {
		if err := w.check(s.TimeField, ev.Time); err != nil {
			return Event{}, err
		}
	}
	if s.IDField != "" {
		if ev.ID = scalarText(vals[s.byName[s.IDField]]); len(ev.ID) == 0 {
			return Event{}, problem.Field(s.IDField, "event id must not be empty")
		}
	}
	for _, k := range s.EntityKeys {
		if v := vals[s.byName[k]]; len(v) <= 2 && (len(v) == 0 || v[0] == '"') {
			return Event{}, problem.Field(k, "entity key must not be empty")
		}
	}
	return ev, nil
}

// collect validates raw as one JSON object and puts each declared field's
// value into vals (the last one wins when a key repeats, as in
// encoding/json). It returns the first undeclared key in byte order, ""
// when none or when extra fields are allowed, so that the answer does not
// depend on key order; ok is false when raw is not a valid JSON object.
func (s *Stream) collect(raw []byte, vals [][]byte) (extra string, ok bool) {
	ok = eachMember(raw, func(key, val []byte) {
		name := key[1 : len(key)-1]
		i, known := s.byName[string(name)]
		if !known && len(name) > 0 && containsByte(name, '\\') {
			i, known = s.byName[unquote(key)]
		}
		switch {
		case known:
			vals[i] = val
		case !s.AllowExtra:
			if k := unquote(key); extra == "" || k < extra {
				extra = k
			}
		}
	})
	return extra, ok
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

func isNull(v json.RawMessage) bool { return len(v) == 0 || string(v) == "null" }

// checkField checks one value against its declaration; v is nil when
// absent. It returns the time a timestamp holds.
func checkField(f *Field, v json.RawMessage) (t time.Time, err error) {
	if isNull(v) {
		if f.Required {
			return t, problem.Field(f.Name, "required")
		}
		return t, nil
	}
	ok := false
	switch f.Type {
	case TypeString:
		ok = v[0] == '"'
	case TypeNumber:
		_, ok = finite(v)
	case TypeInteger:
		x, fin := finite(v)
		ok = fin && x == math.Trunc(x) && math.Abs(x) <= 1<<53
	case TypeBool:
		ok = string(v) == "true" || string(v) == "false"
	case TypeTimestamp:
		t, ok = parseTimestamp(v)
	}
	if !ok {
		return t, problem.Field(f.Name, "want %s, got %s", describeType(f.Type), preview(v))
	}
	return t, nil
}

func describeType(t string) string {
	if t == TypeTimestamp {
		return "a timestamp (RFC 3339 string or Unix milliseconds)"
	}
	return "a " + t
}

// preview is a short excerpt of a value for an error message.
func preview(v json.RawMessage) string {
	const max = 32
	if len(v) > max {
		return string(v[:max]) + "…"
	}
	return string(v)
}

// finite parses a JSON number that fits a finite float64.
func finite(v json.RawMessage) (float64, bool) {
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return 0, false
	}
	x, err := strconv.ParseFloat(string(v), 64)
	return x, err == nil && !math.IsInf(x, 0)
}

// parseTimestamp reads an RFC 3339 string or Unix milliseconds.
func parseTimestamp(v json.RawMessage) (time.Time, bool) {
	if len(v) > 0 && v[0] == '"' {
		var buf [40]byte
		t, err := time.Parse(time.RFC3339Nano, string(unquoteBytes(v, buf[:0])))
		return t.UTC(), err == nil
	}
	ms, ok := finite(v)
	if !ok || ms != math.Trunc(ms) || math.Abs(ms) > 1<<53 {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(ms)).UTC(), true
}

// scalarText returns a string's value or an integer's text, aliasing v
// unless the string holds escapes.
func scalarText(v json.RawMessage) []byte {
	if len(v) > 0 && v[0] == '"' {
		return unquoteBytes(v, nil)
	}
	return v
}

// check rejects times outside the window, naming the time field.
func (w window) check(field string, t time.Time) error {
	if w.maxAge > 0 && t.Before(w.now.Add(-w.maxAge)) {
		return problem.Field(field, "event time %s is more than %s in the past", t.Format(time.RFC3339), w.maxAge)
	}
	if t.After(w.now.Add(w.maxFuture)) {
		return problem.Field(field, "event time %s is more than %s in the future", t.Format(time.RFC3339), w.maxFuture)
	}
	return nil
}
