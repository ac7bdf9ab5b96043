package console

import (
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/web"
)

// ctxAuditBefore and ctxAuditAfter carry what a handler changed, for its
// audit entry (auditChange).
const (
	ctxAuditBefore = "console.audit.before"
	ctxAuditAfter  = "console.audit.after"
)

// audited records route r's successful requests in the audit log: who
// (the signed-in person), what (the action and its target), with the
// before/after a handler gave (auditChange), the answer's status, the
// client's address and the request id. Refused and failed requests
// changed nothing and are not actions.
func (h *Handlers) audited(r Route) echo.MiddlewareFunc {
	action := audit.ActionOf(r.Method, r.Path)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			status := web.StatusOf(c, err)
			if status >= 400 {
				return err
			}
			ss := session(c)
			h.Audit.Record(c.Request().Context(), audit.Entry{ActorType: audit.User, Actor: ss.User.Email, ActorID: ss.User.ID,
				Action: action, Target: audit.TargetOf(r.Path, c.Param), Before: c.Get(ctxAuditBefore), After: c.Get(ctxAuditAfter),
				Status: status, IP: c.RealIP(), RequestID: c.Request().Header.Get(web.RequestIDHeader)})
			return err
		}
	}
}

// auditChange gives the request's audit entry what the action changed.
func auditChange(c echo.Context, before, after any) {
	c.Set(ctxAuditBefore, before)
	c.Set(ctxAuditAfter, after)
}

// auditSignIn records a sign-in or a failed one (with the email tried).
func (h *Handlers) auditSignIn(c echo.Context, action, email string, userID int64, status int, detail map[string]any) {
	kind := audit.User
	if userID == 0 {
		kind = audit.Anonymous
	}
	h.Audit.Record(c.Request().Context(), audit.Entry{ActorType: kind, Actor: email, ActorID: userID, Action: action,
		Target: "user:" + email, Detail: detail, Status: status, IP: c.RealIP(),
		RequestID: c.Request().Header.Get(web.RequestIDHeader)})
}
