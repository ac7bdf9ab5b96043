package store_test

import (
	"testing"

	"github.com/parleyhq/parley/internal/store"
)

func TestConsentLedgerAppendAndLatest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const phone = "+12125550201"
	st, src, err := b.st.LatestConsentStatus(b.ctx, b.air.ID, phone, "marketing")
	if err != nil || st != "" || src != "" {
		t.Fatalf("empty ledger: %q %q %v", st, src, err)
	}
	in := b.text(t, b.air, phone, "STOP", t0)
	err = b.st.AppendConsent(b.ctx, []store.ConsentEvent{
		{BrandID: b.air.ID, Phone: phone, Purpose: "marketing", Status: "opted_in", Source: "web_form", Evidence: "form"},
		{BrandID: b.air.ID, Phone: phone, Purpose: "marketing", Status: "opted_out", Source: "keyword", Evidence: "STOP", MessageID: in.MessageID},
		{BrandID: b.hotel.ID, Phone: phone, Purpose: "marketing", Status: "opted_in", Source: "api"},
	})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := b.st.ConsentEvents(b.ctx, b.air.ID, phone)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Status != "opted_in" || evs[1].Status != "opted_out" || evs[1].MessageID != in.MessageID || evs[0].MessageID != 0 {
		t.Fatalf("airline ledger %+v", evs)
	}
	if st, src, _ := b.st.LatestConsentStatus(b.ctx, b.air.ID, phone, "marketing"); st != "opted_out" || src != "keyword" {
		t.Errorf("airline latest %q %q", st, src)
	}
	if st, _, _ := b.st.LatestConsentStatus(b.ctx, b.hotel.ID, phone, "marketing"); st != "opted_in" {
		t.Errorf("hotel latest %q: brands must not share a ledger", st)
	}
}

func TestAppendConsentAllOrNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	err := b.st.AppendConsent(b.ctx, []store.ConsentEvent{
		{BrandID: b.air.ID, Phone: "+12125550202", Purpose: "marketing", Status: "opted_in", Source: "api"},
		{BrandID: b.air.ID, Phone: "+12125550202", Purpose: "marketing", Status: "maybe", Source: "api"},
	})
	if err == nil {
		t.Fatal("a bad status was accepted")
	}
	if evs, _ := b.st.ConsentEvents(b.ctx, b.air.ID, "+12125550202"); len(evs) != 0 {
		t.Errorf("half of a failed append was kept: %+v", evs)
	}
}
