package personalize

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	t.Parallel()
	d := NewData("Ana María López", "+15551234567", "L-1", map[string]any{"tier": "gold"})
	cases := []struct{ body, want string }{
		{"Hi {{.FirstName}}!", "Hi Ana!"},
		{"{{.Name}} / {{.LoyaltyID}} / {{.Attributes.tier}}", "Ana María López / L-1 / gold"},
		{"Points: {{.Attributes.points}}.", "Points: ."},
		{"<b>{{.FirstName}}</b>", "<b>Ana</b>"}, // plain text: nothing is escaped or interpreted
	}
	for _, c := range cases {
		got, err := Render(c.body, d)
		if err != nil || got != c.want {
			t.Errorf("Render(%q) = %q, %v; want %q", c.body, got, err, c.want)
		}
	}
	if _, err := Render("Hi {{.FirstName", d); err == nil || !strings.Contains(err.Error(), "not a valid template") {
		t.Errorf("unclosed action: err = %v", err)
	}
	if _, err := Render(`{{printf "%s" .Name}}`, d); err == nil {
		t.Error("a function call must be refused")
	}
	if _, err := Render(`{{range $i, $x := .Attributes}}{{.}}{{.}}{{.}}{{.}}{{.}}{{.}}{{.}}{{end}}`+strings.Repeat("{{.Name}}", 500), d); err != ErrTooLong {
		t.Errorf("oversized output: err = %v, want ErrTooLong", err)
	}
}
