package hooks

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// The emitters the domain services call. Each is safe on a nil *Service
// and costs a map read when no subscription of the brand wants the event.

// MessageReceived emits message.received for a stored inbound text and,
// when its keyword changed the phone's consent, consent.changed.
func (s *Service) MessageReceived(ctx context.Context, row store.InboundRow, res store.InboundResult) {
	if s == nil || res.Duplicate || res.MessageID == 0 {
		return
	}
	media := row.Media
	if media == nil {
		media = []store.Media{}
	}
	s.Emit(ctx, Event{BrandID: row.BrandID, Type: MessageReceived, ConversationID: res.ConversationID, Data: map[string]any{
		"message_id": res.MessageID, "conversation_id": res.ConversationID, "contact_id": res.ContactID,
		"from": row.From, "to": row.To, "body": row.Body, "media": media, "received_at": row.ReceivedAt.UTC(),
	}})
	if res.ConsentChanged {
		s.Emit(ctx, Event{BrandID: row.BrandID, Type: ConsentChanged, ConversationID: res.ConversationID, Data: map[string]any{
			"phone": row.From, "contact_id": res.ContactID, "change": row.Consent, "source": "keyword", "message_id": res.MessageID,
		}})
	}
}

// MessageStatus emits message.status for an outbound text whose status a
// callback moved forward (by carrier SID, or by id when sid is empty). The
// message is read only when some subscription wants the event.
func (s *Service) MessageStatus(ctx context.Context, sid string, id int64) {
	if s == nil || !s.anyWants(ctx, MessageStatus) {
		return
	}
	if id != 0 {
		sid = "" // our own id, from the callback URL, is the primary key
	}
	m, err := s.st.HookMessageBy(ctx, sid, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && m.Direction != "outbound" {
		return
	}
	if err != nil {
		s.log.Warn("webhooks: message.status not emitted", "sid", sid, "err", err)
		return
	}
	data := map[string]any{"message_id": m.ID, "conversation_id": m.ConversationID, "to": m.Phone, "status": m.Status}
	if m.ErrorCode != 0 {
		data["error_code"] = m.ErrorCode
	}
	s.Emit(ctx, Event{BrandID: m.BrandID, Type: MessageStatus, ConversationID: m.ConversationID, Data: data})
}

// ConversationClosed emits conversation.closed; byUser is who closed it
// (0: Parley itself).
func (s *Service) ConversationClosed(ctx context.Context, c store.Conversation, byUser int64) {
	if s == nil {
		return
	}
	s.Emit(ctx, Event{BrandID: c.BrandID, Type: ConversationClosed, ConversationID: c.ID, Data: map[string]any{
		"conversation_id": c.ID, "contact_id": c.ContactID, "closed_by": byUser, "closed_at": s.Now().UTC().Format(time.RFC3339Nano),
	}})
}

// ConversationAssigned emits conversation.assigned; assignee 0 is
// unassigned.
func (s *Service) ConversationAssigned(ctx context.Context, c store.Conversation, assignee, byUser int64) {
	if s == nil {
		return
	}
	s.Emit(ctx, Event{BrandID: c.BrandID, Type: ConversationAssigned, ConversationID: c.ID, Data: map[string]any{
		"conversation_id": c.ID, "contact_id": c.ContactID, "assignee_id": assignee, "assigned_by": byUser,
	}})
}

// anyWants reports whether any brand's subscription wants typ, from the
// cache.
func (s *Service) anyWants(ctx context.Context, typ string) bool {
	if _, err := s.subscribers(ctx, 0, typ); err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ws := range s.byBrand {
		for _, w := range ws {
			if slices.Contains(w.Events, typ) {
				return true
			}
		}
	}
	return false
}

// CampaignCompleted emits campaign.completed once a campaign's every
// recipient is final.
func (s *Service) CampaignCompleted(ctx context.Context, brandID, campaignID int64, name string) {
	if s == nil {
		return
	}
	s.Emit(ctx, Event{BrandID: brandID, Type: CampaignCompleted, Data: map[string]any{
		"campaign_id": campaignID, "name": name, "completed_at": s.Now().UTC().Format(time.RFC3339Nano),
	}})
}

// AnswerReceived emits answer.received for a reply read as the answer to
// a question.
func (s *Service) AnswerReceived(ctx context.Context, r store.Reply, a store.Answered) {
	if s == nil || a.State != "answered" {
		return
	}
	data := map[string]any{"question_id": r.QuestionID, "ask_id": r.AskID, "kind": r.Kind, "conversation_id": r.ConversationID,
		"contact_id": r.ContactID, "message_id": r.MessageID, "text": r.Body, "parsed": a.Parsed}
	if a.Value != nil {
		data["value"] = *a.Value
	}
	for k, v := range map[string]string{"choice": a.Choice, "comment": a.Comment, "negative": a.Negative} {
		if v != "" {
			data[k] = v
		}
	}
	s.Emit(ctx, Event{BrandID: r.BrandID, Type: AnswerReceived, ConversationID: r.ConversationID, Data: data})
}

// Dispatched emits conversation.assigned for what an assignment pass did by
// itself (assigned_by 0): a conversation taken from its agent first (to
// nobody), then each new assignment.
func (s *Service) Dispatched(ctx context.Context, d store.Dispatch) {
	if s == nil || len(d.Unassign)+len(d.Assign) == 0 || !s.anyWants(ctx, ConversationAssigned) {
		return
	}
	for _, u := range d.Unassign {
		s.byParley(ctx, u.ConversationID, func(c store.Conversation) { s.ConversationAssigned(ctx, c, 0, 0) })
	}
	for _, a := range d.Assign {
		s.byParley(ctx, a.ConversationID, func(c store.Conversation) { s.ConversationAssigned(ctx, c, a.AgentID, 0) })
	}
}

// AutoClosed emits conversation.closed (closed_by 0) for conversations
// closed for the brand's quiet period.
func (s *Service) AutoClosed(ctx context.Context, ids []int64) {
	if s == nil || len(ids) == 0 || !s.anyWants(ctx, ConversationClosed) {
		return
	}
	for _, id := range ids {
		s.byParley(ctx, id, func(c store.Conversation) { s.ConversationClosed(ctx, c, 0) })
	}
}

func (s *Service) byParley(ctx context.Context, id int64, emit func(store.Conversation)) {
	c, err := s.st.ConversationByID(ctx, id)
	if err != nil {
		s.log.Warn("webhooks: conversation event not emitted", "conversation", id, "err", err)
		return
	}
	emit(c)
}

// ConsentRecorded emits consent.changed for ledger entries written other
// than by a keyword text (MessageReceived emits those): an API upsert's
// entries, the carrier's opt-out. change is opt_in or opt_out.
func (s *Service) ConsentRecorded(ctx context.Context, events []store.ConsentEvent) {
	if s == nil || len(events) == 0 || !s.anyWants(ctx, ConsentChanged) {
		return
	}
	for _, e := range events {
		change := "opt_in"
		if e.Status == "opted_out" {
			change = "opt_out"
		}
		data := map[string]any{"phone": e.Phone, "change": change, "purpose": e.Purpose, "status": e.Status,
			"source": e.Source, "evidence": e.Evidence}
		if e.MessageID != 0 {
			data["message_id"] = e.MessageID
		}
		s.Emit(ctx, Event{BrandID: e.BrandID, Type: ConsentChanged, Data: data})
	}
}
