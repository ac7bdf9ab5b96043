package hooks_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/hooks"
)

// consent.changed comes for every change, not only keyword texts: an API
// upsert's consent entries (source api) and a carrier's opt-out (source
// carrier, both purposes), each with the phone, purpose and status.
func TestConsentChangedBeyondKeywords(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Worker: true})
	ctx := context.Background()
	var secret string
	r := newReceiver(t, &secret)
	w, err := env.App.Hooks.Create(ctx, env.Brand.ID, r.srv.URL, []string{hooks.ConsentChanged})
	if err != nil {
		t.Fatal(err)
	}
	secret = w.Secret
	key, err := app.APIKeyAdd(ctx, env.Store, "crm")
	if err != nil {
		t.Fatal(err)
	}

	const viaAPI, refused = "+12125550701", "+12125550702"
	body := `{"phones": ["` + viaAPI + `"], "consent": [{"brand": "` + env.Brand.Slug +
		`", "purpose": "marketing", "status": "opted_in", "source": "web_form", "evidence": "signup form 7"}]}`
	req, _ := http.NewRequest(http.MethodPut, env.PublicURL+"/api/v1/contacts", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT /api/v1/contacts: %d", resp.StatusCode)
	}

	env.Twilio.FailNext(1, 400, 21610, "Attempt to send to unsubscribed recipient")
	if code, b := env.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM"+randHex(16), refused, "HELP")); code != 200 {
		t.Fatalf("inbound: %d %s", code, b)
	}
	type change struct{ Phone, Change, Purpose, Status, Source string }
	var got []change
	apptest.WaitFor(t, 20*time.Second, "three consent.changed events", func() bool {
		got = got[:0]
		for _, g := range r.all() {
			var b struct{ Data change }
			if err := json.Unmarshal(g.body, &b); err != nil {
				t.Fatal(err)
			}
			if g.verifyErr != nil {
				t.Fatalf("signature: %v", g.verifyErr)
			}
			got = append(got, b.Data)
		}
		return len(got) >= 3
	})
	want := map[change]bool{
		{viaAPI, "opt_in", "marketing", "opted_in", "web_form"}:        true,
		{refused, "opt_out", "conversational", "opted_out", "carrier"}: true,
		{refused, "opt_out", "marketing", "opted_out", "carrier"}:      true,
	}
	if len(got) != 3 {
		t.Fatalf("events %+v, want 3", got)
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("unexpected consent.changed %+v", g)
		}
		delete(want, g)
	}
}
