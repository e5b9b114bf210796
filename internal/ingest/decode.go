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
	if ndjson {
		events, err = splitLines(body, maxBatch)
		return events, false, err
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, false, problem.Field("body", "empty body, want a JSON object or array of events")
	case trimmed[0] == '{':
		if !json.Valid(trimmed) {
			return nil, true, problem.Field("body", "malformed JSON")
		}
		return [][]byte{trimmed}, true, nil
	case trimmed[0] == '[':
		return splitArray(trimmed, maxBatch)
	default:
		return nil, false, problem.Field("body", "want a JSON object or array of events")
	}
}

func splitArray(body []byte, maxBatch int) ([][]byte, bool, error) {
	if !json.Valid(body) {
		var v any
		err := json.Unmarshal(body, &v)
		return nil, false, problem.Field("body", "malformed JSON array: %v", err)
	}
	out := elements(body)
	if len(out) > maxBatch {
		return nil, false, tooMany(len(out), maxBatch)
	}
	if len(out) == 0 {
		return nil, false, problem.Field("body", "empty array, want at least one event")
	}
	return out, false, nil
}

func splitLines(body []byte, maxBatch int) ([][]byte, error) {
	if n := bytes.Count(body, []byte{'\n'}) + 1; n > maxBatch {
		// Blank lines may bring the count under the limit: count exactly.
		if c := countLines(body); c > maxBatch {
			return nil, tooMany(c, maxBatch)
		}
	}
	var out [][]byte
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
