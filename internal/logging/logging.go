// Package logging builds Parley's structured JSON logger. Phone numbers in the
// attributes named from, to and phone are partly masked, so logs can be shared
// without leaking who texted whom.
package logging

import (
	"io"
	"log/slog"

	"github.com/parleyhq/parley/internal/contact"
)

var phoneKeys = map[string]bool{"from": true, "to": true, "phone": true}

// New returns a JSON logger writing to w at level.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if phoneKeys[a.Key] && a.Value.Kind() == slog.KindString {
				return slog.String(a.Key, contact.Mask(a.Value.String()))
			}
			return a
		},
	}))
}
