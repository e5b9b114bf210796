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
	// ID is the event id ("" when the stream declares no id field).
	ID string
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
	if i := skipSpace(raw, 0); i >= len(raw) || raw[i] != '{' || !json.Valid(raw) {
		return Event{}, problem.Field("body", "event is not a JSON object")
	}
	clear(vals)
	extra := s.collect(raw, vals)
	for i := range s.Fields {
		if err := checkField(&s.Fields[i], vals[i]); err != nil {
			return Event{}, err
		}
	}
	if extra != "" {
		return Event{}, problem.Field(extra, "unknown field (the stream %q does not declare it)", s.Name)
	}
	ev := Event{Data: raw, Time: w.now}
	if s.TimeField != "" {
		t, _ := parseTimestamp(vals[s.byName[s.TimeField]])
		if err := w.check(s.TimeField, t); err != nil {
			return Event{}, err
		}
		ev.Time = t
	}
	if s.IDField != "" {
		if ev.ID = scalarText(vals[s.byName[s.IDField]]); ev.ID == "" {
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

// collect puts each declared field's value into vals (the last one wins
// when a key repeats, as in encoding/json) and returns the first
// undeclared key in byte order, "" when none or when extra fields are
// allowed, so that the answer does not depend on key order.
func (s *Stream) collect(raw []byte, vals [][]byte) string {
	extra := ""
	members(raw, func(key, val []byte) {
		name := key[1 : len(key)-1]
		i, ok := s.byName[string(name)]
		if !ok && len(name) > 0 && containsByte(name, '\\') {
			i, ok = s.byName[unquote(key)]
		}
		switch {
		case ok:
			vals[i] = val
		case !s.AllowExtra:
			if k := unquote(key); extra == "" || k < extra {
				extra = k
			}
		}
	})
	return extra
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

// checkField checks one value against its declaration; v is nil when absent.
func checkField(f *Field, v json.RawMessage) error {
	if isNull(v) {
		if f.Required {
			return problem.Field(f.Name, "required")
		}
		return nil
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
		_, ok = parseTimestamp(v)
	}
	if !ok {
		return problem.Field(f.Name, "want %s, got %s", describeType(f.Type), preview(v))
	}
	return nil
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
		t, err := time.Parse(time.RFC3339Nano, unquote(v))
		return t.UTC(), err == nil
	}
	ms, ok := finite(v)
	if !ok || ms != math.Trunc(ms) || math.Abs(ms) > 1<<53 {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(ms)).UTC(), true
}

// scalarText returns a string's value or an integer's text.
func scalarText(v json.RawMessage) string {
	if len(v) > 0 && v[0] == '"' {
		return unquote(v)
	}
	return string(v)
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
