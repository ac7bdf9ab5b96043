package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
)

// contactJSON is a contact as the API shows it.
type contactJSON struct {
	ID         int64          `json:"id"`
	LoyaltyID  *string        `json:"loyalty_id"`
	Phones     []string       `json:"phones"`
	Name       string         `json:"name"`
	Attributes map[string]any `json:"attributes"`
	Timezone   string         `json:"timezone"`
	CreatedAt  time.Time      `json:"created_at"`
}

func toContactJSON(c store.Contact) contactJSON {
	out := contactJSON{ID: c.ID, Phones: c.Phones, Name: c.Name, Attributes: c.Attributes, Timezone: c.Timezone, CreatedAt: c.CreatedAt}
	if c.LoyaltyID != "" {
		id := c.LoyaltyID
		out.LoyaltyID = &id
	}
	if out.Phones == nil {
		out.Phones = []string{}
	}
	if out.Attributes == nil {
		out.Attributes = map[string]any{}
	}
	return out
}

// contactBody is the PUT /contacts request.
type contactBody struct {
	LoyaltyID  *string         `json:"loyalty_id"`
	Phones     []string        `json:"phones"`
	Name       string          `json:"name"`
	Attributes json.RawMessage `json:"attributes"`
	Timezone   string          `json:"timezone"`
	Country    string          `json:"country"`
	Consent    []consentBody   `json:"consent"`
}

type consentBody struct {
	Brand    string `json:"brand"`
	Purpose  string `json:"purpose"`
	Status   string `json:"status"`
	Source   string `json:"source"`
	Evidence string `json:"evidence"`
}

// apiConsentSources are the consent sources an API client may record.
var apiConsentSources = []string{"api", "import", "web_form"}

// putContact: PUT /api/v1/contacts — create or update a contact by loyalty ID
// or phone, merging records of the same person (see contact.Service.Upsert).
func (h *Handlers) putContact(c echo.Context) error {
	var body contactBody
	if e := decodeJSON(c, &body); e != nil {
		return apierr.Write(c, e)
	}
	in := contact.Upsert{Phones: body.Phones, Name: body.Name, Attributes: body.Attributes, Timezone: body.Timezone,
		Country: strings.ToUpper(strings.TrimSpace(body.Country))}
	if in.Country != "" && !contact.ValidCountry(in.Country) {
		return apierr.Write(c, apierr.Field("invalid_field", "country", "%q is not a two-letter country code (e.g. US, GB)", body.Country))
	}
	if body.LoyaltyID != nil {
		in.LoyaltyID = *body.LoyaltyID
	}
	if len(body.Consent) > 0 && !auth.KeyHasScope(apiKey(c).KeyAccess, auth.ConsentWrite) {
		return apierr.Write(c, apierr.Field("forbidden", "consent", "this API key lacks the scope %s", auth.ConsentWrite))
	}
	for i, e := range body.Consent {
		// The customer's own texts and the carrier write keyword and carrier
		// entries; a signed-in agent writes agent ones. An API client may
		// record only what it can vouch for.
		if e.Source != "" && !slices.Contains(apiConsentSources, e.Source) { // "" is api
			return apierr.Write(c, apierr.Field("invalid_field", fmt.Sprintf("consent[%d].source", i),
				"an API client may record the sources %s, not %q", strings.Join(apiConsentSources, ", "), e.Source))
		}
		if bad, err := h.keyMayUse(c, e.Brand); bad != nil || err != nil {
			if err != nil {
				return h.internal(c, err)
			}
			bad.Field = fmt.Sprintf("consent[%d].brand", i)
			return apierr.Write(c, bad)
		}
	}
	for _, e := range body.Consent {
		in.Consent = append(in.Consent, contact.ConsentEntry{Brand: e.Brand, Purpose: e.Purpose, Status: e.Status, Source: e.Source, Evidence: e.Evidence})
	}
	res, err := h.contacts.Upsert(c.Request().Context(), in)
	var fe *contact.FieldError
	if errors.Is(err, consent.ErrOptedOutByText) && errors.As(err, &fe) {
		// Well-formed, but the customer's own STOP stands: a conflict, not bad input.
		return apierr.Write(c, apierr.Field("conflict", fe.Field, "%s: %s", fe.Field, fe.Msg))
	}
	if err != nil {
		return h.fail(c, err)
	}
	h.Hooks.ConsentRecorded(c.Request().Context(), res.Consent)
	if len(res.Absorbed) > 0 || len(res.Reassigned) > 0 {
		h.log.Info("contact identity changed", "contact", res.Contact.ID, "absorbed", res.Absorbed, "phones_reassigned", len(res.Reassigned))
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	return ok(c, status, toContactJSON(res.Contact))
}

// listContacts: GET /api/v1/contacts?phone=…&loyalty_id=… — the live contacts
// matching; merged contacts are never listed.
func (h *Handlers) listContacts(c echo.Context) error {
	cs, err := h.contacts.Find(c.Request().Context(), c.QueryParam("phone"), c.QueryParam("loyalty_id"))
	if err != nil {
		return h.fail(c, err)
	}
	out := make([]contactJSON, len(cs))
	for i, ct := range cs {
		out[i] = toContactJSON(ct)
	}
	return ok(c, http.StatusOK, out)
}
