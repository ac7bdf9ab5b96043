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
		{`Hi {{default "there" .FirstName}}`, "Hi Ana"},
		{`{{default "member" .Attributes.tier}} / {{default "no" .Attributes.points}}`, "gold / no"},
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
	if got, err := Render(`Hi {{default "there" .FirstName}}, {{.Attributes.missing}}.`, NewData("", "+15551234567", "", nil)); err != nil || got != "Hi there, ." {
		t.Errorf("a contact without the fields: %q, %v", got, err)
	}
	if _, err := Render(`{{printf "%s" .Name}}`, d); err == nil {
		t.Error("a function call must be refused")
	}
	if _, err := Render(`{{range $i, $x := .Attributes}}{{.}}{{.}}{{.}}{{.}}{{.}}{{.}}{{.}}{{end}}`+strings.Repeat("{{.Name}}", 500), d); err != ErrTooLong {
		t.Errorf("oversized output: err = %v, want ErrTooLong", err)
	}
}

// A template's work is bounded: range only over a field, never nested,
// never over a number; define and block are refused.
func TestTemplatesCannotBurnCPU(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		"{{range 1000000}}{{end}}",
		"{{range 1000000}}{{range 1000000}}x{{end}}{{end}}",
		`{{range "abc"}}x{{end}}`,
		"{{range .Attributes.items}}{{range .Attributes.items}}x{{end}}{{end}}",
		"{{range .Attributes.items}}{{if .}}{{range .}}x{{end}}{{end}}{{end}}",
		`{{define "x"}}hi{{end}}hello`,
		`{{block "x" .}}hi{{end}}`,
	} {
		if _, err := Parse(body); err == nil {
			t.Errorf("%q parses, want refused", body)
		}
	}
	items := make([]any, 100)
	for i := range items {
		items[i] = i
	}
	out, err := Render("{{range .Attributes.items}}.{{end}}", NewData("Ada", "", "", map[string]any{"items": items}))
	if err != nil || len(out) != 100 {
		t.Fatalf("range over a field: %q %v", out, err)
	}
	if out, err := Render("{{range $i, $v := .Attributes.items}}{{if $v}}{{$v}}{{end}}{{end}}", NewData("", "", "", map[string]any{"items": []any{1, 2}})); err != nil || out != "12" {
		t.Fatalf("range with variables: %q %v", out, err)
	}
}

func TestTitleAndNumber(t *testing.T) {
	t.Parallel()
	d := NewData("ana lopez", "+12125550100", "", map[string]any{"city": "NEW YORK", "points": 12500.0, "balance": -1234.5, "code": "x"})
	for body, want := range map[string]string{
		`{{title .Name}} in {{title .Attributes.city}}`:          "Ana Lopez in New York",
		`{{number .Attributes.points}} points`:                   "12,500 points",
		`{{number .Attributes.balance}}`:                         "-1,234.5",
		`{{number .Attributes.code}}{{number .Attributes.none}}`: "x",
	} {
		got, err := Render(body, d)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", body, got, err, want)
		}
	}
}

func TestLinksOnlyInCampaignTexts(t *testing.T) {
	t.Parallel()
	const body = `Hi {{.FirstName}}, your offer: {{link "https://example.com/offer?x=1"}}`
	if _, err := Parse(body); err == nil {
		t.Fatal("link accepted outside a campaign text")
	}
	for _, bad := range []string{`{{link .Name}}`, `{{link "javascript:alert(1)"}}`, `{{link "https://a" "b"}}`, `{{link}}`} {
		if _, err := ParseWithLinks(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	tpl, err := ParseWithLinks(body)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer(tpl)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	got, err := r.Render(NewData("Ana Lopez", "", "", nil), func(u string) string { n++; return "https://parley.example/l/abc" })
	if err != nil || got != "Hi Ana, your offer: https://parley.example/l/abc" || n != 1 {
		t.Fatalf("%q %v (%d links)", got, err, n)
	}
	if got, _ := r.Render(NewData("Ben", "", "", nil), nil); got != "Hi Ben, your offer: https://example.com/offer?x=1" {
		t.Fatalf("untracked: %q", got)
	}
}
