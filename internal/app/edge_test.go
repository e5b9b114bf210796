package app

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	registryv1 "github.com/plinthai/plinth/api/gen/registry/v1"
	"github.com/plinthai/plinth/internal/gateway"
)

// TestRoutesMatchTheContract is the drift guard: every route registered
// under /v1 by any target appears in api/openapi.yaml, and every operation
// of the document has a route.
func TestRoutesMatchTheContract(t *testing.T) {
	a := startApp(t, testConfig(t, TargetAll))
	var routes []string
	for _, p := range a.server.Mux().Patterns() {
		if strings.Contains(p, " /v1/") {
			routes = append(routes, p)
		}
	}
	var documented []string
	for _, op := range a.Gateway.Contract().Operations() {
		documented = append(documented, op.Pattern())
	}
	slices.Sort(documented)
	if diff := cmp.Diff(documented, routes); diff != "" {
		t.Errorf("routes differ from api/openapi.yaml (-documented +registered):\n%s", diff)
	}
}

// fillPath replaces each {wildcard} of an OpenAPI path with a sample value.
func fillPath(path string) string {
	for strings.Contains(path, "{") {
		i, j := strings.Index(path, "{"), strings.Index(path, "}")
		path = path[:i] + "x1" + path[j+1:]
	}
	return path
}

// otherScope returns a scope that does not satisfy need.
func otherScope(need []string) string {
	for _, s := range gateway.AllScopes() {
		if s != gateway.ScopeAdmin && !slices.Contains(need, s) {
			return s
		}
	}
	return ""
}

// TestEveryOperationNeedsCredentialsAndScopes enumerates the document:
// each operation answers 401 without credentials and 403 with a token
// lacking its scopes; public ones answer without credentials.
func TestEveryOperationNeedsCredentialsAndScopes(t *testing.T) {
	a := startApp(t, testConfig(t, TargetAll))
	for _, op := range a.Gateway.Contract().Operations() {
		t.Run(op.ID, func(t *testing.T) {
			path := fillPath(op.Path)
			anon := rest{t: t, base: "http://" + a.HTTPAddr()}
			resp, body := anon.do(op.Method, path, nil, nil)
			if op.Public {
				if resp.StatusCode >= 400 {
					t.Errorf("public %s without credentials = %d %s", op.Pattern(), resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s without credentials = %d (WWW-Authenticate %q), want 401", op.Pattern(), resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
			if len(op.Scopes) == 0 {
				return
			}
			weak := newRest(t, a, otherScope(op.Scopes))
			weak.problem(http.StatusForbidden, "", op.Method, path, nil, nil)
		})
	}
}

// TestEveryGRPCMethodHasScopes checks that the gateway's gRPC table covers
// every method served, and that calls need credentials and scopes.
func TestEveryGRPCMethodHasScopes(t *testing.T) {
	a := startApp(t, testConfig(t, TargetAll))
	table := gateway.GRPCScopes()
	for svc, info := range a.server.GRPC().GetServiceInfo() {
		if strings.HasPrefix(svc, "grpc.") {
			continue
		}
		for _, m := range info.Methods {
			if _, ok := table["/"+svc+"/"+m.Name]; !ok {
				t.Errorf("gRPC method /%s/%s has no scopes in gateway.GRPCScopes", svc, m.Name)
			}
		}
	}
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := registryv1.NewRegistryServiceClient(conn)
	tests := []struct {
		name  string
		token string
		want  codes.Code
	}{
		{"none", "", codes.Unauthenticated},
		{"garbage", "Bearer not-a-token", codes.Unauthenticated},
		{"wrong scope", "Bearer " + devToken(t, a.cfg, "u", gateway.ScopePredict), codes.PermissionDenied},
		{"models:write", "Bearer " + devToken(t, a.cfg, "u", gateway.ScopeModelsWrite), codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.token != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", tt.token)
			}
			_, err := c.CreateModel(ctx, &registryv1.CreateModelRequest{Name: "grpc-model"})
			if got := status.Code(err); got != tt.want {
				t.Errorf("CreateModel = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestOIPRoutesAreInTheEdgeTable is the drift guard for /v2: every Open
// Inference Protocol route registered on the mux is in gateway.OIPRoutes,
// and every entry of the table is served.
func TestOIPRoutesAreInTheEdgeTable(t *testing.T) {
	a := startApp(t, testConfig(t, TargetAll))
	var routes []string
	for _, p := range a.server.Mux().Patterns() {
		if strings.HasPrefix(p, "/v2") || strings.Contains(p, " /v2") {
			routes = append(routes, p)
		}
	}
	var table []string
	for p := range gateway.OIPRoutes() {
		table = append(table, p)
	}
	slices.Sort(table)
	if diff := cmp.Diff(table, routes); diff != "" {
		t.Errorf("/v2 routes differ from gateway.OIPRoutes (-table +registered):\n%s", diff)
	}
}

// TestOIPNeedsCredentialsAndScopes: /v2 answers 401 and 403 in the
// protocol's {"error": ...} shape, health stays open, and a token with
// scope predict passes the edge.
func TestOIPNeedsCredentialsAndScopes(t *testing.T) {
	a := startApp(t, testConfig(t, TargetAll))
	base := "http://" + a.HTTPAddr()
	anon := rest{t: t, base: base}
	weak := rest{t: t, base: base, token: devToken(t, a.cfg, "u", gateway.ScopeModelsRead)}
	good := rest{t: t, base: base, token: devToken(t, a.cfg, "u", gateway.ScopePredict)}
	infer := []byte(`{"inputs":[{"name":"features","shape":[1,1],"datatype":"FP32","data":[1]}]}`)
	tests := []struct {
		name         string
		caller       rest
		method, path string
		body         []byte
		want         int
	}{
		{"live without credentials", anon, "GET", "/v2/health/live", nil, 200},
		{"ready without credentials", anon, "GET", "/v2/health/ready", nil, 200},
		{"infer without credentials", anon, "POST", "/v2/models/m/infer", infer, 401},
		{"metadata without credentials", anon, "GET", "/v2", nil, 401},
		{"infer without scope predict", weak, "POST", "/v2/models/m/infer", infer, 403},
		{"model ready without scope predict", weak, "GET", "/v2/models/m/versions/1/ready", nil, 403},
		{"infer with scope predict, unknown model", good, "POST", "/v2/models/m/infer", infer, 404},
		{"server metadata with scope predict", good, "GET", "/v2", nil, 200},
		{"unknown path", good, "GET", "/v2/nowhere", nil, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.caller.do(tt.method, tt.path, tt.body, nil)
			if resp.StatusCode != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, body, tt.want)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			var e struct {
				Error *string `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil || (tt.want >= 400) != (e.Error != nil) {
				t.Errorf("body = %s, want {\"error\": ...} exactly when failing", body)
			}
			if tt.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if want := `"read";q=` + strconv.Itoa(a.cfg.Gateway.RateLimit.ReadBurst) + ";"; tt.caller.token == good.token && !strings.HasPrefix(resp.Header.Get("RateLimit-Policy"), want) {
				t.Errorf("RateLimit-Policy = %q, want it to start %s (the read burst)", resp.Header.Get("RateLimit-Policy"), want)
			}
		})
	}
}

// A created API key, with its secret, matches the contract's
// CreatedAPIKey (newRest checks every response against the document).
func TestCreatedAPIKeyMatchesTheContract(t *testing.T) {
	a := startApp(t, testConfig(t, TargetAll))
	body := newRest(t, a).want(201, "POST", "/v1/apikeys", []byte(`{"name":"ci","scopes":["predict"]}`), nil)
	if !strings.Contains(string(body), `"key":"plk_`) {
		t.Errorf("created key = %s, want its secret", body)
	}
}
