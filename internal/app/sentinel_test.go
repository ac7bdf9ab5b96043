package app_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/config"
)

// Parley runs whole on a Redis found through Sentinel: REDIS_URL
// redis-sentinel://… passes validation, the health check reaches the master,
// and a text's auto-reply goes through the queue on it to the carrier.
func TestRedisThroughSentinel(t *testing.T) {
	t.Parallel()
	sentinel, master := apptest.StartSentinel(t, t.TempDir(), "parley")
	url := fmt.Sprintf("redis-sentinel://127.0.0.1:%d/0?master=parley", sentinel)
	if err := (config.Config{RedisURL: url}).Validate(config.Needs{Redis: true}); err != nil {
		t.Fatalf("REDIS_URL %s refused: %v", url, err)
	}
	env := apptest.New(t, apptest.Options{Worker: true, Config: func(c *config.Config) { c.RedisURL = url }})
	if code, body := apptest.Get(t, env.PublicURL+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	phone := "+14155550142"
	if code, body := env.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM"+fmt.Sprintf("%032d", 1), phone, "HELP")); code != http.StatusOK {
		t.Fatalf("webhook = %d %s", code, body)
	}
	apptest.WaitFor(t, 30*time.Second, "the HELP answer sent", func() bool {
		for _, m := range env.Twilio.Sent() {
			if m.To == phone {
				return true
			}
		}
		return false
	})
	// The queue lived on the sentinel's master, not on the shared test Redis.
	keys, err := apptest.RedisClient(t, master, 0).Keys(t.Context(), "asynq:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("asynq keys on the sentinel's master: %v %v", keys, err)
	}
}
