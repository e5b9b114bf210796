package gateway

import (
	"context"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// GRPCScopes maps every gRPC method the edge lets through to the scopes it
// needs, as x-plinth-scopes does for REST operations (the same scopes for
// the same operation). A method missing here is refused: a new service must
// add its methods, and TestEveryGRPCMethodHasScopes fails until it does.
func GRPCScopes() map[string][]string {
	const reg = "/plinth.registry.v1.RegistryService/"
	const mon = "/plinth.monitor.v1.MonitorService/"
	const oip = "/inference.GRPCInferenceService/"
	predict := []string{ScopePredict}
	read, write := []string{ScopeModelsRead}, []string{ScopeModelsWrite}
	return map[string][]string{
		reg + "CreateModel": write, reg + "GetModel": read, reg + "ListModels": read,
		reg + "UploadArtifact": write, reg + "DownloadArtifact": read,
		reg + "CreateVersion": write, reg + "GetVersion": read, reg + "ListVersions": read,
		reg + "UpdateVersion": write, reg + "ArchiveVersion": write,
		reg + "SetAlias": write, reg + "GetAlias": read, reg + "DeleteAlias": write,
		reg + "SetTraffic": write, reg + "ListAudit": read,
		reg + "SubmitJob": write, reg + "GetJob": read, reg + "ListJobs": read, reg + "CancelJob": write,
		reg + "UpdateJob": write, reg + "SetGatePolicy": write, reg + "GetGatePolicy": read,
		reg + "EvaluateGate": write, reg + "GetGateRecord": read,
		mon + "GetVerdict": read, mon + "GetStatus": read,
		"/plinth.ingest.v1.IngestService/Ingest":          {ScopeEventsWrite},
		"/plinth.features.v1.FeaturesService/Lookup":      {ScopeFeaturesRead},
		"/plinth.features.v1.FeaturesService/TrainingSet": {ScopeFeaturesRead},
		oip + "ModelInfer":                                predict, oip + "ModelMetadata": predict, oip + "ModelReady": predict,
		oip + "ServerMetadata": predict, oip + "ServerLive": predict, oip + "ServerReady": predict,
	}
}

// OIPRoutes is the edge's table of the Open Inference Protocol's REST
// routes (/v2), keyed by ServeMux pattern: the /v2 counterpart of the
// OpenAPI contract, which covers /v1 only. The server's health (live and
// ready) stays open like /livez; every other route needs scope predict,
// the scope GRPCScopes gives the same calls over gRPC, and is rate-limited
// as a read. Errors under /v2 are the protocol's {"error": "..."}, and
// Idempotency-Key does not apply. A /v2 route missing here is refused
// with 500: TestOIPRoutesAreInTheEdgeTable fails until it is added.
func OIPRoutes() map[string]Operation {
	ops := map[string]Operation{}
	add := func(id, method, path string, public bool) {
		op := Operation{ID: id, Method: method, Path: path, Target: "inference", Public: public,
			Scopes: []string{ScopePredict}, Class: ClassRead, OIP: true}
		if public {
			op.Scopes = nil
		}
		ops[op.Pattern()] = op
	}
	add("oipServerLive", http.MethodGet, "/v2/health/live", true)
	add("oipServerReady", http.MethodGet, "/v2/health/ready", true)
	add("oipServerMetadata", http.MethodGet, "/v2", false)
	add("oipServerMetadata", http.MethodGet, "/v2/{$}", false)
	add("oipListModels", http.MethodGet, "/v2/models", false)
	for _, v := range []string{"", "/versions/{version}"} {
		add("oipModelMetadata", http.MethodGet, "/v2/models/{name}"+v, false)
		add("oipModelReady", http.MethodGet, "/v2/models/{name}"+v+"/ready", false)
		add("oipModelInfer", http.MethodPost, "/v2/models/{name}"+v+"/infer", false)
	}
	// Any other path under /v2 answers 404 in the protocol's shape.
	ops["/v2/"] = Operation{ID: "oipNotFound", Path: "/v2/", Target: "inference", Public: true, Class: ClassRead, OIP: true}
	return ops
}

// grpcClass is the rate class of a method: the Open Inference Protocol's
// are reads, as their REST routes are (OIPRoutes); the others go by verb.
func grpcClass(fullMethod string) string {
	if strings.HasPrefix(fullMethod, "/inference.GRPCInferenceService/") {
		return ClassRead
	}
	name := fullMethod[strings.LastIndexByte(fullMethod, '/')+1:]
	for _, verb := range []string{"Get", "List", "Download"} {
		if strings.HasPrefix(name, verb) {
			return ClassRead
		}
	}
	return ClassWrite
}

// grpcMethod is what the edge needs to know of a gRPC method, resolved
// once from GRPCScopes.
type grpcMethod struct {
	scopes []string
	class  string
}

func grpcMethods() map[string]grpcMethod {
	out := map[string]grpcMethod{}
	for m, scopes := range GRPCScopes() {
		out[m] = grpcMethod{scopes: scopes, class: grpcClass(m)}
	}
	return out
}

// admitGRPC authenticates, authorizes and rate-limits one call and returns
// the context carrying the principal.
func (s *Service) admitGRPC(ctx context.Context, fullMethod string) (context.Context, error) {
	m, known := s.grpcMethods[fullMethod]
	if !known {
		return nil, status.Errorf(codes.PermissionDenied, "method %s has no scopes in the gateway's table", fullMethod)
	}
	var header string
	if v := metadata.ValueFromIncomingContext(ctx, "authorization"); len(v) > 0 {
		header = v[0]
	}
	p, err := s.authn.Authenticate(ctx, header)
	if err == nil {
		err = Authorize(p, m.scopes)
	}
	if err != nil {
		s.metrics.authFailures.WithLabelValues("grpc", authFailureReason(err)).Inc()
		return nil, problem.GRPCStatus(err)
	}
	if !s.cfg.RateLimit.Disabled && rateLimited(p) {
		d, err := s.limiter.Allow(ctx, bucketKey(p, nil, m.class), s.limitFor(m.class).Limit)
		if err == nil && !d.Allowed {
			s.metrics.rateLimited.WithLabelValues(m.class).Inc()
			_ = grpc.SetHeader(ctx, metadata.Pairs("retry-after", retryAfter(d.RetryAfter)))
			return nil, status.Errorf(codes.ResourceExhausted, "rate limit of %s operations for %s exceeded; retry after %s s", m.class, p.Subject, retryAfter(d.RetryAfter))
		}
	}
	return auth.WithPrincipal(ctx, p), nil
}

func (s *Service) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := s.admitGRPC(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Service) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := s.admitGRPC(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, &principalStream{ServerStream: ss, ctx: ctx})
}

// principalStream is a server stream whose context carries the principal.
type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (p *principalStream) Context() context.Context { return p.ctx }
