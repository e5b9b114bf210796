package features

import (
	"testing"

	"github.com/plinthai/plinth/internal/features/view"
)

// TestViews50 keeps the benchmark view at exactly 50 features.
func TestViews50(t *testing.T) {
	vs, err := view.Load("testdata/views50.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if w := vs["card50"].Width(); w != 50 {
		t.Fatalf("card50 has %d features, want 50", w)
	}
}
