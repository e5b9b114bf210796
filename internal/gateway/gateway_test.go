package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plinthai/plinth/api"
	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/sqlstore/sqltest"
)

func TestAPIKeysLifecycle(t *testing.T) {
	for _, be := range sqltest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			db := be.Open(t)
			h := newHarnessDB(t, db, nil)
			if !strings.HasPrefix(h.adminKey, APIKeyPrefix) {
				t.Fatalf("no bootstrap admin key printed")
			}
			if again := newHarnessDB(t, db, nil); again.adminKey != "" {
				t.Errorf("second start printed another admin key")
			}
			resp, body := h.call("POST", "/v1/apikeys", h.adminKey, `{"name":"reader","scopes":["models:read"]}`, nil)
			var k CreatedAPIKey
			if resp.StatusCode != 201 || json.Unmarshal([]byte(body), &k) != nil || !strings.HasPrefix(k.Key, APIKeyPrefix) {
				t.Fatalf("create key = %d %s", resp.StatusCode, body)
			}
			tampered := k.Key[:len(k.Key)-1] + "A"
			if tampered == k.Key {
				tampered = k.Key[:len(k.Key)-1] + "B"
			}
			steps := []struct {
				method, path, cred, body string
				want                     int
			}{
				{"GET", "/v1/models", k.Key, "", 200},
				{"POST", "/v1/models", k.Key, `{}`, 403},
				{"GET", "/v1/apikeys", k.Key, "", 403},
				{"POST", "/v1/apikeys", h.adminKey, `{"name":"x","scopes":["root"]}`, 400},
				{"GET", "/v1/models", tampered, "", 401},
				{"DELETE", "/v1/apikeys/" + k.ID, h.adminKey, "", 204},
				{"GET", "/v1/models", k.Key, "", 401},
				{"DELETE", "/v1/apikeys/000000000000", h.adminKey, "", 404},
			}
			for _, s := range steps {
				if resp, body := h.call(s.method, s.path, s.cred, s.body, nil); resp.StatusCode != s.want {
					t.Errorf("%s %s = %d %s, want %d", s.method, s.path, resp.StatusCode, body, s.want)
				}
			}
			_, body = h.call("GET", "/v1/apikeys?include_revoked=true", h.adminKey, "", nil)
			var list struct{ Keys []APIKey }
			_ = json.Unmarshal([]byte(body), &list)
			if len(list.Keys) != 2 || list.Keys[1].RevokedAt == nil || strings.Contains(body, k.Key) {
				t.Errorf("list = %s, want two keys, the second revoked, no secrets", body)
			}
		})
	}
}

func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RateLimit.ReadRate, c.RateLimit.ReadBurst = 0.5, 2 })
	alice, bob := h.token("alice", ScopeModelsRead), h.token("bob", ScopeModelsRead)
	for i := range 2 {
		resp, body := h.call("GET", "/v1/models", alice, "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("RateLimit") != `"read";r=`+strconv.Itoa(1-i)+";t="+strconv.Itoa(2+2*i) ||
			resp.Header.Get("RateLimit-Policy") != `"read";q=2;w=4` {
			t.Fatalf("request %d = %d %s, headers %v", i, resp.StatusCode, body, resp.Header)
		}
	}
	resp, body := h.call("GET", "/v1/models", alice, "", nil)
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != 429 || problemType(body) != slugRateLimited || retry < 1 || retry > 2 || !strings.HasPrefix(resp.Header.Get("RateLimit"), `"read";r=0;`) {
		t.Errorf("third request = %d %s Retry-After %q, want 429 rate-limited with Retry-After 1-2", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	if resp, _ := h.call("GET", "/v1/models", bob, "", nil); resp.StatusCode != 200 {
		t.Errorf("another principal = %d, want its own bucket", resp.StatusCode)
	}
	if resp, _ := h.call("POST", "/v1/models", h.token("alice", ScopeModelsWrite), "{}", nil); resp.StatusCode != 201 {
		t.Errorf("write class = %d, want its own bucket", resp.StatusCode)
	}
}

// TestServiceCallsAreNotRateLimited: another target's credential (scope
// service) is never throttled, and the scope grants no operation alone.
func TestServiceCallsAreNotRateLimited(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RateLimit.ReadRate, c.RateLimit.ReadBurst = 0.5, 1 })
	svc := h.token("service:inference", ScopeService, ScopeModelsRead)
	for i := range 5 {
		if resp, body := h.call("GET", "/v1/models", svc, "", nil); resp.StatusCode != 200 {
			t.Fatalf("service request %d = %d %s, want 200", i, resp.StatusCode, body)
		}
	}
	user := h.token("alice", ScopeModelsRead)
	h.call("GET", "/v1/models", user, "", nil)
	if resp, _ := h.call("GET", "/v1/models", user, "", nil); resp.StatusCode != 429 {
		t.Errorf("user's second request = %d, want 429", resp.StatusCode)
	}
	if resp, _ := h.call("GET", "/v1/models", h.token("service:x", ScopeService), "", nil); resp.StatusCode != 403 {
		t.Errorf("service scope alone = %d, want 403", resp.StatusCode)
	}
}

func TestIdempotencyKeys(t *testing.T) {
	h := newHarness(t, nil)
	alice, bob := h.token("alice", ScopeModelsWrite), h.token("bob", ScopeModelsWrite)
	key := map[string]string{IdempotencyKeyHeader: "k-1"}
	first, firstBody := h.call("POST", "/v1/models", alice, `{"name":"a"}`, key)
	steps := []struct {
		name, cred, body string
		hdr              map[string]string
		wantStatus       int
		wantReplay       bool
		wantCalls        int64
	}{
		{"replay", alice, `{"name":"a"}`, key, 201, true, 1},
		{"different body", alice, `{"name":"b"}`, key, 422, false, 1},
		{"other principal, same key", bob, `{"name":"a"}`, key, 201, false, 2},
		{"no key", alice, `{"name":"a"}`, nil, 201, false, 3},
		{"bad key", alice, `{}`, map[string]string{IdempotencyKeyHeader: "has space"}, 400, false, 3},
	}
	if first.StatusCode != 201 {
		t.Fatalf("first = %d %s", first.StatusCode, firstBody)
	}
	for _, s := range steps {
		resp, body := h.call("POST", "/v1/models", s.cred, s.body, s.hdr)
		replayed := resp.Header.Get(IdempotentReplayedHeader) == "true"
		if resp.StatusCode != s.wantStatus || replayed != s.wantReplay || h.calls.Load() != s.wantCalls {
			t.Errorf("%s: %d %s replayed=%v calls=%d, want %d replayed=%v calls=%d", s.name, resp.StatusCode, body, replayed, h.calls.Load(), s.wantStatus, s.wantReplay, s.wantCalls)
		}
		if s.wantReplay && (body != firstBody || resp.Header.Get("Location") != first.Header.Get("Location")) {
			t.Errorf("%s: replay body %s location %q, want %s %q", s.name, body, resp.Header.Get("Location"), firstBody, first.Header.Get("Location"))
		}
	}
}

func TestIdempotencyConcurrentDuplicates(t *testing.T) {
	h := newHarness(t, nil)
	h.gate = make(chan struct{})
	alice := h.token("alice", ScopeModelsWrite)
	key := map[string]string{IdempotencyKeyHeader: "same"}
	var wg sync.WaitGroup
	var firstStatus int
	wg.Go(func() {
		resp, _ := h.call("POST", "/v1/models", alice, `{"name":"a"}`, key)
		firstStatus = resp.StatusCode
	})
	<-h.entered // the first request is inside the handler
	const dups = 5
	codes := make([]int, dups)
	var dupWG sync.WaitGroup
	for i := range dups {
		dupWG.Go(func() {
			resp, body := h.call("POST", "/v1/models", alice, `{"name":"a"}`, key)
			codes[i] = resp.StatusCode
			if resp.StatusCode == 409 && !strings.Contains(body, IdempotencyKeyHeader) {
				t.Errorf("409 does not name the field: %s", body)
			}
		})
	}
	dupWG.Wait()
	close(h.gate)
	wg.Wait()
	if diff := cmp.Diff([]int{409, 409, 409, 409, 409}, codes); diff != "" || firstStatus != 201 || h.calls.Load() != 1 {
		t.Errorf("duplicates (-want +got):\n%s first=%d calls=%d", diff, firstStatus, h.calls.Load())
	}
	if resp, _ := h.call("POST", "/v1/models", alice, `{"name":"a"}`, key); resp.StatusCode != 201 || resp.Header.Get(IdempotentReplayedHeader) != "true" {
		t.Errorf("after the first finished: %d, want a replay", resp.StatusCode)
	}
}

func TestIdempotencyExpiryAndServerErrors(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Idempotency.TTL = time.Nanosecond })
	alice := h.token("alice", ScopeModelsWrite)
	key := map[string]string{IdempotencyKeyHeader: "k"}
	h.call("POST", "/v1/models", alice, `{}`, key)
	if resp, _ := h.call("POST", "/v1/models", alice, `{"other":1}`, key); resp.StatusCode != 201 || h.calls.Load() != 2 {
		t.Errorf("after expiry: %d calls=%d, want the key forgotten", resp.StatusCode, h.calls.Load())
	}
	h2 := newHarness(t, nil)
	h2.status.Store(500)
	h2.call("POST", "/v1/models", alice, `{}`, key)
	h2.status.Store(201)
	if resp, _ := h2.call("POST", "/v1/models", alice, `{}`, key); resp.StatusCode != 201 || h2.calls.Load() != 2 {
		t.Errorf("retry after a 500: %d calls=%d, want the request run again", resp.StatusCode, h2.calls.Load())
	}
	if n, err := h.svc.idem.Purge(context.Background()); err != nil || n < 1 {
		t.Errorf("Purge = %d, %v", n, err)
	}
}

func TestLimitsAndShedding(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Limits.MaxInFlight, c.Limits.MaxBodyBytes, c.Limits.MaxHeaderBytes = 1, 64, 2048 })
	w := h.token("w", ScopeModelsWrite)
	tests := []struct {
		name, method, path, body string
		hdr                      map[string]string
		want                     int
		wantType                 string
	}{
		{"header too large", "GET", "/v1/models", "", map[string]string{"X-Big": strings.Repeat("a", 4096)}, 431, slugHeaderTooLarge},
		{"body too large", "POST", "/v1/models", strings.Repeat("a", 65), nil, 413, "too-large"},
		{"unknown path", "GET", "/v1/nope", "", nil, 404, "not-found"},
		{"wrong method", "PATCH", "/v1/models", "", nil, 405, slugMethodNotAllowed},
		{"malformed authorization", "GET", "/v1/models", "", map[string]string{"Authorization": "Basic abc"}, 401, "unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.call(tt.method, tt.path, w, tt.body, tt.hdr)
			if resp.StatusCode != tt.want || problemType(body) != tt.wantType || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("= %d %s, want %d %s", resp.StatusCode, body, tt.want, tt.wantType)
			}
		})
	}
	h.gate = make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); h.call("POST", "/v1/models", w, "{}", nil) }()
	<-h.entered
	resp, body := h.call("GET", "/v1/models", w, "", nil)
	close(h.gate)
	<-done
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || problemType(body) != slugOverloaded {
		t.Errorf("past max-in-flight = %d %s, want 503 overloaded with Retry-After", resp.StatusCode, body)
	}
}

// A gRPC method is rate-limited in the class its REST counterpart is: the
// inference protocol's calls are reads on /v2, so they are over gRPC too.
func TestGRPCRateClasses(t *testing.T) {
	for method, want := range map[string]string{
		"/inference.GRPCInferenceService/ModelInfer":           ClassRead,
		"/inference.GRPCInferenceService/ServerReady":          ClassRead,
		"/plinth.registry.v1.RegistryService/GetModel":         ClassRead,
		"/plinth.registry.v1.RegistryService/ListVersions":     ClassRead,
		"/plinth.registry.v1.RegistryService/CreateVersion":    ClassWrite,
		"/plinth.ingest.v1.IngestService/Ingest":               ClassWrite,
		"/plinth.registry.v1.RegistryService/DownloadArtifact": ClassRead,
	} {
		if got := grpcClass(method); got != want {
			t.Errorf("grpcClass(%s) = %s, want %s", method, got, want)
		}
	}
}

// A prediction is a read in every protocol: /v1 predict declares the read
// class in the contract, as /v2 infer (OIPRoutes) and gRPC ModelInfer have.
func TestPredictIsARead(t *testing.T) {
	c, err := ParseContract(api.OpenAPIYAML())
	if err != nil {
		t.Fatal(err)
	}
	op, ok := c.Operation("POST /v1/models/{model}")
	if !ok || op.Class != ClassRead {
		t.Errorf("POST /v1/models/{model}: class %q (found %v), want %q", op.Class, ok, ClassRead)
	}
	for pattern, op := range OIPRoutes() {
		if op.Class != ClassRead {
			t.Errorf("%s: class %q, want %q", pattern, op.Class, ClassRead)
		}
	}
}

// The edge's context carries the request's deadline and principal in one
// allocation; contexts derived from it see both and end with it.
func TestEdgeContext(t *testing.T) {
	type key struct{}
	c := new(edgeContext)
	deadline := time.Now().Add(time.Hour)
	c.d.Init(context.Background(), deadline)
	c.p = auth.Principal{Subject: "alice"}
	derived, cancel := context.WithCancel(context.WithValue(c, key{}, 1))
	defer cancel()
	if got := auth.From(derived).Subject; got != "alice" {
		t.Errorf("auth.From(derived) = %q, want alice", got)
	}
	if d, ok := derived.Deadline(); !ok || !d.Equal(deadline) {
		t.Errorf("Deadline = %v %v, want %v", d, ok, deadline)
	}
	c.d.Cancel()
	select {
	case <-derived.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("derived context not done after the edge's ended")
	}
	if !errors.Is(derived.Err(), context.Canceled) {
		t.Errorf("derived Err = %v, want Canceled", derived.Err())
	}
}

// A body without a declared length is bounded as it is read: 413, as for
// one that declares too much.
func TestChunkedBodyOverTheLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Limits.MaxBodyBytes = 64 })
	w := h.token("w", ScopeModelsWrite)
	req, err := http.NewRequest("POST", h.url+"/v1/models", io.MultiReader(strings.NewReader(strings.Repeat("a", 65))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || problemType(string(body)) != "too-large" {
		t.Errorf("chunked 65 bytes over a 64-byte limit = %d %s, want 413 too-large", resp.StatusCode, body)
	}
	if h.calls.Load() != 0 {
		t.Errorf("the handler ran %d times, want the body refused before", h.calls.Load())
	}
}
