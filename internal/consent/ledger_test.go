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

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    consent.Change
		field string
	}{
		{consent.Change{Purpose: "marketing", Status: "opted_in"}, ""},
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
	reply := "unsubscribed"
	res, err := b.st.ReceiveInbound(b.ctx, []store.InboundRow{{SID: "SM00000000000000000000000000000001", BrandID: b.brand.ID,
		From: phone, To: "+15005550006", Body: "STOP", ReceivedAt: time.Now(), Segments: 1, Encoding: "GSM-7",
		Consent: string(consent.OptOut), Evidence: "STOP", Reply: &reply, ReplySegments: 1, ReplyEncoding: "GSM-7"}})
	if err != nil {
		t.Fatal(err)
	}
	check("after STOP", want{consent.OptedOut, consent.OptedOut, false, false})

	record(consent.Change{Phone: phone, Purpose: consent.Conversational, Status: consent.OptedIn, Source: "keyword", Evidence: "START"})
	check("after START: marketing needs its own opt-in", want{consent.OptedOut, consent.OptedIn, false, true})

	record(consent.Change{Phone: phone, Purpose: consent.Marketing, Status: consent.OptedIn, Source: "web_form"},
		consent.Change{Phone: phone, Purpose: consent.Conversational, Status: consent.OptedOut, Source: "agent", Evidence: "asked on the phone"})
	check("conversational opt-out also stops marketing", want{consent.OptedIn, consent.OptedOut, false, false})

	st, err := b.ledger.State(b.ctx, b.brand.ID, phone)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Ledger) != 6 || st.Ledger[0].Evidence != "signup" || st.Ledger[5].Source != "agent" {
		t.Fatalf("ledger %+v, want 6 entries oldest first", st.Ledger)
	}
	if st.Ledger[1].MessageID != res[0].MessageID || st.Ledger[1].Source != "keyword" {
		t.Errorf("the STOP entry %+v must point at message %d", st.Ledger[1], res[0].MessageID)
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
		consent.Change{Phone: phone, Purpose: consent.Marketing, Status: consent.OptedIn},
		consent.Change{Phone: phone, Purpose: consent.Marketing, Status: "yes"})
	var fe *consent.FieldError
	if !errors.As(err, &fe) || fe.Field != "[1].status" {
		t.Fatalf("err = %v, want a FieldError on [1].status", err)
	}
	if err := b.ledger.Record(b.ctx, b.brand.ID, consent.Change{Purpose: consent.Marketing, Status: consent.OptedIn}); !errors.As(err, &fe) || fe.Field != "[0].phone" {
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
