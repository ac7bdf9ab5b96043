package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

func TestPutContactCreateThenUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var created one[contactOut]
	b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{
		"phones": []string{"(212) 555-0199", "+1 212-555-0101"}, "name": "Ada",
	}).decode(t, http.StatusCreated, &created)
	c := created.Data
	if c.ID == 0 || c.LoyaltyID != nil || c.Name != "Ada" || c.Timezone != "" || c.CreatedAt.IsZero() {
		t.Fatalf("created %+v", c)
	}
	if !slices.Equal(c.Phones, []string{"+12125550101", "+12125550199"}) {
		t.Errorf("phones %v, want normalised and sorted", c.Phones)
	}
	if c.Attributes == nil || len(c.Attributes) != 0 {
		t.Errorf("attributes %v, want {}", c.Attributes)
	}
	// The raw JSON says null and {}, not absent.
	for _, s := range []string{`"loyalty_id":null`, `"attributes":{}`} {
		if !strings.Contains(string(b.call(t, http.MethodGet, "/api/v1/contacts?phone=2125550199", nil).Body), s) {
			t.Errorf("response lacks %s", s)
		}
	}

	var updated one[contactOut]
	b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{
		"loyalty_id": "FF-100", "phones": []string{"2125550199"}, "timezone": "America/Chicago",
		"attributes": map[string]any{"tier": "gold", "points": 1200},
	}).decode(t, http.StatusOK, &updated)
	u := updated.Data
	if u.ID != c.ID || u.LoyaltyID == nil || *u.LoyaltyID != "FF-100" || u.Name != "Ada" || u.Timezone != "America/Chicago" ||
		u.Attributes["tier"] != "gold" || u.Attributes["points"] != float64(1200) || !u.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("updated %+v", u)
	}
	// Found by loyalty ID now; an attribute set to null goes away.
	var removed one[contactOut]
	b.call(t, http.MethodPut, "/api/v1/contacts", `{"loyalty_id": "FF-100", "attributes": {"tier": null}}`).decode(t, http.StatusOK, &removed)
	if _, ok := removed.Data.Attributes["tier"]; ok || removed.Data.ID != c.ID || removed.Data.Attributes["points"] != float64(1200) {
		t.Errorf("after removing tier: %+v", removed.Data)
	}
	var found list[contactOut]
	b.call(t, http.MethodGet, "/api/v1/contacts?loyalty_id=FF-100", nil).decode(t, http.StatusOK, &found)
	if len(found.Data) != 1 || found.Data[0].ID != c.ID {
		t.Errorf("by loyalty: %+v", found.Data)
	}
}

func TestPutContactBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Two people a valid request would merge, one with a conversation.
	b.text(t, b.air, "+12125550101", "hi", t0)
	b.text(t, b.air, "+12125550102", "hi", t0)
	before := b.counts(t)
	merge := []string{"+12125550101", "+12125550102"}
	for _, tc := range []struct {
		name        string
		body        any
		status      int
		code, field string
	}{
		{"invalid phone", map[string]any{"phones": []string{"+12125550101", "555-01"}}, 400, "invalid_phone", "phones[1]"},
		{"no identity", map[string]any{"name": "Ada"}, 400, "missing_field", "phones"},
		{"timezone", map[string]any{"phones": merge, "timezone": "Mars/Olympus"}, 400, "invalid_field", "timezone"},
		{"attributes not an object", map[string]any{"phones": merge, "attributes": []int{1}}, 400, "invalid_field", "attributes"},
		{"unknown brand", map[string]any{"phones": merge, "consent": []map[string]string{{"brand": "nope", "purpose": "marketing", "status": "opted_in"}}}, 400, "invalid_field", "consent[0].brand"},
		{"missing brand", map[string]any{"phones": merge, "consent": []map[string]string{{"purpose": "marketing", "status": "opted_in"}}}, 400, "missing_field", "consent[0].brand"},
		{"purpose", map[string]any{"phones": merge, "consent": []map[string]string{{"brand": "demoair", "purpose": "promo", "status": "opted_in"}}}, 400, "invalid_field", "consent[0].purpose"},
		{"status", map[string]any{"phones": merge, "consent": []map[string]string{{"brand": "demoair", "purpose": "marketing", "status": "yes"}}}, 400, "invalid_field", "consent[0].status"},
		{"source", map[string]any{"phones": merge, "consent": []map[string]string{{"brand": "demoair", "purpose": "marketing", "status": "opted_in", "source": "fax"}}}, 400, "invalid_field", "consent[0].source"},
		{"unknown field", map[string]any{"phone": "+12125550101"}, 400, "invalid_field", "phone"},
		{"phones not an array", map[string]any{"phones": "+12125550101"}, 400, "invalid_field", "phones"},
		{"malformed", `{"phones": [`, 400, "invalid_request", ""},
		{"not an object", `["+12125550101"]`, 400, "invalid_request", ""},
		{"two objects", `{"phones": ["+12125550101"]} {}`, 400, "invalid_request", ""},
		{"empty", ``, 400, "invalid_request", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.call(t, http.MethodPut, "/api/v1/contacts", tc.body).expectError(t, tc.status, tc.code, tc.field)
		})
	}
	// Not JSON at all.
	req := b.call(t, http.MethodPut, "/api/v1/contacts", nil)
	req.expectError(t, http.StatusUnsupportedMediaType, "unsupported_media", "")
	// Over 1 MiB.
	big := `{"name": "` + strings.Repeat("x", 1<<20) + `"}`
	b.call(t, http.MethodPut, "/api/v1/contacts", big).expectError(t, http.StatusRequestEntityTooLarge, "payload_too_large", "")

	if after := b.counts(t); after != before {
		t.Errorf("refused requests changed the database:\n got %s\nwant %s", after, before)
	}
}

func TestPutContactMergesPeople(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const phoneA, phoneB = "+12125550201", "+12125550202"
	a1 := b.text(t, b.air, phoneA, "A one", t0)
	b1 := b.text(t, b.air, phoneB, "B one", t0.Add(time.Minute), store.Media{URL: "https://media.example/b.jpg", ContentType: "image/jpeg"})
	a2 := b.text(t, b.air, phoneA, "A two", t0.Add(2*time.Minute))
	h1 := b.text(t, b.hotel, phoneB, "B at the hotel", t0.Add(3*time.Minute))
	// B opted in to the airline's marketing before anyone knew B was A.
	b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{"phones": []string{phoneB},
		"consent": []map[string]string{{"brand": "demoair", "purpose": "marketing", "status": "opted_in", "source": "web_form", "evidence": "signup"}}}).
		decode(t, http.StatusOK, nil)

	var got one[contactOut]
	b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{"loyalty_id": "FF-7", "phones": []string{phoneA, phoneB}}).
		decode(t, http.StatusOK, &got)
	survivor := got.Data
	if survivor.ID != a1.ContactID || !slices.Equal(survivor.Phones, []string{phoneA, phoneB}) || *survivor.LoyaltyID != "FF-7" {
		t.Fatalf("survivor %+v, want contact %d with both phones", survivor, a1.ContactID)
	}

	// The absorbed contact is never listed; both phones find the survivor.
	for _, q := range []string{"phone=" + phoneB, "phone=" + phoneA, "loyalty_id=FF-7"} {
		var l list[contactOut]
		b.call(t, http.MethodGet, "/api/v1/contacts?"+q, nil).decode(t, http.StatusOK, &l)
		if len(l.Data) != 1 || l.Data[0].ID != survivor.ID {
			t.Errorf("GET contacts?%s = %+v", q, l.Data)
		}
	}
	merges, err := b.st.ContactMerges(b.ctx, survivor.ID)
	if err != nil || len(merges) != 1 || merges[0].AbsorbedID != b1.ContactID || merges[0].Reason != store.MergeLoyaltyLinked {
		t.Fatalf("merges %+v %v", merges, err)
	}

	// One airline conversation holds every message, oldest first; the hotel one moved over.
	var convs list[conversationOut]
	b.call(t, http.MethodGet, "/api/v1/conversations?phone="+phoneB, nil).decode(t, http.StatusOK, &convs)
	if len(convs.Data) != 2 || convs.Data[0].ID != h1.ConversationID || convs.Data[1].ID != a1.ConversationID {
		t.Fatalf("survivor's conversations %+v, want hotel %d then airline %d", convs.Data, h1.ConversationID, a1.ConversationID)
	}
	for _, c := range convs.Data {
		if c.ContactID != survivor.ID {
			t.Errorf("conversation %d belongs to %d", c.ID, c.ContactID)
		}
	}
	var msgs list[messageOut]
	b.call(t, http.MethodGet, "/api/v1/conversations/"+itoa(a1.ConversationID)+"/messages", nil).decode(t, http.StatusOK, &msgs)
	if ids := messageIDs(msgs.Data); !slices.Equal(ids, []int64{a1.MessageID, b1.MessageID, a2.MessageID}) {
		t.Errorf("airline thread %v", ids)
	}
	if len(msgs.Data) == 3 && (len(msgs.Data[1].Media) != 1 || msgs.Data[1].Media[0].URL != "https://media.example/b.jpg") {
		t.Errorf("B's media lost in the move: %+v", msgs.Data[1])
	}
	// The absorbed conversation's id still resolves, to the same thread.
	var old list[messageOut]
	b.call(t, http.MethodGet, "/api/v1/conversations/"+itoa(b1.ConversationID)+"/messages", nil).decode(t, http.StatusOK, &old)
	if !slices.Equal(messageIDs(old.Data), messageIDs(msgs.Data)) {
		t.Errorf("absorbed conversation's id shows %v", messageIDs(old.Data))
	}

	// Consent is per phone: B's opt-in is still there for the survivor's phone B.
	var cs one[consentOut]
	b.call(t, http.MethodGet, "/api/v1/consent?brand=demoair&phone="+phoneB, nil).decode(t, http.StatusOK, &cs)
	if cs.Data.Marketing != "opted_in" || len(cs.Data.Ledger) != 1 || cs.Data.Ledger[0].Evidence != "signup" {
		t.Errorf("consent of %s after merge: %+v", phoneB, cs.Data)
	}
}

func TestPutContactRecycledPhone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const phone = "+12125550301"
	var first, second one[contactOut]
	b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{"loyalty_id": "FF-OLD", "phones": []string{phone}, "name": "Old"}).
		decode(t, http.StatusCreated, &first)
	oldText := b.text(t, b.air, phone, "from the old owner", t0)

	b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{"loyalty_id": "FF-NEW", "phones": []string{phone}, "name": "New"}).
		decode(t, http.StatusCreated, &second)
	if second.Data.ID == first.Data.ID || !slices.Equal(second.Data.Phones, []string{phone}) || second.Data.Name != "New" {
		t.Fatalf("new member %+v", second.Data)
	}
	var l list[contactOut]
	b.call(t, http.MethodGet, "/api/v1/contacts?loyalty_id=FF-OLD", nil).decode(t, http.StatusOK, &l)
	if len(l.Data) != 1 || l.Data[0].ID != first.Data.ID || len(l.Data[0].Phones) != 0 || l.Data[0].Name != "Old" {
		t.Fatalf("old member %+v: still listed, phone gone, nothing merged", l.Data)
	}
	b.call(t, http.MethodGet, "/api/v1/contacts?phone="+phone, nil).decode(t, http.StatusOK, &l)
	if len(l.Data) != 1 || l.Data[0].ID != second.Data.ID {
		t.Fatalf("phone owner %+v", l.Data)
	}
	// The old member keeps its conversation.
	var convs list[conversationOut]
	b.call(t, http.MethodGet, "/api/v1/conversations?loyalty_id=FF-OLD", nil).decode(t, http.StatusOK, &convs)
	if len(convs.Data) != 1 || convs.Data[0].ID != oldText.ConversationID {
		t.Errorf("old member's conversations %+v", convs.Data)
	}
	b.call(t, http.MethodGet, "/api/v1/conversations?loyalty_id=FF-NEW", nil).decode(t, http.StatusOK, &convs)
	if len(convs.Data) != 0 {
		t.Errorf("the new member inherited %+v", convs.Data)
	}
	ms, err := b.st.ContactMerges(b.ctx, second.Data.ID)
	if err != nil || len(ms) != 1 || ms[0].Reason != store.PhoneReassigned || ms[0].AbsorbedID != first.Data.ID || ms[0].Detail.Phone != phone {
		t.Errorf("reassignment record %+v %v", ms, err)
	}
}

func TestGetContactsParams(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.call(t, http.MethodGet, "/api/v1/contacts", nil).expectError(t, http.StatusBadRequest, "missing_field", "phone")
	b.call(t, http.MethodGet, "/api/v1/contacts?phone=abc", nil).expectError(t, http.StatusBadRequest, "invalid_phone", "phone")
	var l list[contactOut]
	b.call(t, http.MethodGet, "/api/v1/contacts?phone=%2B12125550999", nil).decode(t, http.StatusOK, &l)
	if l.Data == nil || len(l.Data) != 0 {
		t.Errorf("unknown phone: %+v, want []", l.Data)
	}
}

// Numbers written without a country are read as numbers of the request's
// country, or of the brand's default country.
func TestPhonesReadInBrandCountry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.st.UpsertBrand(b.ctx, store.BrandInput{Slug: "demoair", Name: "DemoAir", DefaultCountry: "GB"}); err != nil {
		t.Fatal(err)
	}
	var c one[contactOut]
	b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{"phones": []string{"06 12 34 56 78"}, "country": "fr"}).
		decode(t, http.StatusCreated, &c)
	if !slices.Equal(c.Data.Phones, []string{"+33612345678"}) {
		t.Errorf("phones %v", c.Data.Phones)
	}
	if r := b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{"phones": []string{"+33612345678"}, "country": "XX"}); r.Status != http.StatusBadRequest ||
		!strings.Contains(string(r.Body), `"country"`) {
		t.Errorf("bad country: %d %s", r.Status, r.Body)
	}
	var gb one[contactOut]
	b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{"phones": []string{"07911 123456"},
		"consent": []map[string]any{{"brand": "demoair", "purpose": "marketing", "status": "opted_in", "evidence": "form 7"}}}).
		decode(t, http.StatusCreated, &gb)
	if !slices.Equal(gb.Data.Phones, []string{"+447911123456"}) {
		t.Errorf("phones %v, want the brand's country", gb.Data.Phones)
	}
	var consent struct {
		Data struct {
			Marketing string `json:"marketing"`
		} `json:"data"`
	}
	b.call(t, http.MethodGet, "/api/v1/consent?brand=demoair&phone=07911123456", nil).decode(t, http.StatusOK, &consent)
	if consent.Data.Marketing != "opted_in" {
		t.Errorf("consent of 07911 123456 at a British brand: %+v", consent.Data)
	}
	if r := b.call(t, http.MethodGet, "/api/v1/consent?brand=demohotel&phone=07911123456", nil); r.Status != http.StatusBadRequest {
		t.Errorf("at an American brand: %d %s", r.Status, r.Body)
	}
}
