package console

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminMergeUndo: POST /admin/merges/:id/undo — the customer absorbed by a
// console merge gets its phones and conversations back (409 naming why when
// it cannot: already undone, older than 7 days, a later merge over it).
func (h *Handlers) adminMergeUndo(c echo.Context) error {
	id, ok := pathID(c)
	if !ok {
		return echo.ErrNotFound
	}
	// Open consoles hear of each conversation it changed through Postgres.
	if _, err := admin.UndoMerge(c.Request().Context(), h.Store, session(c).User.ID, id, time.Now()); err != nil {
		return h.adminFail(c, "admin_merges", h.adminMergesData, err)
	}
	return adminDone(c, "/admin/merges", "merge_undone")
}
