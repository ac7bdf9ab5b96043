package api

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/question"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/trigger"
	"github.com/parleyhq/parley/internal/web/apierr"
)

type triggerJSON struct {
	ID int64 `json:"id"`
	trigger.Spec
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
	Counts    map[string]int64 `json:"counts,omitempty"`
}

func triggerOut(t store.Trigger) (triggerJSON, error) {
	s, err := trigger.SpecOf(t)
	if err != nil {
		return triggerJSON{}, err
	}
	return triggerJSON{ID: t.ID, Spec: s, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}, nil
}

func (h *Handlers) triggerFail(c echo.Context, err error) error {
	var fe *trigger.FieldError
	switch {
	case errors.As(err, &fe):
		code := "invalid_field"
		if strings.HasPrefix(fe.Msg, "give ") {
			code = "missing_field"
		}
		return apierr.Write(c, apierr.Field(code, fe.Field, "%s: %s", fe.Field, fe.Msg))
	case errors.Is(err, trigger.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return apierr.Write(c, apierr.New("trigger_not_found", "no such trigger"))
	}
	return h.internal(c, err)
}

// withTrigger resolves :id to a rule of a brand the key may touch.
func (h *Handlers) withTrigger(c echo.Context, fn func(store.Trigger) error) error {
	id, bad := idParam(c, "id", true)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	t, err := h.st.TriggerByID(c.Request().Context(), id)
	if err != nil {
		return h.triggerFail(c, err)
	}
	if bad := brandAllowed(c, t.BrandID, t.BrandSlug); bad != nil {
		return apierr.Write(c, bad)
	}
	return fn(t)
}

// saveTrigger decodes a rule and saves it as id (0: new); status is the
// answer's status.
func (h *Handlers) saveTrigger(c echo.Context, id int64, status int) error {
	var in trigger.Spec
	if bad := decodeJSON(c, &in); bad != nil {
		return apierr.Write(c, bad)
	}
	b, bad, err := h.bodyBrand(c, in.Brand)
	if err != nil {
		return h.internal(c, err)
	}
	if bad != nil {
		return apierr.Write(c, bad)
	}
	ctx := c.Request().Context()
	t, err := h.triggers.Save(ctx, b, id, in)
	if err != nil {
		return h.triggerFail(c, err)
	}
	out, err := triggerOut(t)
	if err != nil {
		return h.internal(c, err)
	}
	return ok(c, status, out)
}

// createTrigger: POST /api/v1/triggers — 201 with the rule.
func (h *Handlers) createTrigger(c echo.Context) error {
	return h.saveTrigger(c, 0, http.StatusCreated)
}

// updateTrigger: PUT /api/v1/triggers/{id} — the whole rule, replaced.
func (h *Handlers) updateTrigger(c echo.Context) error {
	return h.withTrigger(c, func(t store.Trigger) error {
		return h.saveTrigger(c, t.ID, http.StatusOK)
	})
}

// deleteTrigger: DELETE /api/v1/triggers/{id} — 204; its scheduled texts
// are skipped when due.
func (h *Handlers) deleteTrigger(c echo.Context) error {
	return h.withTrigger(c, func(t store.Trigger) error {
		if err := h.triggers.Delete(c.Request().Context(), t.ID); err != nil {
			return h.triggerFail(c, err)
		}
		return c.NoContent(http.StatusNoContent)
	})
}

// getTrigger: GET /api/v1/triggers/{id} — with its runs counted by outcome.
func (h *Handlers) getTrigger(c echo.Context) error {
	return h.withTrigger(c, func(t store.Trigger) error {
		out, err := triggerOut(t)
		if err != nil {
			return h.internal(c, err)
		}
		if out.Counts, err = h.st.TriggerCounts(c.Request().Context(), t.ID); err != nil {
			return h.internal(c, err)
		}
		return ok(c, http.StatusOK, out)
	})
}

// listTriggers: GET /api/v1/triggers — newest first, ?before=<id>, ?brand=.
func (h *Handlers) listTriggers(c echo.Context) error {
	q, bad, err := h.newestFirst(c)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	if err != nil {
		return h.internal(c, err)
	}
	ts, err := h.st.Triggers(c.Request().Context(), q.brands, q.before, q.limit+1)
	if err != nil {
		return h.internal(c, err)
	}
	out := make([]triggerJSON, len(ts))
	for i, t := range ts {
		if out[i], err = triggerOut(t); err != nil {
			return h.internal(c, err)
		}
	}
	return page(c, out, q.limit, "before", func(t triggerJSON) int64 { return t.ID })
}

type runJSON struct {
	ID        int64      `json:"id"`
	ContactID int64      `json:"contact_id"`
	EventID   int64      `json:"event_id,omitempty"`
	MessageID int64      `json:"message_id,omitempty"`
	State     string     `json:"state"`
	Reason    string     `json:"reason,omitempty"`
	Detail    string     `json:"detail,omitempty"`
	DueAt     time.Time  `json:"due_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	CreatedAt time.Time  `json:"created_at"`
	DoneAt    *time.Time `json:"done_at"`
}

// triggerRuns: GET /api/v1/triggers/{id}/runs — what the rule planned and
// did, newest first, ?before=<id>.
func (h *Handlers) triggerRuns(c echo.Context) error {
	return h.withTrigger(c, func(t store.Trigger) error {
		before, bad := idParam(c, "before", false)
		if bad != nil {
			return apierr.Write(c, bad)
		}
		limit, bad := limitParam(c)
		if bad != nil {
			return apierr.Write(c, bad)
		}
		rs, err := h.st.TriggerRuns(c.Request().Context(), t.ID, before, limit+1)
		if err != nil {
			return h.internal(c, err)
		}
		out := make([]runJSON, len(rs))
		for i, r := range rs {
			out[i] = runJSON{ID: r.ID, ContactID: r.ContactID, EventID: r.EventID, MessageID: r.MessageID, State: r.State, Reason: r.Reason,
				Detail: r.Detail, DueAt: r.DueAt, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt, DoneAt: r.DoneAt}
		}
		return page(c, out, limit, "before", func(r runJSON) int64 { return r.ID })
	})
}

// testTrigger: POST /api/v1/triggers/{id}/test {event} — a dry run: whether
// the event matches, when the text would go, and what it would say or why
// it would not go. Nothing is stored or sent.
func (h *Handlers) testTrigger(c echo.Context) error {
	return h.withTrigger(c, func(t store.Trigger) error {
		var in trigger.EventInput
		if bad := decodeJSON(c, &in); bad != nil {
			return apierr.Write(c, bad)
		}
		ctx := c.Request().Context()
		b, err := h.st.BrandBySlug(ctx, t.BrandSlug)
		if err != nil {
			return h.internal(c, err)
		}
		d, err := h.triggers.Test(ctx, b, t, in)
		if e := eventError(err); e != nil {
			return apierr.Write(c, e)
		}
		if err != nil {
			return h.internal(c, err)
		}
		out := map[string]any{"trigger_id": t.ID, "contact_id": d.ContactID, "phone": d.Phone, "matched": d.Matched,
			"would_send": d.WouldSend, "state": d.State, "reason": d.Reason, "detail": d.Detail}
		if d.ConditionError != "" {
			out["condition_error"] = d.ConditionError
		}
		if d.Matched {
			out["due_at"], out["expires_at"] = d.DueAt, d.Expires
		}
		if d.WouldSend {
			out["body"], out["segments"], out["encoding"] = d.Body, d.Segments, d.Encoding
		}
		return ok(c, http.StatusOK, out)
	})
}

// questionResults: GET /api/v1/questions/{id}/results?from=&to= — the
// distribution, response rate, mean or NPS, days and segments, and the
// answers in words; CSV of every answer with Accept: text/csv.
func (h *Handlers) questionResults(c echo.Context) error {
	id, bad := idParam(c, "id", true)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	ctx := c.Request().Context()
	q, err := h.st.QuestionByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return apierr.Write(c, apierr.New("not_found", "no such question"))
	}
	if err != nil {
		return h.internal(c, err)
	}
	b, err := h.st.BrandByID(ctx, q.BrandID)
	if err != nil {
		return h.internal(c, err)
	}
	if bad := brandAllowed(c, b.ID, b.Slug); bad != nil {
		return apierr.Write(c, bad)
	}
	loc, _ := contact.ResolveTimezone(b.Timezone, "", b.Timezone)
	from, to := time.Unix(0, 0), time.Now().Add(time.Hour)
	for _, p := range []struct {
		name string
		into *time.Time
		end  bool
	}{{"from", &from, false}, {"to", &to, true}} {
		v := c.QueryParam(p.name)
		if v == "" {
			continue
		}
		d, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil {
			return apierr.Write(c, apierr.Field("invalid_field", p.name, "%s must be a date YYYY-MM-DD, not %q", p.name, v))
		}
		if p.end {
			d = d.AddDate(0, 0, 1)
		}
		*p.into = d
	}
	if strings.Contains(c.Request().Header.Get("Accept"), "text/csv") {
		return h.questionCSV(c, q, from, to)
	}
	r, err := question.ResultsOf(ctx, h.st, q, from, to, loc)
	if err != nil {
		return h.internal(c, err)
	}
	return ok(c, http.StatusOK, r)
}

func (h *Handlers) questionCSV(c echo.Context, q store.Question, from, to time.Time) error {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="question-%d.csv"`, q.ID))
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"ask_id", "contact_id", "conversation_id", "asked_at", "state", "parsed", "value", "choice", "comment", "text",
		"negative", "answered_at", "tier", "timezone"})
	var after int64
	for {
		rows, err := h.st.QuestionAnswers(c.Request().Context(), q.ID, from, to, after, 5000)
		if err != nil {
			h.log.Error("question csv failed midway", "question", q.ID, "err", err)
			cw.Flush()
			return nil
		}
		for _, r := range rows {
			rec := []string{strconv.FormatInt(r.ID, 10), strconv.FormatInt(r.ContactID, 10), strconv.FormatInt(r.ConversationID, 10),
				r.AskedAt.UTC().Format(time.RFC3339), r.State, "", "", r.Choice, r.Comment, r.Text, r.Negative, "", r.Tier, r.Timezone}
			if r.Parsed != nil {
				rec[5] = strconv.FormatBool(*r.Parsed)
			}
			if r.Value != nil {
				rec[6] = strconv.Itoa(*r.Value)
			}
			if r.AnsweredAt != nil {
				rec[11] = r.AnsweredAt.UTC().Format(time.RFC3339)
			}
			_ = cw.Write(csvSafe(rec))
		}
		cw.Flush()
		if len(rows) < 5000 {
			return cw.Error()
		}
		after = rows[len(rows)-1].ID
	}
}

type answerJSON struct {
	ID             int64      `json:"id"`
	QuestionID     int64      `json:"question_id"`
	Kind           string     `json:"kind"`
	TriggerID      int64      `json:"trigger_id,omitempty"`
	ConversationID int64      `json:"conversation_id"`
	Origin         string     `json:"origin"`
	State          string     `json:"state"`
	AskedAt        time.Time  `json:"asked_at"`
	Parsed         *bool      `json:"parsed"`
	Value          *int       `json:"value"`
	Choice         string     `json:"choice,omitempty"`
	Comment        string     `json:"comment,omitempty"`
	Text           string     `json:"text,omitempty"`
	Negative       string     `json:"negative,omitempty"`
	AnsweredAt     *time.Time `json:"answered_at"`
}

// contactAnswers: GET /api/v1/contacts/{id}/answers — the questions asked
// of a contact and their answers, newest first, ?before=<id>, of the key's
// brands only.
func (h *Handlers) contactAnswers(c echo.Context) error {
	id, bad := idParam(c, "id", true)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	before, bad := idParam(c, "before", false)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	limit, bad := limitParam(c)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	ctx := c.Request().Context()
	if _, err := h.st.ContactByID(ctx, id); errors.Is(err, store.ErrNotFound) {
		return apierr.Write(c, apierr.New("contact_not_found", "no such contact"))
	} else if err != nil {
		return h.internal(c, err)
	}
	rows, err := h.st.ContactAnswers(ctx, id, onlyBrands(c), before, limit+1)
	if err != nil {
		return h.internal(c, err)
	}
	out := make([]answerJSON, len(rows))
	for i, r := range rows {
		out[i] = answerJSON{ID: r.ID, QuestionID: r.QuestionID, Kind: r.Kind, TriggerID: r.TriggerID, ConversationID: r.ConversationID,
			Origin: r.Origin, State: r.State, AskedAt: r.AskedAt, Parsed: r.Parsed, Value: r.Value, Choice: r.Choice, Comment: r.Comment,
			Text: r.Text, Negative: r.Negative, AnsweredAt: r.AnsweredAt}
	}
	return page(c, out, limit, "before", func(a answerJSON) int64 { return a.ID })
}
