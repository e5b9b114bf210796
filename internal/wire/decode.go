package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// DecodePredictionLogs appends the prediction logs of a PREDICTIONS
// message, an object or an array of them, to dst, with the values and the
// errors json.Unmarshal gives.
//
// The monitor decodes every logged prediction, so the message's usual form,
// the one the inference service writes (the field names as declared, each
// once, ASCII strings without escapes, no nulls), is read by hand, in one
// pass without reflection. Anything else (an escape, a non-ASCII byte, a
// null, a name in other case, a repeated field, a syntax error) goes to
// json.Unmarshal as a whole: it decides, and its error is the one returned.
func DecodePredictionLogs(dst []PredictionLog, data []byte) ([]PredictionLog, error) {
	n := len(dst)
	d := logDecoder{b: data}
	if out, ok := d.logs(dst); ok {
		return out, nil
	}
	return decodeLogsJSON(dst[:n], data)
}

// decodeLogsJSON is DecodePredictionLogs by encoding/json.
func decodeLogsJSON(dst []PredictionLog, data []byte) ([]PredictionLog, error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		var pls []PredictionLog
		if err := json.Unmarshal(t, &pls); err != nil {
			return dst, err
		}
		return append(dst, pls...), nil
	}
	var pl PredictionLog
	if err := json.Unmarshal(data, &pl); err != nil {
		return dst, err
	}
	return append(dst, pl), nil
}

// logDecoder reads the usual form of a message; a method reports false
// at the first thing outside it.
type logDecoder struct {
	b []byte
	i int
	// model and arm are the last logs' (a message's logs share them), kept
	// so that their strings are made once.
	model, arm string
}

func (d *logDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether the next byte is c, taking it
// if so.
func (d *logDecoder) next(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *logDecoder) logs(dst []PredictionLog) ([]PredictionLog, bool) {
	if d.next('[') {
		if !d.next(']') {
			for {
				dst = append(dst, PredictionLog{})
				if !d.log(&dst[len(dst)-1]) {
					return dst, false
				}
				if d.next(']') {
					break
				}
				if !d.next(',') {
					return dst, false
				}
			}
		}
	} else {
		dst = append(dst, PredictionLog{})
		if !d.log(&dst[len(dst)-1]) {
			return dst, false
		}
	}
	d.ws()
	return dst, d.i == len(d.b)
}

// The fields of a PredictionLog, as bits of the set already read.
const (
	fID = 1 << iota
	fModel
	fVersion
	fArm
	fEntity
	fFeatures
	fFeaturesHash
	fOutput
	fItems
	fLatency
	fError
	fAt
)

func (d *logDecoder) log(pl *PredictionLog) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	seen := 0
	for {
		key, ok := d.str()
		if !ok || !d.next(':') {
			return false
		}
		var f int
		switch string(key) { // no allocation: the compiler compares in place
		case "id":
			f = fID
			pl.ID, ok = d.text()
		case "model":
			f = fModel
			pl.Model, ok = d.shared(&d.model)
		case "version":
			f = fVersion
			pl.Version, ok = d.int()
		case "arm":
			f = fArm
			pl.Arm, ok = d.shared(&d.arm)
		case "entity":
			f = fEntity
			pl.Entity, ok = d.text()
		case "features":
			f = fFeatures
			pl.Features, ok = d.features()
		case "features_hash":
			f = fFeaturesHash
			pl.FeaturesHash, ok = d.text()
		case "output":
			f = fOutput
			pl.Output, ok = d.floats()
		case "items":
			f = fItems
			pl.Items, ok = d.texts()
		case "latency_us":
			f = fLatency
			pl.LatencyUS, ok = d.int()
		case "error":
			f = fError
			pl.Error, ok = d.text()
		case "at":
			f = fAt
			ok = d.time(&pl.At)
		default:
			if knownFold(key) {
				return false // a field's name in other case: encoding/json's matching decides
			}
			ok = d.skip(0) // an unknown field, as a newer sender may add
		}
		if !ok || seen&f != 0 {
			return false
		}
		seen |= f
		if d.next('}') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// knownFold reports whether an unknown name may still be a field's name to
// encoding/json, which matches names without regard to case.
func knownFold(key []byte) bool {
	for _, name := range [...]string{"id", "model", "version", "arm", "entity", "features", "features_hash", "output", "items", "latency_us", "error", "at"} {
		if len(key) == len(name) && bytes.EqualFold(key, []byte(name)) {
			return true
		}
	}
	return false
}

// str reads a string of printable ASCII without escapes and returns its
// bytes in place.
func (d *logDecoder) str() ([]byte, bool) {
	if !d.next('"') {
		return nil, false
	}
	start := d.i
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c < 0x20 || c == '\\' || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

func (d *logDecoder) text() (string, bool) {
	s, ok := d.str()
	return string(s), ok
}

// shared is text, returning *last when the string equals it, else
// remembering the new one there.
func (d *logDecoder) shared(last *string) (string, bool) {
	s, ok := d.str()
	if ok && string(s) != *last {
		*last = string(s)
	}
	return *last, ok
}

// numSpan reads a number by JSON's grammar and returns its text.
func (d *logDecoder) numSpan() ([]byte, bool) {
	d.ws()
	b, i := d.b, d.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return nil, false
		}
	}
	d.i = i
	return b[start:i], true
}

func (d *logDecoder) int() (int64, bool) {
	s, ok := d.numSpan()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	return v, err == nil
}

func (d *logDecoder) float() (float64, bool) {
	s, ok := d.numSpan()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(s), 64)
	return v, err == nil
}

func (d *logDecoder) floats() ([]float64, bool) { return list(d, d.float) }

func (d *logDecoder) texts() ([]string, bool) { return list(d, d.text) }

// list reads an array of elements elem reads; empty is not nil, as with
// encoding/json.
func list[T any](d *logDecoder, elem func() (T, bool)) ([]T, bool) {
	if !d.next('[') {
		return nil, false
	}
	out := []T{}
	if d.next(']') {
		return out, true
	}
	for {
		v, ok := elem()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if d.next(']') {
			return out, true
		}
		if !d.next(',') {
			return nil, false
		}
	}
}

// features reads the features object; a name twice goes to encoding/json.
func (d *logDecoder) features() (map[string]float64, bool) {
	if !d.next('{') {
		return nil, false
	}
	out := map[string]float64{}
	if d.next('}') {
		return out, true
	}
	for {
		k, ok := d.text()
		if !ok || !d.next(':') {
			return nil, false
		}
		v, ok := d.float()
		if _, dup := out[k]; !ok || dup {
			return nil, false
		}
		out[k] = v
		if d.next('}') {
			return out, true
		}
		if !d.next(',') {
			return nil, false
		}
	}
}

// time reads a quoted RFC 3339 time as encoding/json does: by
// time.Time's own UnmarshalJSON.
func (d *logDecoder) time(t *time.Time) bool {
	d.ws()
	start := d.i
	if _, ok := d.str(); !ok {
		return false
	}
	return t.UnmarshalJSON(d.b[start:d.i]) == nil
}

// maxSkipDepth bounds the nesting skip follows (encoding/json's own
// bound is far deeper; past this one it decides).
const maxSkipDepth = 32

// skip passes over a value of an unknown field: numbers, ASCII strings
// without escapes, true, false, arrays and objects of them.
func (d *logDecoder) skip(depth int) bool {
	d.ws()
	if d.i >= len(d.b) || depth > maxSkipDepth {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		_, ok := d.str()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		_, ok := d.numSpan()
		return ok
	case c == 't' || c == 'f':
		for _, lit := range [...]string{"true", "false"} {
			if bytes.HasPrefix(d.b[d.i:], []byte(lit)) {
				d.i += len(lit)
				return true
			}
		}
		return false
	case c == '[':
		d.i++
		if d.next(']') {
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			if d.next(']') {
				return true
			}
			if !d.next(',') {
				return false
			}
		}
	case c == '{':
		d.i++
		if d.next('}') {
			return true
		}
		for {
			if _, ok := d.str(); !ok || !d.next(':') || !d.skip(depth+1) {
				return false
			}
			if d.next('}') {
				return true
			}
			if !d.next(',') {
				return false
			}
		}
	}
	return false
}
