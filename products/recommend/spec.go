package recommend

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"

	yaml "go.yaml.in/yaml/v3"
)

// The product's platform declarations, embedded so that the demo runs on
// them from an empty data directory.
//
//go:embed spec/*.yaml
var specFS embed.FS

// Names the declarations use.
const (
	// Stream is the ingest stream of ratings.
	Stream = "ratings"
	// View is the per-user feature view the model reads by entity key.
	View = "user"
	// Model is the registry model of the recommender.
	Model = "recommend"
	// RecentFeature is the view's last-N feature of the user's items; the
	// view names its values recent_items_1 (the newest) to recent_items_32.
	RecentFeature = "recent_items"
	// RecentItems is how many recent items the view keeps per user.
	RecentItems = 32
)

// Spec files, written under a directory by WriteSpec.
const (
	StreamsFile  = "streams.yaml"
	ViewsFile    = "views.yaml"
	RulesFile    = "rules.yaml"
	GateFile     = "gate.yaml"
	TrainingFile = "training.yaml"
)

// SpecFile returns one embedded declaration.
func SpecFile(name string) ([]byte, error) { return specFS.ReadFile("spec/" + name) }

// WriteSpec writes every declaration into dir (created if needed), for
// the --ingest.streams-file, --features.views-file and --monitor.rules-file
// flags.
func WriteSpec(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write recommend spec: %w", err)
	}
	for _, name := range []string{StreamsFile, ViewsFile, RulesFile, GateFile, TrainingFile} {
		b, err := SpecFile(name)
		if err != nil {
			return fmt.Errorf("write recommend spec: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("write recommend spec: %w", err)
		}
	}
	return nil
}

// Gate is the product's gate policy as gate.yaml declares it.
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

// LoadGate parses the embedded gate policy.
func LoadGate() (Gate, error) {
	var g Gate
	return g, decodeSpec(GateFile, &g)
}

// LoadTraining parses the embedded training spec.
func LoadTraining() (Training, error) {
	var t Training
	return t, decodeSpec(TrainingFile, &t)
}

func decodeSpec(name string, v any) error {
	b, err := SpecFile(name)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("recommend spec %s: %w", name, err)
	}
	return nil
}
