package bus

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
)

func TestParseAck(t *testing.T) {
	tests := []struct {
		name string
		msg  *nats.Msg
		want Outcome
	}{
		{"stored", &nats.Msg{Data: []byte(`{"stream":"EVENTS","seq":12}`)}, Stored},
		{"stored in a domain", &nats.Msg{Data: []byte(`{"stream":"EVENTS","domain":"hub","seq":12}`)}, Stored},
		{"stored, white space", &nats.Msg{Data: []byte(" {\n\"stream\" : \"EVENTS\" ,\t\"seq\" : 12 }\n")}, Stored},
		{"duplicate", &nats.Msg{Data: []byte(`{"stream":"EVENTS","seq":12,"duplicate":true}`)}, Duplicate},
		{"not a duplicate", &nats.Msg{Data: []byte(`{"stream":"EVENTS","seq":12,"duplicate":false}`)}, Stored},
		{"error", &nats.Msg{Data: []byte(`{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"EVENTS"}`)}, Failed},
		{"error with brackets in a string", &nats.Msg{Data: []byte(`{"error":{"description":"bad }] \"x\""},"stream":"EVENTS","seq":1}`)}, Failed},
		{"null error", &nats.Msg{Data: []byte(`{"error":null,"stream":"EVENTS","seq":1}`)}, Stored},
		{"no stream", &nats.Msg{Data: []byte(`{"seq":12}`)}, Failed},
		{"empty stream", &nats.Msg{Data: []byte(`{"stream":"","seq":12}`)}, Failed},
		{"stream not a string", &nats.Msg{Data: []byte(`{"stream":12}`)}, Failed},
		{"malformed", &nats.Msg{Data: []byte(`{"stream":"EVENTS"`)}, Failed},
		{"missing comma", &nats.Msg{Data: []byte(`{"stream":"EVENTS" "seq":1}`)}, Failed},
		{"trailing text", &nats.Msg{Data: []byte(`{"stream":"EVENTS","seq":1} x`)}, Failed},
		{"not an object", &nats.Msg{Data: []byte(`["stream","EVENTS"]`)}, Failed},
		{"no responders", &nats.Msg{Header: nats.Header{"Status": {"503"}}}, Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := parseAck(tt.msg)
			if got != tt.want {
				t.Errorf("got %s (%q), want %s", got, reason, tt.want)
			}
			if (got == Failed) != (reason != "") {
				t.Errorf("outcome %s with reason %q: want a reason exactly when failed", got, reason)
			}
		})
	}
}

func TestParseReply(t *testing.T) {
	tests := []struct {
		in    string
		batch uint64
		index int
		ok    bool
	}{
		{"7.0", 7, 0, true},
		{"18446744073709551615.999", 18446744073709551615, 999, true},
		{"7", 0, 0, false},
		{"7.", 0, 0, false},
		{".3", 0, 0, false},
		{"7.-1", 0, 0, false},
		{"x.1", 0, 0, false},
		{"7.1.2", 0, 0, false},
	}
	for _, tt := range tests {
		b, i, ok := parseReply(tt.in)
		if ok != tt.ok || (ok && (b != tt.batch || i != tt.index)) {
			t.Errorf("parseReply(%q) = %d, %d, %v; want %d, %d, %v", tt.in, b, i, ok, tt.batch, tt.index, tt.ok)
		}
	}
}

// TestFailAll: a reconnection fails every message still waiting at once,
// and leaves the others as they were.
func TestFailAll(t *testing.T) {
	p := &Publisher{batches: map[uint64]*batch{}}
	id, b, err := p.register(2)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	b.set(0, Stored, nil)
	p.mu.Unlock()
	p.failAll(errConnLost)
	select {
	case <-b.done:
	default:
		t.Fatal("batch not done after failAll")
	}
	res := p.wait(t.Context(), id, b, 0)
	want := BatchResult{Outcomes: []Outcome{Stored, Failed}, Persisted: 1, Err: errConnLost, ErrIndex: 1}
	if diff := cmp.Diff(want, res, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if n := len(p.batches); n != 0 {
		t.Errorf("%d batches still registered, want 0", n)
	}
}

// FuzzEachMember holds the acknowledgement scanner to encoding/json: it
// never panics, and it reads every valid JSON object with the members
// json.Unmarshal finds (the last value of a repeated key wins there).
func FuzzEachMember(f *testing.F) {
	for _, s := range []string{
		`{"stream":"EVENTS","seq":12,"duplicate":true}`,
		`{"error":{"code":503,"description":"x \"}\" y"},"stream":"E"}`,
		`{"a":[1,{"b":[]}],"c":-1.5e+3,"d":null,"e":"\u00e9\\"}`,
		` { } `, `{"a":1"b":2}`, `{"a":}`, `{"a":[}`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := map[string]string{}
		ok := eachMember(b, func(key, val []byte) {
			var k string
			if err := json.Unmarshal(key, &k); err != nil && json.Valid(b) {
				t.Fatalf("eachMember(%q): key %q: %v", b, key, err)
			}
			got[k] = string(val)
		})
		var want map[string]json.RawMessage
		if json.Unmarshal(b, &want) != nil || want == nil {
			return // not an object: eachMember may say either
		}
		if !ok {
			t.Fatalf("eachMember(%q) = false for a valid object", b)
		}
		wantStr := map[string]string{}
		for k, v := range want {
			wantStr[k] = string(v)
		}
		if diff := cmp.Diff(wantStr, got); diff != "" {
			t.Fatalf("eachMember(%q) members (-json +got):\n%s", b, diff)
		}
	})
}
