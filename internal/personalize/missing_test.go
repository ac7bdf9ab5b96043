package personalize

import (
	"slices"
	"testing"
)

func TestMissing(t *testing.T) {
	t.Parallel()
	d := NewData("Ana López", "+12125550123", "", map[string]any{"tier": "gold", "blank": "", "nested": map[string]any{"a": 1}, "gone": nil})
	for _, tc := range []struct {
		body string
		want []string
	}{
		{`Hi {{.FirstName}}, {{.Attributes.tier}} member`, nil},
		{`Hi {{.FirstName}}, your {{.Attributes.favorite_dish}} and {{title .Attributes.city}} and {{.Attributes.favorite_dish}}`, []string{".Attributes.favorite_dish", ".Attributes.city"}},
		{`{{default "a dish" .Attributes.favorite_dish}} {{.LoyaltyID}}`, []string{".LoyaltyID"}},
		{`{{if .Attributes.vip}}VIP {{.Attributes.lounge}}{{end}}`, []string{".Attributes.lounge"}},
		{`{{.Attributes.blank}}{{.Attributes.gone}}{{.Attributes.nested.a}}{{.Attributes.nested.b}}`, []string{".Attributes.blank", ".Attributes.gone", ".Attributes.nested.b"}},
		{`{{with .Attributes.city}}in {{.}}{{end}}`, nil},
		{`Plain`, nil},
	} {
		tpl, err := Parse(tc.body)
		if err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		if got := Missing(tpl, d); !slices.Equal(got, tc.want) {
			t.Errorf("Missing(%s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}
