package view

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"time"
)

// Row transform functions.
const (
	FnLog1p   = "log1p"
	FnAbs     = "abs"
	FnSqrt    = "sqrt"
	FnEquals  = "equals"      // 1 when the field equals value, else 0
	FnHour    = "hour_of_day" // of the event time, UTC; needs no field
	FnWeekday = "day_of_week" // 0 = Sunday, of the event time, UTC
)

var fns = []string{FnLog1p, FnAbs, FnSqrt, FnEquals, FnHour, FnWeekday}

// TransformDef declares a row transform: a new numeric column computed
// from one field of the event (or its time), usable as a feature's field.
type TransformDef struct {
	Name  string `yaml:"name"`
	Fn    string `yaml:"fn"`
	Field string `yaml:"field"`
	Value string `yaml:"value"` // equals only
}

const noInput = -1

type transform struct {
	fn   string
	in   int
	out  int
	num  float64 // equals: the value as a number, or NaN
	hash uint64  // equals: the hash of the value as a JSON string
}

func (v *View) compileTransforms(defs []TransformDef, columns map[string]int) error {
	var errs []error
	for i, d := range defs {
		t := transform{fn: d.Fn, in: noInput, out: len(v.fields) + i}
		switch {
		case !nameRE.MatchString(d.Name):
			errs = append(errs, fmt.Errorf("transform %q: name must match %s", d.Name, nameRE))
		case !slices.Contains(fns, d.Fn):
			errs = append(errs, fmt.Errorf("transform %q: fn %q is not one of %v", d.Name, d.Fn, fns))
		case d.Fn != FnHour && d.Fn != FnWeekday && d.Field == "":
			errs = append(errs, fmt.Errorf("transform %q: %s needs a field", d.Name, d.Fn))
		}
		if d.Field != "" {
			t.in = columns[d.Field]
		}
		if d.Fn == FnEquals {
			t.num, t.hash = equalsTarget(d.Value)
		}
		v.transforms = append(v.transforms, t)
	}
	return errors.Join(errs...)
}

func equalsTarget(value string) (float64, uint64) {
	n, err := strconv.ParseFloat(value, 64)
	if err != nil {
		n = math.NaN()
	}
	js, _ := json.Marshal(value)
	return n, hashBytes(js) | 1
}

// Row is one event reduced to a view's input columns.
type Row struct {
	Entity string
	Time   int64  // event time, Unix nanoseconds
	Seq    uint64 // stream sequence: orders events of equal time
	ID     uint64 // idempotency key: hash of the event id, or Seq
	Num    []float64
	Hash   []uint64 // 0 when absent
}

// ErrNoEntity means the event lacks the view's entity field.
var ErrNoEntity = errors.New("event has no entity key")

// Extract reduces an event's JSON to a Row. eventID may be empty, in which
// case the stream sequence is the idempotency key.
func (v *View) Extract(data []byte, t time.Time, seq uint64, eventID string) (Row, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return Row{}, fmt.Errorf("decode event: %w", err)
	}
	r := Row{Time: t.UnixNano(), Seq: seq, ID: seq | 1<<63}
	if eventID != "" {
		r.ID = hashBytes([]byte(eventID)) &^ (1 << 63)
	}
	if r.Entity = scalar(m[v.Entity]); r.Entity == "" {
		return Row{}, fmt.Errorf("view %q: field %q: %w", v.Name, v.Entity, ErrNoEntity)
	}
	n := len(v.fields) + len(v.transforms)
	r.Num, r.Hash = make([]float64, n), make([]uint64, n)
	for c, f := range v.fields {
		r.Num[c], r.Hash[c] = value(m[f])
	}
	for _, tr := range v.transforms {
		r.Num[tr.out] = tr.apply(&r, t)
	}
	return r, nil
}

func (tr *transform) apply(r *Row, t time.Time) float64 {
	x := math.NaN()
	if tr.in != noInput {
		x = r.Num[tr.in]
	}
	switch tr.fn {
	case FnLog1p:
		return math.Log1p(x)
	case FnAbs:
		return math.Abs(x)
	case FnSqrt:
		return math.Sqrt(x)
	case FnEquals:
		if r.Hash[tr.in] == 0 {
			return math.NaN()
		}
		if x == tr.num || r.Hash[tr.in] == tr.hash {
			return 1
		}
		return 0
	case FnHour:
		return float64(t.UTC().Hour())
	default: // FnWeekday
		return float64(t.UTC().Weekday())
	}
}

// value reads a JSON value as a number (NaN if it is none; booleans are 0
// and 1) and a hash of its text (0 when absent or null).
func value(raw json.RawMessage) (float64, uint64) {
	if len(raw) == 0 || string(raw) == "null" {
		return math.NaN(), 0
	}
	h := hashBytes(raw) | 1
	switch raw[0] {
	case 't':
		return 1, h
	case 'f':
		return 0, h
	case '"', '{', '[':
		return math.NaN(), h
	}
	x, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return math.NaN(), h
	}
	return x, h
}

// scalar returns a string's value or a number's text.
func scalar(raw json.RawMessage) string {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

func hashBytes(b []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64()
}
