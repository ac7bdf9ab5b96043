package personalize

import (
	"strings"
	"testing"
)

// FuzzRender: any template either fails to parse or render with an error,
// or renders text that never shows "<no value>"; nothing reaches past the
// data (no panic, no environment).
func FuzzRender(f *testing.F) {
	for _, s := range []string{"Hi {{.FirstName}}", "{{.Attributes.favorite_dish | default \"pasta\"}}", "{{range .}}{{end}}", "{{.Missing}}",
		"{{template \"x\"}}", "{{call .Name}}", "{{printf \"%s\" .Phone}}", "{{", "}}{{", "{{title .Name}} {{number 1234.5}}"} {
		f.Add(s)
	}
	d := NewData("ana maría", "+12125550100", "L1", map[string]any{"favorite_dish": "paella", "n": 3})
	f.Fuzz(func(t *testing.T, body string) {
		out, err := Render(body, d)
		if err != nil {
			return
		}
		if strings.Contains(out, "<no value>") {
			t.Fatalf("%q rendered %q", body, out)
		}
	})
}
