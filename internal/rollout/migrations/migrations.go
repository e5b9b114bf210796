// Package migrations embeds the rollout saga log's SQL migrations, one
// folder per dialect with the same numbered files.
package migrations

import "embed"

// FS holds sqlite/ and postgres/.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
