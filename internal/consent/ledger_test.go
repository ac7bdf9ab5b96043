package consent_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
)

type bundle struct {
	ctx    context.Context
	st     *store.Store
	ledger *consent.Ledger
	brand  store.Brand
}

func setup(t *testing.T) *bundle {
	t.Helper()
	st, _ := storetest.New(t)
	ctx := context.Background()
	b, err := st.UpsertBrand(ctx, store.BrandInput{Slug: "demoair", Name: "DemoAir", Numbers: []store.BrandNumber{{Number: "+15005550006", MPS: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{ctx: ctx, st: st, ledger: consent.NewLedger(st), brand: b}
}

// text stores an inbound text from phone through the real inbound path, with
// the consent action Go's keyword rules gave it.
func (b *bundle) text(t *testing.T, phone, sid, body string, a consent.Action) store.InboundResult {
	t.Helper()
	row := store.InboundRow{SID: sid, BrandID: b.brand.ID, From: phone, To: "+15005550006", Body: body,
		ReceivedAt: time.Now(), Segments: 1, Encoding: "GSM-7", Consent: string(a), Evidence: body}
	if reply := consent.Reply(a, "DemoAir", ""); reply != "" {
		row.Reply, row.ReplySegments, row.ReplyEncoding = &reply, 1, "GSM-7"
	}
	res, err := b.st.ReceiveInbound(b.ctx, []store.InboundRow{row})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    consent.Change
		field string
	}{
		{consent.Change{Purpose: "marketing", Status: "opted_in", Evidence: "signup form"}, ""},
		{consent.Change{Purpose: "marketing", Status: "opted_out"}, ""},
		{consent.Change{Purpose: "marketing", Status: "opted_in"}, "evidence"},
		{consent.Change{Purpose: "conversational", Status: "opted_in", Source: "web_form", Evidence: "  "}, "evidence"},
		{consent.Change{Purpose: " conversational ", Status: "opted_out", Source: "carrier"}, ""},
		{consent.Change{Status: "opted_in"}, "purpose"},
		{consent.Change{Purpose: "promo", Status: "opted_in"}, "purpose"},
		{consent.Change{Purpose: "marketing"}, "status"},
		{consent.Change{Purpose: "marketing", Status: "in"}, "status"},
		{consent.Change{Purpose: "marketing", Status: "opted_in", Source: "email"}, "source"},
		{consent.Change{Purpose: "marketing", Status: "opted_in", Evidence: string(make([]byte, 2001))}, "evidence"},
	} {
		c := tc.in
		err := consent.Check(&c)
		var fe *consent.FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("Check(%+v) = %v", tc.in, err)
		case tc.field == "" && c.Source == "":
			t.Errorf("Check(%+v) left the source empty; the default is api", tc.in)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, consent.ErrInvalid)):
			t.Errorf("Check(%+v) = %v, want a FieldError on %s", tc.in, err, tc.field)
		}
	}
}

func TestStateAndCanSend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const phone = "+12125550401"
	type want struct {
		marketing, conversational string
		canMarketing, canConv     bool
	}
	check := func(step string, w want) {
		t.Helper()
		st, err := b.ledger.State(b.ctx, b.brand.ID, phone)
		if err != nil {
			t.Fatal(err)
		}
		if st.Marketing != w.marketing || st.Conversational != w.conversational {
			t.Errorf("%s: state %s/%s, want %s/%s", step, st.Marketing, st.Conversational, w.marketing, w.conversational)
		}
		for purpose, wantOK := range map[string]bool{consent.Marketing: w.canMarketing, consent.Conversational: w.canConv} {
			ok, why, err := b.ledger.CanSend(b.ctx, b.brand.ID, phone, purpose)
			if err != nil {
				t.Fatal(err)
			}
			if ok != wantOK || why == "" {
				t.Errorf("%s: CanSend(%s) = %v (%s), want %v", step, purpose, ok, why, wantOK)
			}
		}
	}
	record := func(cs ...consent.Change) {
		t.Helper()
		if err := b.ledger.Record(b.ctx, b.brand.ID, cs...); err != nil {
			t.Fatal(err)
		}
	}

	check("nothing recorded", want{consent.Unknown, consent.Unknown, false, true})
	record(consent.Change{Phone: phone, Purpose: consent.Marketing, Status: consent.OptedIn, Source: "web_form", Evidence: "signup"})
	check("marketing opt-in", want{consent.OptedIn, consent.Unknown, true, true})

	// A STOP through the real inbound path (two rows: both purposes).
	res := b.text(t, phone, "SM00000000000000000000000000000001", "STOP", consent.OptOut)
	check("after STOP", want{consent.OptedOut, consent.OptedOut, false, false})

	b.text(t, phone, "SM00000000000000000000000000000002", "START", consent.OptIn)
	check("after START: marketing needs its own opt-in", want{consent.OptedOut, consent.OptedIn, false, true})

	record(consent.Change{Phone: phone, Purpose: consent.Marketing, Status: consent.OptedIn, Source: "web_form", Evidence: "preferences page"},
		consent.Change{Phone: phone, Purpose: consent.Conversational, Status: consent.OptedOut, Source: "agent", Evidence: "asked on the phone"})
	check("conversational opt-out also stops marketing", want{consent.OptedIn, consent.OptedOut, false, false})

	st, err := b.ledger.State(b.ctx, b.brand.ID, phone)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Ledger) != 6 || st.Ledger[0].Evidence != "signup" || st.Ledger[5].Source != "agent" {
		t.Fatalf("ledger %+v, want 6 entries oldest first", st.Ledger)
	}
	if st.Ledger[1].MessageID != res.MessageID || st.Ledger[1].Source != "keyword" {
		t.Errorf("the STOP entry %+v must point at message %d", st.Ledger[1], res.MessageID)
	}
	if _, _, err := b.ledger.CanSend(b.ctx, b.brand.ID, phone, "promo"); err == nil {
		t.Error("CanSend accepted an unknown purpose")
	}
}

func TestRecordValidatesBeforeWriting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const phone = "+12125550402"
	err := b.ledger.Record(b.ctx, b.brand.ID,
		consent.Change{Phone: phone, Purpose: consent.Marketing, Status: consent.OptedIn, Evidence: "form"},
		consent.Change{Phone: phone, Purpose: consent.Marketing, Status: "yes"})
	var fe *consent.FieldError
	if !errors.As(err, &fe) || fe.Field != "[1].status" {
		t.Fatalf("err = %v, want a FieldError on [1].status", err)
	}
	if err := b.ledger.Record(b.ctx, b.brand.ID, consent.Change{Purpose: consent.Marketing, Status: consent.OptedIn, Evidence: "form"}); !errors.As(err, &fe) || fe.Field != "[0].phone" {
		t.Fatalf("no phone: %v", err)
	}
	st, err := b.ledger.State(b.ctx, b.brand.ID, phone)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Ledger) != 0 {
		t.Errorf("a rejected batch wrote %+v", st.Ledger)
	}
}

// An API or import opt-in cannot undo an opt-out the customer made by text
// (STOP) or at the carrier; a consent a person collected with its evidence can.
func TestRecordRefusesOverridingATextOptOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const stopped, carrier, byAPI = "+12125550411", "+12125550412", "+12125550413"
	b.text(t, stopped, "SM00000000000000000000000000000011", "STOP", consent.OptOut)
	if err := b.st.AppendConsent(b.ctx, []store.ConsentEvent{
		{BrandID: b.brand.ID, Phone: carrier, Purpose: consent.Marketing, Status: consent.OptedOut, Source: "carrier", Evidence: "21610"},
		{BrandID: b.brand.ID, Phone: byAPI, Purpose: consent.Marketing, Status: consent.OptedOut, Source: "api", Evidence: "crm sync"},
	}); err != nil {
		t.Fatal(err)
	}
	ledgerLen := func(phone string) int {
		t.Helper()
		st, err := b.ledger.State(b.ctx, b.brand.ID, phone)
		if err != nil {
			t.Fatal(err)
		}
		return len(st.Ledger)
	}
	in := func(phone, purpose, source string) consent.Change {
		return consent.Change{Phone: phone, Purpose: purpose, Status: consent.OptedIn, Source: source, Evidence: "crm.csv row 12"}
	}
	for _, tc := range []struct {
		name    string
		changes []consent.Change
		via     string // "" when allowed
	}{
		{"api after STOP", []consent.Change{in(stopped, consent.Marketing, "api")}, "keyword"},
		{"default source after STOP", []consent.Change{in(stopped, consent.Conversational, "")}, "keyword"},
		{"import after STOP", []consent.Change{in(stopped, consent.Conversational, "import")}, "keyword"},
		{"a keyword opt-in with no text", []consent.Change{in(stopped, consent.Conversational, "keyword")}, "keyword"},
		{"an API opt-out does not lift a STOP", []consent.Change{
			{Phone: stopped, Purpose: consent.Marketing, Status: consent.OptedOut, Source: "api"}, in(stopped, consent.Marketing, "api")}, "keyword"},
		{"api after a carrier opt-out", []consent.Change{in(carrier, consent.Marketing, "api")}, "carrier"},
		{"api after an api opt-out", []consent.Change{in(byAPI, consent.Marketing, "api")}, ""},
		{"api for the other purpose", []consent.Change{in(carrier, consent.Conversational, "import")}, ""},
		{"web form after STOP", []consent.Change{in(stopped, consent.Marketing, "web_form")}, ""},
		{"agent after STOP", []consent.Change{in(stopped, consent.Conversational, "agent")}, ""},
	} {
		phone := tc.changes[len(tc.changes)-1].Phone
		before := ledgerLen(phone)
		err := b.ledger.Record(b.ctx, b.brand.ID, tc.changes...)
		var oe *consent.OverrideError
		switch {
		case tc.via == "" && err != nil:
			t.Errorf("%s: %v, want it recorded", tc.name, err)
		case tc.via != "" && (!errors.As(err, &oe) || !errors.Is(err, consent.ErrOptedOutByText) || oe.OptOutVia != tc.via):
			t.Errorf("%s: err = %v, want an OverrideError via %s", tc.name, err, tc.via)
		case tc.via != "" && ledgerLen(phone) != before:
			t.Errorf("%s: a refused batch was written", tc.name)
		}
	}
	// The web form re-consented to marketing after the STOP: from then on an
	// API opt-in is no override.
	if err := b.ledger.Record(b.ctx, b.brand.ID, in(stopped, consent.Marketing, "api")); err != nil {
		t.Errorf("api opt-in after a web form opt-in: %v", err)
	}
}
