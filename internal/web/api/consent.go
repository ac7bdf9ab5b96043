package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/web/apierr"
)

// consentEntryJSON is one ledger row as the API shows it.
type consentEntryJSON struct {
	Purpose   string    `json:"purpose"`
	Status    string    `json:"status"`
	Source    string    `json:"source"`
	Evidence  string    `json:"evidence"`
	CreatedAt time.Time `json:"created_at"`
	MessageID *int64    `json:"message_id"`
	// CampaignID is the campaign an opt-out is attributed to (a campaign
	// text in the 48 hours before it), null for none.
	CampaignID *int64 `json:"campaign_id"`
}

type consentJSON struct {
	Marketing      string             `json:"marketing"`
	Conversational string             `json:"conversational"`
	Ledger         []consentEntryJSON `json:"ledger"`
}

// getConsent: GET /api/v1/consent?brand=<slug>&phone=… — where a phone stands
// with a brand for each purpose, and the ledger that says so.
func (h *Handlers) getConsent(c echo.Context) error {
	if strings.TrimSpace(c.QueryParam("brand")) == "" {
		return apierr.Write(c, apierr.Field("missing_field", "brand", "give the brand's slug: ?brand=<slug>"))
	}
	raw := c.QueryParam("phone")
	if strings.TrimSpace(raw) == "" {
		return apierr.Write(c, apierr.Field("missing_field", "phone", "give the phone: ?phone=+12125550123"))
	}
	b, bad, err := h.brandParam(c, true)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	if err != nil {
		return h.internal(c, err)
	}
	if bad := brandAllowed(c, b.ID, b.Slug); bad != nil {
		return apierr.Write(c, bad)
	}
	phone, err := contact.NormalizePhone(raw, b.DefaultCountry)
	if err != nil {
		return apierr.Write(c, apierr.Field("invalid_phone", "phone", "phone: %v", err))
	}
	st, err := h.ledger.State(c.Request().Context(), b.ID, phone)
	if err != nil {
		return h.internal(c, err)
	}
	out := consentJSON{Marketing: st.Marketing, Conversational: st.Conversational, Ledger: make([]consentEntryJSON, len(st.Ledger))}
	for i, e := range st.Ledger {
		out.Ledger[i] = consentEntryJSON{Purpose: e.Purpose, Status: e.Status, Source: e.Source, Evidence: e.Evidence, CreatedAt: e.CreatedAt}
		if e.MessageID != 0 {
			id := e.MessageID
			out.Ledger[i].MessageID = &id
		}
		if e.CampaignID != 0 {
			id := e.CampaignID
			out.Ledger[i].CampaignID = &id
		}
	}
	return ok(c, http.StatusOK, out)
}
