package campaign

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/store"
)

// Preview is what one person would get from a campaign: whether they are in
// its audience and may be texted now, and each variant's text filled in for
// them (the variant a recipient gets is drawn when the campaign starts).
type Preview struct {
	ContactID  int64         `json:"contact_id"`
	Phone      string        `json:"phone"`
	Name       string        `json:"name"`
	InAudience bool          `json:"in_audience"`
	Eligible   bool          `json:"eligible"`
	Excluded   string        `json:"excluded,omitempty"` // opted_out, no_marketing_consent, undeliverable, frequency_cap, not_in_audience
	Texts      []PreviewText `json:"texts"`
}

// PreviewText is one variant's text for the person, or why it cannot go.
type PreviewText struct {
	Variant  int    `json:"variant"`
	Body     string `json:"body"`
	Segments int    `json:"segments"`
	Encoding string `json:"encoding"`
	Problem  string `json:"problem,omitempty"` // why this text would be skipped ("" when it can go)
	// Missing lists the fields the text prints that this person lacks:
	// they render as nothing (give them a default).
	Missing []string `json:"missing"`
}

// previewCode stands in for a tracked link's code: as long as a real one,
// so the segment count is the recipient's.
const previewCode = "xxxxxxxxxxxx"

// unsendable says why a filled-in text cannot be sent ("" when it can):
// the same rules for the fan-out, previews and test sends.
func unsendable(body string, err error) string {
	switch {
	case err != nil:
		return "template: " + err.Error()
	case body == "":
		return "the text is empty for this recipient"
	case strings.Contains(body, "{{") || strings.Contains(body, "<no value>"):
		return "the text did not fill in"
	case len([]rune(body)) > outbound.MaxBody:
		return fmt.Sprintf("the text is longer than %d characters for this recipient", outbound.MaxBody)
	}
	return ""
}

// findPerson resolves a preview's target: a contact id, or a phone (read
// as a number of the brand's default country).
func (s *Service) findPerson(ctx context.Context, b store.Brand, phone string, contactID int64) (store.Contact, string, error) {
	switch {
	case contactID != 0 && strings.TrimSpace(phone) != "":
		return store.Contact{}, "", fieldErr("phone", "give phone or contact_id, not both")
	case contactID != 0:
		ct, err := s.st.ContactByID(ctx, contactID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && ct.MergedInto != 0) {
			return ct, "", fieldErr("contact_id", "no contact %d", contactID)
		}
		if err != nil {
			return ct, "", err
		}
		if len(ct.Phones) == 0 {
			return ct, "", fieldErr("contact_id", "contact %d has no phone", contactID)
		}
		return ct, ct.Phones[0], nil
	case strings.TrimSpace(phone) != "":
		e, err := contact.NormalizePhone(phone, b.DefaultCountry)
		if err != nil {
			return store.Contact{}, "", fieldErr("phone", "%v", err)
		}
		cs, err := s.st.Contacts(ctx, store.ContactQuery{Phone: e})
		if err != nil {
			return store.Contact{}, "", err
		}
		if len(cs) == 0 {
			return store.Contact{Phones: []string{e}}, e, nil // nobody yet: the defaults fill in
		}
		return cs[0], e, nil
	}
	return store.Contact{}, "", fieldErr("phone", "give the phone or contact_id of the person to preview for")
}

// Preview fills campaign c of brand b in for one person (by phone or
// contact id) and says whether they would get it now, and if not, why.
func (s *Service) Preview(ctx context.Context, b store.Brand, c store.Campaign, phone string, contactID int64) (Preview, error) {
	ct, e, err := s.findPerson(ctx, b, phone, contactID)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{ContactID: ct.ID, Phone: e, Name: ct.Name}
	tpls, err := parseAll(c.Variants)
	if err != nil {
		return p, err
	}
	rc := store.Recipient{ContactID: ct.ID, Phone: e, Name: ct.Name, LoyaltyID: ct.LoyaltyID, Attributes: ct.Attributes, Timezone: ct.Timezone}
	link := func(string) string { return s.publicURL + "/l/" + previewCode }
	if !c.TrackLinks {
		link = nil
	}
	for v, t := range tpls {
		body, err := t.Render(dataOf(rc), link)
		body = strings.TrimSpace(body)
		pt := PreviewText{Variant: v, Body: body, Problem: unsendable(body, err), Missing: t.Missing(dataOf(rc))}
		if pt.Missing == nil {
			pt.Missing = []string{}
		}
		pt.Segments, pt.Encoding = segment.Count(body)
		p.Texts = append(p.Texts, pt)
	}
	if ct.ID == 0 {
		p.Excluded = "not_in_audience"
		return p, nil
	}
	aud, err := s.audience(ctx, b, c.Audience)
	if err != nil {
		return p, err
	}
	// A listed audience must list them; then the filters and consent are
	// judged for them alone.
	if aud.Explicit() {
		listed := slices.Contains(aud.ContactIDs, ct.ID) || slices.ContainsFunc(ct.Phones, func(ph string) bool { return slices.Contains(aud.Phones, ph) })
		if !listed {
			p.Excluded = "not_in_audience"
			return p, nil
		}
	}
	aud.ContactIDs, aud.Phones = []int64{ct.ID}, nil
	var found *store.EligibleRecipient
	est, err := s.st.EstimateAudience(ctx, b.ID, aud, func(r store.EligibleRecipient) error {
		found = &r
		return nil
	})
	if err != nil {
		return p, err
	}
	switch {
	case found != nil && found.SentLast24h >= b.MarketingCap:
		p.InAudience, p.Excluded = true, "frequency_cap"
	case found != nil:
		p.InAudience, p.Eligible = true, true
		p.Phone = found.Phone
	default:
		p.Excluded = "not_in_audience"
		for _, reason := range []string{"opted_out", "no_marketing_consent", "undeliverable"} {
			if est.Excluded[reason] > 0 {
				p.InAudience, p.Excluded = true, reason
				break
			}
		}
	}
	return p, nil
}

// TestSend texts variant v of campaign c, filled in for the person with
// that phone (the defaults when nobody has it), to that phone now: what a
// marketer checks on their own phone before scheduling. It is a marketing
// text like the campaign's, so the phone must be opted in to the brand's
// marketing, and a STOP from it always wins; tracked links are sent as
// their destination (a test counts no click). It is marked origin
// campaign_test with the campaign's id and counts toward nothing.
func (s *Service) TestSend(ctx context.Context, b store.Brand, c store.Campaign, phone string, v int) (outbound.Queued, error) {
	if s.outbox == nil {
		return outbound.Queued{}, errors.New("campaign: test send: no outbox")
	}
	if v < 0 || v >= len(c.Variants) {
		return outbound.Queued{}, fieldErr("variant", "the campaign has variants 0 to %d", len(c.Variants)-1)
	}
	ct, e, err := s.findPerson(ctx, b, phone, 0)
	if err != nil {
		return outbound.Queued{}, err
	}
	tpls, err := parseAll(c.Variants)
	if err != nil {
		return outbound.Queued{}, err
	}
	rc := store.Recipient{ContactID: ct.ID, Phone: e, Name: ct.Name, LoyaltyID: ct.LoyaltyID, Attributes: ct.Attributes}
	body, err := tpls[v].Render(dataOf(rc), nil)
	body = strings.TrimSpace(body)
	if why := unsendable(body, err); why != "" {
		return outbound.Queued{}, fieldErr("variant", "%s", why)
	}
	may, why, err := consent.NewLedger(s.st).CanSend(ctx, b.ID, e, consent.Marketing)
	if err != nil {
		return outbound.Queued{}, err
	}
	if !may {
		return outbound.Queued{}, fieldErr("phone", "%s may not be sent %s's marketing (%s): a test is a marketing text too; opt the phone in first (e.g. text the brand's opt-in keyword)",
			e, b.Name, why)
	}
	return s.outbox.Send(ctx, outbound.SendRequest{Brand: b.Slug, To: e, Body: body, Purpose: consent.Marketing,
		Origin: "campaign_test", OriginRef: strconv.FormatInt(c.ID, 10)})
}
