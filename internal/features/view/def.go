package view

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/plinthai/plinth/internal/platform/config"
)

// Aggregates a feature may compute.
const (
	AggCount    = "count"
	AggSum      = "sum"
	AggMean     = "mean"
	AggMin      = "min"
	AggMax      = "max"
	AggLast     = "last"
	AggDistinct = "distinct"
	AggLastN    = "last_n"
)

var aggs = []string{AggCount, AggSum, AggMean, AggMin, AggMax, AggLast, AggDistinct, AggLastN}

// Defaults of a view declaration.
const (
	DefaultSlots    = 60
	DefaultLateness = 5 * time.Minute
	maxSlots        = 1024
	maxLastN        = 64
	maxFeatures     = 1024
)

// Duration is a time.Duration that YAML writes as "90s", "10m", "1h" or
// "7d" (a day is 24 hours).
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses a Go duration, or a whole number of days as "7d".
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("duration %q: want a whole number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	return v, nil
}

// Def declares a feature view.
type Def struct {
	Name   string `yaml:"name"`
	Source string `yaml:"source"` // the ingest stream
	Entity string `yaml:"entity"` // the event field that keys entities
	// TTL forgets an entity this long after its latest event; 0 never.
	TTL             Duration       `yaml:"ttl"`
	AllowedLateness *Duration      `yaml:"allowed_lateness"`
	Slots           int            `yaml:"slots"` // buckets per window
	Transforms      []TransformDef `yaml:"transforms"`
	Features        []FeatureDef   `yaml:"features"`
}

// FeatureDef declares one feature: an aggregate of a field over a window.
type FeatureDef struct {
	Name   string   `yaml:"name"`
	Agg    string   `yaml:"agg"`
	Field  string   `yaml:"field"`  // not needed by count
	Window Duration `yaml:"window"` // 0: the entity's whole life
	N      int      `yaml:"n"`      // last_n only
}

type viewsFile struct {
	Views []Def `yaml:"views"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Load reads and compiles the views declared in path: one YAML file, or
// every *.yaml file of a directory. An empty path declares none. It reports
// every problem found.
func Load(path string) (map[string]*View, error) {
	out := map[string]*View{}
	if path == "" {
		return out, nil
	}
	files, err := config.DeclarationFiles(path, "views")
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, f := range files {
		errs = append(errs, loadFile(f, out))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func loadFile(path string, out map[string]*View) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read views: %w", err)
	}
	var doc viewsFile
	if err := config.DecodeStrict(b, &doc); err != nil {
		return fmt.Errorf("views file %s: %w", path, err)
	}
	var errs []error
	for i := range doc.Views {
		v, err := Compile(doc.Views[i])
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("views file %s: views[%d] %q: %w", path, i, doc.Views[i].Name, err))
		case out[v.Name] != nil:
			errs = append(errs, fmt.Errorf("views file %s: view %q declared twice", path, v.Name))
		default:
			out[v.Name] = v
		}
	}
	return errors.Join(errs...)
}

// check reports every problem of a declaration's own fields.
func (d *Def) check() error {
	var errs []error
	if !nameRE.MatchString(d.Name) {
		errs = append(errs, fmt.Errorf("name must match %s", nameRE))
	}
	if d.Source == "" {
		errs = append(errs, errors.New("source: name the ingest stream"))
	}
	if d.Entity == "" {
		errs = append(errs, errors.New("entity: name the entity key field"))
	}
	if d.TTL < 0 || (d.AllowedLateness != nil && *d.AllowedLateness < 0) {
		errs = append(errs, errors.New("ttl and allowed_lateness must not be negative"))
	}
	if d.Slots < 0 || d.Slots > maxSlots {
		errs = append(errs, fmt.Errorf("slots: want 1 to %d", maxSlots))
	}
	if len(d.Features) == 0 || len(d.Features) > maxFeatures {
		errs = append(errs, fmt.Errorf("features: declare 1 to %d", maxFeatures))
	}
	return errors.Join(errs...)
}

func (f *FeatureDef) check(columns map[string]int) error {
	var errs []error
	if !nameRE.MatchString(f.Name) {
		errs = append(errs, fmt.Errorf("feature %q: name must match %s", f.Name, nameRE))
	}
	if !slices.Contains(aggs, f.Agg) {
		errs = append(errs, fmt.Errorf("feature %q: agg %q is not one of %v", f.Name, f.Agg, aggs))
	}
	if f.Field == "" && f.Agg != AggCount {
		errs = append(errs, fmt.Errorf("feature %q: %s needs a field", f.Name, f.Agg))
	}
	if f.Window < 0 {
		errs = append(errs, fmt.Errorf("feature %q: window must not be negative", f.Name))
	}
	if f.Agg == AggLastN && (f.N < 1 || f.N > maxLastN) {
		errs = append(errs, fmt.Errorf("feature %q: last_n needs n from 1 to %d", f.Name, maxLastN))
	}
	if f.Agg != AggLastN && f.N != 0 {
		errs = append(errs, fmt.Errorf("feature %q: n applies only to last_n", f.Name))
	}
	return errors.Join(errs...)
}
