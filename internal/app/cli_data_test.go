package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plinthai/plinth/client"
	"github.com/plinthai/plinth/internal/gateway"
)

// TestCLISendsEventsReadsFeaturesAndPredicts runs `plinth events send`,
// `plinth features lookup` and `plinth predict` against a server with
// ingest, features and inference.
func TestCLISendsEventsReadsFeaturesAndPredicts(t *testing.T) {
	cfg := testConfig(t, TargetAll)
	cfg.Ingest.StreamsFile = "../ingest/testdata/streams.yaml"
	cfg.Features.ViewsFile = "../features/testdata/views.yaml"
	a := startApp(t, cfg)
	c := cliRun{t, []string{"PLINTH_ADDR=http://" + a.HTTPAddr(), "PLINTH_TOKEN=" + devToken(t, cfg, "cli", gateway.ScopeAdmin)}}
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	event := func(id, card, amount string) string {
		return fmt.Sprintf(`{"txn_id":%q,"card_id":%q,"ts":%q,"amount":%s}`, id, card, ts, amount)
	}
	valid := []string{event("t0", "c1", "1"), event("t1", "c1", "2"), event("t3", "c1", "3")}
	// In batches of 2: the second batch is half rejected, the third wholly (a 400).
	lines := []string{valid[0], valid[1], event("t2", "c1", `"x"`), valid[2], event("t4", "", "1"), `{"txn_id":"t5"}`}
	ndjson := write("events.ndjson", strings.Join(lines, "\n")+"\n")
	out, _, err := c.run("events", "send", "transactions", "--file", ndjson, "--batch", "2")
	if err == nil || !strings.Contains(err.Error(), "3 of 6 events were rejected (index 2, 4, 5)") {
		t.Errorf("events send with bad events = %v, want 3 of 6 rejected by index", err)
	}
	for _, want := range []string{"6       3         0", "2      amount"} {
		if !strings.Contains(out, want) {
			t.Errorf("events send printed\n%s\nwant a line with %q", out, want)
		}
	}

	var rep struct {
		Events, Accepted, Duplicates int
		Rejected                     []client.Rejection
	}
	array := write("events.json", "[\n"+strings.Join(valid, ",\n")+"\n]")
	if err := json.Unmarshal([]byte(c.ok("events", "send", "transactions", "-f", array, "-o", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Events != 3 || rep.Accepted != 3 || rep.Duplicates != 3 || len(rep.Rejected) != 0 {
		t.Errorf("array sent again = %+v, want 3 events accepted as duplicates", rep)
	}
	c.ok("events", "send", "transactions", "-f", write("one.json", "{\n  \"txn_id\": \"u0\", \"card_id\": \"c2\",\n  \"ts\": \""+ts+"\", \"amount\": 7\n}\n"))
	c.fails("streams file", "events", "send", "nope", "-f", array)
	c.fails("event 1: want a JSON object", "events", "send", "transactions", "-f", write("bad.json", "[{}, 3]"))
	c.fails("no events", "events", "send", "transactions", "-f", write("empty.json", " \n"))

	lookupFeatures(t, c)
	predictWithTheCLI(t, c)
}

// lookupFeatures waits until the view shows every accepted event, then
// checks the table.
func lookupFeatures(t *testing.T, c cliRun) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var fv client.FeatureLookup
		if err := json.Unmarshal([]byte(c.ok("features", "lookup", "card", "c1", "c2", "-o", "json")), &fv); err != nil {
			t.Fatal(err)
		}
		sum := slices.Index(fv.Names, "amount_sum_1h")
		v1, _ := fv.Value(0, sum)
		v2, _ := fv.Value(1, sum)
		if v1 == 6 && v2 == 7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("features never showed every event: %+v", fv)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
	out := c.ok("features", "lookup", "card", "c1", "nobody")
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if len(rows) != 3 || !strings.HasPrefix(rows[0], "ENTITY") || !strings.Contains(rows[0], "amount_sum_1h") {
		t.Fatalf("features lookup printed\n%s\nwant a header and a row per entity", out)
	}
	if got := strings.Fields(rows[2]); got[0] != "nobody" || strings.Count(rows[2], unknownCell) != len(got)-1 {
		t.Errorf("unknown entity row = %q, want every feature %s", rows[2], unknownCell)
	}
	c.fails("views file", "features", "lookup", "nope", "c1")
}

const unknownCell = "–"

// predictWithTheCLI registers an XGBoost model, makes it champion, and
// predicts from named features, pinned and not.
func predictWithTheCLI(t *testing.T, c cliRun) {
	t.Helper()
	c.ok("models", "create", "tiny")
	c.ok("versions", "create", "tiny", "--artifact", "../inference/testdata/tiny_xgb.json", "--format", "xgboost-json")
	c.fails("plinth aliases get tiny champion", "predict", "tiny", "--feature", "f0=1")
	c.ok("versions", "gate", "tiny", "1")
	c.ok("aliases", "set", "tiny", "champion", "1")
	args := []string{"predict", "tiny", "--id", "p1"}
	for i, v := range []string{"1.18533623", "-2.16157317", "0.777643561", "1.08358669", "-1.39212918", "null"} {
		args = append(args, "--feature", fmt.Sprintf("f%d=%s", i, v))
	}
	var p client.Prediction
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _, err := c.run(append(args, "-o", "json")...)
		if err == nil {
			if err := json.Unmarshal([]byte(out), &p); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("predict never answered: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
	if p.Score == nil || *p.Score <= 0 || *p.Score >= 1 {
		t.Errorf("predict score = %v, want a probability", p.Score)
	}
	if diff := cmp.Diff(client.Prediction{ID: "p1", Model: "tiny", Version: 1, Arm: "champion", Score: p.Score}, p); diff != "" {
		t.Errorf("predict (-want +got):\n%s", diff)
	}
	if out := c.ok(append(args, "--version", "1")...); !strings.Contains(out, "pinned") || !strings.Contains(out, "SCORE") {
		t.Errorf("predict --version 1 printed\n%s", out)
	}
	c.fails("features.f1", "predict", "tiny", "--feature", "f0=1")
	c.fails("--feature f0=abc: want a number", "predict", "tiny", "--feature", "f0=abc")
	c.fails("nothing to predict from", "predict", "tiny")
}
