package admin

import (
	"errors"
	"testing"
)

func field(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func TestChecks(t *testing.T) {
	t.Parallel()
	if e, err := CheckEmail("  Ana@Demo-Air.Example "); err != nil || e != "ana@demo-air.example" {
		t.Errorf("CheckEmail: %q %v", e, err)
	}
	for _, bad := range []string{"", "ana", "a b@c.d", "<a@b.c>"} {
		if _, err := CheckEmail(bad); field(err) != "email" || !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckEmail(%q): %v", bad, err)
		}
	}
	if err := CheckRole("owner"); field(err) != "role" {
		t.Errorf("CheckRole: %v", err)
	}
	for _, c := range []struct{ in, want, field string }{
		{"+1 (500) 555-0006", "+15005550006", ""},
		{"12345", "12345", ""},
		{"call me", "", "number"},
	} {
		got, err := NormalizeNumber(c.in)
		if got != c.want || field(err) != c.field {
			t.Errorf("NormalizeNumber(%q) = %q, %v", c.in, got, err)
		}
	}
	for _, c := range []struct{ in, want, field string }{
		{" gb ", "GB", ""},
		{"", "", ""},
		{"UK", "", "default_country"}, // the code is GB
		{"USA", "", "default_country"},
	} {
		got, err := checkCountry(c.in)
		if got != c.want || field(err) != c.field {
			t.Errorf("checkCountry(%q) = %q, %v", c.in, got, err)
		}
	}
	if in, err := (BrandForm{Slug: "demo-rail", Name: "Demo Rail", Country: "gb"}).input(false); err != nil || in.DefaultCountry != "GB" {
		t.Errorf("BrandForm country: %+v %v", in, err)
	}
	for _, c := range []struct{ body, field string }{
		{"Hi {{.FirstName}}, {{.Attributes.tier}} member", ""},
		{"Hi {{.FirstName", "body"},
		{"Hi {{.FirstNme}}", "body"},      // a misspelt field is caught when saved
		{`{{printf "%s" .Name}}`, "body"}, // no functions
		{`{{template "x"}}`, "body"},
	} {
		if err := CheckCannedBody(c.body); field(err) != c.field {
			t.Errorf("CheckCannedBody(%q): %v", c.body, err)
		}
	}
	for _, c := range []struct{ cur, next, confirm, field string }{
		{"", "a new secret!", "a new secret!", "current_password"},
		{"old secret", "", "", "new_password"},
		{"old secret", "a new secret!", "a new secret", "confirm_password"},
		{"old secret", "old secret", "old secret", "new_password"},
		{"old secret", "a new secret!", "a new secret!", ""},
	} {
		if err := CheckPasswordChange(c.cur, c.next, c.confirm); field(err) != c.field {
			t.Errorf("CheckPasswordChange(%q, %q, %q): %v", c.cur, c.next, c.confirm, err)
		}
	}
}
