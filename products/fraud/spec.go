package fraud

import (
	"embed"

	"github.com/plinthai/plinth/products/spec"
)

//go:embed spec/*.yaml
var specFS embed.FS

// Spec is the product's platform declarations, embedded so that the demo
// runs on them from an empty data directory.
var Spec = spec.New("fraud", specFS)

// Names the declarations use.
const (
	// Stream is the ingest stream of transactions.
	Stream = "transactions"
	// View is the per-card feature view the model reads by entity key.
	View = "card"
	// Model is the registry model of the fraud scorer.
	Model = "fraud"
)
