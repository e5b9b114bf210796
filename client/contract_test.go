package client_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plinthai/plinth/client"
	"github.com/plinthai/plinth/internal/gateway"
	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout"
	"github.com/plinthai/plinth/internal/wire"
)

// TestTypesMatchTheServer: the client's types are written apart from the
// server's, so that the client depends on nothing internal; each must
// carry the JSON fields of its server twin, or a client would drop what
// the server sends. The only fields a client type may leave out are the
// ones its request's path carries (pathFields). StartRolloutRequest is
// not here: StartRollout writes its body field by field, with the
// timeout as a duration string.
func TestTypesMatchTheServer(t *testing.T) {
	pathFields := map[reflect.Type][]string{
		reflect.TypeFor[registry.CreateVersionRequest](): {"model"},
		reflect.TypeFor[registry.SubmitJobRequest]():     {"model"},
		reflect.TypeFor[wire.Feedback]():                 {"model"},
	}
	pairs := []struct{ client, server reflect.Type }{
		{reflect.TypeFor[client.Model](), reflect.TypeFor[registry.Model]()},
		{reflect.TypeFor[client.Traffic](), reflect.TypeFor[registry.Traffic]()},
		{reflect.TypeFor[client.Lineage](), reflect.TypeFor[registry.Lineage]()},
		{reflect.TypeFor[client.Version](), reflect.TypeFor[registry.Version]()},
		{reflect.TypeFor[client.CreateVersionRequest](), reflect.TypeFor[registry.CreateVersionRequest]()},
		{reflect.TypeFor[client.Alias](), reflect.TypeFor[registry.Alias]()},
		{reflect.TypeFor[client.Artifact](), reflect.TypeFor[registry.Artifact]()},
		{reflect.TypeFor[client.AuditEntry](), reflect.TypeFor[registry.AuditEntry]()},
		{reflect.TypeFor[client.GatePolicy](), reflect.TypeFor[registry.GatePolicy]()},
		{reflect.TypeFor[client.GateRecord](), reflect.TypeFor[registry.GateRecord]()},
		{reflect.TypeFor[client.SubmitJobRequest](), reflect.TypeFor[registry.SubmitJobRequest]()},
		{reflect.TypeFor[client.Job](), reflect.TypeFor[registry.Job]()},
		{reflect.TypeFor[client.TrainData](), reflect.TypeFor[wire.TrainData]()},
		{reflect.TypeFor[client.CanaryVerdict](), reflect.TypeFor[wire.CanaryVerdict]()},
		{reflect.TypeFor[client.Label](), reflect.TypeFor[wire.Feedback]()},
		{reflect.TypeFor[client.RolloutPolicy](), reflect.TypeFor[rollout.Policy]()},
		{reflect.TypeFor[client.Rollout](), reflect.TypeFor[rollout.Rollout]()},
		{reflect.TypeFor[client.RolloutStep](), reflect.TypeFor[rollout.Step]()},
		{reflect.TypeFor[client.APIKey](), reflect.TypeFor[gateway.APIKey]()},
		{reflect.TypeFor[client.CreatedAPIKey](), reflect.TypeFor[gateway.CreatedAPIKey]()},
		{reflect.TypeFor[client.IngestResult](), reflect.TypeFor[ingest.Result]()},
		{reflect.TypeFor[client.Rejection](), reflect.TypeFor[ingest.Rejection]()},
	}
	for _, p := range pairs {
		c := jsonFields(p.client)
		s := slices.DeleteFunc(jsonFields(p.server), func(f string) bool { return slices.Contains(pathFields[p.server], f) })
		if !slices.Equal(c, s) {
			t.Errorf("%s has JSON fields\n  %v\nbut %s has\n  %v", p.client, c, p.server, s)
		}
	}
}

// jsonFields lists a struct's JSON field names, sorted; embedded structs'
// fields count as the struct's own, as encoding/json counts them.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		tag, ok := f.Tag.Lookup("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && !ok && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
