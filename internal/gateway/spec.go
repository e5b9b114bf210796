package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Rate classes group operations that share a rate limit.
const (
	ClassRead  = "read"
	ClassWrite = "write"
)

// Operation is one operation of the OpenAPI document with what the edge
// needs to know about it.
type Operation struct {
	ID      string
	Method  string
	Path    string
	Target  string   // the operation's first tag
	Public  bool     // security: [] - no credential needed
	Scopes  []string // all required; admin grants every scope
	Class   string   // rate class
	Stream  bool     // x-plinth-body: stream
	Timeout time.Duration
	OIP     bool // an Open Inference Protocol route: {"error"} bodies, no Idempotency-Key
}

// Pattern is the ServeMux pattern that serves the operation, such as
// "GET /v1/models/{model}" (only the path when no method is named).
func (o Operation) Pattern() string {
	if o.Method == "" {
		return o.Path
	}
	return o.Method + " " + o.Path
}

// Mutating reports whether the method changes state (and so takes an
// Idempotency-Key).
func (o Operation) Mutating() bool { return mutating(o.Method) }

func mutating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// Contract is the parsed OpenAPI document: its operations by ServeMux
// pattern and the document itself as JSON. It is immutable.
type Contract struct {
	ops  map[string]Operation
	json []byte
}

// docOperation is the subset of an OpenAPI operation the edge reads.
type docOperation struct {
	OperationID string                 `yaml:"operationId"`
	Tags        []string               `yaml:"tags"`
	Security    *[]map[string][]string `yaml:"security"`
	Scopes      *[]string              `yaml:"x-plinth-scopes"`
	RateClass   string                 `yaml:"x-plinth-rate-class"`
	Body        string                 `yaml:"x-plinth-body"`
	Timeout     string                 `yaml:"x-plinth-timeout"`
}

type document struct {
	OpenAPI string                          `yaml:"openapi"`
	Paths   map[string]map[string]yaml.Node `yaml:"paths"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// ParseContract reads an OpenAPI 3.0 document in YAML. Every operation
// must declare x-plinth-scopes (possibly empty), so a new route cannot be
// exposed without deciding who may call it.
func ParseContract(doc []byte) (*Contract, error) {
	var d document
	if err := yaml.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("parse openapi document: %w", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		return nil, fmt.Errorf("openapi document: version %q, want 3.x", d.OpenAPI)
	}
	c := &Contract{ops: map[string]Operation{}}
	for path, item := range d.Paths {
		for method, node := range item {
			if !slices.Contains(httpMethods, method) {
				continue // parameters, summary, ...
			}
			op, err := parseOperation(path, method, &node)
			if err != nil {
				return nil, err
			}
			c.ops[op.Pattern()] = op
		}
	}
	js, err := toJSON(doc)
	if err != nil {
		return nil, err
	}
	c.json = js
	return c, nil
}

func parseOperation(path, method string, node *yaml.Node) (Operation, error) {
	var raw docOperation
	if err := node.Decode(&raw); err != nil {
		return Operation{}, fmt.Errorf("openapi %s %s: %w", method, path, err)
	}
	op := Operation{ID: raw.OperationID, Method: strings.ToUpper(method), Path: path,
		Public: raw.Security != nil && len(*raw.Security) == 0, Stream: raw.Body == "stream", Class: raw.RateClass}
	if raw.Scopes == nil {
		return op, fmt.Errorf("openapi %s: no x-plinth-scopes (declare [] for any authenticated caller)", op.Pattern())
	}
	op.Scopes = *raw.Scopes
	if len(raw.Tags) > 0 {
		op.Target = raw.Tags[0]
	}
	if op.Class == "" {
		op.Class = ClassWrite
		if op.Method == http.MethodGet || op.Method == http.MethodHead {
			op.Class = ClassRead
		}
	}
	if raw.Timeout != "" {
		d, err := time.ParseDuration(raw.Timeout)
		if err != nil {
			return op, fmt.Errorf("openapi %s: x-plinth-timeout: %w", op.Pattern(), err)
		}
		op.Timeout = d
	}
	return op, nil
}

// toJSON converts the YAML document to JSON, for /v1/openapi.json.
func toJSON(doc []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		return nil, fmt.Errorf("openapi document to JSON: %w", err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi document to JSON: %w", err)
	}
	return b, nil
}

// Operation returns the operation served by a ServeMux pattern.
func (c *Contract) Operation(pattern string) (Operation, bool) {
	op, ok := c.ops[pattern]
	return op, ok
}

// Operations returns every operation, sorted by pattern.
func (c *Contract) Operations() []Operation {
	out := make([]Operation, 0, len(c.ops))
	for _, op := range c.ops {
		out = append(out, op)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pattern() < out[j].Pattern() })
	return out
}

// JSON returns the document as JSON. The caller must not modify it.
func (c *Contract) JSON() []byte { return c.json }
