package trigger

import "testing"

// FuzzCondition: any condition either fails to compile with a reason, or
// runs on an event with or without the fields it names, answering yes, no
// or an error, never panicking.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{"data.nights > 2", "tier == 'gold' && data.city in ['Paris', 'Rome']", "attributes.x ?? 1", "'; DROP TABLE contacts; --",
		"len(name) > 3", "data.a.b.c", "1/0 == 1", "now()", "", "((((((("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := CompileCondition(src)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("a refusal without a reason")
			}
			return
		}
		r := Rule{conditions: p}
		for _, env := range []map[string]any{
			conditionEnv(nil, nil, "", "", "", "", ""),
			conditionEnv(map[string]any{"nights": 3.0, "city": "Paris"}, map[string]any{"tier": "gold"}, "Ana", "L1", "+12125550100", "Europe/Paris", "stay"),
		} {
			_, _ = r.Matches(env)
		}
	})
}
