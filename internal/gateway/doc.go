// Package gateway is the edge of every plinth process: what stands between
// the public API (REST /v1 and gRPC) and the services.
//
// The contract is api/openapi.yaml. At start the gateway parses it into a
// table keyed by ServeMux pattern: each operation's scopes
// (x-plinth-scopes), rate class, body mode and timeout. For every request
// under /v1 the middleware, in order: bounds the header block (431), finds
// the operation (404/405; a route missing from the document is refused
// with 500), sheds load past limits.max-in-flight (503 + Retry-After), sets
// the per-route deadline, bounds the body (413), authenticates (401) and
// checks scopes (403), spends a token of the principal's bucket for the
// class (429 + Retry-After + RateLimit and RateLimit-Policy), applies fault rules, and
// handles Idempotency-Key on POST, PUT, PATCH and DELETE. gRPC calls get
// the same authentication, scopes and rate limits through interceptors,
// with scopes from GRPCScopes. Every error is application/problem+json,
// except under /v2.
//
// The Open Inference Protocol's REST routes (/v2) are not in the OpenAPI
// document; OIPRoutes is their table. They pass the same middleware: the
// health endpoints are open, everything else needs scope predict and is
// rate-limited as a read, and errors take the protocol's shape
// {"error": "..."} with the same status codes.
//
// Credentials: JWT bearer tokens (HS256/384/512 with the development
// secret; RSA, RSA-PSS, ECDSA and EdDSA with keys from a JWKS URL, cached
// and refreshed) and API keys (plk_<id>_<secret>, stored as SHA-256).
// A verified credential is remembered in process by its SHA-256 for
// --auth.cache-ttl (5s; 0 disables), a JWT never past its exp: an API key
// revoked through another process keeps working here for up to the TTL.
// The gateway owns two SQL tables (migrations/): API keys and idempotency
// records. On a database without keys it creates an admin key and prints
// it once.
//
// Target: gateway (a dependency of every target that serves /v1). Flags:
// --auth.*, --ratelimit.*, --idempotency.*, --faults.*, --limits.*.
package gateway
