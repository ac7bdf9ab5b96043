// Package migrations embeds Parley's numbered SQL migrations so that the single
// binary can apply them (`parley migrate`) with nothing else on disk.
package migrations

import "embed"

// FS holds the goose migration files, applied in the order of their numbers.
//
//go:embed *.sql
var FS embed.FS
