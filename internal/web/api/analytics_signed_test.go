package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
)

// Through the real binary's webhook: a signed text is counted, one with a
// bad signature was refused, stored nothing and counts nothing.
func TestAnalyticsCountsOnlySignedTexts(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{})
	key, err := app.APIKeyAdd(context.Background(), env.Store, "analytics")
	if err != nil {
		t.Fatal(err)
	}
	good := apptest.Inbound("SM"+"a0000000000000000000000000000001", "+12125550111", "signed")
	if code, body := env.PostForm(t, "/webhooks/twilio/sms", good); code != http.StatusOK {
		t.Fatalf("signed: %d %s", code, body)
	}
	bad := apptest.Inbound("SM"+"a0000000000000000000000000000002", "+12125550112", "forged")
	if code, _ := env.PostRaw(t, "/webhooks/twilio/sms", bad.Encode(), env.Sign("/webhooks/twilio/sms", good)); code != http.StatusForbidden {
		t.Fatalf("badly signed: %d, want 403", code)
	}
	loc, err := time.LoadLocation(env.Brand.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(loc).Format(time.DateOnly)
	var out struct {
		Data []struct {
			Inbound int `json:"inbound"`
		} `json:"data"`
	}
	apptest.WaitFor(t, 5*time.Second, "the signed text counted", func() bool {
		req, _ := http.NewRequest(http.MethodGet, env.PublicURL+"/api/v1/analytics/volume?brand="+env.Brand.Slug+"&from="+today+"&to="+today, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := env.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("volume: %d %s", resp.StatusCode, raw)
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return len(out.Data) == 1 && out.Data[0].Inbound >= 1
	})
	if out.Data[0].Inbound != 1 {
		t.Fatalf("inbound %d, want 1: the forged text counted", out.Data[0].Inbound)
	}
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE direction = 'inbound'`); n != 1 {
		t.Fatalf("%d inbound rows stored, want 1", n)
	}
}
