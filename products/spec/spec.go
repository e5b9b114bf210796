// Package spec is what the products' platform declarations have in common:
// the files each product embeds (streams, views, monitor rules, gate
// policy, training spec), writing them out for the serve flags that name
// them, and reading the gate policy and training spec that the demo and
// the tests apply through the API.
package spec

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/plinthai/plinth/internal/platform/config"
)

// The declaration files, as Set.Write names them under a directory.
const (
	StreamsFile  = "streams.yaml"  // --ingest.streams-file
	ViewsFile    = "views.yaml"    // --features.views-file
	RulesFile    = "rules.yaml"    // --monitor.rules-file
	GateFile     = "gate.yaml"     // the registry's gate policy
	TrainingFile = "training.yaml" // the first model's training job
)

var files = [...]string{StreamsFile, ViewsFile, RulesFile, GateFile, TrainingFile}

// Set is one product's declarations.
type Set struct {
	product string
	fsys    fs.FS
}

// New returns the declarations of product, read from the files under
// spec/ in fsys (a product's embedded files).
func New(product string, fsys fs.FS) Set { return Set{product: product, fsys: fsys} }

// File returns one declaration file.
func (s Set) File(name string) ([]byte, error) {
	b, err := fs.ReadFile(s.fsys, "spec/"+name)
	if err != nil {
		return nil, fmt.Errorf("%s spec: %w", s.product, err)
	}
	return b, nil
}

// Write writes every declaration file into dir, created if needed.
func (s Set) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s spec: %w", s.product, err)
	}
	for _, name := range files {
		b, err := s.File(name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("write %s spec: %w", s.product, err)
		}
	}
	return nil
}

// Gate is a gate policy as gate.yaml declares it.
type Gate struct {
	Floors        map[string]float64 `yaml:"floors"`
	MaxRegression map[string]float64 `yaml:"max_regression"`
	LatencyP99US  float64            `yaml:"latency_p99_us"`
	AutoRollout   bool               `yaml:"auto_rollout"`
}

// Training is the first model's training spec as training.yaml declares it.
type Training struct {
	Algorithm string            `yaml:"algorithm"`
	Params    map[string]string `yaml:"params"`
	Data      struct {
		View    string  `yaml:"view"`
		Split   string  `yaml:"split"`
		Holdout float64 `yaml:"holdout"`
	} `yaml:"data"`
}

// Gate parses the gate policy. Unknown fields are an error.
func (s Set) Gate() (Gate, error) {
	var g Gate
	return g, s.decode(GateFile, &g)
}

// Training parses the training spec. Unknown fields are an error.
func (s Set) Training() (Training, error) {
	var t Training
	return t, s.decode(TrainingFile, &t)
}

func (s Set) decode(name string, v any) error {
	b, err := s.File(name)
	if err != nil {
		return err
	}
	if err := config.DecodeStrict(b, v); err != nil {
		return fmt.Errorf("%s spec %s: %w", s.product, name, err)
	}
	return nil
}
