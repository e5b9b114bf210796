package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"
)

// TestInferenceFollowsRegistry runs registry and inference in one process:
// a version registered over REST and made champion is served, and moving
// the alias swaps the answering version through the MODELS stream.
func TestInferenceFollowsRegistry(t *testing.T) {
	a := startApp(t, testConfig(t, TargetAll))
	r := newRest(t, a)
	addTinyModel(t, r, 2)
	r.want(404, "POST", "/v1/models/tiny:predict", []byte(`{"features":[1,2,3,4,5,6]}`), nil)
	r.want(200, "POST", "/v1/models/tiny/versions/1/gate", nil, nil) // champion needs a passed gate
	r.want(200, "PUT", "/v1/models/tiny/aliases/champion", []byte(`{"version":1}`), nil)
	predict := []byte(`{"features":[1.18533623,-2.16157317,0.777643561,1.08358669,-1.39212918,2.3458817]}`)
	waitVersion := func(v string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, body := r.do("POST", "/v1/models/tiny:predict", predict, nil)
			if resp.StatusCode == 200 && bytes.Contains(body, []byte(`"version":`+v+`,`)) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("version %s never answered; last %d %s", v, resp.StatusCode, body)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitVersion("1")
	r.want(200, "POST", "/v1/models/tiny/versions/2/gate", nil, nil) // champion needs a passed gate
	r.want(200, "PUT", "/v1/models/tiny/aliases/champion", []byte(`{"version":2}`), nil)
	waitVersion("2")
	body := r.want(200, "POST", "/v2/models/tiny/infer", []byte(`{"inputs":[{"name":"features","shape":[1,6],"datatype":"FP32","data":[1,2,3,4,5,6]}]}`), nil)
	if !strings.Contains(string(body), `"model_version":"2"`) {
		t.Errorf("OIP infer = %s", body)
	}
}

// addTinyModel registers model "tiny" (inference's tiny_xgb.json fixture)
// with versions versions of it, none an alias yet.
func addTinyModel(t testing.TB, r rest, versions int) {
	t.Helper()
	model, err := os.ReadFile("../inference/testdata/tiny_xgb.json")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(model)
	sha := hex.EncodeToString(sum[:])
	r.want(201, "POST", "/v1/models", []byte(`{"name":"tiny"}`), nil)
	r.want(201, "POST", "/v1/artifacts", model, map[string]string{"X-Plinth-Sha256": sha, "Content-Type": "application/octet-stream"})
	for range versions {
		r.want(201, "POST", "/v1/models/tiny/versions", []byte(`{"artifact_sha256":"`+sha+`","format":"xgboost-json"}`), nil)
	}
}
