package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/store"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func messageIDs(ms []messageOut) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func convIDs(cs []conversationOut) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func TestListConversations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const ada, bob, cy = "+12125550501", "+12125550502", "+12125550503"
	c1 := b.text(t, b.air, ada, "1", t0)
	c2 := b.text(t, b.air, bob, "2", t0.Add(time.Minute))
	c3 := b.text(t, b.hotel, ada, "3", t0.Add(2*time.Minute))
	c4 := b.text(t, b.air, cy, "4", t0.Add(3*time.Minute))
	b.call(t, http.MethodPut, "/api/v1/contacts", map[string]any{"loyalty_id": "FF-ADA", "phones": []string{ada}}).decode(t, http.StatusOK, nil)
	agent, err := b.st.UpsertUser(b.ctx, "Agent@Example.com", "x", "agent")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Pool.Exec(b.ctx, `UPDATE conversations SET status = 'closed' WHERE id = $1`, c2.ConversationID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Pool.Exec(b.ctx, `UPDATE conversations SET assignee_id = $2, status = 'snoozed' WHERE id = $1`, c4.ConversationID, agent.ID); err != nil {
		t.Fatal(err)
	}

	listOf := func(query string) list[conversationOut] {
		t.Helper()
		var l list[conversationOut]
		b.call(t, http.MethodGet, "/api/v1/conversations"+query, nil).decode(t, http.StatusOK, &l)
		if l.Data == nil {
			t.Fatalf("%s: data is null, want a list", query)
		}
		return l
	}
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"", []int64{c4.ConversationID, c3.ConversationID, c2.ConversationID, c1.ConversationID}},
		{"?brand=demoair", []int64{c4.ConversationID, c2.ConversationID, c1.ConversationID}},
		{"?phone=2125550501", []int64{c3.ConversationID, c1.ConversationID}},
		{"?loyalty_id=FF-ADA&brand=demohotel", []int64{c3.ConversationID}},
		{"?status=closed", []int64{c2.ConversationID}},
		{"?status=open&brand=demoair", []int64{c1.ConversationID}},
		{"?phone=%2B12125550999", []int64{}},
		{"?loyalty_id=NOBODY", []int64{}},
	} {
		if got := convIDs(listOf(tc.query).Data); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, want %v", tc.query, got, tc.want)
		}
	}

	// Fields of one item.
	items := listOf("?status=snoozed").Data
	if len(items) != 1 {
		t.Fatalf("snoozed: %+v", items)
	}
	if it := items[0]; it.Brand != "demoair" || it.ContactID != c4.ContactID || it.Assignee == nil || *it.Assignee != "agent@example.com" ||
		!it.LastMessageAt.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("item %+v", it)
	}
	if it := listOf("?status=closed").Data[0]; it.Assignee != nil {
		t.Errorf("unassigned item has assignee %v", *it.Assignee)
	}

	// Pages: follow next until it is absent.
	var seen []int64
	next := "?limit=3"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("pagination does not end")
		}
		l := listOf(next)
		seen = append(seen, convIDs(l.Data)...)
		next = ""
		if l.Next != "" {
			u, err := url.Parse(l.Next)
			if err != nil || u.Path != "/api/v1/conversations" || u.Query().Get("limit") != "3" {
				t.Fatalf("next %q", l.Next)
			}
			next = "?" + u.RawQuery
		}
	}
	if !slices.Equal(seen, []int64{c4.ConversationID, c3.ConversationID, c2.ConversationID, c1.ConversationID}) {
		t.Errorf("pages gave %v", seen)
	}
	if l := listOf("?limit=4"); l.Next != "" {
		t.Errorf("a full last page still has next %q", l.Next)
	}

	for _, tc := range []struct {
		query, code, field string
		status             int
	}{
		{"?status=pending", "invalid_field", "status", 400},
		{"?limit=0", "invalid_field", "limit", 400},
		{"?limit=201", "invalid_field", "limit", 400},
		{"?limit=ten", "invalid_field", "limit", 400},
		{"?before=x", "invalid_field", "before", 400},
		{"?before=999999", "invalid_field", "before", 400},
		{"?phone=abc", "invalid_phone", "phone", 400},
		{"?phone=2125550501&loyalty_id=FF-ADA", "invalid_field", "loyalty_id", 400},
		{"?brand=nope", "brand_not_found", "brand", 404},
	} {
		b.call(t, http.MethodGet, "/api/v1/conversations"+tc.query, nil).expectError(t, tc.status, tc.code, tc.field)
	}
}

func TestConversationMessages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const phone = "+12125550601"
	m1 := b.text(t, b.air, phone, "photo of my bag", t0, store.Media{URL: "https://media.example/1.jpg", ContentType: "image/jpeg"},
		store.Media{URL: "https://media.example/2.png", ContentType: "image/png"})
	m2 := b.text(t, b.air, phone, "hello?", t0.Add(time.Minute))
	// A STOP queues an outbound compliance reply, which has no SID yet.
	reply := consent.Reply(consent.OptOut, "DemoAir", "")
	stop, err := b.st.ReceiveInbound(b.ctx, []store.InboundRow{{SID: "SM00000000000000000000000000000777", BrandID: b.air.ID,
		From: phone, To: "+15005550006", Body: "STOP", ReceivedAt: t0.Add(2 * time.Minute), Segments: 1, Encoding: "GSM-7",
		Consent: string(consent.OptOut), Evidence: "STOP", Reply: &reply, ReplySegments: 1, ReplyEncoding: "GSM-7"}})
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/conversations/" + itoa(m1.ConversationID) + "/messages"

	var l list[messageOut]
	b.call(t, http.MethodGet, path, nil).decode(t, http.StatusOK, &l)
	want := []int64{m1.MessageID, m2.MessageID, stop[0].MessageID, stop[0].ReplyID}
	if got := messageIDs(l.Data); !slices.Equal(got, want) {
		t.Fatalf("messages %v, want %v oldest first", got, want)
	}
	first := l.Data[0]
	if first.Direction != "inbound" || first.Body != "photo of my bag" || first.From != phone || first.To != "+15005550006" ||
		first.Status != "received" || first.TwilioSID == nil || *first.TwilioSID != "SM"+pad(1) || first.CreatedAt.IsZero() {
		t.Errorf("first message %+v", first)
	}
	if !slices.Equal(first.Media, []store.Media{{URL: "https://media.example/1.jpg", ContentType: "image/jpeg"}, {URL: "https://media.example/2.png", ContentType: "image/png"}}) {
		t.Errorf("media %+v", first.Media)
	}
	if l.Data[1].Media == nil || len(l.Data[1].Media) != 0 {
		t.Errorf("a text without media must show media: [], got %v", l.Data[1].Media)
	}
	if last := l.Data[3]; last.Direction != "outbound" || last.TwilioSID != nil || last.Body != reply || last.From != "+15005550006" {
		t.Errorf("compliance reply %+v", last)
	}
	if l.Next != "" {
		t.Errorf("next %q on the only page", l.Next)
	}

	// Pages.
	b.call(t, http.MethodGet, path+"?limit=2", nil).decode(t, http.StatusOK, &l)
	if got := messageIDs(l.Data); !slices.Equal(got, want[:2]) || l.Next == "" {
		t.Fatalf("page 1 %v next %q", got, l.Next)
	}
	b.call(t, http.MethodGet, l.Next, nil).decode(t, http.StatusOK, &l)
	if got := messageIDs(l.Data); !slices.Equal(got, want[2:]) {
		t.Errorf("page 2 %v", got)
	}
	b.call(t, http.MethodGet, path+"?after="+itoa(stop[0].ReplyID), nil).decode(t, http.StatusOK, &l)
	if len(l.Data) != 0 || l.Data == nil {
		t.Errorf("after the last message: %+v", l.Data)
	}

	b.call(t, http.MethodGet, "/api/v1/conversations/999999/messages", nil).expectError(t, http.StatusNotFound, "conversation_not_found", "id")
	b.call(t, http.MethodGet, "/api/v1/conversations/abc/messages", nil).expectError(t, http.StatusBadRequest, "invalid_field", "id")
	b.call(t, http.MethodGet, "/api/v1/conversations/-1/messages", nil).expectError(t, http.StatusBadRequest, "invalid_field", "id")
	b.call(t, http.MethodGet, path+"?after=zero", nil).expectError(t, http.StatusBadRequest, "invalid_field", "after")
	b.call(t, http.MethodGet, path+"?limit=500", nil).expectError(t, http.StatusBadRequest, "invalid_field", "limit")
}

func pad(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 32 {
		s = "0" + s
	}
	return s
}
