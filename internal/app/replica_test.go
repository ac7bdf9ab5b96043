package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/config"
)

// With DATABASE_REPLICA_URL the analytics read from the replica, not the
// primary, and the replica's sessions are read-only. The "replica" here is
// another Parley's database: texts stored there show in this one's
// figures, while this one's primary holds none.
func TestAnalyticsReadFromTheReplica(t *testing.T) {
	t.Parallel()
	source := apptest.New(t, apptest.Options{})
	if code, body := source.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM"+strings.Repeat("7", 32), "+12125550801", "hello")); code != http.StatusOK {
		t.Fatalf("webhook: %d %s", code, body)
	}
	env := apptest.New(t, apptest.Options{Config: func(c *config.Config) { c.ReplicaURL = source.DBURL }})
	ctx := context.Background()
	if n := env.Count(t, `SELECT count(*) FROM messages`); n != 0 {
		t.Fatalf("the primary holds %d texts, want none", n)
	}
	key, err := app.APIKeyAdd(ctx, env.Store, "reports")
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation(env.Brand.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(loc).Format(time.DateOnly)
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
	var out struct {
		Data []struct {
			Inbound int `json:"inbound"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Data) != 1 {
		t.Fatalf("volume: %s (%v)", raw, err)
	}
	if out.Data[0].Inbound != 1 {
		t.Fatalf("inbound = %d, want the replica's 1 text", out.Data[0].Inbound)
	}
	if _, err := env.App.Reports.Pool.Exec(ctx, `CREATE TABLE replica_write_probe (id int)`); err == nil ||
		!strings.Contains(err.Error(), "read-only") {
		t.Fatalf("a write through the replica's pool: %v, want it refused as read-only", err)
	}
}
