package console

import (
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/conversation"
)

// conversationSnooze: POST /conversations/:id/snooze — hide the conversation
// until `until` (an RFC 3339 time, or the browser's datetime-local value in
// the agent's time zone given by `tz`), or until the customer writes again.
func (h *Handlers) conversationSnooze(c echo.Context) error {
	id, ok := conversationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	until, err := parseUntil(strings.TrimSpace(c.FormValue("until")), strings.TrimSpace(c.FormValue("tz")))
	if err != nil {
		return h.actionError(c, id, &conversation.FieldError{Field: "until", Msg: err.Error()})
	}
	if err := h.Conversations.Snooze(c.Request().Context(), session(c).User, id, until); err != nil {
		return h.actionError(c, id, err)
	}
	return h.actionDone(c, id, "snoozed")
}

func parseUntil(raw, tz string) (time.Time, error) {
	if raw == "" {
		return time.Time{}, nil // the service says it is required
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, nil
	}
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return time.Time{}, errString("tz " + tz + " is not an IANA time zone")
		}
		loc = l
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, raw, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errString("not a date and time (e.g. 2026-11-24T09:00)")
}

type errString string

func (e errString) Error() string { return string(e) }
