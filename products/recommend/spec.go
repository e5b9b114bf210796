package recommend

import (
	"embed"

	"github.com/plinthai/plinth/products/spec"
)

//go:embed spec/*.yaml
var specFS embed.FS

// Spec is the product's platform declarations, embedded so that the demo
// runs on them from an empty data directory.
var Spec = spec.New("recommend", specFS)

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
