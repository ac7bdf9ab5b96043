// Package templates embeds Parley's HTML pages so the binary serves them with
// nothing else on disk.
package templates

import (
	"embed"
	"html/template"
	"slices"
	"strconv"
	"strings"
)

// FS holds every page and partial.
//
//go:embed *.html *.js *.css
var FS embed.FS

// Parse parses one page (the first name) with its layout and partials; the
// program refuses to start if it fails.
func Parse(names ...string) (*template.Template, error) {
	return template.New(names[0]).Funcs(template.FuncMap{"hasPrefix": strings.HasPrefix, "hasSlug": slices.Contains[[]string], "div60": func(n int) int { return n / 60 },
		"deref":   func(p *int) int { return *p },
		"percent": func(f float64) string { return strconv.FormatFloat(f*100, 'f', 0, 64) + "%" }}).ParseFS(FS, names...)
}
