package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
)

// webhookRoutes are the API's webhooks routes: a brand's subscriptions of
// its own URLs to events, their delivery logs and test events.
var webhookRoutes = []route{
	{http.MethodGet, "/webhooks", auth.SettingsWrite, false, (*Handlers).listWebhooks},
	{http.MethodPost, "/webhooks", auth.SettingsWrite, true, (*Handlers).createWebhook},
	{http.MethodDelete, "/webhooks/:id", auth.SettingsWrite, false, (*Handlers).deleteWebhook},
	{http.MethodGet, "/webhooks/:id/deliveries", auth.SettingsWrite, false, (*Handlers).webhookDeliveries},
	{http.MethodPost, "/webhooks/:id/test", auth.SettingsWrite, true, (*Handlers).testWebhook},
}

type webhookJSON struct {
	ID        int64     `json:"id"`
	Brand     string    `json:"brand"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret,omitempty"` // only in the answer to the create
	CreatedAt time.Time `json:"created_at"`
}

func webhookOut(w store.Webhook) webhookJSON {
	return webhookJSON{ID: w.ID, Brand: w.BrandSlug, URL: w.URL, Events: w.Events, CreatedAt: w.CreatedAt}
}

type deliveryJSON struct {
	ID             int64      `json:"id"`
	EventID        string     `json:"event_id"`
	Type           string     `json:"type"`
	ConversationID int64      `json:"conversation_id,omitempty"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	LastCode       int        `json:"last_code,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	NextAt         *time.Time `json:"next_at,omitempty"` // pending only
	CreatedAt      time.Time  `json:"created_at"`
	DoneAt         *time.Time `json:"done_at"`
}

// webhooks is the subscription service: the process's own when wired, else
// one without a queue (its deliveries are queued by the worker's sweep).
func (h *Handlers) webhooks() *hooks.Service {
	if h.Hooks != nil {
		return h.Hooks
	}
	return hooks.New(h.st, nil, "", h.log)
}

func (h *Handlers) webhookFail(c echo.Context, err error) error {
	var fe *hooks.FieldError
	switch {
	case errors.As(err, &fe):
		code := "invalid_field"
		if strings.HasPrefix(fe.Msg, "give ") {
			code = "missing_field"
		}
		return apierr.Write(c, apierr.Field(code, fe.Field, "%s: %s", fe.Field, fe.Msg))
	case errors.Is(err, hooks.ErrNotFound):
		return apierr.Write(c, apierr.New("not_found", "no such webhook"))
	}
	return h.internal(c, err)
}

// withWebhook resolves :id to a subscription of a brand the key may touch.
func (h *Handlers) withWebhook(c echo.Context, fn func(store.Webhook) error) error {
	id, bad := idParam(c, "id", true)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	w, err := h.webhooks().Get(c.Request().Context(), id)
	if err != nil {
		return h.webhookFail(c, err)
	}
	if bad := brandAllowed(c, w.BrandID, w.BrandSlug); bad != nil {
		return apierr.Write(c, bad)
	}
	return fn(w)
}

// listWebhooks: GET /api/v1/webhooks — newest first, ?brand=, ?before=<id>.
// Secrets are not shown.
func (h *Handlers) listWebhooks(c echo.Context) error {
	q, bad, err := h.newestFirst(c)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	if err != nil {
		return h.internal(c, err)
	}
	ws, err := h.st.Webhooks(c.Request().Context(), q.brands, q.before, q.limit+1)
	if err != nil {
		return h.internal(c, err)
	}
	out := make([]webhookJSON, len(ws))
	for i, w := range ws {
		out[i] = webhookOut(w)
	}
	return page(c, out, q.limit, "before", func(w webhookJSON) int64 { return w.ID })
}

// createWebhook: POST /api/v1/webhooks {brand, url, events} — 201 with the
// subscription and its signing secret, shown this once.
func (h *Handlers) createWebhook(c echo.Context) error {
	var in struct {
		Brand  string   `json:"brand"`
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	if bad := decodeJSON(c, &in); bad != nil {
		return apierr.Write(c, bad)
	}
	b, bad, err := h.bodyBrand(c, in.Brand)
	if err != nil {
		return h.internal(c, err)
	}
	if bad != nil {
		return apierr.Write(c, bad)
	}
	w, err := h.webhooks().Create(c.Request().Context(), b.ID, in.URL, in.Events)
	if err != nil {
		return h.webhookFail(c, err)
	}
	out := webhookOut(w)
	out.Secret = w.Secret
	return ok(c, http.StatusCreated, out)
}

// deleteWebhook: DELETE /api/v1/webhooks/{id} — 204; its pending
// deliveries are cancelled and nothing more is posted to it.
func (h *Handlers) deleteWebhook(c echo.Context) error {
	return h.withWebhook(c, func(w store.Webhook) error {
		if err := h.webhooks().Delete(c.Request().Context(), w.ID); err != nil {
			return h.webhookFail(c, err)
		}
		return c.NoContent(http.StatusNoContent)
	})
}

// webhookDeliveries: GET /api/v1/webhooks/{id}/deliveries — the delivery
// log, newest first, ?before=<id>.
func (h *Handlers) webhookDeliveries(c echo.Context) error {
	return h.withWebhook(c, func(w store.Webhook) error {
		before, bad := idParam(c, "before", false)
		if bad != nil {
			return apierr.Write(c, bad)
		}
		limit, bad := limitParam(c)
		if bad != nil {
			return apierr.Write(c, bad)
		}
		ds, err := h.st.Deliveries(c.Request().Context(), w.ID, before, limit+1)
		if err != nil {
			return h.internal(c, err)
		}
		out := make([]deliveryJSON, len(ds))
		for i, d := range ds {
			out[i] = deliveryJSON{ID: d.ID, EventID: d.EventID, Type: d.Type, ConversationID: d.ConversationID, Status: d.Status,
				Attempts: d.Attempts, LastCode: d.LastCode, LastError: d.LastError, CreatedAt: d.CreatedAt, DoneAt: d.DoneAt}
			if d.Status == "pending" {
				out[i].NextAt = &d.NextAt
			}
		}
		return page(c, out, limit, "before", func(d deliveryJSON) int64 { return d.ID })
	})
}

// testWebhook: POST /api/v1/webhooks/{id}/test — queues a webhook.test
// event to this subscription only; 202 with the delivery's id, whose
// outcome the delivery log shows.
func (h *Handlers) testWebhook(c echo.Context) error {
	return h.withWebhook(c, func(w store.Webhook) error {
		id, err := h.webhooks().SendTest(c.Request().Context(), w)
		if err != nil {
			return h.internal(c, err)
		}
		return ok(c, http.StatusAccepted, map[string]any{"webhook_id": w.ID, "delivery_id": id, "type": hooks.Test})
	})
}
