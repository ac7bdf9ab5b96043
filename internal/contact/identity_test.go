package contact_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
)

type bundle struct {
	ctx context.Context
	st  *store.Store
	svc *contact.Service
}

func setup(t *testing.T) *bundle {
	t.Helper()
	st, _ := storetest.New(t)
	ctx := context.Background()
	if _, err := st.UpsertBrand(ctx, store.BrandInput{Slug: "demoair", Name: "DemoAir"}); err != nil {
		t.Fatal(err)
	}
	return &bundle{ctx: ctx, st: st, svc: contact.NewService(st)}
}

// rows counts what an upsert can write.
func (b *bundle) rows(t *testing.T) string {
	t.Helper()
	var c, p, ce, m int
	err := b.st.Pool.QueryRow(b.ctx, `SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM contact_phones),
		(SELECT count(*) FROM consent_events), (SELECT count(*) FROM contact_merges)`).Scan(&c, &p, &ce, &m)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("contacts=%d phones=%d consent=%d merges=%d", c, p, ce, m)
}

func TestUpsertNormalisesAndCreates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res, err := b.svc.Upsert(b.ctx, contact.Upsert{
		LoyaltyID:  "  FF-9 ",
		Phones:     []string{"(212) 555-0199", "+1 212 555 0198", "212.555.0199"},
		Name:       " Ada ",
		Attributes: json.RawMessage(`{"tier": "gold", "points": 12345678901234567890, "gone": null}`),
		Timezone:   "America/Chicago",
		Consent:    []contact.ConsentEntry{{Brand: "demoair", Purpose: "marketing", Status: "opted_in", Evidence: " form "}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Contact
	if !res.Created || c.LoyaltyID != "FF-9" || c.Name != "Ada" || !slices.Equal(c.Phones, []string{"+12125550198", "+12125550199"}) {
		t.Fatalf("created %+v", c)
	}
	if n, ok := c.Attributes["points"].(json.Number); !ok || n != "12345678901234567890" {
		t.Errorf("points %v", c.Attributes["points"])
	}
	if _, ok := c.Attributes["gone"]; ok {
		t.Error("a null attribute was stored")
	}
	var brandID int64
	if err := b.st.Pool.QueryRow(b.ctx, `SELECT id FROM brands WHERE slug = 'demoair'`).Scan(&brandID); err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Phones {
		evs, err := b.st.ConsentEvents(b.ctx, brandID, p)
		if err != nil || len(evs) != 1 || evs[0].Source != "api" || evs[0].Evidence != "form" {
			t.Errorf("consent of %s: %+v %v (source must default to api)", p, evs, err)
		}
	}
}

func TestUpsertRejectsBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Two existing contacts that a valid request would merge.
	for _, p := range []string{"+12125550101", "+12125550102"} {
		if _, err := b.svc.Upsert(b.ctx, contact.Upsert{Phones: []string{p}}); err != nil {
			t.Fatal(err)
		}
	}
	before := b.rows(t)
	merging := []string{"+12125550101", "+12125550102"}
	cases := []struct {
		name  string
		in    contact.Upsert
		field string
		class error
	}{
		{"nothing", contact.Upsert{Name: "x"}, "phones", contact.ErrMissing},
		{"bad phone", contact.Upsert{Phones: []string{"+12125550101", "12"}}, "phones[1]", contact.ErrInvalidPhone},
		{"letters", contact.Upsert{Phones: []string{"call me"}}, "phones[0]", contact.ErrInvalidPhone},
		{"too many phones", contact.Upsert{Phones: slices.Repeat([]string{"+12125550101"}, 21)}, "phones", contact.ErrInvalid},
		{"long loyalty", contact.Upsert{LoyaltyID: strings.Repeat("x", 101), Phones: merging}, "loyalty_id", contact.ErrInvalid},
		{"control name", contact.Upsert{Phones: merging, Name: "a\x00b"}, "name", contact.ErrInvalid},
		{"timezone", contact.Upsert{Phones: merging, Timezone: "Mars/Olympus"}, "timezone", contact.ErrInvalid},
		{"local timezone", contact.Upsert{Phones: merging, Timezone: "Local"}, "timezone", contact.ErrInvalid},
		{"attributes array", contact.Upsert{Phones: merging, Attributes: json.RawMessage(`[1]`)}, "attributes", contact.ErrInvalid},
		{"attributes string", contact.Upsert{Phones: merging, Attributes: json.RawMessage(`"gold"`)}, "attributes", contact.ErrInvalid},
		{"brand missing", contact.Upsert{Phones: merging, Consent: []contact.ConsentEntry{{Purpose: "marketing", Status: "opted_in"}}}, "consent[0].brand", contact.ErrMissing},
		{"brand unknown", contact.Upsert{Phones: merging, Consent: []contact.ConsentEntry{
			{Brand: "demoair", Purpose: "marketing", Status: "opted_in", Evidence: "form"}, {Brand: "nope", Purpose: "marketing", Status: "opted_in"}}}, "consent[1].brand", contact.ErrInvalid},
		{"unknown brand before missing evidence", contact.Upsert{Phones: merging, Consent: []contact.ConsentEntry{{Brand: "nope", Purpose: "marketing", Status: "opted_in"}}}, "consent[0].brand", contact.ErrInvalid},
		{"opt-in without evidence", contact.Upsert{Phones: merging, Consent: []contact.ConsentEntry{
			{Brand: "demoair", Purpose: "marketing", Status: "opted_out"}, {Brand: "demoair", Purpose: "marketing", Status: "opted_in", Source: "web_form", Evidence: " "}}}, "consent[1].evidence", contact.ErrInvalid},
		{"api opt-in without evidence", contact.Upsert{Phones: merging, Consent: []contact.ConsentEntry{{Brand: "demoair", Purpose: "conversational", Status: "opted_in"}}}, "consent[0].evidence", contact.ErrInvalid},
		{"purpose", contact.Upsert{Phones: merging, Consent: []contact.ConsentEntry{{Brand: "demoair", Purpose: "sales", Status: "opted_in"}}}, "consent[0].purpose", contact.ErrInvalid},
		{"status", contact.Upsert{Phones: merging, Consent: []contact.ConsentEntry{{Brand: "demoair", Purpose: "marketing", Status: "yes"}}}, "consent[0].status", contact.ErrInvalid},
		{"source", contact.Upsert{Phones: merging, Consent: []contact.ConsentEntry{{Brand: "demoair", Purpose: "marketing", Status: "opted_in", Source: "fax"}}}, "consent[0].source", contact.ErrInvalid},
		{"consent without phones", contact.Upsert{LoyaltyID: "FF-NEW", Consent: []contact.ConsentEntry{{Brand: "demoair", Purpose: "marketing", Status: "opted_in", Evidence: "form"}}}, "consent", contact.ErrInvalid},
	}
	for _, tc := range cases {
		_, err := b.svc.Upsert(b.ctx, tc.in)
		var fe *contact.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want a FieldError", tc.name, err)
			continue
		}
		if fe.Field != tc.field || !errors.Is(err, tc.class) || fe.Msg == "" {
			t.Errorf("%s: field %q class %v msg %q; want field %q class %v", tc.name, fe.Field, fe.Err, fe.Msg, tc.field, tc.class)
		}
	}
	if after := b.rows(t); after != before {
		t.Errorf("bad input changed the database: %s, was %s", after, before)
	}
}

// An API or import opt-in cannot silently undo a customer's STOP, on a listed
// phone or, with none listed, on any phone of the contact; a web form or an
// agent with evidence can.
func TestUpsertRefusesOptInOverAStop(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const stopped, other = "+12125550121", "+12125550122"
	if _, err := b.svc.Upsert(b.ctx, contact.Upsert{LoyaltyID: "FF-7", Phones: []string{stopped, other}}); err != nil {
		t.Fatal(err)
	}
	var brandID int64
	if err := b.st.Pool.QueryRow(b.ctx, `SELECT id FROM brands WHERE slug = 'demoair'`).Scan(&brandID); err != nil {
		t.Fatal(err)
	}
	reply := "unsubscribed"
	if _, err := b.st.ReceiveInbound(b.ctx, []store.InboundRow{{SID: "SM00000000000000000000000000000121", BrandID: brandID,
		From: stopped, To: "+15005550006", Body: "STOP", ReceivedAt: time.Now(), Segments: 1, Encoding: "GSM-7",
		Consent: "opt_out", Evidence: "STOP", Reply: &reply, ReplySegments: 1, ReplyEncoding: "GSM-7"}}); err != nil {
		t.Fatal(err)
	}
	entry := func(purpose, source string) []contact.ConsentEntry {
		return []contact.ConsentEntry{{Brand: "demoair", Purpose: purpose, Status: "opted_in", Source: source, Evidence: "crm export"}}
	}
	before := b.rows(t)
	for _, tc := range []struct {
		name string
		in   contact.Upsert
	}{
		{"api, phone listed", contact.Upsert{Phones: []string{other, stopped}, Consent: entry("marketing", "api")}},
		{"default source", contact.Upsert{Phones: []string{stopped}, Consent: entry("conversational", "")}},
		{"import, by loyalty ID", contact.Upsert{LoyaltyID: "FF-7", Consent: entry("conversational", "import")}},
		{"after an api opt-out", contact.Upsert{Phones: []string{stopped}, Consent: append([]contact.ConsentEntry{
			{Brand: "demoair", Purpose: "marketing", Status: "opted_out", Source: "api"}}, entry("marketing", "api")...)}},
	} {
		_, err := b.svc.Upsert(b.ctx, tc.in)
		var fe *contact.FieldError
		if !errors.As(err, &fe) || !errors.Is(err, consent.ErrOptedOutByText) || !strings.HasPrefix(fe.Field, "consent[") ||
			!strings.Contains(fe.Msg, "START") || !strings.Contains(fe.Msg, stopped) {
			t.Errorf("%s: err = %v, want a conflict naming the phone and START", tc.name, err)
		}
	}
	if after := b.rows(t); after != before {
		t.Errorf("a refused opt-in changed the database: %s, was %s", after, before)
	}
	// The phone that did not text STOP, and people who re-consented, are fine.
	for _, in := range []contact.Upsert{
		{Phones: []string{other}, Consent: entry("marketing", "api")},
		{Phones: []string{stopped}, Consent: entry("marketing", "web_form")},
		{LoyaltyID: "FF-7", Consent: entry("conversational", "agent")},
	} {
		if _, err := b.svc.Upsert(b.ctx, in); err != nil {
			t.Errorf("%+v: %v", in, err)
		}
	}
}

func TestFind(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res, err := b.svc.Upsert(b.ctx, contact.Upsert{LoyaltyID: "FF-1", Phones: []string{"+12125550111"}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Contact.ID
	for _, tc := range []struct {
		phone, loyalty string
		want           []int64
	}{
		{"(212) 555-0111", "", []int64{id}},
		{"", "FF-1", []int64{id}},
		{"2125550111", "FF-1", []int64{id}},
		{"2125550111", "FF-2", nil},
		{"+12125550999", "", nil},
	} {
		cs, err := b.svc.Find(b.ctx, tc.phone, tc.loyalty)
		if err != nil {
			t.Fatalf("Find(%q, %q): %v", tc.phone, tc.loyalty, err)
		}
		var got []int64
		for _, c := range cs {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Find(%q, %q) = %v, want %v", tc.phone, tc.loyalty, got, tc.want)
		}
	}
	if _, err := b.svc.Find(b.ctx, "", " "); !errors.Is(err, contact.ErrMissing) {
		t.Errorf("no criteria: %v", err)
	}
	if _, err := b.svc.Find(b.ctx, "555", ""); !errors.Is(err, contact.ErrInvalidPhone) {
		t.Errorf("bad phone: %v", err)
	}
}
