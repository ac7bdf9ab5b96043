// Package devphone is the phone simulator mounted only by `parley dev`: a page
// where a person plays a customer, texting the demo brand through the real
// signed webhook path and watching what the brand sends back.
package devphone

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/carrier/twilio"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
	"github.com/parleyhq/parley/templates"
)

// Handlers serves the simulator.
type Handlers struct {
	PublicURL   string
	AuthToken   string
	BrandNumber string
	Store       *store.Store
	Log         *slog.Logger
	Client      *http.Client
}

// Register mounts /dev/phone and its helpers.
func (h *Handlers) Register(e *echo.Echo) {
	page, err := templates.Parse("dev_phone.html")
	if err != nil {
		panic(fmt.Sprintf("devphone: template: %v", err))
	}
	js, err := templates.FS.ReadFile("dev_phone.js")
	if err != nil {
		panic(fmt.Sprintf("devphone: script: %v", err))
	}
	if h.Client == nil {
		h.Client = &http.Client{Timeout: 15 * time.Second}
	}
	e.GET("/dev/phone", func(c echo.Context) error {
		var buf bytes.Buffer
		phone := c.QueryParam("phone")
		if phone == "" {
			phone = "+12125550199"
		}
		if err := page.Execute(&buf, map[string]string{"BrandNumber": h.BrandNumber, "Phone": phone}); err != nil {
			return err
		}
		return c.HTMLBlob(http.StatusOK, buf.Bytes())
	})
	e.GET("/dev/phone.js", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", js)
	})
	e.POST("/dev/phone/send", h.send)
	e.GET("/dev/phone/messages", h.messages)
}

type sendReq struct {
	Phone string `json:"phone"`
	Body  string `json:"body"`
}

// send posts a signed inbound webhook to this server, exactly as Twilio would.
func (h *Handlers) send(c echo.Context) error {
	var req sendReq
	if err := c.Bind(&req); err != nil {
		return apierr.Write(c, apierr.New("invalid_request", "send JSON {\"phone\", \"body\"}"))
	}
	phone, err := contact.NormalizeE164(req.Phone)
	if err != nil {
		return apierr.Write(c, apierr.Field("invalid_phone", "phone", "%v", err))
	}
	if strings.TrimSpace(req.Body) == "" {
		return apierr.Write(c, apierr.Field("missing_field", "body", "type a message"))
	}
	sid := fmt.Sprintf("SMsim%029d", rand.Int64N(1e18)) //nolint:gosec // G404: a simulated MessageSid, not a secret
	form := url.Values{"MessageSid": {sid}, "SmsMessageSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
		"From": {phone}, "To": {h.BrandNumber}, "Body": {req.Body}, "NumMedia": {"0"}, "NumSegments": {"1"},
		"SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}}
	target := h.PublicURL + "/webhooks/twilio/sms"
	hreq, err := http.NewRequestWithContext(c.Request().Context(), http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hreq.Header.Set("X-Twilio-Signature", twilio.Sign(h.AuthToken, target, form))
	resp, err := h.Client.Do(hreq)
	if err != nil {
		return apierr.Write(c, apierr.New("unavailable", "webhook call failed: %v", err))
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return apierr.Write(c, apierr.New("invalid_request", "the webhook answered %s", resp.Status))
	}
	return c.JSON(http.StatusOK, map[string]any{"data": map[string]string{"sid": sid}})
}

type msgJSON struct {
	ID        int64     `json:"id"`
	Direction string    `json:"direction"`
	Body      string    `json:"body"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

func (h *Handlers) messages(c echo.Context) error {
	phone, err := contact.NormalizeE164(c.QueryParam("phone"))
	if err != nil {
		return apierr.Write(c, apierr.Field("invalid_phone", "phone", "%v", err))
	}
	msgs, err := h.Store.MessagesBetween(c.Request().Context(), h.BrandNumber, phone, 100)
	if err != nil {
		return err
	}
	out := make([]msgJSON, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, msgJSON{ID: m.ID, Direction: m.Direction, Body: m.Body, Status: m.Status, CreatedAt: m.CreatedAt})
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}
