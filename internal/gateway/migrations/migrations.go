// Package migrations embeds the gateway's SQL migrations (API keys and
// idempotency records), one folder per dialect with the same numbered files.
package migrations

import "embed"

// FS holds sqlite/ and postgres/.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
