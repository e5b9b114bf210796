package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/plinthai/plinth/client"
)

// decodeAll reads every event of in, and the error that ended the input
// (nil at io.EOF).
func decodeAll(in string) ([]string, error) {
	d := newEventDecoder(strings.NewReader(in))
	var out []string
	for {
		ev, err := d.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, string(ev))
	}
}

func TestEventDecoder(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		wantErr  bool
	}{
		{"empty", " \n\t", nil, false},
		{"one object", `{"a":1}`, []string{`{"a":1}`}, false},
		{"one pretty object", "\n {\n  \"a\": 1\n}\n", []string{"{\n  \"a\": 1\n}"}, false},
		{"array", ` [{"a":1}, {"b":[2]}] `, []string{`{"a":1}`, `{"b":[2]}`}, false},
		{"empty array", `[]`, nil, false},
		{"ndjson", "{\"a\":1}\n{\"a\":2}\r\n\n{\"a\":3}", []string{`{"a":1}`, `{"a":2}`, `{"a":3}`}, false},
		{"not an object", `{"a":1} 7`, []string{`{"a":1}`}, true},
		{"not an object in an array", `[{"a":1}, "x"]`, []string{`{"a":1}`}, true},
		{"broken line", "{\"a\":1}\n{\"a\":", []string{`{"a":1}`}, true},
		{"unclosed array", `[{"a":1}`, []string{`{"a":1}`}, true},
		{"unclosed empty array", `[`, nil, true},
		{"data after the array", `[{"a":1}] {}`, []string{`{"a":1}`}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeAll(tc.in)
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzEventDecoder checks that the decoder never panics and yields only
// JSON objects.
func FuzzEventDecoder(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[{"a":1},{"b":2}]`, "{}\n{}\n", `[`, ` [{"a":[1,{"b":null}]}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, _ := decodeAll(in)
		for _, ev := range got {
			var m map[string]any
			if err := json.Unmarshal([]byte(ev), &m); err != nil {
				t.Errorf("event %q is not a JSON object: %v", ev, err)
			}
		}
	})
}

// TestEventsSendBatchesALargeFile sends a file past the progress-bar size
// in batches to a stand-in ingest endpoint that rejects events marked
// bad, and checks the batches, the indexes of the rejections in the input,
// the progress bar and the failure.
func TestEventsSendBatchesALargeFile(t *testing.T) {
	var batches []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/events/tx" || r.Header.Get("Content-Type") != "application/x-ndjson" || r.Header.Get("Idempotency-Key") == "" {
			t.Errorf("%s %s %v: want an NDJSON POST to /v1/events/tx with an Idempotency-Key", r.Method, r.URL, r.Header)
		}
		var res client.IngestResult
		n := 0
		for sc := bufio.NewScanner(r.Body); sc.Scan(); n++ {
			if strings.Contains(sc.Text(), `"bad"`) {
				res.Rejected = append(res.Rejected, client.Rejection{Index: n, Field: "bad", Reason: "not wanted"})
			} else {
				res.Accepted++
			}
		}
		batches = append(batches, n)
		w.Header().Set("Content-Type", "application/json")
		if res.Accepted == 0 {
			w.WriteHeader(http.StatusBadRequest)
		}
		_ = json.NewEncoder(w).Encode(res)
	}))
	defer srv.Close()

	var in strings.Builder
	n := 0
	for ; in.Len() < eventProgressBytes+4096 || (n-2)%3 != 0; n++ {
		fmt.Fprintf(&in, "{\"id\":%d,\"pad\":%q}\n", n, strings.Repeat("x", 200))
	}
	bad := []int{3, n - 2, n - 1} // the last batch holds only bad events
	lines := strings.Split(strings.TrimSuffix(in.String(), "\n"), "\n")
	for _, i := range bad {
		lines[i] = fmt.Sprintf(`{"id":%d,"bad":true}`, i)
	}
	file := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := &cobra.Command{Use: "plinth", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(Commands([]string{"PLINTH_ADDR=" + srv.URL})...)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	batch := (n - 2) / 3 // three full batches, then one with the two last events
	root.SetArgs([]string{"events", "send", "tx", "--file", file, "--batch", strconv.Itoa(batch), "-o", "json"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("3 of %d events were rejected (index 3, %d, %d)", n, n-2, n-1)) {
		t.Errorf("err = %v, want 3 rejected events named by index", err)
	}
	if want := []int{batch, batch, batch, 2}; !cmp.Equal(batches, want) {
		t.Errorf("batches = %v, want %v", batches, want)
	}
	var rep eventReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Events != n || rep.Accepted != n-3 || len(rep.Rejected) != 3 || rep.Rejected[1].Index != n-2 {
		t.Errorf("report = %d events, %d accepted, rejected %+v", rep.Events, rep.Accepted, rep.Rejected)
	}
	if !strings.Contains(errb.String(), "sending "+file) {
		t.Errorf("stderr = %q, want a progress bar", errb.String())
	}
}
