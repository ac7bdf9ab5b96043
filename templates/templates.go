// Package templates embeds Parley's HTML pages so the binary serves them with
// nothing else on disk.
package templates

import (
	"embed"
	"html/template"
)

// FS holds every page and partial.
//
//go:embed *.html *.js *.css
var FS embed.FS

// Parse parses one page; the program refuses to start if it fails.
func Parse(names ...string) (*template.Template, error) {
	return template.ParseFS(FS, names...)
}
