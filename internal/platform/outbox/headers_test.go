package outbox

import (
	"encoding/json"
	"testing"
)

func FuzzDecodeHeaders(f *testing.F) {
	for _, s := range []string{`{}`, `{"traceparent":"00-0a-0b-01","Plinth-Model":"fraud"}`, `null`, `[]`, `{"a":1}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := decodeHeaders(s)
		if err != nil {
			return
		}
		// Whatever decodes is a string map, and encodes back to the same map.
		var m map[string]string
		if json.Unmarshal([]byte(s), &m) != nil {
			t.Fatalf("decodeHeaders accepted %q that is not a string map", s)
		}
		for k, v := range m {
			if got := h.Get(k); got != v {
				t.Fatalf("header %q: got %q, want %q", k, got, v)
			}
		}
	})
}
