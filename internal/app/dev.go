package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/automation"
	"github.com/parleyhq/parley/internal/carrier/sim"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/inbound"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/devphone"
)

// Dev settings used when the environment leaves them empty.
var devDefaults = map[string]string{
	"DATABASE_URL":       "postgres://postgres@127.0.0.1:5432/parley_dev?sslmode=disable",
	"REDIS_URL":          "redis://127.0.0.1:6379/1",
	"PARLEY_ADDR":        ":8080",
	"PARLEY_PUBLIC_URL":  "http://localhost:8080",
	"PARLEY_SPOOL_DIR":   "var/spool",
	"TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
	"TWILIO_AUTH_TOKEN":  "devtoken0000000000000000000000000",
}

// DemoNumber is the demo brand's number in `parley dev`.
const DemoNumber = "+15005550006"

// Dev migrates, creates the demo brand, a login, an API key and demo
// conversations, prints how to get in, and serves with the phone simulator.
func Dev(ctx context.Context, getenv func(string) string, log *slog.Logger, out io.Writer) error {
	env := func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return devDefaults[k]
	}
	cfg, err := config.FromEnv(env, config.Needs{Database: true, Redis: true, HTTP: true, Twilio: true})
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx, cfg.DatabaseURL, log); err != nil {
		return err
	}
	password, key, err := devAccounts(ctx, cfg)
	if err != nil {
		return err
	}
	simCarrier := sim.New(cfg.TwilioAuthToken, &http.Client{Timeout: 10 * time.Second}, sim.WithLogger(log))
	defer func() { _ = simCarrier.Close() }() // the dev session is over
	a, err := Build(ctx, cfg, log, Options{Carrier: simCarrier})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := seedDemo(ctx, a); err != nil {
		return err
	}
	sim := &devphone.Handlers{PublicURL: cfg.PublicURL, AuthToken: cfg.TwilioAuthToken, BrandNumber: DemoNumber,
		Store: a.Store, Log: log}
	sim.Register(a.Echo)
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("PARLEY_ADDR: cannot listen on %s: %w", cfg.Addr, err)
	}
	fmt.Fprintf(out, `
Parley dev is running at %[1]s
  console login:   admin@demo-air.example / %[2]s
  phone simulator: %[1]s/dev/phone   (text Demo Air at %[3]s as a customer; "hours" or "baggage" get an auto-reply, "JOIN" then "YES" opts in to offers)
  API key:         %[4]s
  try:             curl -H 'Authorization: Bearer %[4]s' %[1]s/api/v1/conversations?brand=demo-air
`, cfg.PublicURL, password, DemoNumber, key)
	return a.Run(ctx, ln, true)
}

// devAccounts creates the demo brand, the admin login and an API key.
func devAccounts(ctx context.Context, cfg config.Config) (password, key string, err error) {
	st, err := store.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return "", "", err
	}
	defer st.Close()
	help := "Demo Air: reply here to reach our crew, call 1-800-555-0100, or visit demo-air.example/help. Reply STOP to opt out."
	if _, err := BrandAdd(ctx, st, BrandAddInput{Slug: "demo-air", Name: "Demo Air", Timezone: "America/New_York",
		HelpText: &help, Numbers: []string{DemoNumber}, MPS: 10}); err != nil {
		return "", "", err
	}
	if _, password, err = UserAdd(ctx, st, "admin@demo-air.example", "admin", ""); err != nil {
		return "", "", err
	}
	key, err = APIKeyAdd(ctx, st, "dev")
	return password, key, err
}

// seedDemo sends a few customer texts through the real inbound pipeline,
// names the customers, and adds canned responses, once.
func seedDemo(ctx context.Context, a *App) error {
	texts := []struct{ from, body string }{
		{"+12125550101", "Hi! My flight DA 123 is delayed, will I make my connection in Atlanta?"},
		{"+13055550102", "Can I bring my dog in the cabin?"},
		{"+14155550103", "HELP"},
		{"+16175550104", "Thanks for the upgrade last week, the crew was great"},
	}
	for i, t := range texts {
		_, err := a.Inbound.Receive(ctx, inbound.Message{
			SID: fmt.Sprintf("SMdemo%028d", i+1), From: t.from, To: DemoNumber, Body: t.body,
			ReceivedAt: time.Now().Add(time.Duration(i-len(texts)) * 7 * time.Minute).UTC(),
		})
		if err != nil && !strings.Contains(err.Error(), "duplicate") {
			return fmt.Errorf("dev: seed demo text: %w", err)
		}
	}
	people := []contact.Upsert{
		{Phones: []string{"+12125550101"}, LoyaltyID: "DA-100234", Name: "Maya Chen", Attributes: json.RawMessage(`{"tier":"gold","points":48210,"seat":"aisle"}`)},
		{Phones: []string{"+13055550102"}, Name: "Luis Ortega", Attributes: json.RawMessage(`{"tier":"blue","points":1200}`)},
		{Phones: []string{"+16175550104"}, LoyaltyID: "DA-778812", Name: "Priya Raman", Attributes: json.RawMessage(`{"tier":"platinum","points":152300,"meal":"vegetarian"}`)},
	}
	ids := contact.NewService(a.Store)
	for _, p := range people {
		if _, err := ids.Upsert(ctx, p); err != nil {
			return fmt.Errorf("dev: seed demo contact: %w", err)
		}
	}
	canned := []store.CannedInput{
		{Title: "Greeting", Body: "Hi {{.FirstName}}, thanks for texting Demo Air! How can I help?"},
		{Title: "Delay", Body: "Hi {{.FirstName}}, sorry about the delay. I am checking your connection now and will text you back in a few minutes."},
		{Title: "Pets", Body: "Small dogs and cats can fly in the cabin in a carrier under the seat ($95 each way). Shall I add one to your booking?"},
	}
	for _, c := range canned {
		if _, err := a.Store.CreateCannedResponse(ctx, c); err != nil && !errors.Is(err, store.ErrTitleTaken) {
			return fmt.Errorf("dev: seed canned response: %w", err)
		}
	}
	return seedDemoRouting(ctx, a)
}

// seedDemoRouting gives the demo brand two keyword auto-replies (text
// "hours" or "baggage" from the phone simulator), once.
func seedDemoRouting(ctx context.Context, a *App) error {
	b, err := a.Store.BrandBySlug(ctx, "demo-air")
	if err != nil {
		return fmt.Errorf("dev: demo brand: %w", err)
	}
	svc := automation.NewService(a.Store, a.Routing)
	if rules, err := svc.Rules(ctx, b.ID, 0, 0, 1); err != nil || len(rules) > 0 {
		return err
	}
	for _, r := range []automation.Rule{
		{Match: "first_word", Pattern: "hours", Reply: `Hi {{default "there" .FirstName}}! Our agents text back 7:00–22:00 New York time, every day.`},
		{Match: "contains", Pattern: "baggage", HandToAgent: true,
			Reply: `Sorry to hear about your bag, {{default "there" .FirstName}}. An agent is on it; reply with your bag tag number if you have it.`},
	} {
		if _, err := svc.CreateRule(ctx, b.ID, r); err != nil {
			return fmt.Errorf("dev: seed auto-reply: %w", err)
		}
	}
	// "JOIN" from the simulator starts a double opt-in to Demo Air's offers.
	if _, err := svc.PutSettings(ctx, b, []byte(`{"opt_in_keyword": "JOIN"}`)); err != nil {
		return fmt.Errorf("dev: seed opt-in keyword: %w", err)
	}
	return nil
}
