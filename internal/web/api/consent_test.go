package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/store"
)

type consentOut struct {
	Marketing      string `json:"marketing"`
	Conversational string `json:"conversational"`
	Ledger         []struct {
		Purpose   string    `json:"purpose"`
		Status    string    `json:"status"`
		Source    string    `json:"source"`
		Evidence  string    `json:"evidence"`
		CreatedAt time.Time `json:"created_at"`
		MessageID *int64    `json:"message_id"`
	} `json:"ledger"`
}

func TestConsentThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const phone = "+12125550401"
	get := func() consentOut {
		t.Helper()
		var out one[consentOut]
		b.call(t, http.MethodGet, "/api/v1/consent?brand=demoair&phone=(212)%20555-0401", nil).decode(t, http.StatusOK, &out)
		return out.Data
	}
	if c := get(); c.Marketing != "unknown" || c.Conversational != "unknown" || c.Ledger == nil || len(c.Ledger) != 0 {
		t.Fatalf("unknown phone: %+v, want unknown/unknown and an empty ledger", c)
	}

	b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{
		"loyalty_id": "FF-40", "phones": []string{phone},
		"consent": []map[string]string{
			{"brand": "demoair", "purpose": "marketing", "status": "opted_in", "source": "web_form", "evidence": "checkout checkbox"},
			{"brand": "demohotel", "purpose": "marketing", "status": "opted_in", "evidence": "checkout box ticked"},
		},
	}).decode(t, http.StatusCreated, nil)
	// Later, with no phone listed: recorded for every phone of the contact.
	b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{
		"loyalty_id": "FF-40",
		"consent":    []map[string]string{{"brand": "demoair", "purpose": "conversational", "status": "opted_in", "source": "import", "evidence": "loyalty desk records"}},
	}).decode(t, http.StatusOK, nil)
	// keyword and carrier entries come only from texts and the carrier, agent
	// ones only from a signed-in agent: refused, naming the field, and nothing
	// is recorded.
	for _, source := range []string{"agent", "keyword", "carrier", "sms"} {
		b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{
			"loyalty_id": "FF-40",
			"consent":    []map[string]string{{"brand": "demoair", "purpose": "conversational", "status": "opted_out", "source": source, "evidence": "x"}},
		}).expectError(t, http.StatusBadRequest, "invalid_field", "consent[0].source")
	}

	c := get()
	if c.Marketing != "opted_in" || c.Conversational != "opted_in" || len(c.Ledger) != 2 {
		t.Fatalf("after API entries: %+v", c)
	}
	e := c.Ledger[0]
	if e.Purpose != "marketing" || e.Source != "web_form" || e.Evidence != "checkout checkbox" || e.MessageID != nil || e.CreatedAt.IsZero() {
		t.Errorf("first entry %+v", e)
	}
	if c.Ledger[1].Source != "import" || c.Ledger[1].Purpose != "conversational" {
		t.Errorf("second entry %+v", c.Ledger[1])
	}

	// A STOP arrives by text: the newest entries win and point at the message.
	reply := consent.Reply(consent.OptOut, "DemoAir", "")
	res, err := b.st.ReceiveInbound(b.ctx, []store.InboundRow{{SID: "SM99999999999999999999999999999999", BrandID: b.air.ID,
		From: phone, To: "+15005550006", Body: "STOP", ReceivedAt: t0, Segments: 1, Encoding: "GSM-7",
		Consent: string(consent.OptOut), Evidence: "STOP", Reply: &reply, ReplySegments: 1, ReplyEncoding: "GSM-7"}})
	if err != nil {
		t.Fatal(err)
	}
	c = get()
	if c.Marketing != "opted_out" || c.Conversational != "opted_out" || len(c.Ledger) != 4 {
		t.Fatalf("after STOP: %+v", c)
	}
	if last := c.Ledger[3]; last.Source != "keyword" || last.MessageID == nil || *last.MessageID != res[0].MessageID {
		t.Errorf("STOP entry %+v, want message %d", last, res[0].MessageID)
	}
	// Brands keep separate ledgers.
	var hotel one[consentOut]
	b.call(t, http.MethodGet, "/api/v1/consent?brand=demohotel&phone="+phone[1:], nil).decode(t, http.StatusOK, &hotel)
	if hotel.Data.Marketing != "opted_in" || hotel.Data.Conversational != "unknown" {
		t.Errorf("hotel %+v", hotel.Data)
	}
}

func TestConsentParams(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.call(t, http.MethodGet, "/api/v1/consent?phone=2125550401", nil).expectError(t, http.StatusBadRequest, "missing_field", "brand")
	b.call(t, http.MethodGet, "/api/v1/consent?brand=demoair", nil).expectError(t, http.StatusBadRequest, "missing_field", "phone")
	b.call(t, http.MethodGet, "/api/v1/consent?brand=demoair&phone=12345", nil).expectError(t, http.StatusBadRequest, "invalid_phone", "phone")
	b.call(t, http.MethodGet, "/api/v1/consent?brand=nope&phone=2125550401", nil).expectError(t, http.StatusNotFound, "brand_not_found", "brand")
}
