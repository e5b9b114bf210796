// Package api holds Plinth's public contracts: the OpenAPI document of the
// REST API under /v1 (openapi.yaml), the protobuf definitions (proto/) and
// the code generated from them (gen/).
//
// The OpenAPI document is the source of truth for the edge: the gateway
// reads each operation's scopes, rate class, body mode and timeout from it,
// and tests fail when a route registered on the server is missing from it
// or a documented operation has no route.
package api

import _ "embed"

//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIYAML returns a copy of the OpenAPI 3.0.3 document, as written in
// api/openapi.yaml.
func OpenAPIYAML() []byte { return append([]byte(nil), openAPIYAML...) }
