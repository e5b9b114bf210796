package ingest

import (
	"bytes"
	"encoding/json"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// SplitBody splits a request body into the JSON texts of its events. A JSON
// body is one object (single is then true) or an array of values; an
// NDJSON body holds one value per line, blank lines ignored. Values are
// not checked here beyond what splitting needs: each is checked against the
// stream schema on its own, so one malformed NDJSON line is rejected by
// index while its neighbours pass. A malformed JSON body, or one with more
// than maxBatch events (ErrTooLarge), fails as a whole. The returned slices
// alias body.
func SplitBody(body []byte, ndjson bool, maxBatch int) (events [][]byte, single bool, err error) {
	return splitBody(body, ndjson, maxBatch, nil)
}

// splitBody is SplitBody appending to into.
func splitBody(body []byte, ndjson bool, maxBatch int, into [][]byte) (events [][]byte, single bool, err error) {
	if ndjson {
		events, err = splitLines(body, maxBatch, into)
		return events, false, err
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, false, problem.Field("body", "empty body, want a JSON object or array of events")
	case trimmed[0] == '{':
		if !valid(trimmed) {
			return nil, true, problem.Field("body", "malformed JSON")
		}
		return append(into, trimmed), true, nil
	case trimmed[0] == '[':
		events, err = splitBatch(trimmed, maxBatch, into)
		return events, false, err
	default:
		return nil, false, problem.Field("body", "want a JSON object or array of events")
	}
}

// splitBatch validates a JSON array and returns its elements, in one pass.
func splitBatch(body []byte, maxBatch int, into [][]byte) ([][]byte, error) {
	if into == nil {
		into = make([][]byte, 0, min(maxBatch, 1+len(body)/64))
	}
	out, n, ok := splitArray(body, maxBatch, into)
	switch {
	case !ok:
		return nil, problem.Field("body", "malformed JSON array: %s", syntaxError(body))
	case n > maxBatch:
		return nil, tooMany(n, maxBatch)
	case n == 0:
		return nil, problem.Field("body", "empty array, want at least one event")
	}
	return out, nil
}

// syntaxError describes what is wrong with malformed JSON, as encoding/json
// words it; it is only called on the error path.
func syntaxError(b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err.Error()
	}
	return "malformed"
}

func splitLines(body []byte, maxBatch int, out [][]byte) ([][]byte, error) {
	if n := bytes.Count(body, []byte{'\n'}) + 1; n > maxBatch {
		// Blank lines may bring the count under the limit: count exactly.
		if c := countLines(body); c > maxBatch {
			return nil, tooMany(c, maxBatch)
		}
	}
	for line := range bytes.SplitSeq(body, []byte{'\n'}) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		return nil, problem.Field("body", "empty body, want one JSON event per line")
	}
	return out, nil
}

func countLines(body []byte) int {
	n := 0
	for line := range bytes.SplitSeq(body, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) > 0 {
			n++
		}
	}
	return n
}

func tooMany(n, max int) error {
	return problem.FieldKind(problem.ErrTooLarge, "body", "%d events, more than the limit of %d per request", n, max)
}
