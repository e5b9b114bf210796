package inference

import (
	"context"
	"math"
	"strconv"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// namedValue is one "name": value pair of a /v1 features object.
type namedValue struct {
	name []byte
	v    float32
}

// v1Request is a decoded POST /v1/models/{name}:predict body:
//
//	{"id": "…", "entity": "card-1", "version": 3,
//	 "features": {"amount": 12.5, "hour": null} | [12.5, 3, …]}
//
// Every field is optional, but features or entity must be there. A null
// feature is a missing value (NaN).
type v1Request struct {
	named      []namedValue
	positional []float32
	isNamed    bool
	has        bool
	sc         scanner
}

// decodeV1 decodes body into c.
func (c *call) decodeV1(body []byte) error {
	r := &c.v1
	r.named, r.positional, r.isNamed, r.has = r.named[:0], r.positional[:0], false, false
	s := &r.sc
	s.reset(body)
	if err := s.object(c.v1Key); err != nil {
		return syntaxOr(err, "body")
	}
	if !s.end() {
		return problem.Field("body", "unexpected data after the JSON object")
	}
	if !r.has && len(c.ent) == 0 {
		return problem.Field("features", "send features, an entity key, or both")
	}
	return nil
}

func (c *call) v1Key(s *scanner, key []byte) error {
	r := &c.v1
	switch string(key) {
	case "id":
		id, err := s.str()
		if err != nil {
			return problem.Field("id", "want a string")
		}
		c.id = id
	case "entity":
		ent, err := s.str()
		if err != nil || len(ent) == 0 {
			return problem.Field("entity", "want a non-empty string")
		}
		c.ent = ent
	case "version":
		v, err := s.num()
		if err != nil || v < 1 || v != math.Trunc(v) || v > math.MaxInt64/2 {
			return problem.Field("version", "want a positive integer")
		}
		c.pin = int64(v)
	case "features":
		r.has = true
		switch s.ws() {
		case '{':
			r.isNamed = true
			return syntaxOr(s.object(r.namedKey), "features")
		case '[':
			return syntaxOr(s.array(r.element), "features")
		default:
			return problem.Field("features", "want an object of named values or an array")
		}
	default:
		return problem.Field(string(key), "unknown field")
	}
	return nil
}

// value reads a feature value: a number, a boolean, or null (missing).
func value(s *scanner) (float32, error) {
	switch s.ws() {
	case 'n':
		if s.lit("null") {
			return float32(math.NaN()), nil
		}
	case 't':
		if s.lit("true") {
			return 1, nil
		}
	case 'f':
		if s.lit("false") {
			return 0, nil
		}
	default:
		v, err := s.num()
		if err != nil {
			return 0, err
		}
		if math.IsInf(float64(float32(v)), 0) {
			return 0, errSyntax
		}
		return float32(v), nil
	}
	return 0, errSyntax
}

func (r *v1Request) namedKey(s *scanner, key []byte) error {
	v, err := value(s)
	if err != nil {
		return problem.Field("features."+string(key), "want a number, a boolean or null")
	}
	r.named = append(r.named, namedValue{key, v})
	return nil
}

func (r *v1Request) element(s *scanner) error {
	v, err := value(s)
	if err != nil {
		return problem.Field("features["+strconv.Itoa(len(r.positional))+"]", "want a number, a boolean or null")
	}
	r.positional = append(r.positional, v)
	return nil
}

// fillV1 returns the filler of a /v1 request: feature-store values for
// the entity (when one is named) under the values the body names.
func (s *Service) fillV1(ctx context.Context) filler {
	return func(c *call, l *loaded) error {
		sig := l.sig
		w := sig.width()
		c.rows, c.n = grow(c.rows, w), 1
		for i := range c.rows {
			c.rows[i] = float32(math.NaN())
		}
		c.set = grow(c.set, (w+63)/64)
		clear(c.set)
		if sig.input == inputUser {
			return fillUser(c)
		}
		if len(c.ent) > 0 && (!c.v1.has || (c.v1.isNamed && len(c.v1.named) < w)) {
			if err := s.lookup(ctx, c, l); err != nil {
				return err
			}
		}
		if !c.v1.isNamed {
			return fillPositional(c, w)
		}
		return fillNamed(c, sig)
	}
}

// fillUser takes an MF model's user index from the entity key or from
// features {"user": n}.
func fillUser(c *call) error {
	if len(c.ent) > 0 {
		u, err := strconv.ParseInt(string(c.ent), 10, 32)
		if err != nil || u < 0 {
			return problem.Field("entity", "want a user index")
		}
		c.rows[0] = float32(u)
		return nil
	}
	if len(c.v1.named) == 1 && string(c.v1.named[0].name) == inputUser {
		c.rows[0] = c.v1.named[0].v
		return nil
	}
	if len(c.v1.positional) == 1 {
		c.rows[0] = c.v1.positional[0]
		return nil
	}
	return problem.Field("entity", "this model recommends for a user: send the user index as entity")
}

func fillPositional(c *call, w int) error {
	p := c.v1.positional
	if len(p) == 0 && len(c.ent) > 0 {
		return nil
	}
	if len(p) != w {
		return problem.Field("features", "want %d values, got %d", w, len(p))
	}
	copy(c.rows, p)
	return nil
}

func fillNamed(c *call, sig *signature) error {
	for i, nv := range c.v1.named {
		j := i
		if j >= len(sig.features) || sig.features[j] != string(nv.name) {
			var ok bool
			if j, ok = sig.index[string(nv.name)]; !ok {
				return problem.Field("features."+string(nv.name), "the model has no such feature")
			}
		}
		c.rows[j] = nv.v
		c.set[j/64] |= 1 << (j % 64)
	}
	for j, name := range sig.features {
		if c.set[j/64]&(1<<(j%64)) == 0 && len(c.ent) == 0 {
			return problem.Field("features."+name, "missing (send null for an unknown value)")
		}
	}
	return nil
}

// lookup fills the entity's online features from the model's view.
func (s *Service) lookup(ctx context.Context, c *call, l *loaded) error {
	if s.features == nil {
		return problem.FieldKind(ErrNoFeatureStore, "entity", "no feature store in this process: send the features in the request")
	}
	if l.featureView == "" {
		return problem.FieldKind(ErrNoFeatureStore, "entity", "model %q version %d names no feature view (tag %s): send the features in the request", l.model, l.version, tagFeatureView)
	}
	ent := string(c.ent)
	fv, err := s.features.Lookup(ctx, l.featureView, []string{ent})
	if err != nil {
		return err
	}
	if len(fv.Found) != 1 || !fv.Found[0] || len(fv.Values) < len(fv.Names) {
		return problem.FieldKind(problem.ErrNotFound, "entity", "entity %q is not in feature view %q", ent, l.featureView)
	}
	for k, name := range fv.Names {
		if j, ok := l.sig.index[name]; ok {
			c.rows[j] = float32(fv.Values[k])
			c.set[j/64] |= 1 << (j % 64)
		}
	}
	return nil
}

// appendV1 writes the /v1 answer.
func (s *Service) appendV1(b []byte, c *call, r result) []byte {
	b = append(b, `{"id":`...)
	b = s.appendID(b, c)
	b = append(b, `,"model":`...)
	b = appendJSONString(b, []byte(r.l.model))
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, r.l.version, 10)
	b = append(b, `,"arm":"`...)
	b = append(b, r.arm.String()...)
	b = append(b, '"')
	n := c.n
	if k := r.l.sig.items(); k > 0 {
		b = append(b, `,"items":[`...)
		b = appendItems(b, c.out[:k])
		b = append(b, `],"scores":[`...)
		b = appendFloats(b, c.out[n*k:n*k+k])
		b = append(b, ']')
	} else {
		b = append(b, `,"score":`...)
		b = appendFloat(b, c.out[0])
	}
	return append(b, "}\n"...)
}
