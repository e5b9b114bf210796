package inference

import (
	"os"
	"strings"
	"testing"

	"github.com/plinthai/plinth/ml/gbdt"
)

// TestMulticlassTreesAreRefused: a multiclass model has no single score;
// loading it fails with a reason instead of serving class indexes.
func TestMulticlassTreesAreRefused(t *testing.T) {
	f, err := os.Open("../../ml/gbdt/testdata/xgboost/multiclass.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := gbdt.ImportXGBoostJSON(f, 1<<24)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gbdtRuntime(m, "xgboost_json"); err == nil || !strings.Contains(err.Error(), "multiclass") {
		t.Errorf("gbdtRuntime = %v, want a multiclass refusal", err)
	}
}
