package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/question"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
)

type sendMessageJSON struct {
	Brand     string     `json:"brand"`
	To        string     `json:"to"`
	LoyaltyID string     `json:"loyalty_id"`
	ContactID int64      `json:"contact_id"`
	Body      string     `json:"body"`
	MediaURLs []string   `json:"media_urls"`
	Purpose   string     `json:"purpose"`
	SendAt    *time.Time `json:"send_at"`
	// Question makes the text ask it; the next text is the answer.
	Question *question.Input `json:"question"`
}

type queuedJSON struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	Status         string `json:"status"`
	Segments       int    `json:"segments"`
	Encoding       string `json:"encoding"`
	QuestionID     int64  `json:"question_id,omitempty"`
}

// sendMessage: POST /api/v1/messages — queue one text; 202 with its id.
func (h *Handlers) sendMessage(c echo.Context) error {
	var in sendMessageJSON
	if bad := decodeJSON(c, &in); bad != nil {
		return apierr.Write(c, bad)
	}
	if bad, err := h.keyMayUse(c, in.Brand); bad != nil || err != nil {
		if err != nil {
			return h.internal(c, err)
		}
		return apierr.Write(c, bad)
	}
	req := outbound.SendRequest{
		Brand: in.Brand, To: in.To, LoyaltyID: in.LoyaltyID, ContactID: in.ContactID, Body: in.Body,
		MediaURLs: in.MediaURLs, Purpose: in.Purpose, SendAt: in.SendAt, Origin: "api",
	}
	if in.Question != nil {
		q, err := in.Question.Check(0)
		if err != nil {
			field, msg := question.FieldOf(err)
			return apierr.Write(c, apierr.Field("invalid_field", "question."+field, "question.%s: %s", field, msg))
		}
		req.Question = &q
	}
	q, err := h.outbox.Send(c.Request().Context(), req)
	var fe *outbound.FieldError
	switch {
	case errors.As(err, &fe):
		return apierr.Write(c, apierr.Field(fe.Code, fe.Field, "%s", fe.Msg))
	case errors.Is(err, outbound.ErrBrandNotFound):
		return apierr.Write(c, apierr.Field("brand_not_found", "brand", "no brand has the slug %q", in.Brand))
	case errors.Is(err, outbound.ErrContactNotFound):
		return apierr.Write(c, apierr.New("contact_not_found", "%v", err))
	case err != nil:
		return h.internal(c, err)
	}
	return ok(c, http.StatusAccepted, queuedJSON{ID: q.ID, ConversationID: q.ConversationID, Status: q.Status,
		Segments: q.Segments, Encoding: q.Encoding, QuestionID: q.QuestionID})
}

type messageDetailJSON struct {
	ID             int64         `json:"id"`
	ConversationID int64         `json:"conversation_id"`
	Direction      string        `json:"direction"`
	Body           string        `json:"body"`
	Media          []store.Media `json:"media"`
	From           string        `json:"from"`
	To             string        `json:"to"`
	Status         string        `json:"status"`
	StatusReason   string        `json:"status_reason"`
	TwilioSID      *string       `json:"twilio_sid"`
	ErrorCode      *int          `json:"error_code"`
	ErrorMessage   string        `json:"error_message"`
	Segments       int           `json:"segments"`
	Encoding       string        `json:"encoding"`
	Purpose        string        `json:"purpose"`
	Origin         string        `json:"origin"`
	SendAt         *time.Time    `json:"send_at"`
	HeldUntil      *time.Time    `json:"held_until"`
	CreatedAt      time.Time     `json:"created_at"`
}

// getMessage: GET /api/v1/messages/{id} — one message with its delivery state.
func (h *Handlers) getMessage(c echo.Context) error {
	id, bad := idParam(c, "id", true)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	m, err := h.st.MessageByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return apierr.Write(c, apierr.Field("message_not_found", "id", "no message has the id %d", id))
	}
	if err != nil {
		return h.internal(c, err)
	}
	if !auth.KeyHasBrand(apiKey(c).KeyAccess, m.BrandID) {
		return apierr.Write(c, apierr.Field("forbidden", "brand", "this API key may not touch the brand of message %d", id))
	}
	out := messageDetailJSON{ID: m.ID, ConversationID: m.ConversationID, Direction: m.Direction, Body: m.Body,
		Media: m.Media, From: m.From, To: m.To, Status: m.Status, StatusReason: m.StatusReason,
		ErrorMessage: m.ErrorMessage, Segments: m.Segments, Encoding: m.Encoding, Purpose: m.Purpose,
		Origin: m.Origin, SendAt: m.SendAt, HeldUntil: m.HeldUntil, CreatedAt: m.CreatedAt}
	if out.Media == nil {
		out.Media = []store.Media{}
	}
	if m.TwilioSID != "" {
		sid := m.TwilioSID
		out.TwilioSID = &sid
	}
	if m.ErrorCode != 0 {
		code := m.ErrorCode
		out.ErrorCode = &code
	}
	return ok(c, http.StatusOK, out)
}
