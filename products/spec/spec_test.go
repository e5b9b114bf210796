package spec_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/plinthai/plinth/products/fraud"
	"github.com/plinthai/plinth/products/recommend"
	"github.com/plinthai/plinth/products/spec"
)

// TestProducts writes and reads each product's embedded declarations.
func TestProducts(t *testing.T) {
	for name, s := range map[string]spec.Set{"fraud": fraud.Spec, "recommend": recommend.Spec} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "nested")
			if err := s.Write(dir); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{spec.StreamsFile, spec.ViewsFile, spec.RulesFile, spec.GateFile, spec.TrainingFile} {
				if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
					t.Errorf("%s: %v", f, err)
				}
			}
			g, err := s.Gate()
			if err != nil || len(g.Floors) == 0 {
				t.Errorf("gate %+v, %v; want floors", g, err)
			}
			tr, err := s.Training()
			if err != nil || tr.Algorithm == "" || tr.Data.View == "" {
				t.Errorf("training %+v, %v; want an algorithm and a view", tr, err)
			}
		})
	}
}

// TestStrict: a misspelt field or a missing file is an error naming the
// product and the file.
func TestStrict(t *testing.T) {
	s := spec.New("toy", fstest.MapFS{
		"spec/gate.yaml":     {Data: []byte("floors: {auprc: 0.5}\nauto_rolout: true\n")},
		"spec/training.yaml": {Data: []byte("algorithm: gbdt\n")},
	})
	if _, err := s.Gate(); err == nil || !strings.Contains(err.Error(), "toy spec gate.yaml") || !strings.Contains(err.Error(), "auto_rolout") {
		t.Errorf("gate with a misspelt field: %v", err)
	}
	if tr, err := s.Training(); err != nil || tr.Algorithm != "gbdt" {
		t.Errorf("training = %+v, %v", tr, err)
	}
	if err := s.Write(t.TempDir()); err == nil || !strings.Contains(err.Error(), "toy spec") {
		t.Errorf("write without streams.yaml: %v, want an error", err)
	}
}
