package trigger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/store/storetest"
	"github.com/parleyhq/parley/internal/trigger"
)

// BenchmarkIngest is Service.Ingest in process (no HTTP) on batches of
// 1,000 events, 10 matching rules of 100: where the event path's time goes.
func BenchmarkIngest(b *testing.B) {
	st, _ := storetest.New(b)
	ctx := context.Background()
	br, err := app.BrandAdd(ctx, st, app.BrandAddInput{Slug: "demo-air", Name: "Demo Air", Numbers: []string{"+15005550006"}, MPS: 10})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `
		WITH c AS (INSERT INTO contacts (name, loyalty_id, attributes, timezone)
			SELECT 'Member ' || g, 'M' || g, jsonb_build_object('tier', (ARRAY['gold','silver','platinum','basic'])[1 + g % 4]), 'America/New_York'
			FROM generate_series(1, 20000) g RETURNING id, loyalty_id)
		INSERT INTO contact_phones (phone, contact_id) SELECT '+1303' || lpad(substr(loyalty_id, 2), 7, '0'), id FROM c`); err != nil {
		b.Fatal(err)
	}
	svc := trigger.NewService(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := 0; i < 100; i++ {
		s := trigger.Spec{EventType: fmt.Sprintf("other_%d", i), Template: "How was {{.Event.flight}}?", Purpose: "conversational"}
		s.Delay.After = 2 * time.Hour
		if i < 10 {
			s.EventType = "flight_completed"
			s.Conditions = fmt.Sprintf(`data.cabin == "business" && attributes.tier in ["gold", "platinum"] && data.delay > %d`, i*10)
		}
		if _, err := svc.Save(ctx, br, 0, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; n++ {
		evs := make([]trigger.EventInput, 1000)
		for i := range evs {
			cabin := "economy"
			if i%3 == 0 {
				cabin = "business"
			}
			d, _ := json.Marshal(map[string]any{"cabin": cabin, "flight": fmt.Sprint("DA", i%900), "delay": i % 120})
			evs[i] = trigger.EventInput{Type: "flight_completed", LoyaltyID: fmt.Sprintf("M%d", 1+(n*1000+i)%20000), Key: fmt.Sprintf("k%d-%d", n, i), Data: d}
		}
		res, err := svc.Ingest(ctx, br, evs)
		if err != nil || res[0].Err != nil {
			b.Fatal(err, res[0].Err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/time.Since(start).Seconds(), "events/s")
}
