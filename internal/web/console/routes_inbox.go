package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/conversation"
)

// inboxRoutes lists the inbox, the conversation view and its actions, and
// the live event stream.
func (h *Handlers) inboxRoutes() []Route {
	return []Route{
		{http.MethodGet, "/", auth.Inbox, h.inbox},
		{http.MethodGet, "/events", auth.Inbox, h.events},
		{http.MethodGet, "/conversations/:id", auth.Inbox, h.conversationShow},
		{http.MethodPost, "/conversations/:id/reply", auth.Inbox, h.conversationReply},
		{http.MethodPost, "/conversations/:id/notes", auth.Inbox, h.conversationNote},
		{http.MethodPost, "/conversations/:id/assign", auth.Inbox, h.conversationAssign},
		{http.MethodPost, "/conversations/:id/close", auth.Inbox, h.conversationClose},
		{http.MethodPost, "/conversations/:id/survey", auth.Inbox, h.conversationSurvey},
		{http.MethodPost, "/conversations/:id/reopen", auth.Inbox, h.conversationReopen},
		{http.MethodPost, "/conversations/:id/snooze", auth.Inbox, h.conversationSnooze},
		{http.MethodPost, "/conversations/:id/labels", auth.Inbox, h.conversationLabels},
		{http.MethodPost, "/conversations/:id/link", auth.Inbox, h.conversationLink},
	}
}

// conversationID reads the :id path parameter.
func conversationID(c echo.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	return id, err == nil && id > 0
}

// wantsFetch: the console's script sends actions with fetch and takes a
// short answer instead of a redirect.
func wantsFetch(c echo.Context) bool {
	return c.Request().Header.Get("X-Requested-With") == "fetch"
}

// actionDone answers a successful conversation action: 204 to the script, a
// redirect back to the conversation (with a message) to a plain form.
func (h *Handlers) actionDone(c echo.Context, id int64, flashCode string) error {
	if wantsFetch(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, "/conversations/"+strconv.FormatInt(id, 10)+"?flash="+url.QueryEscape(flashCode))
}

// actionError answers a failed action with the status that fits and a message
// saying what was wrong; nothing was changed.
func (h *Handlers) actionError(c echo.Context, id int64, err error) error {
	status, msg := http.StatusInternalServerError, "something went wrong; nothing was changed"
	var fe *conversation.FieldError
	var oo *conversation.OptedOutError
	switch {
	case errors.As(err, &fe):
		status, msg = http.StatusBadRequest, fe.Field+": "+fe.Msg
	case errors.As(err, &oo):
		status, msg = http.StatusConflict, "Not sent: "+oo.Error()
	case errors.Is(err, conversation.ErrForbidden):
		status, msg = http.StatusForbidden, err.Error()
	case errors.Is(err, conversation.ErrNotFound):
		status, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, conversation.ErrMerged), errors.Is(err, conversation.ErrNoSurvey):
		status, msg = http.StatusConflict, err.Error()
	default:
		h.Log.Error("console: action failed", "path", c.Path(), "conversation_id", id, "err", err)
	}
	if wantsFetch(c) {
		return c.String(status, msg)
	}
	return h.render(c, status, "error", map[string]any{"Message": msg, "Back": "/conversations/" + strconv.FormatInt(id, 10)})
}

func itoa(n int) string { return strconv.Itoa(n) }
